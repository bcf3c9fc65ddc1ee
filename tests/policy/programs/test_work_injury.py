"""Work-injury insurance: E11.1, own-wage band, who pays, survivors' cap, inputs and parameters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.errors import CoverageError, InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from safetynet.policy.parameters import coerce_value, default_tree

LOCAL = {
    "insurance.work_injury.regional_average_monthly_wage": 7000,  # [I]
    "common.economy.minimum_wage_monthly": 2000,  # [I]
}


def run(members: list[dict[str, Any]], overrides: dict[str, Any] | None = None) -> Evaluation:
    tree = default_tree()
    values = LOCAL if overrides is None else overrides
    coerced = {k: coerce_value(tree.spec(k), v, k) for k, v in values.items()}
    full = [{"birth_date": "1980-01-01", "sex": "male", **m} for m in members]
    ev, _ = calculate(
        program("work_injury"), {"members": full}, dt.date(2025, 9, 1), "000000", coerced
    )
    return ev


def out(ev: Evaluation, key: str) -> int:
    return int(ev.result.outputs[key][0])


def injured(grade: int, wage: str = "5000", **kw: Any) -> dict[str, Any]:
    return {
        "work_injury_event": "injured",
        "work_injury_wage_avg_12m": wage,
        "work_injury_disability_grade": grade,
        **kw,
    }


def test_e11_1_grade_5_paid_by_the_employer() -> None:
    ev = run([injured(5)])
    assert out(ev, "lump_sum_disability") == 90_000_00
    assert int(ev.result.amount[0]) == 3_500_00
    assert out(ev, "monthly_paid_by_employer") == 3_500_00
    assert out(ev, "monthly_paid_by_fund") == 0


def test_e11_1_grade_1_with_nursing_paid_by_the_fund() -> None:
    ev = run([injured(1, work_injury_nursing="complete")])
    assert out(ev, "lump_sum_disability") == 135_000_00
    assert out(ev, "monthly_allowance_fund") == 4_500_00
    assert out(ev, "nursing_allowance") == 3_500_00
    assert out(ev, "monthly_paid_by_fund") == 8_000_00


def test_e11_1_death_and_survivors_capped() -> None:
    ev = run(
        [
            {"work_injury_event": "death", "work_injury_wage_avg_12m": "5000"},
            {"work_injury_survivor": "spouse"},
            {"work_injury_survivor": "other"},
            {"work_injury_survivor": "other", "work_injury_survivor_lone": True},
        ]
    )
    assert out(ev, "funeral_subsidy") == 42_000_00
    assert out(ev, "death_subsidy") == 1_083_760_00
    assert int(ev.result.amount[0]) == 5_000_00
    assert ev.result.person_amount is not None
    assert list(ev.result.person_amount) == [0, 181818, 136364, 181818]


@pytest.mark.parametrize(
    ("wage", "own"),
    [("0", 4200), ("4199.99", 4200), ("4200", 4200), ("21000", 21000), ("21000.01", 21000)],
)
def test_own_wage_band(wage: str, own: int) -> None:
    assert out(run([injured(10, wage)]), "own_wage") == own * 100


@pytest.mark.parametrize(
    ("grade", "months"),
    [(1, 27), (2, 25), (3, 23), (4, 21), (5, 18), (6, 16), (7, 13), (8, 11), (9, 9), (10, 7)],
)
def test_lump_sum_months_by_grade(grade: int, months: int) -> None:
    assert out(run([injured(grade)]), "lump_sum_disability") == months * 5000 * 100


@pytest.mark.parametrize(
    ("grade", "fund", "employer"),
    [(1, 4500, 0), (2, 4250, 0), (3, 4000, 0), (4, 3750, 0), (5, 0, 3500), (6, 0, 3000), (7, 0, 0)],
)
def test_monthly_allowance_and_who_pays(grade: int, fund: int, employer: int) -> None:
    ev = run([injured(grade)])
    assert out(ev, "monthly_allowance_fund") == fund * 100
    assert out(ev, "monthly_allowance_employer") == employer * 100


def test_grade_5_with_work_arranged_gets_no_allowance() -> None:
    assert int(run([injured(5, work_injury_job_arranged=True)]).result.amount[0]) == 0


def test_not_injured_is_ineligible_and_needs_no_local_figures() -> None:
    ev = run([{"wage_income": "5000"}, {"work_injury_survivor": "spouse"}], overrides={})
    assert not ev.result.eligible[0]
    assert int(ev.result.amount[0]) == 0
    assert not any(r.name.startswith("insurance.work_injury.") for r in ev.params.used())


def test_missing_regional_average_names_the_parameter() -> None:
    with pytest.raises(CoverageError, match="regional_average_monthly_wage"):
        run([injured(3)], overrides={})


def test_unknown_grade_names_the_field() -> None:
    with pytest.raises(InputError, match=r"work_injury_disability_grade"):
        run([injured(11)])
    with pytest.raises(InputError, match=r"work_injury_event"):
        run([{"work_injury_event": "hurt"}])


def test_explanation_cites_the_national_income_for_the_death_subsidy() -> None:
    ev = run([{"work_injury_event": "death", "work_injury_wage_avg_12m": "5000"}])
    steps = {s.key: s for s in ev.trace.steps}
    assert steps["national_urban_income"].value == "54188.00"
    assert steps["death_subsidy"].value == "1083760.00"
