"""``safetynet payments awards | reserve | providers``: one-off awards and how each is paid, the
township reserve for small emergency payments (临时救助备用金) and the providers paid directly
(docs/payments.md, "One-off awards"). What is decided lives in ``safetynet.payments.awards`` and
``safetynet.payments.reserve``; wired into ``payments_app`` by ``payments_cli``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from safetynet.entrypoints.cli._common import (
    UrlOption,
    cli_actor,
    current_database,
    out,
    reports_errors,
)

__all__ = ["awards", "providers_app", "reserve_app"]

reserve_app = typer.Typer(
    help="Township reserves for small emergency payments (临时救助备用金).", no_args_is_help=True
)
providers_app = typer.Typer(
    help="Providers paid directly (e.g. hospitals settling medical assistance).",
    no_args_is_help=True,
)
CountyOption = Annotated[
    str | None, typer.Option("--county", help="Only this county (6-digit code).")
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def awards(
    month: Annotated[
        str | None, typer.Option("--month", help="Only awards due by the month's end, YYYY-MM.")
    ] = None,
    county: CountyOption = None,
    url: UrlOption = None,
) -> None:
    """List one-off awards (一次性救助) and how each is paid (roll, bank, township reserve)."""
    from safetynet.domain.money import format_yuan
    from safetynet.payments.awards import list_awards
    from safetynet.payments.months import month_bounds, parse_month

    due_by = None if month is None else month_bounds(parse_month(month, "--month"))[1]
    with current_database(url) as db:
        rows = list_awards(db, county, due_by)
    for r in rows:
        deducted = f", advances deducted {format_yuan(r.deducted_fen)}" if r.deducted_fen else ""
        where = "" if r.instruction_id is None else f" (instruction {r.instruction_id}, {r.month})"
        out.print(
            f"award {r.id}: {r.county} household {r.household_no} {r.program} case {r.case_id}"
            f"/{r.sequence} {r.kind} {format_yuan(r.amount_fen)} yuan{deducted}, payable "
            f"{format_yuan(r.payable_fen)} yuan to {r.payee}, due {r.due_on}: {r.state}{where}",
            markup=False,
        )
    out.print(f"{len(rows)} award(s)", markup=False)


@reserve_app.command("show")
@reports_errors
def reserve_show(county: CountyOption = None, url: UrlOption = None) -> None:
    """Balance of each township reserve, with what was topped up and paid from it."""
    from safetynet.domain.money import format_yuan
    from safetynet.payments.reserve import reserve_balances

    with current_database(url) as db:
        rows = reserve_balances(db, county)
    if not rows:
        out.print("no township reserve (无乡镇临时救助备用金账户)", markup=False)
    for r in rows:
        out.print(
            f"township {r.township} (county {r.county}): balance 余额 "
            f"{format_yuan(r.balance_fen)} yuan; topped up {format_yuan(r.topped_up_fen)} yuan, "
            f"paid {format_yuan(r.paid_fen)} yuan in {r.payments} payment(s)",
            markup=False,
        )


@reserve_app.command("top-up")
@reports_errors
def reserve_top_up(
    township: Annotated[str, typer.Option("--township", help="9-digit township code.")],
    amount: Annotated[str, typer.Option("--amount", help="Amount in yuan.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (stored and audited).")],
    url: UrlOption = None,
) -> None:
    """The county tops up a township's reserve (opening it at the first top-up); audited."""
    from safetynet.domain.money import format_yuan, yuan_to_fen
    from safetynet.payments.reserve import TopUpReserve, top_up_reserve

    command = TopUpReserve(
        township=township,
        amount_fen=yuan_to_fen(amount, "--amount"),
        reason=reason,
        actor=cli_actor("county_approver", township[:6]),
    )
    with current_database(url) as db:
        balance = top_up_reserve(db, command, _now)
    out.print(
        f"township {township}: topped up {amount} yuan, balance 余额 {format_yuan(balance)} yuan",
        markup=False,
    )


@providers_app.command("add")
@reports_errors
def providers_add(
    code: Annotated[str, typer.Option("--code", help="The provider's code.")],
    name: Annotated[str, typer.Option("--name", help="The provider's name.")],
    county: Annotated[str, typer.Option("--county", help="County (6-digit code).")],
    bank_code: Annotated[str, typer.Option("--bank-code", help="Bank category or CNAPS.")],
    account: Annotated[str, typer.Option("--account", help="Bank account number.")],
    url: UrlOption = None,
) -> None:
    """Register a provider paid directly, with its bank account (shown masked); audited."""
    from safetynet.payments.awards import RegisterProvider, register_provider
    from safetynet.payments.masking import mask_account

    command = RegisterProvider(
        code=code,
        name=name,
        county=county,
        bank_code=bank_code,
        account_number=account,
        actor=cli_actor("payments_clerk", county),
    )
    with current_database(url) as db:
        provider_id = register_provider(db, command, _now)
    out.print(f"provider {provider_id}: {code} {name}, {mask_account(account)}", markup=False)
