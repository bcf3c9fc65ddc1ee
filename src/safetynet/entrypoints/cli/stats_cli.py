"""``safetynet stats``: recipients, amounts, coverage and trend of a month from the registry and
the payment ledger, rolled up the region hierarchy (docs/analysis.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safetynet.entrypoints.cli._common import UrlOption, out, reports_errors


@reports_errors
def stats_cmd(
    month: Annotated[str, typer.Option(help="The month, YYYY-MM.")],
    by: Annotated[str, typer.Option(help="Group by region, program or both (comma-separated).")] = (
        "region,program"
    ),
    level: Annotated[str, typer.Option(help="Region level: county, city or province.")] = "county",
    trend: Annotated[int, typer.Option(min=0, help="Months before the month in the trend.")] = 5,
    xlsx: Annotated[Path | None, typer.Option(help="Write the tables to this XLSX file.")] = None,
    url: UrlOption = None,
) -> None:
    """Counts, amounts, coverage rates and trend of a month (the payment report's numbers)."""
    from safetynet.analysis.output import write_xlsx
    from safetynet.analysis.stats import statistics_tables
    from safetynet.entrypoints.cli._common import current_database
    from safetynet.entrypoints.cli.paths import output_file
    from safetynet.entrypoints.cli.simulate_cli import print_tables

    if xlsx is not None:
        output_file(xlsx, "--xlsx")
    groups = [b.strip() for b in by.split(",") if b.strip()]
    with current_database(url) as db:
        tables = statistics_tables(db, month, level=level, by=groups, trend=trend)
    print_tables(tables)
    if xlsx is not None:
        write_xlsx(tables, xlsx)
        out.print(f"XLSX: {xlsx}", markup=False)
