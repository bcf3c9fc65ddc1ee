"""``safetynet run-month``: the monthly run over a county-partitioned snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


def run_month_cmd(
    month: Annotated[str, typer.Option(help="The month to run, YYYY-MM.")],
    county: Annotated[
        list[str] | None, typer.Option(help="Only this county (6-digit code; repeatable).")
    ] = None,
    snapshot: Annotated[
        Path, typer.Option(help="Population snapshot (Parquet by county, see docs/batch.md).")
    ] = Path("var/population"),
    out: Annotated[Path, typer.Option(help="Where results are written.")] = Path("var/results"),
    url: Annotated[
        str | None,
        typer.Option(help="Registry database URL (default SAFETYNET_DATABASE_URL or SQLite)."),
    ] = None,
    no_registry: Annotated[bool, typer.Option(help="Write Parquet results only.")] = False,
    restart: Annotated[bool, typer.Option(help="Forget earlier progress for this month.")] = False,
    fallback_parameters: Annotated[
        Path | None,
        typer.Option(
            help="YAML of illustrative values used only where a region has none in force "
            "(e.g. examples/illustrative_locality.yaml); they are flagged [I]."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Evaluate every program for every household, county by county; resumable."""
    from safetynet.entrypoints.cli.main import out as console
    from safetynet.entrypoints.cli.main import reports_errors

    reports_errors(_run)(
        month, county, snapshot, out, url, no_registry, restart, fallback_parameters, quiet, console
    )


def _run(
    month: str,
    county: list[str] | None,
    snapshot: Path,
    out: Path,
    url: str | None,
    no_registry: bool,
    restart: bool,
    fallback_parameters: Path | None,
    quiet: bool,
    console: Console,
) -> None:
    from safetynet.batch.runner import describe_totals, month_totals, run_month
    from safetynet.policy.screening import load_parameter_values
    from safetynet.registry.db import bootstrap

    fallbacks = load_parameter_values(fallback_parameters) if fallback_parameters else None
    note = (
        f"fallbacks from {fallback_parameters} [I]"
        if fallback_parameters
        else "regional parameters only"
    )
    db = None if no_registry else bootstrap(url)
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
    )
    with progress:
        task = progress.add_task(f"run {month}", total=None)

        def tick(code: str, i: int, total: int) -> None:
            progress.update(task, completed=i, total=total, description=f"run {month}: {code}")

        report = run_month(
            snapshot, month, out, db=db, only=county, fallbacks=fallbacks,
            parameters_note=note, restart=restart, on_county=tick,
        )  # fmt: skip
    if db is not None:
        db.dispose()
    if report.skipped:
        console.print(f"Resumed: {len(report.skipped)} counties were finished by an earlier run.")
    for result in report.finished:
        console.print(
            f"county {result.county}: {result.households:,} households, {result.persons:,} persons"
        )
    table = Table(
        "program", "households", "persons", "amount (yuan)", "period", title=f"Month {month}"
    )
    for row in describe_totals(month_totals(out, month)):
        table.add_row(*row)
    console.print(table)
    console.print(f"Results: {out / f'month={month}'}", markup=False)
