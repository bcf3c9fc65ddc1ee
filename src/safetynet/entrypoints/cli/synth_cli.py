"""``safetynet synth``: write a synthetic population as Parquet partitioned by county;
``safetynet synth-feeds``: write department feeds for it, with planted discrepancies.

The commands only parse their arguments and call ``safetynet.batch.synth.generate`` and
``safetynet.batch.synth_feeds.generate_feeds``. ``main`` wires
it in with ``app.command("synth")(synth)``; ``synth_feeds`` is wired the same way as
``app.command("synth-feeds")(synth_feeds)``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from safetynet.entrypoints.cli._common import progress_bar

__all__ = ["CHECK_COUNTIES", "DEFAULT_COUNTIES", "synth", "synth_check", "synth_feeds"]

DEFAULT_COUNTIES = "510104,510181,510121"
"""成都市: 锦江区 (a district), 都江堰市 (a county-level city), 金堂县 (a county)."""

CHECK_COUNTIES = "310115,510121"
"""上海市浦东新区 (its own dibao standard and caseload share) and 成都市金堂县 (a rural county
without a standard in the parameter files: the national averages)."""

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def synth(
    persons: Annotated[
        int, typer.Option("--persons", help="Number of persons in all, split evenly over counties.")
    ] = 100_000,
    counties: Annotated[
        str,
        typer.Option("--counties", help="Comma-separated 6-digit county-level codes (GB/T 2260)."),
    ] = DEFAULT_COUNTIES,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 1,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Output folder, replaced if it holds a dataset (default: population/ in the "
            "SafetyNet home, docs/settings.md).",
        ),
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="Reference date (YYYY-MM-DD); default today.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Generate a deterministic, calibrated synthetic population (docs/synthetic-population.md)."""
    from safetynet.entrypoints.cli._common import reports_errors  # main imports the CLI modules
    from safetynet.settings import load_settings

    folder = out_dir if out_dir is not None else load_settings().path("population")
    reports_errors(_synth)(persons, counties, seed, folder, date, quiet=quiet)


def _synth(
    persons: int, counties: str, seed: int, out_dir: Path, date: str | None, *, quiet: bool
) -> None:
    from safetynet.batch.synth import county_region, generate
    from safetynet.entrypoints.cli.paths import output_dir
    from safetynet.errors import InputError
    from safetynet.policy.calculate import parse_date

    output_dir(out_dir, "--out")
    on = parse_date(date, "--date") if date else dt.date.today()
    codes = [c.strip() for c in counties.split(",") if c.strip()]
    if not codes:
        raise InputError("--counties", "at least one county code is required")
    for code in codes:
        county_region(code, "--counties")
    if persons <= 0:
        raise InputError("--persons", f"must be positive, got {persons}")
    progress = progress_bar(err, quiet=quiet)
    with progress:
        task = progress.add_task(f"county {codes[0]}", total=persons)

        def advance(code: str, n: int, _households: int) -> None:
            following = codes.index(code) + 1
            label = f"county {codes[following]}" if following < len(codes) else "done"
            progress.update(task, advance=n, description=label)

        info = generate(out_dir, persons, codes, seed=seed, on=on, progress=advance)
    for code, row in info["counts"].items():
        out.print(
            f"{code} {row['name']} ({row['type']}): {row['persons']:,} persons "
            f"in {row['households']:,} households",
            markup=False,
        )
    out.print(
        f"{info['persons']:,} persons in {info['households']:,} households, seed {seed}, "
        f"date {on.isoformat()} → {out_dir}",
        markup=False,
    )


def synth_check(
    persons: Annotated[
        int, typer.Option("--persons", help="Persons generated for each county.")
    ] = 200_000,
    counties: Annotated[
        str,
        typer.Option("--counties", help="Comma-separated 6-digit county-level codes (GB/T 2260)."),
    ] = CHECK_COUNTIES,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 1,
    date: Annotated[
        str, typer.Option("--date", help="Reference date (YYYY-MM-DD).")
    ] = "2025-09-01",
) -> None:
    """Print the calibration table of the synthetic population (target, source, achieved share of
    persons eligible and enrolled, per county and hukou group) and what the pension, unemployment
    and medical programs find; exit 1 when a share is outside its tolerance
    (docs/synthetic-population.md, "Calibration")."""
    from safetynet.entrypoints.cli._common import reports_errors

    if not reports_errors(_synth_check)(persons, counties, seed, date):
        raise typer.Exit(1)


