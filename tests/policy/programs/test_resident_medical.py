"""Resident medical insurance: yearly financing per insured person and the inpatient benefit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.errors import CoverageError, InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from safetynet.policy.parameters import coerce_value, default_tree

HEZE: dict[str, Any] = {  # [M] secondary source; the cap is [I]
    "insurance.resident_medical.inpatient.deductible": {"1": 100, "2": 350, "3": 750},
    "insurance.resident_medical.inpatient.ratio": {"1": 0.85, "2": 0.76, "3": 0.66},
    "insurance.resident_medical.inpatient.annual_cap": 300000,
}


def run(
    members: list[dict[str, Any]],
    overrides: dict[str, Any] | None = None,
    on: dt.date = dt.date(2025, 9, 1),
) -> Evaluation:
    tree = default_tree()
    values = HEZE if overrides is None else overrides
    coerced = {k: coerce_value(tree.spec(k), v, k) for k, v in values.items()}
    full = [
        {"relation": "head" if i == 0 else "child", "birth_date": "1980-01-01", "sex": "male", **m}
        for i, m in enumerate(members)
    ]
    ev, _ = calculate(program("resident_medical"), {"members": full}, on, "000000", coerced)
    return ev


@pytest.mark.parametrize(
    ("on", "individual", "subsidy"),
    [
        (dt.date(2023, 5, 1), 38000, 64000),
        (dt.date(2024, 5, 1), 40000, 67000),
        (dt.date(2025, 5, 1), 40000, 70000),
    ],
)
def test_financing_by_year(on: dt.date, individual: int, subsidy: int) -> None:
    ev = run([{}, {}], overrides={}, on=on)
    assert int(ev.result.outputs["individual_contribution_yearly"][0]) == 2 * individual
    assert int(ev.result.outputs["government_subsidy_yearly"][0]) == 2 * subsidy


@pytest.mark.parametrize(
    ("level", "cost", "paid"), [(1, "5000", 416500), (2, "10000", 733400), (3, "50000", 3250500)]
)
def test_heze_inpatient(level: int, cost: str, paid: int) -> None:
    ev = run([{"medical_in_policy_cost": cost, "medical_hospital_level": level}])
    assert int(ev.result.amount[0]) == paid


def test_employee_members_and_the_uninsured_are_not_counted() -> None:
    ev = run(
        [
            {},
            {"medical_scheme": "employee"},
            {"medical_insured": False, "medical_in_policy_cost": "5000"},
        ]
    )
    assert int(ev.result.outputs["insured_members"][0]) == 1
    assert int(ev.result.amount[0]) == 0


def test_without_a_stay_no_local_benefit_figures_are_needed() -> None:
    ev = run([{}], overrides={})
    assert ev.result.eligible[0]


def test_a_stay_without_local_figures_names_the_parameter() -> None:
    with pytest.raises(CoverageError, match="inpatient"):
        run([{"medical_in_policy_cost": "5000"}], overrides={})


def test_bad_input_names_the_field() -> None:
    with pytest.raises(InputError, match="medical_insured"):
        run([{"medical_insured": "yes"}])
