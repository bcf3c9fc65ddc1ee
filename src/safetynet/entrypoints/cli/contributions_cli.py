"""``safetynet contributions``: import monthly contribution records, summarize a person's history
and calculate the employee pension from it (``pension``, JSON).

``import_contributions`` is also meant to be registered as ``safetynet import contributions`` (the
lead wires it into ``registry_cli.import_app`` from ``main``). What is decided lives in
``safetynet.insurance.contribution_imports`` and ``safetynet.insurance.history``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Annotated, Any

import typer

from safetynet.entrypoints.cli._common import (
    DryRunOption,
    EncodingOption,
    HeaderRowOption,
    QuarantineOption,
    RichProgress,
    UrlOption,
    cli_actor,
    current_database,
    err,
    out,
    reports_errors,
)
from safetynet.entrypoints.cli.paths import output_file
from safetynet.errors import InputError

__all__ = ["contributions_app", "import_contributions"]

contributions_app = typer.Typer(
    help="Insured persons' monthly contribution records.", no_args_is_help=True
)


def _actor() -> Any:
    return cli_actor("insurance_clerk")


def _month(value: str | None, field: str) -> str:
    if value is None:
        today = dt.date.today()
        return f"{today.year:04d}-{today.month:02d}"
    try:
        day = dt.date.fromisoformat(f"{value}-01")
    except ValueError:
        raise InputError(field, f"{value!r} is not a month (YYYY-MM)") from None
    return f"{day.year:04d}-{day.month:02d}"


@contributions_app.command("import")
@reports_errors
def import_contributions(
    file: Annotated[
        Path, typer.Argument(help="CSV or XLSX, one row per person, scheme and month.")
    ],
    encoding: EncodingOption = None,
    quarantine: QuarantineOption = None,
    out_of_clamp: Annotated[
        str,
        typer.Option(
            "--out-of-clamp",
            help="A base outside 60-300 % of the average wage: 'quarantine' the row (default) "
            "or 'flag' it (imported and listed in FILE.flagged.csv).",
        ),
    ] = "quarantine",
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Import date (YYYY-MM-DD); later months are refused."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a parameter for the checks: NAME=VALUE (repeatable)."),
    ] = None,
    url: UrlOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    header_row: HeaderRowOption = None,
    dry_run: DryRunOption = False,
) -> None:
    """Import contribution records: good rows are committed, bad ones go to the quarantine file.

    Exit status: 0 every row accepted, 1 some rows quarantined, 2 the file could not be read."""
    from safetynet.entrypoints.cli._common import finish_import, report_quarantine
    from safetynet.intake import write_quarantine
    from safetynet.policy.parameters import default_tree, parse_override

    if quarantine is not None:
        output_file(quarantine, "--quarantine")
    tree = default_tree()
    overrides = dict(parse_override(tree, s) for s in (set_ or []))
    if out_of_clamp not in ("quarantine", "flag"):
        raise InputError("--out-of-clamp", f"{out_of_clamp!r} is not quarantine or flag")
    try:
        day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        raise InputError("--as-of", f"{as_of!r} is not a date (YYYY-MM-DD)") from None
    checks: dict[str, Any] = {
        "as_of": day,
        "out_of_clamp": "flag" if out_of_clamp == "flag" else "quarantine",
        "tree": tree,
        "overrides": overrides,
    }
    report, batch, layout = _import_file(file, encoding, header_row, checks, url, quiet, dry_run)

    if layout is not None:
        out.print(f"{file.name}: {layout}", markup=False)
    out.print(
        f"read {report.read} rows: {report.accepted} accepted, {report.quarantined} quarantined",
        markup=False,
    )
    out.print(
        f"records: {report.created} created, {report.unchanged} unchanged "
        f"({report.persons} persons)",
        markup=False,
    )
    report_quarantine(batch.quarantine, batch.headers, file, quarantine, dry_run=dry_run)
    if batch.flagged and not dry_run:
        from safetynet.insurance.contribution_imports import default_flagged_path

        flagged = default_flagged_path(file)
        write_quarantine(batch.flagged, batch.headers, flagged)
        out.print(
            f"flagged (imported, see reasons): {report.flagged} rows in {flagged}", markup=False
        )
    finish_import(report.quarantined, dry_run=dry_run)


def _import_file(
    file: Path,
    encoding: str | None,
    header_row: int | None,
    checks: dict[str, Any],
    url: str | None,
    quiet: bool,
    dry_run: bool,
) -> tuple[Any, Any, str | None]:
    """Read, check and import the file: as columns (the bulk path) when it is a plain CSV, row
    by row otherwise; the same checks and reasons either way. (report, batch, layout line)."""
    from safetynet.entrypoints.cli._common import unit_of_work
    from safetynet.insurance import bulk_contributions as bulk
    from safetynet.insurance import contribution_imports as rows
    from safetynet.registry.handlers import system_clock

    frame = bulk.read_bulk_contributions(file, encoding, header_row)
    table = rows.read_contributions(file, encoding, header_row) if frame is None else None
    digest = hashlib.sha256()
    with file.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    source = f"{file.name} sha256:{digest.hexdigest()}"
    with current_database(url) as db, RichProgress(quiet=quiet) as progress:
        if frame is not None:
            batch: Any = bulk.validate_bulk_contributions(frame, progress=progress, **checks)
            command: Any = bulk.ImportBulkContributions(batch, _actor(), source)
            handle: Any = bulk.import_bulk_contributions
            layout: str | None = frame.sheet().layout()
        else:
            assert table is not None
            batch = rows.validate_contributions(table, progress=progress, **checks)
            command = rows.ImportContributions(batch, _actor(), source)
            handle = rows.import_contributions
            layout = table.sheet.layout() if table.sheet is not None else None
        with unit_of_work(db, dry_run=dry_run) as uow:
            report = handle(command, uow, system_clock, progress)
    return report, batch, layout


@contributions_app.command("history")
@reports_errors
def history(
    id_number: Annotated[str, typer.Argument(help="Identity number of the insured person.")],
    scheme: Annotated[str, typer.Option(help="Scheme code, e.g. employee_pension.")] = (
        "employee_pension"
    ),
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Summarize to the end of this month (YYYY-MM).")
    ] = None,
    account_region: Annotated[
        str,
        typer.Option(help="Region whose crediting rates apply (where the account is kept)."),
    ] = "000000",
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a parameter: NAME=VALUE (repeatable)."),
    ] = None,
    url: UrlOption = None,
) -> None:
    """Contribution months, gaps, average contribution index and account balance of one person."""
    from safetynet.domain.identity import parse_identity_number
    from safetynet.domain.money import format_yuan
    from safetynet.insurance.contribution_imports import load_history
    from safetynet.insurance.history import (
        MonthlyContribution,
        pension_inputs,
        summarize_with_parameters,
    )
    from safetynet.policy.parameters import default_tree, parse_override

    number = parse_identity_number(id_number).value
    until = _month(as_of, "--as-of")
    tree = default_tree()
    overrides = dict(parse_override(tree, s) for s in (set_ or []))
    from safetynet.bootstrap import bootstrap

    with current_database(url) as db, bootstrap(db).unit_of_work() as uow:
        records = [
            MonthlyContribution(r.month, r.base_fen, r.account_credit_fen, r.region_code)
            for r in load_history(uow, number, scheme)
        ]
    summary = summarize_with_parameters(
        [r for r in records if r.month <= until],
        as_of=until,
        account_region=account_region,
        with_index=scheme != "resident_pension",
        overrides=overrides,
    )
    out.print(f"{scheme}: {summary.months} months ({summary.first_month}..{summary.last_month})")
    if summary.gaps:
        shown = ", ".join(a if a == b else f"{a}..{b}" for a, b in summary.gaps)
        out.print(f"gaps: {summary.gap_months} months: {shown}", markup=False)
    else:
        out.print("gaps: none", markup=False)
    if summary.average_index is not None:
        out.print(f"average contribution index: {summary.average_index_rounded(4)}", markup=False)
    for year in summary.years:
        rate = "not yet credited" if year.rate is None else f"rate {year.rate}"
        out.print(
            f"  {year.year}: {year.months} months, opening {format_yuan(year.opening_fen)}, "
            f"credits {format_yuan(year.credits_fen)}, interest {format_yuan(year.interest_fen)} "
            f"({rate}), closing {format_yuan(year.closing_fen)}",
            markup=False,
        )
    out.print(f"account balance: {format_yuan(summary.account_balance_fen)}", markup=False)
    if scheme == "employee_pension":
        err.print(f"pension inputs: {pension_inputs(summary)}", markup=False)


@contributions_app.command("pension")
@reports_errors
def pension(
    id_number: Annotated[str, typer.Argument(help="Identity number of the insured person.")],
    date: Annotated[
        str | None, typer.Option(help="Calculation date (YYYY-MM-DD); default today.")
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            help="Region where the pension is calculated and the account kept "
            "(default: the region of the last record)."
        ),
    ] = None,
    category: Annotated[
        str | None,
        typer.Option(help="Retirement category: man, woman_55, woman_50 (default: from the sex)."),
    ] = None,
    deemed_months: Annotated[
        int,
        typer.Option(
            "--deemed-months", help="Deemed contribution months (视同缴费), not recorded."
        ),
    ] = 0,
    deemed_index: Annotated[
        int | None,
        typer.Option("--deemed-index", help="Deemed-years index in ten-thousandths (10000 = 1.0)."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a parameter: NAME=VALUE (repeatable)."),
    ] = None,
    url: UrlOption = None,
) -> None:
    """The employee pension of one person from the recorded monthly history, as JSON."""
    # The history up to the month of the date gives N, Ī and the account balance; the answer is
    # that of `safetynet calc employee-pension --explain`, plus the history (gaps listed) and the
    # person's inputs, the identity number masked (docs/contributions.md).
    import json
    import sys

    from safetynet.insurance.history import pension_from_history
    from safetynet.policy.calculate import parse_date
    from safetynet.policy.parameters import default_tree, parse_override

    on = parse_date(date, "--date") if date else dt.date.today()
    tree = default_tree()
    overrides = dict(parse_override(tree, s) for s in (set_ or []))
    inputs: dict[str, Any] = {"employee_pension_deemed_months": deemed_months}
    if category is not None:
        inputs["pension_category"] = category
    if deemed_index is not None:
        inputs["employee_pension_deemed_index"] = deemed_index
    from safetynet.bootstrap import bootstrap

    with current_database(url) as db, bootstrap(db).unit_of_work() as uow:
        result = pension_from_history(
            uow, id_number, on, region=region, inputs=inputs, overrides=overrides
        )
    sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
