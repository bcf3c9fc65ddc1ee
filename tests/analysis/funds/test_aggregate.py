"""The simpler projections: the resident pension, the two medical insurance funds and the
long-term care pilots."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from safetynet.analysis.funds.aggregate import project_aggregate
from safetynet.analysis.funds.report import validation
from safetynet.analysis.funds.scenario import Change, Reform, Scenario
from safetynet.analysis.funds.schedules import Schedules, load_schedules
from safetynet.policy.parameters import NATION


@pytest.fixture(scope="module")
def nation() -> Schedules:
    return load_schedules(NATION)


@pytest.mark.parametrize(
    ("fund", "bulletin", "income"),
    [
        ("resident_pension", "2022年度人力资源和社会保障事业发展统计公报", 5609),
        ("employee_medical", "2022年全国医疗保障事业发展统计公报", 20793),
        ("resident_medical", "2022年全国医疗保障事业发展统计公报", 10129),
    ],
)
def test_the_first_year_lands_within_three_percent_of_the_2022_bulletin(
    nation: Schedules, fund: str, bulletin: str, income: int
) -> None:
    projection = project_aggregate(fund, nation, 2)
    checks = validation(projection)
    assert projection.years[0].year == 2022
    assert [c.item.split()[0] for c in checks] == ["income", "expenditure", "balance"]
    assert checks[0].published == income * 10**10
    for check in checks:
        assert check.tolerance == Decimal("0.03")
        assert check.ok, check
        assert bulletin in check.source


def _growth(fund: str, **values: str) -> Reform:
    start = dt.date(2021, 1, 1)
    return Reform(
        "frozen",
        tuple(
            Change(f"insurance.funds.{fund}.{name}", start, Decimal(v))
            for name, v in values.items()
        ),
    )


def test_with_nothing_growing_income_follows_the_payers_and_spending_the_pensioners(
    nation: Schedules,
) -> None:
    fund = "resident_pension"
    frozen = _growth(
        fund, income_growth="0", cost_growth="0", coverage_growth="0", older_pay_weight="0"
    )
    p = project_aggregate(fund, nation, 3, replace(Scenario(), reform=frozen))
    # 2021: 5,339 亿 from 38,584 万 payers; 3,715 亿 for 16,213 万 pensioners (the bulletin)
    per_payer = Decimal(533_900_000_000_00) / 385_840_000
    per_pensioner = Decimal(371_500_000_000_00) / 162_130_000
    for y in p.years:  # the counts shown are rounded to whole persons: within one person's money
        assert abs(y.income - per_payer * y.workers) <= per_payer / 2 + 1
        assert abs(y.expenditure - per_pensioner * y.retirees) <= per_pensioner / 2 + 1
    assert p.years[0].balance == 1_139_600_000_000_00 + p.years[0].income - p.years[0].expenditure


def test_the_long_term_care_pilots_accumulate_from_zero_after_2022(nation: Schedules) -> None:
    p = project_aggregate("long_term_care", nation, 3)
    assert p.first_year == 2023
    assert p.opening_balance == 0
    assert validation(p) == []  # nothing published for 2023 here
    first = p.years[0]
    assert first.balance == first.income - first.expenditure
    assert first.income > first.expenditure > 0


def test_higher_cost_growth_runs_a_medical_fund_down_sooner(nation: Schedules) -> None:
    fund = "employee_medical"
    base = project_aggregate(fund, nation, 30)
    dearer = _growth(fund, cost_growth="0.08")
    worse = project_aggregate(fund, nation, 30, replace(Scenario(), reform=dearer))
    assert base.exhaustion_year is not None
    assert worse.exhaustion_year is not None
    assert worse.exhaustion_year < base.exhaustion_year
