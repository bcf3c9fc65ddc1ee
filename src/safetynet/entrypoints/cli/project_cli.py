"""``safetynet project``: project a social-insurance fund year by year (docs/funds.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safetynet.entrypoints.cli._common import out, reports_errors

__all__ = ["project_cmd"]


@reports_errors
def project_cmd(
    fund: Annotated[
        str, typer.Option("--fund", help="The fund: employee_pension (docs/funds.md).")
    ] = "employee_pension",
    region: Annotated[
        str,
        typer.Option(
            "--region",
            help="Region code: 000000 = the nation, 350000 = Fujian (docs/funds.md lists the regions that ship).",
        ),
    ] = "000000",
    years: Annotated[int, typer.Option("--years", help="Years to project (1-100).")] = 30,
    reform: Annotated[
        Path | None,
        typer.Option("--reform", help="YAML file of dated parameter changes (docs/funds.md)."),
    ] = None,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario",
            help="A lever KEY=VALUE, repeatable: wage_growth=0.04, indexation=2%, "
            "employer_rate=0.14, retirement_reform=off.",
        ),
    ] = None,
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="Write the workbook (one sheet per table).")
    ] = None,
    charts: Annotated[
        Path | None,
        typer.Option("--charts", help="Folder for balance.png and dependency.png."),
    ] = None,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare/--no-compare",
            help="Also project without the 2025 retirement-age reform (default: yes).",
        ),
    ] = True,
    assumptions: Annotated[
        bool,
        typer.Option("--assumptions/--no-assumptions", help="Print every assumption and source."),
    ] = True,
) -> None:
    """Project a fund's contributors, retirees, income, expenditure and balance; print the balance
    path and the year it is exhausted, with and without the retirement-age reform."""
    from safetynet.analysis.funds import report as r
    from safetynet.analysis.funds.scenario import parse_scenario, read_reform
    from safetynet.analysis.funds.service import project_fund
    from safetynet.domain.regions import validate_region_code
    from safetynet.entrypoints.cli.paths import input_file, output_dir, output_file
    from safetynet.policy.parameters import default_tree

    code = validate_region_code(region, "--region")
    if xlsx is not None:
        xlsx = output_file(xlsx, "--xlsx")
    if charts is not None:
        charts = output_dir(charts, "--charts")
    if reform is not None:
        reform = input_file(reform, "--reform")
    lever = parse_scenario(scenario or [])
    changes = read_reform(reform, default_tree()) if reform is not None else None
    result = project_fund(
        fund, code, years, lever, reform=changes, compare_retirement_reform=compare
    )
    first = result.projections[0]
    if result.checks:
        out.print(r.validation_table(result.checks, first.years[0].year))
        for source in dict.fromkeys(c.source for c in result.checks):
            out.print(f"published figures: {source}")
    out.print(r.path_table(first))
    out.print(r.compare_table(result.projections))
    for p in result.projections:
        out.print(f"{p.scenario.name}: {r.exhaustion_text(p)}")
    if assumptions:
        out.print(
            "Assumptions (every value used, with its source; S source, M unverified, I illustrative):"
        )
        for line in r.assumption_lines(result.assumptions):
            out.print(f"  {line}", markup=False)
    if xlsx is not None:
        r.write_xlsx(xlsx, result.projections, result.checks, result.assumptions)
        out.print(f"workbook: {xlsx}")
    if charts is not None:
        for path in r.write_charts(charts, result.projections):
            out.print(f"chart: {path}")
