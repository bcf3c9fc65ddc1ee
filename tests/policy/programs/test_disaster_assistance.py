"""Assistance for disaster victims (受灾人员救助): transitional relief at 20 yuan per person per day
for up to 90 days [M], local house and winter-spring amounts [I], and errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.errors import CoverageError, InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from safetynet.policy.parameters import coerce_value, default_tree

ON = dt.date(2025, 7, 15)


def run(
    displaced: int, others: int = 0, overrides: dict[str, Any] | None = None, **hh: Any
) -> Evaluation:
    person = {"relation": "other", "birth_date": "1975-03-01", "sex": "male"}
    members = [{**person, "disaster_displaced": True} for _ in range(displaced)]
    members += [dict(person) for _ in range(others)]
    tree = default_tree()
    ov = {k: coerce_value(tree.spec(k), v, k) for k, v in (overrides or {}).items()}
    household = {"hukou_type": "rural", "members": members, **hh}
    ev, _ = calculate(program("disaster_assistance"), household, ON, "000000", ov)
    return ev


@pytest.mark.parametrize(("days", "amount"), [(0, 0), (1, 8_000), (90, 720_000), (91, 720_000)])
def test_transitional_relief_for_four_people(days: int, amount: int) -> None:
    ev = run(4, disaster_transition_days=days)
    assert int(ev.result.amount[0]) == amount
    assert bool(ev.result.eligible[0]) == (amount > 0)


def test_collapsed_house_adds_the_rebuilding_subsidy() -> None:
    ev = run(
        2,
        1,
        {"assistance.disaster_assistance.rebuild_subsidy": 20000},
        disaster_transition_days=45,
        disaster_house_damage="collapsed",
    )
    assert int(ev.result.amount[0]) == 2_180_000


def test_winter_spring_relief_counts_every_member() -> None:
    ev = run(
        0,
        3,
        {"assistance.disaster_assistance.winter_spring_per_person": 300},
        disaster_winter_spring_need=True,
    )
    assert int(ev.result.outputs["winter_spring_relief"][0]) == 90_000


def test_negative_days_are_rejected_naming_the_field() -> None:
    with pytest.raises(InputError, match="disaster_transition_days"):
        run(1, disaster_transition_days=-3)


def test_missing_local_repair_subsidy_names_the_parameter() -> None:
    with pytest.raises(CoverageError, match=r"disaster_assistance\.repair_subsidy"):
        run(0, 1, disaster_house_damage="damaged")
