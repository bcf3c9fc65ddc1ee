"""Education assistance (教育救助): who is covered by stage, the province amounts plus the national
components, the preschool start in 2020, and errors. Province amounts are illustrative [I]."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.errors import CoverageError, InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from safetynet.policy.parameters import coerce_value, default_tree

ON = dt.date(2025, 9, 1)
AMOUNTS = {
    "preschool": 1000,
    "primary": 500,
    "junior_secondary": 800,
    "senior_high": 2000,
    "secondary_vocational": 2000,
    "higher_education": 4000,
    "disabled_out_of_school": 1200,
}


def run(members: list[dict[str, Any]], on: dt.date = ON, **hh: Any) -> Evaluation:
    name = "assistance.education_assistance.amount_by_stage"
    ov = {name: coerce_value(default_tree().spec(name), AMOUNTS, name)}
    household = {"hukou_type": "rural", "members": members, **hh}
    ev, _ = calculate(program("education_assistance"), household, on, "000000", ov)
    return ev


def child(born: str, **kw: Any) -> dict[str, Any]:
    return {"relation": "child", "birth_date": born, "sex": "female", **kw}


HEAD = {"relation": "head", "birth_date": "1978-03-01", "sex": "male"}


def test_dibao_family_with_three_students_gets_10000() -> None:
    ev = run(
        [
            HEAD,
            child("2015-10-01", education_stage="primary", education_is_boarding=True),
            child("2012-02-01", education_stage="junior_secondary"),
            child("2005-07-01", education_stage="higher_education"),
        ],
        is_dibao_recipient=True,
    )
    assert int(ev.result.amount[0]) == 1_000_000
    assert ev.result.person_amount is not None
    assert ev.result.person_amount.tolist() == [0, 150_000, 80_000, 770_000]
    assert int(ev.result.outputs["mandatory_students"][0]) == 2
    assert int(ev.result.outputs["appropriate_students"][0]) == 1


def test_national_grant_rises_in_autumn_2024() -> None:
    student = child("2004-07-01", education_stage="higher_education")
    before = run([HEAD, student], on=dt.date(2024, 8, 31), is_dibao_recipient=True)
    after = run([HEAD, student], on=dt.date(2024, 9, 1), is_dibao_recipient=True)
    assert int(before.result.amount[0]) == 730_000
    assert int(after.result.amount[0]) == 770_000


def test_preschool_is_covered_only_from_2020() -> None:
    kid = child("2016-10-01", education_stage="preschool")
    assert not run([HEAD, kid], on=dt.date(2019, 9, 1), is_dibao_recipient=True).result.eligible[0]
    assert (
        int(run([HEAD, kid], on=dt.date(2020, 9, 1), is_dibao_recipient=True).result.amount[0])
        == 100_000
    )


def test_ordinary_household_pupil_is_not_covered() -> None:
    ev = run([HEAD, child("2015-10-01", education_stage="primary")])
    assert not ev.result.eligible[0]


def test_disabled_child_out_of_school_is_covered_until_18() -> None:
    kw = {
        "disability_category": "physical",
        "disability_grade": 1,
        "education_disabled_out_of_school": True,
    }
    assert int(run([HEAD, child("2010-01-01", **kw)]).result.amount[0]) == 120_000
    assert not run([HEAD, child("2007-09-01", **kw)]).result.eligible[0]


def test_unknown_stage_is_rejected_naming_the_field() -> None:
    with pytest.raises(InputError, match=r"members\[1\]\.education_stage"):
        run([HEAD, child("2015-10-01", education_stage="college")], is_dibao_recipient=True)


def test_missing_province_amounts_name_the_parameter() -> None:
    household = {
        "hukou_type": "rural",
        "is_dibao_recipient": True,
        "members": [HEAD, child("2015-10-01", education_stage="primary")],
    }
    with pytest.raises(CoverageError, match=r"education_assistance\.amount_by_stage"):
        calculate(program("education_assistance"), household, ON, "000000")