def _synth_check(persons: int, counties: str, seed: int, date: str) -> bool:
    from rich.table import Table

    from safetynet.batch.synth import county_region, generate_county
    from safetynet.batch.synth_calibration import calibration_table, dibao_lines, program_counts
    from safetynet.domain.money import format_yuan
    from safetynet.errors import InputError
    from safetynet.policy.calculate import parse_date
    from safetynet.policy.screening import fallback_label, load_parameter_values

    on = parse_date(date, "--date")
    codes = [county_region(c.strip(), "--counties").code for c in counties.split(",") if c.strip()]
    if not codes:
        raise InputError("--counties", "at least one county code is required")
    fallbacks = load_parameter_values("demo")
    calibration = Table("county", "group", "program", "persons", "target", "tol.", "eligible",
                        "enrolled", "ok", title=f"Calibration: share of persons, {persons:,} "
                        f"persons per county, seed {seed}, {on}")  # fmt: skip
    programs = Table("county", "program", "households paid", "of them recipients",
                     "persons paid", "amount (yuan)", title="What the programs find")  # fmt: skip
    ok, notes = True, []
    for code in codes:
        pop = generate_county(code, persons, seed=seed, on=on).population
        lines = dibao_lines(code, on)
        line = "its own standard" if lines.own else "the national average standard"
        notes.append(f"{code}: dibao line {format_yuan(lines.urban)} urban / "
                     f"{format_yuan(lines.rural)} rural yuan a month ({line})")  # fmt: skip
        for row in calibration_table(pop, code, on, fallbacks):
            ok &= row.within
            calibration.add_row(
                code, row.group, row.program, f"{row.persons:,}", f"{row.target:.2%}",
                f"±{row.tolerance:.0%}", f"{row.eligible:.2%}", f"{row.enrolled:.2%}",
                "yes" if row.within else "NO",
            )  # fmt: skip
            notes.append(f"{code} {row.program}: target {row.source} (calibration.yaml)")
        for count in program_counts(pop, code, on, fallbacks):
            programs.add_row(
                code, count.program, f"{count.eligible:,}", f"{count.recipients:,}",
                f"{count.persons_paid:,}", format_yuan(count.amount_fen),
            )  # fmt: skip
    out.print(calibration)
    for note in dict.fromkeys(notes):
        out.print(f"  {note}", markup=False)
    out.print(programs)
    out.print(
        f"Parameters a county lacks (other than the dibao standard) come from "
        f"{fallback_label('demo')}.",
        markup=False,
    )
    return ok


def synth_feeds(
    month: Annotated[str, typer.Option("--month", help="The month of the feeds (YYYY-MM).")],
    snapshot: Annotated[
        Path | None,
        typer.Option(
            "--snapshot",
            help="A population written by `safetynet synth` (default: population/ in the "
            "SafetyNet home).",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Output folder, replaced if it holds feeds (default: feeds/ in the SafetyNet home).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same feeds).")] = 1,
) -> None:
    """Write department feeds for a synthetic population, with planted discrepancies
    (docs/synthetic-population.md, "Department feeds")."""
    from safetynet.entrypoints.cli._common import reports_errors  # main imports the CLI modules
    from safetynet.settings import load_settings

    home = load_settings()
    snapshot = snapshot if snapshot is not None else home.path("population")
    out_dir = out_dir if out_dir is not None else home.path("feeds")
    reports_errors(_synth_feeds)(snapshot, out_dir, month, seed)


def _synth_feeds(snapshot: Path, out_dir: Path, month: str, seed: int) -> None:
    from safetynet.batch.synth_feeds import generate_feeds
    from safetynet.entrypoints.cli.paths import input_dir, output_dir

    input_dir(snapshot, "--snapshot")
    output_dir(out_dir, "--out")

    info = generate_feeds(snapshot, out_dir, month, seed)
    for kind, by_county in info["files"].items():
        rows = sum(c["rows"] for c in by_county.values())
        bad = sum(c["bad_rows"] for c in by_county.values())
        out.print(f"{kind}: {rows:,} rows in {len(by_county)} files ({bad} bad)", markup=False)
    planted = ", ".join(f"{k} {v:,}" for k, v in info["planted"].items())
    out.print(f"planted: {planted}", markup=False)
    out.print(
        f"month {info['month']}, delivered {info['delivered_on']}, seed {seed} → {out_dir}",
        markup=False,
    )
