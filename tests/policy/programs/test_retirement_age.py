"""Retirement age: the reform table, the minimum-contribution schedule, flexible retirement and
bad input (future birth dates, a category contradicting the person's sex)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.errors import InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program


def run(person: dict[str, Any], on: dt.date = dt.date(2025, 9, 1)) -> Evaluation:
    member = {"employee_pension_insured": True, **person}
    ev, _ = calculate(program("retirement_age"), {"members": [member]}, on, "000000")
    return ev


def out(ev: Evaluation, key: str) -> int:
    return int(ev.result.outputs[key][0])


@pytest.mark.parametrize(
    ("born", "sex", "category", "delay", "retires", "age_months"),
    [
        ("1965-01-15", "male", "man", 1, 202502, 721),
        ("1965-05-01", "male", "man", 2, 202507, 722),
        ("1970-06-01", "male", "man", 17, 203111, 737),
        ("1976-12-01", "male", "man", 36, 203912, 756),
        ("1971-03-01", "female", "woman_55", 4, 202607, 664),
        ("1975-03-01", "female", "woman_50", 2, 202505, 602),
        ("1984-12-01", "female", "woman_50", 60, 203912, 660),
    ],
)
def test_reform_table(
    born: str, sex: str, category: str, delay: int, retires: int, age_months: int
) -> None:
    ev = run({"birth_date": born, "sex": sex, "pension_category": category})
    assert out(ev, "delay_months") == delay
    assert out(ev, "retirement_year_month") == retires
    assert out(ev, "age_at_retirement_months") == age_months


def test_no_delay_for_original_retirement_before_2025() -> None:
    ev = run({"birth_date": "1964-12-10", "sex": "male"})
    assert out(ev, "delay_months") == 0
    assert out(ev, "retirement_year_month") == 202412


@pytest.mark.parametrize(
    ("born", "sex", "minimum"),
    [
        ("1968-05-01", "male", 180),
        ("1974-06-01", "female", 186),
        ("1970-06-01", "male", 192),
        ("1976-12-01", "male", 240),
    ],
)
def test_minimum_contribution_by_retirement_year(born: str, sex: str, minimum: int) -> None:
    assert out(run({"birth_date": born, "sex": sex}), "minimum_contribution_months") == minimum


def test_eligible_only_with_the_minimum_and_the_month_reached() -> None:
    person = {
        "birth_date": "1965-05-20",
        "sex": "male",
        "employee_pension_contribution_months": 180,
    }
    assert bool(run(person, dt.date(2025, 7, 1)).result.eligible[0])
    assert not bool(run(person, dt.date(2025, 6, 30)).result.eligible[0])
    short = {**person, "employee_pension_contribution_months": 179}
    assert not bool(run(short, dt.date(2025, 7, 1)).result.eligible[0])


def test_early_retirement_never_below_the_original_age() -> None:
    ev = run(
        {
            "birth_date": "1965-05-20",
            "sex": "male",
            "retirement_flexible_months": -12,
            "employee_pension_contribution_months": 300,
        }
    )
    assert out(ev, "earliest_flexible_month") == 202505
    assert not bool(ev.result.outputs["flexible_request_allowed"][0])
    assert out(ev, "effective_retirement_month") == 202507


def test_late_retirement_needs_the_employer() -> None:
    person = {"birth_date": "1965-05-20", "sex": "male", "retirement_flexible_months": 12}
    assert out(run(person), "effective_retirement_month") == 202507
    agreed = run({**person, "retirement_employer_consents": True})
    assert out(agreed, "effective_retirement_month") == 202607


def test_category_contradicting_sex_is_flagged_not_guessed() -> None:
    ev = run(
        {
            "birth_date": "1960-03-08",
            "sex": "male",
            "pension_category": "woman_50",
            "employee_pension_contribution_months": 400,
        }
    )
    assert bool(ev.result.outputs["category_conflict"][0])
    assert not bool(ev.result.eligible[0])
    assert out(ev, "retirement_year_month") == 0


def test_birth_date_in_the_future_is_an_error() -> None:
    with pytest.raises(InputError, match="birth_date"):
        run({"birth_date": "2026-01-01", "sex": "male"})


def test_unknown_category_is_an_input_error() -> None:
    with pytest.raises(InputError, match="pension_category"):
        run({"birth_date": "1960-01-01", "sex": "male", "pension_category": "woman_45"})
