"""``safetynet synth-households``: a synthetic county's household list as an office delivers it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safetynet.entrypoints.cli._common import out, reports_errors
from safetynet.entrypoints.cli.paths import output_file

__all__ = ["synth_households_cmd"]


@reports_errors
def synth_households_cmd(
    county: Annotated[str, typer.Option(help="The county, a 6-digit code (GB/T 2260).")],
    out_file: Annotated[Path, typer.Option("--out", help="The file to write: .xlsx or .csv.")],
    persons: Annotated[int, typer.Option(help="Number of persons.")] = 1000,
    bad_rows: Annotated[
        int, typer.Option(help="Households given one bad row each, for the quarantine.")
    ] = 0,
    month: Annotated[
        str, typer.Option(help="Month of the incomes (收入月份), YYYY-MM.")
    ] = "2025-09",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same file).")] = 1,
) -> None:
    """Write a synthetic county population, one row per person, Chinese headers and program
    facts, with BAD_ROWS deliberately bad rows (docs/registry.md)."""
    from safetynet.batch.county_file import write_county_file

    output_file(out_file, "--out")
    written = write_county_file(
        out_file, county, persons, seed=seed, month=month, bad_rows=bad_rows
    )
    out.print(
        f"{written.path}: county {written.county}, {written.households:,} households, "
        f"{written.persons:,} persons, {len(written.headers)} columns; "
        f"{len(written.bad_households)} households with a bad row on purpose",
        markup=False,
    )
