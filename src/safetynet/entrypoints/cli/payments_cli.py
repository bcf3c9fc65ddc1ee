"""``safetynet payments``: the monthly roll, payee accounts, entitlement changes, bank files,
reconciliation and the report (docs/payments.md). What is decided lives in ``safetynet.payments``.
Wired into ``main`` as ``app.add_typer(payments_app, name="payments")``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from safetynet.entrypoints.cli._common import (
    DryRunOption,
    EncodingOption,
    HeaderRowOption,
    UrlOption,
    cli_actor,
    current_database,
    finish_import,
    out,
    reports_errors,
)
from safetynet.entrypoints.cli.awards_cli import awards, providers_app, reserve_app
from safetynet.entrypoints.cli.paths import output_dir, output_file

__all__ = [
    "accounts_app",
    "bank_file",
    "entitlement_app",
    "hold",
    "holds",
    "payments_app",
    "reconcile",
    "release",
    "report",
    "roll",
]

payments_app = typer.Typer(
    help="Payments: roll, accounts, entitlements, bank files, reconciliation.",
    no_args_is_help=True,
)
accounts_app = typer.Typer(help="Payee accounts (social security card).", no_args_is_help=True)
entitlement_app = typer.Typer(help="Retroactive entitlement changes.", no_args_is_help=True)
payments_app.add_typer(accounts_app, name="accounts")
payments_app.add_typer(entitlement_app, name="entitlement")
payments_app.add_typer(reserve_app, name="reserve")
payments_app.add_typer(providers_app, name="providers")
payments_app.command("awards")(reports_errors(awards))


@payments_app.callback()
def _payments() -> None:
    """Payments: roll, accounts, entitlements, bank files, reconciliation."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


T = TypeVar("T")


def _with_database(url: str | None, work: Callable[[Any], T]) -> T:
    """Open the database at the current schema, do the work and dispose of it, whatever happens."""
    with current_database(url) as db:
        return work(db)


def _actor(county: str | None) -> Any:
    return cli_actor("payments_clerk", county)


CountyOption = Annotated[
    str | None, typer.Option("--county", help="Only this county (6-digit code).")
]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (stored and audited).")]


@payments_app.command("roll")
@reports_errors
def roll(
    month: Annotated[str, typer.Option("--month", help="Month to roll, YYYY-MM.")],
    county: CountyOption = None,
    url: UrlOption = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="On PostgreSQL, roll this many shares of the households side by side.",
        ),
    ] = 1,
) -> None:
    """Create the month's missing payment instructions; safe to rerun and to resume after a crash."""
    from safetynet.payments.roll import parse_month, roll_month

    month = parse_month(month, "--month")
    report = _with_database(
        url, lambda db: roll_month(db, month, county, actor=_actor(county), workers=workers)
    )
    scope = f"county {report.county}" if report.county else "all counties"
    out.print(
        f"run {report.run_id} ({report.month}, {scope}): {report.eligible} eligible: "
        f"{report.created} created, {report.already_present} already present",
        markup=False,
    )
    if report.adjustments or report.held or report.settled_held:
        from safetynet.domain.money import format_yuan

        out.print(
            f"{report.adjustments} adjustment(s): arrears {format_yuan(report.arrears_fen)} yuan, "
            f"overpaid {format_yuan(report.overpaid_fen)} yuan (recoveries); "
            f"{report.held_by_hold} held by a payment hold, "
            f"{report.held - report.held_by_hold} held without an account; "
            f"{report.settled_held} held instruction(s) of earlier months settled",
            markup=False,
        )
    if report.awards_created:
        from safetynet.domain.money import format_yuan

        out.print(
            f"one-off awards: {report.awards_created} instructed "
            f"({format_yuan(report.awards_fen)} yuan), {report.awards_held} held, "
            f"{report.awards_settled} with nothing left after the advances "
            "(list: safetynet payments awards)",
            markup=False,
        )
    if report.interrupted_runs:
        resumed = ", ".join(str(r) for r in report.interrupted_runs)
        out.print(f"completed interrupted run(s): {resumed}", markup=False)


