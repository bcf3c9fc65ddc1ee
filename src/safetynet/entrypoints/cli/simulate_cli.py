"""``safetynet simulate``: a reform over a population, baseline beside reform; and
``safetynet simulate standard``: the annual standard-setting check (docs/analysis.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from safetynet.entrypoints.cli._common import (
    EngineOption,
    SparkMasterOption,
    UrlOption,
    err,
    out,
    reports_errors,
)

simulate_app = typer.Typer(
    help="Reform simulation: cost, recipients, deciles, poverty and inequality (docs/analysis.md).",
    invoke_without_command=True,
    no_args_is_help=False,
)

FallbackOption = Annotated[
    Path | None,
    typer.Option(
        help="Illustrative values used only where a region has none in force, flagged [I]: a "
        "YAML file, or 'demo', the illustrative locality shipped with SafetyNet."
    ),
]


@simulate_app.callback()
@reports_errors
def simulate_cmd(
    ctx: typer.Context,
    reform: Annotated[Path | None, typer.Option(help="The reform file (YAML).")] = None,
    month: Annotated[str | None, typer.Option(help="The month simulated, YYYY-MM.")] = None,
    snapshot: Annotated[
        Path | None,
        typer.Option(
            help="Population snapshot (Parquet by county). Default: the registry's snapshot of "
            "the month, taken into --out."
        ),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder for the tables (XLSX) and charts.")
    ] = None,
    xlsx: Annotated[Path | None, typer.Option(help="Write the tables to this XLSX file.")] = None,
    charts: Annotated[Path | None, typer.Option(help="Write the PNG charts here.")] = None,
    take_up: Annotated[
        bool, typer.Option("--take-up", help="Apply take-up rates to the newly entitled.")
    ] = False,
    enrolled_only: Annotated[
        bool, typer.Option("--enrolled-only", help="Count the enrolled caseload only.")
    ] = False,
    poverty_line: Annotated[
        int | None,
        typer.Option("--poverty-line", min=1, help="A chosen poverty line, fen/person/month."),
    ] = None,
    program: Annotated[
        list[str] | None, typer.Option(help="Only this program (repeatable).")
    ] = None,
    county: Annotated[list[str] | None, typer.Option(help="Only this county (repeatable).")] = None,
    fallback_parameters: FallbackOption = None,
    url: UrlOption = None,
    workers: Annotated[
        int | None, typer.Option(help="Counties simulated at once (default: the CPU count).")
    ] = None,
    engine: EngineOption = "local",
    spark_master: SparkMasterOption = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Run baseline and reform over the same population and print what changes."""
    if ctx.invoked_subcommand is not None:
        return
    from safetynet.errors import InputError

    if reform is None or month is None:
        raise InputError(
            "--reform/--month", "需要改革文件和月份；a reform file and a month are needed"
        )
    from safetynet.analysis.reform import load_reform
    from safetynet.analysis.simulate import Options
    from safetynet.batch.engines import make_engine
    from safetynet.entrypoints.cli.paths import fallback_file, input_file
    from safetynet.policy.screening import load_parameter_values

    _check_paths(snapshot=snapshot, out_dir=out_dir, xlsx=xlsx, charts=charts)
    chosen_engine = make_engine(engine, workers=workers, master=spark_master)
    plan = load_reform(input_file(reform, "--reform"))
    fallback = fallback_file(fallback_parameters)
    options = Options(
        month,
        take_up=take_up,
        enrolled_only=enrolled_only,
        poverty_line_fen=poverty_line,
        programs=tuple(program) if program else None,
        counties=tuple(county) if county else None,
        fallbacks=load_parameter_values(fallback) if fallback else None,
    )
    tables = _run(plan, options, snapshot, out_dir, url, engine=chosen_engine, quiet=quiet)
    _write(tables, out_dir, xlsx, charts)


def _run(
    plan: Any, options: Any, snapshot: Path | None, out_dir: Path | None, url: str | None,
    *, engine: Any, quiet: bool,
) -> Any:  # fmt: skip
    from safetynet.analysis.simulate import simulate
    from safetynet.analysis.tables import simulation_tables
    from safetynet.entrypoints.cli._common import progress_bar
    from safetynet.entrypoints.cli.paths import input_dir

    if snapshot is not None:
        input_dir(snapshot, "--snapshot")
    else:
        snapshot = _registry_snapshot(options.month, out_dir, url)
    progress = progress_bar(err, quiet=quiet)
    with progress:
        task = progress.add_task("counties", total=None)

        def tick(code: str, i: int, total: int) -> None:
            progress.update(task, completed=i, total=total, description=code)

        outcome = simulate(snapshot, plan, options, engine=engine, on_county=tick)
    tables = simulation_tables(outcome)
    print_tables(tables)
    return tables


