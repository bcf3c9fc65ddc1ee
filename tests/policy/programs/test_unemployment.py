"""Unemployment benefit: eligibility, duration steps and carry-over, amount clamp, stop events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.errors import InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from safetynet.policy.parameters import coerce_value, default_tree


def run(person: dict[str, Any], overrides: dict[str, Any] | None = None) -> Evaluation:
    tree = default_tree()
    values = {
        "common.economy.minimum_wage_monthly": 2000,
        "assistance.dibao.standard_monthly_urban": 1000,
        **(overrides or {}),
    }
    coerced = {k: coerce_value(tree.spec(k), v, k) for k, v in values.items()}
    member = {
        "relation": "head",
        "birth_date": "1985-01-01",
        "sex": "male",
        "unemployment_involuntary": True,
        "unemployment_registered": True,
        **person,
    }
    ev, _ = calculate(
        program("unemployment"), {"members": [member]}, dt.date(2025, 9, 1), "000000", coerced
    )
    return ev


def test_e10_1_seven_years() -> None:
    ev = run({"unemployment_contribution_years": 7})
    assert int(ev.result.amount[0]) == 180000
    assert int(ev.result.outputs["duration_months"][0]) == 18


@pytest.mark.parametrize(
    ("years", "months"), [(0, 0), (1, 12), (4, 12), (5, 18), (9, 18), (10, 24), (30, 24)]
)
def test_duration_by_contribution_years(years: int, months: int) -> None:
    ev = run({"unemployment_contribution_years": years})
    assert int(ev.result.outputs["duration_months"][0]) == months
    assert bool(ev.result.eligible[0]) == (months > 0)


def test_carry_over_capped_at_24() -> None:
    ev = run({"unemployment_contribution_years": 3, "unemployment_carried_over_months": 20})
    assert int(ev.result.outputs["duration_months"][0]) == 24


def test_amount_floor_and_ceiling() -> None:
    low = run(
        {"unemployment_contribution_years": 3},
        overrides={"insurance.unemployment.ratio_of_minimum_wage": "0.4"},
    )
    assert int(low.result.amount[0]) == 100000  # raised to the urban dibao standard
    high = run(
        {"unemployment_contribution_years": 3},
        overrides={"insurance.unemployment.ratio_of_minimum_wage": "1.2"},
    )
    assert int(high.result.amount[0]) == 200000  # capped at the minimum wage


def test_stop_event_and_voluntary_quit() -> None:
    assert not run(
        {"unemployment_contribution_years": 7, "unemployment_stop_event": "imprisoned"}
    ).result.eligible[0]
    assert not run(
        {"unemployment_contribution_years": 7, "unemployment_involuntary": False}
    ).result.eligible[0]


def test_unknown_stop_event_names_the_field() -> None:
    with pytest.raises(InputError, match="unemployment_stop_event"):
        run({"unemployment_contribution_years": 7, "unemployment_stop_event": "holiday"})