def _write_quarantine(
    lines: Any, headers: Any, source: Path, target: Path | None, *, dry_run: bool = False
) -> Path | None:
    from safetynet.intake import default_quarantine_path, write_quarantine

    if not lines:
        return None
    for line in lines:
        out.print(f"row {line.row}, {line.field}: {line.reason}", markup=False)
    if dry_run:
        return None
    path = target or default_quarantine_path(source)
    write_quarantine(lines, headers, path)
    return path


def _print_read(
    report: Any, source: Path, quarantine: Path | None, outcome: str, *, dry_run: bool = False
) -> None:
    """Write the rejected rows to the quarantine file (not in a dry run) and print what was read
    and what came of it."""
    target = _write_quarantine(
        report.quarantine, report.headers, source, quarantine, dry_run=dry_run
    )
    out.print(f"read {report.read}: {outcome}, quarantined {report.quarantined}", markup=False)
    if target is not None:
        out.print(f"quarantined rows: {target}", markup=False)


QuarantineOption = Annotated[
    Path | None,
    typer.Option("--quarantine", help="Where rejected rows go (default: FILE.quarantine.csv)."),
]


@accounts_app.command("import")
@reports_errors
def accounts_import(
    file: Annotated[Path, typer.Argument(help="CSV of payee accounts (docs/payments.md).")],
    encoding: EncodingOption = None,
    quarantine: QuarantineOption = None,
    url: UrlOption = None,
    header_row: HeaderRowOption = None,
    dry_run: DryRunOption = False,
) -> None:
    """Import payee accounts; bad rows go to the quarantine file with their reasons.

    Exit status: 0 every row accepted, 1 some rows quarantined, 2 the file could not be read."""
    from safetynet.payments.accounts import import_accounts, read_accounts

    if quarantine is not None:
        output_file(quarantine, "--quarantine")
    batch = read_accounts(file, encoding, header_row=header_row)
    report = _with_database(
        url,
        lambda db: import_accounts(db, batch, actor=_actor(None), clock=_now, dry_run=dry_run),
    )
    if batch.sheet is not None:
        out.print(f"{file.name}: {batch.sheet.layout()}", markup=False)
    _print_read(
        report,
        file,
        quarantine,
        f"imported {report.imported}, already recorded {report.already_recorded}",
        dry_run=dry_run,
    )
    finish_import(report.quarantined, dry_run=dry_run)


@entitlement_app.command("change")
@reports_errors
def entitlement_change(
    enrolment: Annotated[int, typer.Option("--enrolment", help="Enrolment id.")],
    from_month: Annotated[str, typer.Option("--from-month", help="First month, YYYY-MM.")],
    amount: Annotated[str, typer.Option("--amount", help="Monthly amount in yuan.")],
    reason: ReasonOption,
    url: UrlOption = None,
) -> None:
    """Record a new monthly amount from a month on (the next roll pays arrears or recovers)."""
    from safetynet.domain.money import yuan_to_fen
    from safetynet.payments.entitlements import ChangeEntitlement, change_entitlement

    command = ChangeEntitlement(
        enrolment, from_month, yuan_to_fen(amount, "--amount"), reason, _actor(None)
    )
    entry = _with_database(url, lambda db: change_entitlement(db, command, _now))
    out.print(
        f"schedule entry {entry}: enrolment {enrolment} gets {amount} yuan a month "
        f"from {from_month}",
        markup=False,
    )


