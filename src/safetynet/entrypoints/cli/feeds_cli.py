"""``safetynet feeds``: load department feeds (civil registration, hukou moves, vehicles, real
estate, business, wages, social insurance, bank deposits, hospital bills, disaster victims,
unemployment registration, disability certificates) as versioned deliveries. What is decided lives in ``safetynet.monitoring.feeds``;
the schemas are in docs/feeds.md. Wired into ``main`` as ``app.add_typer(feeds_app, name="feeds")``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from safetynet.entrypoints.cli._common import (
    DryRunOption,
    EncodingOption,
    HeaderRowOption,
    QuarantineOption,
    UrlOption,
    cli_actor,
    current_database,
    out,
    reports_errors,
)
from safetynet.entrypoints.cli.paths import output_file
from safetynet.errors import InputError

__all__ = ["feeds_app", "load", "quarantine_file"]

feeds_app = typer.Typer(help="Department feeds for dynamic monitoring.", no_args_is_help=True)


def _actor() -> Any:
    return cli_actor("monitoring_clerk")


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
    header_row: HeaderRowOption = None,
    dry_run: DryRunOption = False,
) -> None:
    """Load one delivery: good rows are stored, bad ones go to the quarantine file.

    The reasons are stored with the rows; the quarantine file is written from the database
    (again at any time with ``feeds quarantine``). Exit status: 0 every row accepted, 1 some rows
    quarantined, 2 the file could not be read."""
    from safetynet.entrypoints.cli._common import (
        finish_import,
        report_quarantine,
        unit_of_work,
    )
    from safetynet.monitoring.feeds import (
        LoadFeed,
        load_feed,
        parse_kind,
        read_feed,
        rejections,
        validate_feed,
    )
    from safetynet.registry.handlers import system_clock

    if quarantine is not None:
        output_file(quarantine, "--quarantine")
    spec = parse_kind(kind)
    try:
        day = dt.date.fromisoformat(delivered) if delivered else dt.date.today()
    except ValueError:
        raise InputError("--delivered", f"{delivered!r} is not a date (YYYY-MM-DD)") from None
    table = read_feed(spec, file, encoding, header_row)
    if table.arrow is not None:
        # A Parquet delivery may hold millions of rows: the vector validator, same results.
        import pyarrow.parquet as pq

        from safetynet.monitoring.columnar import validate_columns

        columns = validate_columns(spec, pq.read_table(file), delivered_on=day)
        feed = columns.to_validated(table, day)
    else:
        feed = validate_feed(table, delivered_on=day)
    with current_database(url) as db:
        with unit_of_work(db, dry_run=dry_run) as uow:
            report = load_feed(LoadFeed(feed, _actor()), uow, system_clock)
        headers, lines = table.headers, list(feed.quarantine)
        if not dry_run:
            with db.sessions() as session:
                headers, lines = rejections(session, report.delivery_id)
    if table.sheet is not None:
        out.print(f"{file.name}: {table.sheet.layout()}", markup=False)
    delivery = "dry run" if dry_run else f"delivery {report.delivery_id}"
    out.print(
        f"{delivery} ({report.kind}): read {report.read} rows: "
        f"{report.accepted} accepted, {report.quarantined} quarantined "
        f"(of which {report.duplicates} duplicates)",
        markup=False,
    )
    report_quarantine(lines, headers, file, quarantine, dry_run=dry_run)
    finish_import(report.quarantined, dry_run=dry_run)


@feeds_app.command("quarantine")
@reports_errors
def quarantine_file(
    delivery: Annotated[int, typer.Argument(help="The delivery's number, as `feeds load` said.")],
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write the rejected rows (CSV).")
    ],
    url: UrlOption = None,
) -> None:
    """Write a delivery's rejected rows and their reasons again, from the database."""
    output_file(out_file, "--out")
    from safetynet.intake import write_quarantine
    from safetynet.monitoring.feeds import rejections

    with current_database(url) as db, db.sessions() as session:
        headers, lines = rejections(session, delivery)
    write_quarantine(lines, headers, out_file)
    out.print(f"delivery {delivery}: {len(lines)} reason(s) written to {out_file}", markup=False)
