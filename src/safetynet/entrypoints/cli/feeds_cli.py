"""``safetynet feeds``: load department feeds (civil registration, hukou moves, vehicles, real
estate, business, wages, social insurance, bank deposits, hospital bills, disaster victims,
unemployment registration, disability certificates) as versioned deliveries. What is decided lives in ``safetynet.monitoring.feeds``;
the schemas are in docs/feeds.md. Wired into ``main`` as ``app.add_typer(feeds_app, name="feeds")``.
"""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from typing import Annotated, Any

import typer

from safetynet.entrypoints.cli.paths import output_file
from safetynet.entrypoints.cli.registry_cli import (
    EncodingOption,
    QuarantineOption,
    UrlOption,
    out,
    reports_errors,
)
from safetynet.errors import InputError

__all__ = ["feeds_app", "load"]

feeds_app = typer.Typer(help="Department feeds for dynamic monitoring.", no_args_is_help=True)


def _actor() -> Any:
    from safetynet.audit.log import Actor

    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment (some containers)
        name = "unknown"
    return Actor(name=name, role="monitoring_clerk")


@feeds_app.command("load")
@reports_errors
def load(
    kind: Annotated[
        str,
        typer.Argument(
            help="deaths, births, marriages, hukou-moves, vehicles, real-estate, business, "
            "wages, social-insurance, bank-deposits, hospital-bills, disaster-victims, "
            "unemployment-registration or disability-certificates."
        ),
    ],
    file: Annotated[Path, typer.Argument(help="CSV, XLSX or Parquet, one row per record.")],
    delivered: Annotated[
        str | None,
        typer.Option(help="Delivery date (YYYY-MM-DD, default today); later dates are refused."),
    ] = None,
    encoding: EncodingOption = None,
    quarantine: QuarantineOption = None,
    url: UrlOption = None,
) -> None:
    """Load one delivery: good rows are stored, bad ones go to the quarantine file."""
    from safetynet.monitoring.feeds import LoadFeed, load_feed, parse_kind, read_feed, validate_feed
    from safetynet.registry.db import bootstrap, require_current_schema
    from safetynet.registry.handlers import system_clock
    from safetynet.registry.imports import default_quarantine_path, write_quarantine
    from safetynet.registry.unit_of_work import UnitOfWork

    if quarantine is not None:
        output_file(quarantine, "--quarantine")
    spec = parse_kind(kind)
    try:
        day = dt.date.fromisoformat(delivered) if delivered else dt.date.today()
    except ValueError:
        raise InputError("--delivered", f"{delivered!r} is not a date (YYYY-MM-DD)") from None
    table = read_feed(spec, file, encoding)
    if table.arrow is not None:
        # A Parquet delivery may hold millions of rows: the vector validator, same results.
        import pyarrow.parquet as pq

        from safetynet.monitoring.columnar import validate_columns

        columns = validate_columns(spec, pq.read_table(file), delivered_on=day)
        feed = columns.to_validated(table, day)
    else:
        feed = validate_feed(table, delivered_on=day)
    db = bootstrap(url)
    try:
        require_current_schema(db)
        with UnitOfWork(db.sessions) as uow:
            report = load_feed(LoadFeed(feed, _actor()), uow, system_clock)
    finally:
        db.dispose()
    out.print(
        f"delivery {report.delivery_id} ({report.kind}): read {report.read} rows: "
        f"{report.accepted} accepted, {report.quarantined} quarantined "
        f"(of which {report.duplicates} duplicates)",
        markup=False,
    )
    if feed.quarantine:
        target = quarantine or default_quarantine_path(file)
        write_quarantine(feed.quarantine, table.headers, target)
        out.print(f"quarantine: {target}", markup=False)
    else:
        out.print("quarantine: none", markup=False)
