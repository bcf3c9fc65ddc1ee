"""Employment assistance (就业救助): members to help into work, zero-employment households and
refused offers. Working age 16 to below 60 / 55 is a typical local design [M]."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.errors import InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program

ON = dt.date(2025, 9, 1)


def run(members: list[dict[str, Any]], hukou: str = "urban", **hh: Any) -> Evaluation:
    household = {"hukou_type": hukou, "members": members, **hh}
    ev, _ = calculate(program("employment_assistance"), household, ON, "000000")
    return ev


def man(born: str = "1980-03-01", **kw: Any) -> dict[str, Any]:
    return {"relation": "head", "birth_date": born, "sex": "male", **kw}


def woman(born: str = "1982-03-01", **kw: Any) -> dict[str, Any]:
    return {"relation": "spouse", "birth_date": born, "sex": "female", **kw}


def outputs(ev: Evaluation) -> dict[str, Any]:
    return {k: v[0].item() for k, v in ev.result.outputs.items()}


def test_unemployed_dibao_couple_is_a_zero_employment_household() -> None:
    ev = run([man(), woman()], is_dibao_recipient=True)
    assert ev.result.eligible[0]
    assert int(ev.result.amount[0]) == 0
    assert outputs(ev)["target_members"] == 2
    assert outputs(ev)["must_place_one"] is True


def test_one_member_in_work_ends_zero_employment() -> None:
    ev = run([man(is_employed=True), woman()], is_dibao_recipient=True)
    assert outputs(ev)["zero_employment_household"] is False
    assert outputs(ev)["target_members"] == 1


@pytest.mark.parametrize(
    ("person", "able"),
    [
        (man("1965-09-02"), 1),  # 59
        (man("1965-09-01"), 0),  # 60 today
        (woman("1970-09-02"), 1),  # 54
        (woman("1970-09-01"), 0),  # 55 today
        (man("2009-09-01"), 1),  # 16 today
        (man("2009-09-02"), 0),  # 15
    ],
)
def test_working_age_bounds(person: dict[str, Any], able: int) -> None:
    assert outputs(run([person], is_dibao_recipient=True))["able_to_work"] == able


def test_refusals_at_the_dibao_limit_are_reported() -> None:
    ev = run([man(refused_job_offers=3), woman(refused_job_offers=2)], is_dibao_recipient=True)
    assert outputs(ev)["refused_offers_members"] == 1


def test_rural_household_is_not_zero_employment_under_the_urban_rule() -> None:
    assert not run([man()], hukou="rural").result.eligible[0]


def test_unknown_sex_is_rejected_naming_the_field() -> None:
    with pytest.raises(InputError, match=r"members\[0\]\.sex"):
        run([man(sex="x")])
