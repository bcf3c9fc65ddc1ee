"""Long-term care insurance (pilot-city design): level, setting, ratio, cap, insured group."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.errors import InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from safetynet.policy.parameters import coerce_value, default_tree

CITY = {  # an illustrative pilot city [I]
    "insurance.long_term_care.scheme_in_force": True,
    "insurance.long_term_care.financing_rate": "0.003",
    "insurance.long_term_care.cap_by_setting": {
        "institution": 3000,
        "home": 1500,
        "home_visit": 2000,
    },
}


def run(person: dict[str, Any], overrides: dict[str, Any] | None = None) -> Evaluation:
    tree = default_tree()
    values = CITY if overrides is None else overrides
    coerced = {k: coerce_value(tree.spec(k), v, k) for k, v in values.items()}
    member = {"birth_date": "1945-01-01", "sex": "female", "medical_scheme": "employee", **person}
    ev, _ = calculate(
        program("long_term_care"), {"members": [member]}, dt.date(2025, 9, 1), "000000", coerced
    )
    return ev


def claim(level: int, setting: str, cost: str) -> dict[str, Any]:
    return {"ltc_disability_level": level, "ltc_care_setting": setting, "ltc_eligible_cost": cost}


@pytest.mark.parametrize(
    ("setting", "cost", "paid"),
    [
        ("institution", "3000", 2100),  # 70 %
        ("institution", "6000", 3000),  # capped
        ("home", "1000", 700),
        ("home", "5000", 1500),  # capped
        ("home_visit", "2000", 1400),
    ],
)
def test_benefit_is_the_lesser_of_ratio_and_cap(setting: str, cost: str, paid: int) -> None:
    assert int(run(claim(4, setting, cost)).result.amount[0]) == paid * 100


@pytest.mark.parametrize(("level", "eligible"), [(0, False), (2, False), (3, True), (5, True)])
def test_severe_disability_qualifies(level: int, eligible: bool) -> None:
    ev = run(claim(level, "institution", "3000"))
    assert bool(ev.result.eligible[0]) is eligible


def test_not_a_pilot_city_pays_nothing_and_reads_no_city_figures() -> None:
    ev = run(claim(5, "institution", "3000"), overrides={})
    assert not ev.result.eligible[0]
    names = {r.name for r in ev.params.used()}
    assert names == {"insurance.long_term_care.scheme_in_force"}


def test_nobody_involved_reads_no_parameter() -> None:
    ev = run({}, overrides={})
    assert ev.params.used() == []


def test_contribution() -> None:
    ev = run({"ltc_wage_base": "10000"})
    assert int(ev.result.outputs["contribution"][0]) == 30_00


def test_resident_member_insured_only_if_the_city_covers_all() -> None:
    resident = {**claim(5, "institution", "3000"), "medical_scheme": "resident"}
    assert int(run(resident).result.amount[0]) == 0
    allm = {**CITY, "insurance.long_term_care.insured_group": "all_medical"}
    assert int(run(resident, overrides=allm).result.amount[0]) == 2100_00


def test_bad_level_names_the_field() -> None:
    with pytest.raises(InputError, match="ltc_disability_level"):
        run(claim(6, "institution", "1"))
