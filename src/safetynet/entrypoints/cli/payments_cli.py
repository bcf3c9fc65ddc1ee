"""``safetynet payments``: the monthly payment roll (docs/payments.md). What is decided lives in
``safetynet.payments.roll``. Wired into ``main`` as ``app.add_typer(payments_app, name="payments")``.
"""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer

from safetynet.entrypoints.cli.registry_cli import UrlOption, out, reports_errors

__all__ = ["payments_app", "roll"]

payments_app = typer.Typer(help="Payment instructions: the monthly roll.", no_args_is_help=True)


@payments_app.callback()
def _payments() -> None:
    """Payment instructions: the monthly roll."""


def _actor(county: str | None) -> Any:
    from safetynet.audit.log import Actor

    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment (some containers)
        name = "unknown"
    return Actor(name=name, role="payments_clerk", region=county)


@payments_app.command("roll")
@reports_errors
def roll(
    month: Annotated[str, typer.Option("--month", help="Month to roll, YYYY-MM.")],
    county: Annotated[
        str | None, typer.Option("--county", help="Only this county (6-digit code).")
    ] = None,
    url: UrlOption = None,
) -> None:
    """Create the month's missing payment instructions; safe to rerun and to resume after a crash."""
    from safetynet.payments.roll import parse_month, roll_month
    from safetynet.registry.db import bootstrap, require_current_schema

    month = parse_month(month, "--month")
    db = bootstrap(url)
    try:
        require_current_schema(db)
        report = roll_month(db, month, county, actor=_actor(county))
    finally:
        db.dispose()
    scope = f"county {report.county}" if report.county else "all counties"
    out.print(
        f"run {report.run_id} ({report.month}, {scope}): {report.eligible} eligible: "
        f"{report.created} created, {report.already_present} already present",
        markup=False,
    )
    if report.interrupted_runs:
        resumed = ", ".join(str(r) for r in report.interrupted_runs)
        out.print(f"completed interrupted run(s): {resumed}", markup=False)
