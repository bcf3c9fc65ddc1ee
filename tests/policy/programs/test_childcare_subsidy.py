"""Childcare subsidy: pro-rata months, the month convention, yearly amount per child."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.errors import CoverageError, InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from safetynet.policy.parameters import coerce_value, default_tree


def run(
    births: list[str], on: dt.date = dt.date(2025, 9, 1), overrides: dict[str, Any] | None = None
) -> Evaluation:
    tree = default_tree()
    coerced = {k: coerce_value(tree.spec(k), v, k) for k, v in (overrides or {}).items()}
    members = [{"relation": "child", "birth_date": b, "sex": "male"} for b in births]
    ev, _ = calculate(program("childcare_subsidy"), {"members": members}, on, "000000", coerced)
    return ev


def test_rules_example_born_october_2022() -> None:
    assert int(run(["2022-10-15"]).result.amount[0]) == 270000
    other = run(
        ["2022-10-15"],
        overrides={"welfare.childcare_subsidy.month_convention": "third_birthday_month"},
    )
    assert int(other.result.amount[0]) == 300000


@pytest.mark.parametrize("convention", ["birth_month", "third_birthday_month"])
def test_a_child_born_in_2025_gets_36_months_in_total(convention: str) -> None:
    key = "welfare.childcare_subsidy.month_convention"
    total = sum(
        int(
            run(["2025-05-10"], on=dt.date(year, 6, 1), overrides={key: convention}).result.amount[
                0
            ]
        )
        for year in (2025, 2026, 2027, 2028)
    )
    assert total == 3 * 360000


def test_amount_is_per_child() -> None:
    ev = run(["2024-01-01", "2024-01-01"])
    assert int(ev.result.amount[0]) == 720000
    assert ev.result.person_amount is not None
    assert [int(x) for x in ev.result.person_amount] == [360000, 360000]


def test_before_2025_is_not_in_force_so_not_eligible_with_the_reason() -> None:
    ev = run(["2023-01-01"], on=dt.date(2024, 6, 1))
    assert not ev.result.eligible.any()
    assert not ev.result.amount.any()
    step = next(s for s in ev.trace.steps if s.key == "not_available_here")
    assert step.value.startswith("not in force on 2024-06-01")
    assert step.parameters == ["welfare.childcare_subsidy.in_force"]
    # The subsidy's own amounts still have no value then: the program does not read them.
    with pytest.raises(CoverageError, match="amount_yearly"):
        default_tree().resolve(
            "welfare.childcare_subsidy.amount_yearly", dt.date(2024, 6, 1), ["000000"]
        )


def test_bad_birth_date_names_the_field() -> None:
    with pytest.raises(InputError, match="birth_date"):
        run(["2024-13-01"])
