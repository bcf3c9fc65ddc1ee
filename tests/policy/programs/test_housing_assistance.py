"""Housing assistance (住房救助): housing difficulty, the rent subsidy, the priority flags and errors.
Local standards are illustrative [I]: 15 m² per person, 20 yuan per m² per month, dibao 0.8."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.errors import CoverageError, InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from safetynet.policy.parameters import coerce_value, default_tree

ON = dt.date(2025, 9, 1)
LOCAL: dict[str, Any] = {
    "assistance.housing_assistance.guaranteed_area_per_person": 15,
    "assistance.housing_assistance.benchmark_rent_monthly": 20,
    "assistance.housing_assistance.coefficient_by_class": {"tekun": 1, "dibao": 0.8},
}
ADULT = {"relation": "head", "birth_date": "1980-03-01", "sex": "male"}


def run(n: int = 3, **hh: Any) -> Evaluation:
    tree = default_tree()
    ov = {k: coerce_value(tree.spec(k), v, k) for k, v in LOCAL.items()}
    household = {"hukou_type": "urban", "members": [dict(ADULT) for _ in range(n)], **hh}
    ev, _ = calculate(program("housing_assistance"), household, ON, "000000", ov)
    return ev


def test_renting_dibao_family_gets_the_rent_gap() -> None:
    ev = run(is_dibao_recipient=True, housing_tenure="rents", housing_floor_area_per_person=8)
    assert int(ev.result.amount[0]) == 33_600  # 20 × 7 × 3 × 0.8
    assert ev.result.outputs["public_rental_priority"][0]


@pytest.mark.parametrize(("area", "amount"), [(15, 0), (14, 4_800), (0, 72_000)])
def test_subsidy_around_the_guaranteed_area(area: int, amount: int) -> None:
    ev = run(is_dibao_recipient=True, housing_tenure="rents", housing_floor_area_per_person=area)
    assert int(ev.result.amount[0]) == amount
    assert bool(ev.result.eligible[0]) == (amount > 0)


def test_rural_dilapidated_home_has_renovation_priority_without_rent() -> None:
    ev = run(
        is_dibao_recipient=True,
        hukou_type="rural",
        housing_tenure="owns",
        housing_floor_area_per_person=30,
        housing_is_dilapidated=True,
    )
    assert ev.result.eligible[0]
    assert int(ev.result.amount[0]) == 0
    assert ev.result.outputs["renovation_priority"][0]
    assert not ev.result.outputs["public_rental_priority"][0]


def test_home_based_tekun_is_covered_but_not_one_in_an_institution() -> None:
    tekun = {**ADULT, "is_tekun_recipient": True}
    home = {"hukou_type": "urban", "housing_tenure": "other", "members": [tekun]}
    tree = default_tree()
    ov = {k: coerce_value(tree.spec(k), v, k) for k, v in LOCAL.items()}
    ev, _ = calculate(program("housing_assistance"), home, ON, "000000", ov)
    assert int(ev.result.amount[0]) == 30_000
    home["members"] = [{**tekun, "lives_in_institution": True}]
    ev, _ = calculate(program("housing_assistance"), home, ON, "000000", ov)
    assert not ev.result.eligible[0]


def test_negative_area_is_rejected_naming_the_field() -> None:
    with pytest.raises(InputError, match="housing_floor_area_per_person"):
        run(is_dibao_recipient=True, housing_floor_area_per_person=-1)


def test_missing_local_standard_names_the_parameter() -> None:
    household = {"hukou_type": "urban", "is_dibao_recipient": True, "members": [ADULT]}
    with pytest.raises(CoverageError, match=r"guaranteed_area_per_person"):
        calculate(program("housing_assistance"), household, ON, "000000")
