"""``safetynet project``: the projections a request asks for, checked and documented."""

from __future__ import annotations

from dataclasses import dataclass, replace

from safetynet.analysis.funds.aggregate import project_aggregate
from safetynet.analysis.funds.employee_pension import Projection, project
from safetynet.analysis.funds.report import Assumption, Check, assumptions, validation
from safetynet.analysis.funds.scenario import Reform, Scenario
from safetynet.analysis.funds.schedules import Schedules, load_schedules
from safetynet.errors import InputError
from safetynet.policy.parameters import NATION, ParameterTree, default_tree

FUNDS = {
    "employee_pension": "城镇职工基本养老保险基金 (urban employee basic pension, cohort by cohort)",
    "resident_pension": "城乡居民基本养老保险基金 (resident basic pension, simpler)",
    "employee_medical": "职工基本医疗保险基金 (employee basic medical insurance, simpler)",
    "resident_medical": "城乡居民基本医疗保险基金 (resident basic medical insurance, simpler)",
    "long_term_care": "长期护理保险 (long-term care, the pilot cities together, simpler)",
}


@dataclass(frozen=True)
class FundReport:
    fund: str
    schedules: Schedules
    projections: list[Projection]  # the scenario asked for first, then the comparisons
    checks: list[Check]
    assumptions: list[Assumption]


def project_fund(
    fund: str,
    region: str,
    years: int,
    scenario: Scenario,
    *,
    reform: Reform | None = None,
    compare_retirement_reform: bool = True,
    tree: ParameterTree | None = None,
) -> FundReport:
    """The projection of ``scenario`` (with ``reform`` if given), the same without the reform file
    (if given) and without the 2025 retirement-age reform (if it is on)."""
    if fund not in FUNDS:
        raise InputError("--fund", f"不支持的基金 {fund}; known funds: {', '.join(FUNDS)}")
    sched = load_schedules(region)
    if fund != "employee_pension":
        published = f"insurance.funds.{fund}.published_income"
        if region != NATION and not (tree or default_tree()).history(published, region):
            raise InputError(
                "--region",
                f"地区 {region} 没有 {fund} 基金的公布数据; no published figures of the {fund} fund "
                f"ship for region {region} (its schedules serve employee_pension): docs/funds.md",
            )
        return _simpler(fund, sched, years, scenario, reform, tree)
    scenarios = [replace(scenario, reform=reform, name="reform")] if reform else []
    scenarios.append(scenario)
    if compare_retirement_reform and scenario.retirement_reform:
        scenarios.append(scenario.without_retirement_reform())
    projections = []
    nation = load_schedules(NATION) if region != NATION else None
    for s in scenarios:
        national = None
        if nation is not None:  # the nation over the province's years (from its own base year)
            last = sched.year + years
            national = project(nation, max(last - nation.year, 1), s, tree=tree)
        projections.append(project(sched, years, s, tree=tree, national=national))
    return FundReport(
        fund,
        sched,
        projections,
        validation(projections[0]),
        assumptions(projections, sched),
    )


def _simpler(
    fund: str,
    sched: Schedules,
    years: int,
    scenario: Scenario,
    reform: Reform | None,
    tree: ParameterTree | None,
) -> FundReport:
    levers = (scenario.wage_growth, scenario.indexation, scenario.employer_rate)
    if any(v is not None for v in levers) or not scenario.retirement_reform:
        raise InputError(
            "--scenario",
            f"情景参数只适用于 employee_pension; the levers apply to employee_pension only: change "
            f"the parameters insurance.funds.{fund}.* with --reform FILE",
        )
    scenarios = [replace(scenario, reform=reform, name="reform")] if reform else []
    scenarios.append(scenario)
    projections = [project_aggregate(fund, sched, years, s, tree=tree) for s in scenarios]
    return FundReport(
        fund, sched, projections, validation(projections[0]), assumptions(projections, sched)
    )