@entitlement_app.command("end")
@reports_errors
def entitlement_end(
    enrolment: Annotated[int, typer.Option("--enrolment", help="Enrolment id.")],
    end_date: Annotated[str, typer.Option("--date", help="Last day (e.g. of death), YYYY-MM-DD.")],
    reason: ReasonOption,
    url: UrlOption = None,
) -> None:
    """End an enrolment on a date; its month is paid in full, later months are recovered."""
    from safetynet.errors import InputError
    from safetynet.payments.entitlements import EndEntitlement, end_entitlement

    try:
        day = dt.date.fromisoformat(end_date)
    except ValueError:
        raise InputError("--date", f"{end_date!r} is not a date (YYYY-MM-DD)") from None
    command = EndEntitlement(enrolment, day, reason, _actor(None))
    entry = _with_database(url, lambda db: end_entitlement(db, command, _now))
    out.print(f"schedule entry {entry}: enrolment {enrolment} ends on {day}", markup=False)


@payments_app.command("bank-file")
@reports_errors
def bank_file(
    month: Annotated[str, typer.Option("--month", help="Month, YYYY-MM.")],
    county: Annotated[str, typer.Option("--county", help="County (6-digit code).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the files.")],
    url: UrlOption = None,
) -> None:
    """Batch the county's payable instructions and write the month's bank files (repeatable)."""
    from safetynet.domain.money import format_yuan
    from safetynet.payments.bankfile import describe_held, export_bank_files

    output_dir(out_dir, "--out")
    report = _with_database(
        url,
        lambda db: export_bank_files(db, month, county, out_dir, actor=_actor(county), clock=_now),
    )
    if not report.files:
        out.print(f"no payable instructions for {county} up to {month}", markup=False)
    for f in report.files:
        state = "new" if f.new else "rewritten, unchanged"
        out.print(
            f"{f.path} (file {f.file_id}, {state}): {f.count} records, "
            f"{format_yuan(f.total_fen)} yuan, sha256 {f.sha256[:16]}",
            markup=False,
        )
    if report.released_from_hold or report.still_held:
        out.print(
            f"{report.released_from_hold} released from hold; still {describe_held(report)}",
            markup=False,
        )
    for instruction, instruction_month, reason in report.stopped:
        out.print(
            f"instruction {instruction} ({instruction_month}) held, no longer due: {reason}",
            markup=False,
        )


@payments_app.command("reconcile")
@reports_errors
def reconcile(
    file: Annotated[Path, typer.Argument(help="The bank's return file (CSV).")],
    encoding: EncodingOption = None,
    quarantine: QuarantineOption = None,
    url: UrlOption = None,
    header_row: HeaderRowOption = None,
    dry_run: DryRunOption = False,
) -> None:
    """Mark exported instructions paid or failed from the bank's return file (repeatable).

    Exit status: 0 every row accepted, 1 some rows quarantined, 2 the file could not be read."""
    from safetynet.payments.reconcile import reconcile_return_file

    if quarantine is not None:
        output_file(quarantine, "--quarantine")
    report = _with_database(
        url,
        lambda db: reconcile_return_file(
            db,
            file,
            actor=_actor(None),
            clock=_now,
            encoding=encoding,
            header_row=header_row,
            dry_run=dry_run,
        ),
    )
    _print_read(
        report,
        file,
        quarantine,
        f"paid {report.paid}, failed {report.failed}, "
        f"already reconciled {report.already_reconciled}",
        dry_run=dry_run,
    )
    finish_import(report.quarantined, dry_run=dry_run)