def _check_paths(
    *, snapshot: Path | None = None, out_dir: Path | None = None, xlsx: Path | None = None,
    charts: Path | None = None, cpi: Path | None = None,
) -> None:  # fmt: skip
    """Every path given, checked before any work starts."""
    from safetynet.entrypoints.cli.paths import input_dir, input_file, output_dir, output_file

    if snapshot is not None:
        input_dir(snapshot, "--snapshot")
    if cpi is not None:
        input_file(cpi, "--cpi")
    if out_dir is not None:
        output_dir(out_dir, "--out")
    if xlsx is not None:
        output_file(xlsx, "--xlsx")
    if charts is not None:
        output_dir(charts, "--charts")


def _registry_snapshot(month: str, out_dir: Path | None, url: str | None) -> Path:
    from safetynet.batch.registry_month import registry_snapshot
    from safetynet.entrypoints.cli._common import current_database
    from safetynet.errors import InputError

    if out_dir is None:
        raise InputError("--out", "从登记库取快照需要 --out；the registry's snapshot needs --out")
    with current_database(url) as db:
        folder, _ = registry_snapshot(db, month, out_dir)
    return folder


def _write(tables: Any, out_dir: Path | None, xlsx: Path | None, charts: Path | None) -> None:
    from safetynet.analysis.output import write_charts, write_xlsx

    if out_dir is not None:
        xlsx = xlsx or out_dir / "simulation.xlsx"
        charts = charts or out_dir / "charts"
    if xlsx is not None:
        write_xlsx(tables, xlsx)
        out.print(f"XLSX: {xlsx}", markup=False)
    if charts is not None:
        for path in write_charts(tables, charts):
            out.print(f"chart: {path}", markup=False)


def print_tables(tables: Any, *, limit: int = 60) -> None:
    """Each table as a Rich table (money in yuan, ratios as decimals)."""
    from safetynet.analysis.output import display

    for table in tables:
        rich = RichTable(title=table.title, title_justify="left")
        shown = [i for i, c in enumerate(table.columns) if c != "source"]
        for i in shown:
            column = table.columns[i]
            rich.add_column(column.removesuffix("_fen") + (" ¥" if column.endswith("_fen") else ""))
        for row in table.rows[:limit]:
            rich.add_row(*(_cell(display(row[i], table.columns[i])) for i in shown))
        if len(table.rows) > limit:
            rich.caption = f"{len(table.rows) - limit} more rows in the XLSX"
        out.print(rich)
        if "source" in table.columns:  # citations are long: one line each, under the table
            for source in dict.fromkeys(table.column("source")):
                out.print(f"  source: {source}", markup=False)


def _cell(value: Any) -> str:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@simulate_app.command("standard")
@reports_errors
def standard_cmd(
    region: Annotated[str, typer.Option(help="The region setting its standard (6-digit code).")],
    year: Annotated[int, typer.Option(help="The year of the adjustment.")],
    effective: Annotated[
        str | None,
        typer.Option("--from", help="Date the new standard takes effect (default 1 July)."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="NAME=VALUE: a value for this check (e.g. the local statistic)."
        ),
    ] = None,
    cpi: Annotated[
        Path | None, typer.Option(help="CPI series (CSV, docs/analysis.md); default: shipped.")
    ] = None,
    snapshot: Annotated[
        Path | None, typer.Option(help="Population snapshot: also simulate the new standard.")
    ] = None,
    month: Annotated[
        str | None, typer.Option(help="Month simulated (default: the month it takes effect).")
    ] = None,
    fallback_parameters: FallbackOption = None,
    xlsx: Annotated[Path | None, typer.Option(help="Write the tables to this XLSX file.")] = None,
    charts: Annotated[Path | None, typer.Option(help="Write the simulation's charts here.")] = None,
) -> None:
    """The annual check: a new dibao standard from per-capita consumption, its cost and coverage,
    and the months the CPI triggers a price subsidy."""
    from safetynet.analysis.simulate import Options, simulate
    from safetynet.analysis.standard import load_cpi, standard_check, standard_tables
    from safetynet.analysis.tables import simulation_tables
    from safetynet.entrypoints.cli.paths import fallback_file, input_file
    from safetynet.policy.calculate import parse_date
    from safetynet.policy.parameters import default_tree, parse_override
    from safetynet.policy.screening import load_parameter_values

    _check_paths(snapshot=snapshot, xlsx=xlsx, charts=charts, cpi=cpi)
    fallback = fallback_file(fallback_parameters)
    tree = default_tree()
    overrides = dict(parse_override(tree, a) for a in set_ or [])
    check = standard_check(
        region, year, effective=None if effective is None else parse_date(effective, "--from"),
        tree=tree, cpi=load_cpi(input_file(cpi, "--cpi")) if cpi else None, overrides=overrides,
    )  # fmt: skip
    tables = standard_tables(check)
    if snapshot is not None:
        options = Options(
            month or check.effective.isoformat()[:7],
            fallbacks=load_parameter_values(fallback) if fallback else None,
        )
        outcome = simulate(snapshot, check.reform(), options)
        tables += simulation_tables(outcome)
    print_tables(tables)
    _write(tables, None, xlsx, charts)
