"""Disability living subsidy: dibao households, local extensions, provincial amounts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.errors import InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from safetynet.policy.parameters import coerce_value, default_tree


def run(
    hh: dict[str, Any], region: str, on: dt.date, overrides: dict[str, Any] | None = None
) -> Evaluation:
    tree = default_tree()
    coerced = {k: coerce_value(tree.spec(k), v, k) for k, v in (overrides or {}).items()}
    ev, _ = calculate(program("disability_living_subsidy"), hh, on, region, coerced)
    return ev


DISABLED = {
    "relation": "head",
    "birth_date": "1970-01-01",
    "sex": "male",
    "disability_category": "physical",
    "disability_grade": 2,
}


@pytest.mark.parametrize(
    ("region", "on", "fen"),
    [
        ("310000", dt.date(2025, 9, 1), 45000),
        ("500000", dt.date(2026, 1, 1), 10000),
        ("140000", dt.date(2026, 1, 1), 12200),
    ],
)
def test_provincial_amounts(region: str, on: dt.date, fen: int) -> None:
    ev = run({"is_dibao_recipient": True, "members": [DISABLED]}, region, on)
    assert int(ev.result.amount[0]) == fen


def test_not_in_dibao_household_not_paid() -> None:
    ev = run({"members": [DISABLED]}, "500000", dt.date(2026, 3, 1))
    assert not ev.result.eligible[0]


def test_marginal_extension_uses_its_own_tier() -> None:
    hh = {"is_dibao_marginal_registered": True, "members": [DISABLED]}
    off = run(hh, "310000", dt.date(2025, 9, 1))
    assert int(off.result.amount[0]) == 0
    on = run(
        hh,
        "310000",
        dt.date(2025, 9, 1),
        overrides={
            "welfare.disability.living_subsidy_covers_dibao_marginal": True,
            "welfare.disability.living_subsidy_monthly_marginal": 320,
        },
    )
    assert int(on.result.amount[0]) == 32000


def test_bad_grade_names_the_field() -> None:
    with pytest.raises(InputError, match="disability_grade"):
        run(
            {"is_dibao_recipient": True, "members": [{**DISABLED, "disability_grade": 5}]},
            "500000",
            dt.date(2026, 3, 1),
        )