@payments_app.command("report")
@reports_errors
def report(
    month: Annotated[str, typer.Option("--month", help="Month, YYYY-MM.")],
    county: CountyOption = None,
    url: UrlOption = None,
) -> None:
    """Paid in full and on time, per county and program."""
    from safetynet.domain.money import format_yuan
    from safetynet.payments.awards import list_awards
    from safetynet.payments.months import month_bounds
    from safetynet.payments.report import payment_report

    first, last = month_bounds(month)
    rows = _with_database(url, lambda db: payment_report(db, month, county))
    awards = _with_database(url, lambda db: list_awards(db, county, last, first))
    out.print(f"Paid in full and on time, {month}", markup=False)
    if not rows:
        out.print("no instructions and no outstanding recoveries", markup=False)
    for r in rows:
        out.print(
            f"{r.county} {r.program} (on time = booked by {r.deadline}): "
            f"payable {r.payable} ({format_yuan(r.payable_fen)} yuan); "
            f"paid on time {r.paid_on_time}, paid late {r.paid_late} "
            f"({format_yuan(r.paid_fen)} yuan); failed {r.failed}; "
            f"held by a payment hold {r.held_by_hold}; held without an account {r.held}; "
            f"held, enrolment suspended {r.held_suspended}; held, entitlement ended "
            f"{r.held_ended}; held, payee died {r.held_died}; "
            f"awaiting the bank {r.awaiting}; "
            f"recoveries outstanding {format_yuan(r.outstanding_recoveries_fen)} yuan",
            markup=False,
        )
    _print_awards(month, awards)


def _print_awards(month: str, awards: list[Any]) -> None:
    """The one-off awards due in the month, by county, program and how they are paid."""
    from safetynet.domain.money import format_yuan

    groups: dict[tuple[str, str, str], list[int]] = {}
    for a in awards:
        counts = groups.setdefault((a.county, a.program, a.state), [0, 0])
        counts[0] += 1
        counts[1] += a.payable_fen
    for (region, program, state), (n, fen) in sorted(groups.items()):
        out.print(
            f"{region} {program} one-off awards due in {month}: {n} ({format_yuan(fen)} yuan "
            f"payable) {state}",
            markup=False,
        )


@payments_app.command("holds")
@reports_errors
def holds(
    county: CountyOption = None,
    url: UrlOption = None,
) -> None:
    """List the payment holds that stand (identity numbers masked)."""
    from safetynet.payments.holds import list_holds

    rows = _with_database(url, lambda db: list_holds(db, county))
    if not rows:
        out.print("no payment hold stands", markup=False)
    for r in rows:
        out.print(
            f"hold {r.id}: {r.county} household {r.household_no} (id {r.household_id})"
            f"{'' if r.person is None else ', person ' + r.person}; "
            f"{r.program or 'all programs'} from {r.from_month}; "
            f"{r.held_instructions} instruction(s) held; {r.source}, placed "
            f"{r.placed_at:%Y-%m-%d} by {r.placed_by}: {r.reason}",
            markup=False,
        )
    out.print(f"{len(rows)} hold(s) stand", markup=False)


@payments_app.command("hold")
@reports_errors
def hold(
    household: Annotated[int, typer.Option("--household", help="Household id.")],
    from_month: Annotated[str, typer.Option("--from-month", help="First month held, YYYY-MM.")],
    reason: ReasonOption,
    program: Annotated[
        str | None, typer.Option("--program", help="Only this program (default: all).")
    ] = None,
    url: UrlOption = None,
) -> None:
    """Stop a household's payments from a month on, until the hold is released."""
    from safetynet.payments.holds import PlaceHold, place_hold

    command = PlaceHold(
        household_id=household,
        from_month=from_month,
        reason=reason,
        actor=_actor(None),
        program=program,
    )
    hold_id = _with_database(url, lambda db: place_hold(db, command, _now))
    out.print(
        f"hold {hold_id}: household {household}, {program or 'all programs'} from {from_month}",
        markup=False,
    )


@payments_app.command("release")
@reports_errors
def release(
    hold_id: Annotated[int, typer.Argument(help="Hold id (payments holds).")],
    reason: ReasonOption,
    url: UrlOption = None,
) -> None:
    """Release a payment hold; the next bank file pays what it held."""
    from safetynet.payments.holds import ReleaseHold, release_hold

    command = ReleaseHold(hold_id=hold_id, reason=reason, actor=_actor(None))
    payable = _with_database(url, lambda db: release_hold(db, command, _now))
    out.print(
        f"hold {hold_id} released: {payable} instruction(s) payable again (next bank file)",
        markup=False,
    )
