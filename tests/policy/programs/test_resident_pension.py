"""Residents' pension: E8.1, the central minimum by year, local additions, tiers and subsidy."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.errors import CoverageError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from safetynet.policy.parameters import coerce_value, default_tree


def run(
    members: list[dict[str, Any]],
    on: dt.date = dt.date(2025, 9, 1),
    overrides: dict[str, Any] | None = None,
) -> Evaluation:
    tree = default_tree()
    values = {"insurance.resident_pension.local_top_up_monthly": 0, **(overrides or {})}
    coerced = {k: coerce_value(tree.spec(k), v, k) for k, v in values.items()}
    full = [{"sex": "female", "resident_pension_insured": True, **m} for m in members]
    ev, _ = calculate(program("resident_pension"), {"members": full}, on, "000000", coerced)
    return ev


PENSIONER = {
    "birth_date": "1965-03-01",
    "resident_pension_contribution_years": 15,
    "resident_pension_account_balance": "10000",
}


def test_e8_1() -> None:
    ev = run([PENSIONER])
    assert int(ev.result.amount[0]) == 21494
    assert bool(ev.result.eligible[0])


@pytest.mark.parametrize(
    ("on", "amount"),
    [(dt.date(2024, 9, 1), 19494), (dt.date(2025, 9, 1), 21494), (dt.date(2026, 3, 1), 23494)],
)
def test_central_minimum_by_year(on: dt.date, amount: int) -> None:
    person = {**PENSIONER, "birth_date": "1960-01-01"}
    assert int(run([person], on).result.amount[0]) == amount


def test_long_contribution_increment_and_top_up() -> None:
    ev = run(
        [{**PENSIONER, "resident_pension_contribution_years": 20}],
        overrides={
            "insurance.resident_pension.local_top_up_monthly": 50,
            "insurance.resident_pension.long_contribution_increment_monthly": 2,
        },
    )
    assert int(ev.result.amount[0]) == 27494


def test_under_60_or_short_of_15_years_is_not_paid() -> None:
    assert not bool(run([{**PENSIONER, "birth_date": "1965-09-02"}]).result.eligible[0])
    assert not bool(
        run([{**PENSIONER, "resident_pension_contribution_years": 14}]).result.eligible[0]
    )


def test_subsidy_by_tier() -> None:
    ev = run(
        [
            {"birth_date": "1980-03-01", "resident_pension_contribution_yearly": "500"},
            {"birth_date": "1982-03-01", "resident_pension_contribution_yearly": "400"},
        ]
    )
    assert int(ev.result.outputs["contribution_subsidy_yearly"][0]) == 9000
    assert ev.result.person_amount is not None
    assert list(ev.result.person_amount) == [0, 0]


def test_off_tier_contribution_is_flagged() -> None:
    ev = run([{"birth_date": "1980-03-01", "resident_pension_contribution_yearly": "450"}])
    assert not bool(ev.result.outputs["contribution_tier_valid"][0])


def test_missing_local_top_up_names_the_parameter() -> None:
    with pytest.raises(CoverageError, match="local_top_up_monthly"):
        calculate(
            program("resident_pension"),
            {"members": [{"sex": "male", "resident_pension_insured": True, **PENSIONER}]},
            dt.date(2025, 9, 1),
            "000000",
        )
