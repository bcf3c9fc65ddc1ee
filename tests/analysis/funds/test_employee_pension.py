"""The employee pension fund projection: the first year against the 2022 bulletin, the retirement-age
reform, a reform that changes nothing, and a province's pooling transfers."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from safetynet.analysis.funds.employee_pension import Projection, project
from safetynet.analysis.funds.report import validation
from safetynet.analysis.funds.scenario import Change, Reform, Scenario
from safetynet.analysis.funds.schedules import Schedules, load_schedules
from safetynet.analysis.funds.service import project_fund
from safetynet.errors import InputError
from safetynet.policy.parameters import NATION, shipped_tree_with


@pytest.fixture(scope="module")
def nation() -> Schedules:
    return load_schedules(NATION)


@pytest.fixture(scope="module")
def with_and_without(nation: Schedules) -> tuple[Projection, Projection]:
    scenario = Scenario()
    return project(nation, 26, scenario), project(nation, 26, scenario.without_retirement_reform())


def test_the_first_year_reproduces_the_published_2022_fund_within_one_percent(
    with_and_without: tuple[Projection, Projection],
) -> None:
    first = with_and_without[0]
    checks = {c.item.split()[0]: c for c in validation(first)}
    assert first.years[0].year == 2022
    assert set(checks) == {"income", "expenditure", "balance"}
    # 2022年度人力资源和社会保障事业发展统计公报: 63,324 / 59,035 / 56,890 亿元
    assert checks["income"].published == 6_332_400_000_000_00
    assert checks["expenditure"].published == 5_903_500_000_000_00
    assert checks["balance"].published == 5_689_000_000_000_00
    for check in checks.values():
        assert check.tolerance == Decimal("0.01")
        assert abs(check.difference) <= Decimal("0.01"), check
        assert "2022年度人力资源和社会保障事业发展统计公报" in check.source
    # the insured counts of the same bulletin (36,711 万 workers, 13,644 万 retirees) within 1 %
    assert abs(first.years[0].workers - 367_110_000) < 3_671_100
    assert abs(first.years[0].retirees - 136_440_000) < 1_364_400


def test_the_retirement_age_reform_keeps_the_fund_longer_than_no_reform(
    with_and_without: tuple[Projection, Projection],
) -> None:
    reform, none = with_and_without
    assert [y.balance for y in reform.years[:3]] == [y.balance for y in none.years[:3]]
    for a, b in zip(reform.years[3:], none.years[3:], strict=True):  # from 2025
        assert a.balance > b.balance, a.year
        assert a.retirees < b.retirees, a.year
        assert a.workers > b.workers, a.year
    assert none.exhaustion_year is not None
    assert reform.exhaustion_year is None or reform.exhaustion_year > none.exhaustion_year


def test_without_the_reform_men_born_in_1965_retire_at_60_and_with_it_later(
    nation: Schedules,
) -> None:
    # men born in 1965 reach 60 in 2025: with the reform they retire 1 to 4 months later, so
    # fewer men aged 59 at the end of 2024 become pensioners in 2025 and they draw fewer months
    reform, none = (
        project(nation, 4, Scenario()),
        project(nation, 4, Scenario(retirement_reform=False)),
    )
    assert reform.year(2025).new_retirees < none.year(2025).new_retirees
    assert reform.year(2024).new_retirees == none.year(2024).new_retirees


def test_a_reform_that_changes_nothing_gives_identical_paths(nation: Schedules) -> None:
    same = Reform(
        "employers keep paying 16 %",
        (Change("insurance.employee_pension.employer_rate", dt.date(2026, 1, 1), Decimal("0.16")),),
    )
    base = project(nation, 8, Scenario())
    again = project(nation, 8, replace(Scenario(), reform=same))
    assert again.years == base.years
    higher = Reform(
        "employers pay 18 % from 2026",
        (Change("insurance.employee_pension.employer_rate", dt.date(2026, 1, 1), Decimal("0.18")),),
    )
    raised = project(nation, 8, replace(Scenario(), reform=higher))
    assert raised.year(2025) == base.year(2025)
    assert raised.year(2026).contributions > base.year(2026).contributions
    assert raised.years[-1].balance > base.years[-1].balance


def test_scenario_levers_move_the_path_the_expected_way(nation: Schedules) -> None:
    base = project(nation, 6, Scenario())
    generous = project(nation, 6, Scenario(indexation=Decimal("0.05")))
    richer = project(nation, 6, Scenario(wage_growth=Decimal("0.08")))
    # the published adjustments run to 2025 and wages to 2023: the levers act after them
    assert generous.year(2025) == base.year(2025)
    assert generous.year(2026).expenditure > base.year(2026).expenditure
    assert richer.year(2023) == base.year(2023)
    assert richer.year(2024).contributions > base.year(2024).contributions


def _province_folder(tmp_path: Path) -> Path:
    """A made-up province (a tenth of the nation's people, a younger insured population) for the
    pooling arithmetic — not a real province's figures."""
    (tmp_path / "regions").mkdir()
    values = {
        "published_workers": 40_000_000,
        "published_retirees": 8_000_000,
        "published_balance": 500_000_000_000,
        "average_wage_yearly": 110_000,
    }
    lines = ['region: "440000"', "name: test province", "parameters:"]
    for name, value in values.items():
        lines += [
            f"  insurance.funds.employee_pension.{name}:",
            "    provenance: I",
            f"    values: {{2021-01-01: {value}}}",
            "    reference: [{title: test values, note: made up for the test}]",
        ]
    (tmp_path / "regions" / "440000.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_a_province_with_more_workers_per_retiree_pays_into_the_national_pooling(
    nation: Schedules, tmp_path: Path
) -> None:
    tree = shipped_tree_with(_province_folder(tmp_path))
    province = replace(
        nation,
        region="440000",
        population=nation.population // 10,
        migration=np.zeros_like(nation.migration),
    )
    national = project(nation, 3, Scenario(), tree=tree)
    alone = project(province, 3, Scenario(), tree=tree)
    pooled = project(province, 3, Scenario(), tree=tree, national=national)
    year = pooled.years[0]
    assert year.dependency > national.years[0].dependency
    assert year.pooling_net < 0  # it pays more than it gets back
    assert alone.years[0].pooling_net == 0
    # the pooling goes into the balance, not into the income (as a province publishes its fund)
    assert year.income == alone.years[0].income
    assert year.balance == alone.years[0].balance + year.pooling_net
    # it pays 4.5 % of 90 % of the wage bill of 61.7 % of its insured workers (the headcount the
    # nation's 2021 adjustment counted; wage 110,000 yuan + 6 %)
    assert year.average_wage == 116_600_00
    headcount = round(year.workers * Decimal("0.617"))
    expected = Decimal(116_600_00) * Decimal("0.9") * headcount * Decimal("0.045")
    assert abs(year.pooling_contribution - expected) <= 1
    assert national.years[0].pooling_net == 0


def test_fujian_2021_reproduces_its_yearbook_and_pays_into_the_central_adjustment() -> None:
    # 福建统计年鉴2022 table 10-7, enterprise fund: 729.17 / 594.91 / 555.93 亿元, 1011.11 万 workers
    report = project_fund(
        "employee_pension", "350000", 3, Scenario(), compare_retirement_reform=False
    )
    fujian = report.projections[0]
    first = fujian.years[0]
    assert (report.schedules.year, first.year) == (2020, 2021)
    assert fujian.opening_balance == 562_49_000_000_00
    checks = {c.item.split()[0]: c for c in report.checks}
    assert {k: c.published for k, c in checks.items()} == {
        "income": 729_17_000_000_00,
        "expenditure": 594_91_000_000_00,
        "balance": 555_93_000_000_00,
    }
    assert all(c.ok and "福建统计年鉴2022" in c.source for c in checks.values()), checks
    assert abs(first.workers - 10_111_100) < 101_111
    assert abs(first.births - 345_000) < 3_450  # the 2021 communiqué: 34.5 万 births
    # the balance fell although income exceeded spending: the net payment to the pooling
    assert first.income > first.expenditure
    assert first.balance < fujian.opening_balance
    assert first.pooling_net < 0
    assert first.balance == fujian.opening_balance + first.income + first.pooling_net - (
        first.expenditure
    )
    # 2021 is pooled with the nation's published 2021 figures, 2022 on with its projection
    assert fujian.years[1].pooling_net < 0


def test_a_pooling_year_with_neither_a_national_projection_nor_published_figures_is_refused(
    nation: Schedules,
) -> None:
    # the nation projected from 2025 on: Fujian's 2021 and 2022 are pooled with the nation's
    # published figures, 2023 has none (no published insured counts)
    national = project(replace(nation, year=2024), 1, Scenario())
    with pytest.raises(InputError, match="no published figures for 2023"):
        project(load_schedules("350000"), 3, Scenario(), national=national)
