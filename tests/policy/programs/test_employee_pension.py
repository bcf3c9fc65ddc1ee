"""Employee pension: E7.1/E7.2, the contribution clamp, the divisor choice, indexation, bad input,
and the property that one more year of contributions never lowers the pension."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safetynet.errors import CoverageError, InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from safetynet.policy.parameters import coerce_value, default_tree

ILLUSTRATIVE = {  # [I] figures, not official
    "insurance.employee_pension.pension_base_monthly": 8000,
    "insurance.employee_pension.average_wage_monthly": 8000,
    "insurance.employee_pension.transitional_coefficient": "0.012",
}


def run(
    person: dict[str, Any],
    on: dt.date = dt.date(2024, 12, 1),
    overrides: dict[str, Any] | None = None,
    *,
    explain: bool = False,
) -> Evaluation:
    tree = default_tree()
    values = {**ILLUSTRATIVE, **(overrides or {})}
    coerced = {k: coerce_value(tree.spec(k), v, k) for k, v in values.items()}
    member = {
        "birth_date": "1964-12-10",
        "sex": "male",
        "employee_pension_insured": True,
        **person,
    }
    ev, _ = calculate(
        program("employee_pension"), {"members": [member]}, on, "000000", coerced, explain=explain
    )
    return ev


def out(ev: Evaluation, key: str) -> int:
    return int(ev.result.outputs[key][0])


E71 = {
    "employee_pension_contribution_months": 360,
    "employee_pension_average_index": 12000,
    "employee_pension_account_balance": "200000",
}


def test_e7_1_pension_at_60() -> None:
    ev = run(E71)
    assert out(ev, "basic_pension") == 264000
    assert out(ev, "account_pension") == 143885
    assert int(ev.result.amount[0]) == 407885
    assert bool(ev.result.eligible[0])


def test_e7_1_with_deemed_years_adds_a_transitional_pension() -> None:
    ev = run(
        {**E71, "employee_pension_contribution_months": 300, "employee_pension_deemed_months": 60}
    )
    assert out(ev, "transitional_pension") == 48000
    assert out(ev, "basic_pension") == 264000


@pytest.mark.parametrize(
    ("wage", "base", "individual", "employer"),
    [
        ("30000", 2400000, 192000, 384000),  # E7.2: capped at 300 %
        ("3000", 480000, 38400, 76800),  # raised to 60 %
        ("6000", 600000, 48000, 96000),
    ],
)
def test_contribution_base_is_clamped(wage: str, base: int, individual: int, employer: int) -> None:
    ev = run({"birth_date": "1985-06-01", "employee_pension_wage": wage}, on=dt.date(2025, 9, 1))
    assert out(ev, "contribution_base") == base
    assert out(ev, "individual_contribution") == individual
    assert out(ev, "employer_contribution") == employer
    assert int(ev.result.amount[0]) == 0


def test_fractional_age_divisor_is_a_parameter_choice() -> None:
    person = {**E71, "birth_date": "1966-06-15"}  # retires 2026-11 at 60y5m
    on = dt.date(2026, 11, 1)
    method = "insurance.employee_pension.divisor_fractional_age_method"
    default = run(person, on)
    floor = run(person, on, {method: "floor"})
    interpolated = run(person, on, {method: "interpolate"})
    assert out(floor, "account_pension") == 143885  # 200,000 ÷ 139
    assert out(interpolated, "account_pension") == 146969  # 200,000 × 12 ÷ 1633
    assert out(default, "account_pension") == 146951  # 200,000 ÷ 136.1
    assert out(default, "account_divisor_tenths") == 1361


@pytest.mark.parametrize(
    ("birth_date", "sex", "category", "tenths"),
    [
        ("1965-01-20", "male", "man", 1384),  # 60y1m: 139 − 7 ÷ 12 = 138.42 → 138.4
        ("1975-01-20", "female", "woman_50", 1946),  # 50y1m: 195 − 5 ÷ 12 = 194.58 → 194.6
    ],
)
def test_divisor_for_an_age_with_months_is_interpolated_to_one_decimal_from_2025(
    birth_date: str, sex: str, category: str, tenths: int
) -> None:
    person = {**E71, "birth_date": birth_date, "sex": sex, "pension_category": category}
    ev = run(person, dt.date(2025, 2, 10), explain=True)
    assert out(ev, "account_divisor_tenths") == tenths
    step = next(s for s in ev.trace.steps if s.key == "account_divisor")
    assert f"{tenths // 10}.{tenths % 10}" in str(step.value)


def test_pension_in_payment_is_uprated_each_year_after_retirement() -> None:
    ev = run(
        {
            "birth_date": "1962-03-10",
            "employee_pension_contribution_months": 400,
            "employee_pension_awarded_monthly": "4000",
        },
        on=dt.date(2025, 9, 1),
    )
    assert int(ev.result.amount[0]) == 420240


def test_not_insured_needs_no_local_parameter() -> None:
    ev, _ = calculate(
        program("employee_pension"),
        {"members": [{"birth_date": "1950-01-01", "sex": "male"}]},
        dt.date(2025, 9, 1),
        "000000",
    )
    assert not bool(ev.result.eligible[0])
    assert int(ev.result.amount[0]) == 0


def test_missing_pension_base_names_the_parameter() -> None:
    with pytest.raises(CoverageError, match="pension_base_monthly"):
        calculate(
            program("employee_pension"),
            {
                "members": [
                    {
                        "birth_date": "1964-12-10",
                        "sex": "male",
                        "employee_pension_insured": True,
                        "employee_pension_contribution_months": 360,
                    }
                ]
            },
            dt.date(2024, 12, 1),
            "000000",
        )


def test_index_out_of_range_is_an_input_error_naming_the_field() -> None:
    with pytest.raises(InputError, match="employee_pension_average_index"):
        run({"employee_pension_average_index": 5000})


@settings(max_examples=60, deadline=None)
@given(
    months=st.integers(0, 540),
    deemed=st.integers(0, 120),
    index=st.integers(6000, 30000),
    balance_fen=st.integers(0, 100_000_000),
    born=st.dates(dt.date(1955, 1, 1), dt.date(1975, 12, 31)),
    female=st.booleans(),
    method=st.sampled_from(["floor", "interpolate", "interpolate_one_decimal"]),
)
def test_one_more_year_of_contributions_never_lowers_the_pension(
    months: int,
    deemed: int,
    index: int,
    balance_fen: int,
    born: dt.date,
    female: bool,
    method: str,
) -> None:
    person = {
        "birth_date": born.isoformat(),
        "sex": "female" if female else "male",
        "employee_pension_deemed_months": deemed,
        "employee_pension_average_index": index,
        "employee_pension_account_balance": f"{balance_fen // 100}.{balance_fen % 100:02d}",
    }
    on = dt.date(2040, 1, 1)  # everyone in range has reached retirement
    overrides = {"insurance.employee_pension.divisor_fractional_age_method": method}
    before = run({**person, "employee_pension_contribution_months": months}, on, overrides)
    after = run({**person, "employee_pension_contribution_months": months + 12}, on, overrides)
    assert int(after.result.amount[0]) >= int(before.result.amount[0])
