"""``safetynet project``: the projections a request asks for, checked and documented."""

from __future__ import annotations

from dataclasses import dataclass, replace

from safetynet.analysis.funds.employee_pension import Projection, project
from safetynet.analysis.funds.report import Assumption, Check, assumptions, validation
from safetynet.analysis.funds.scenario import Reform, Scenario
from safetynet.analysis.funds.schedules import Schedules, load_schedules
from safetynet.errors import InputError
from safetynet.policy.parameters import NATION, ParameterTree

FUNDS = {
    "employee_pension": "城镇职工基本养老保险基金 (urban employee basic pension)",
}
PLANNED = {
    "resident_pension": "城乡居民基本养老保险基金",
    "employee_medical": "职工基本医疗保险基金",
    "resident_medical": "城乡居民基本医疗保险基金",
    "long_term_care": "长期护理保险 (pilot cities)",
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
        planned = f" ({PLANNED[fund]} is not projected yet)" if fund in PLANNED else ""
        raise InputError("--fund", f"不支持的基金 {fund}{planned}; known funds: {', '.join(FUNDS)}")
    sched = load_schedules(region)
    scenarios = [replace(scenario, reform=reform, name="reform")] if reform else []
    scenarios.append(scenario)
    if compare_retirement_reform and scenario.retirement_reform:
        scenarios.append(scenario.without_retirement_reform())
    projections = []
    for s in scenarios:
        national = None
        if region != NATION:
            national = project(load_schedules(NATION), years, s, tree=tree)
        projections.append(project(sched, years, s, tree=tree, national=national))
    return FundReport(
        fund,
        sched,
        projections,
        validation(projections[0]),
        assumptions(projections, sched),
    )
