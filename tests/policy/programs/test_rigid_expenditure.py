"""Rigid-expenditure hardship households (刚性支出困难家庭): the four conditions, the share
threshold at its boundary, and the 12-month validity. The threshold 0.5 is illustrative [I]."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.errors import CoverageError, InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from safetynet.policy.parameters import coerce_value, default_tree

ON = dt.date(2025, 9, 15)
BASE: dict[str, Any] = {
    "assistance.dibao.standard_monthly_urban": 1000,
    "assistance.rigid_expenditure.share_threshold": 0.5,
}


def run(household: dict[str, Any], on: dt.date = ON, **extra: Any) -> Evaluation:
    tree = default_tree()
    raw = {**BASE, **{k.replace("__", "."): v for k, v in extra.items()}}
    ov = {name: coerce_value(tree.spec(name), value, name) for name, value in raw.items()}
    ev, _ = calculate(program("rigid_expenditure"), household, on, "000000", ov)
    return ev


def family(**kw: Any) -> dict[str, Any]:
    return {
        "hukou_type": "urban",
        "rigid_household_income_12m": "60000",
        "members": [
            {"relation": "head", "birth_date": "1975-05-01", "sex": "male"},
            {"relation": "spouse", "birth_date": "1977-08-01", "sex": "female"},
        ],
        **kw,
    }


def test_spending_at_the_threshold_is_not_enough_one_fen_more_is() -> None:
    at = run(family(rigid_living_costs_12m="20000", rigid_medical_oop_12m="10000"))
    assert not bool(at.result.eligible[0])
    above = run(family(rigid_living_costs_12m="20000", rigid_medical_oop_12m="10000.01"))
    assert bool(above.result.eligible[0])
    assert int(above.result.amount[0]) == 0  # a status, not a cash benefit
    assert int(above.result.outputs["validity_months"][0]) == 12
    assert int(above.result.outputs["valid_until"][0]) == 20260915


@pytest.mark.parametrize(
    "status",
    [
        {"is_dibao_recipient": True},
        {"is_dibao_marginal_registered": True},
    ],
)
def test_dibao_and_marginal_households_are_excluded(status: dict[str, bool]) -> None:
    ev = run(family(rigid_medical_oop_12m="50000", **status))
    assert not bool(ev.result.eligible[0])


def test_a_tekun_member_excludes_the_household() -> None:
    household = family(rigid_medical_oop_12m="50000")
    household["members"][1]["is_tekun_recipient"] = True
    assert not bool(run(household).result.eligible[0])


def test_income_at_the_previous_year_reference_fails() -> None:
    ev = run(family(rigid_household_income_12m="108376", rigid_medical_oop_12m="90000"))
    assert not bool(ev.result.outputs["income_below_reference"][0])
    assert not bool(ev.result.eligible[0])


def test_a_shorter_local_validity_is_honoured() -> None:
    ev = run(
        family(rigid_medical_oop_12m="40000"),
        assistance__rigid_expenditure__validity_months=6,
    )
    assert int(ev.result.outputs["valid_until"][0]) == 20260315


def test_add_months_lands_on_the_month_end_where_there_is_no_corresponding_day() -> None:
    # Imported here, after the engine has discovered every program: importing one program module
    # first would register it alone and stop the engine's lazy discovery of the others.
    program("rigid_expenditure")
    from safetynet.policy.programs.rigid_expenditure import add_months

    assert add_months(dt.date(2028, 2, 29), 12) == dt.date(2029, 2, 28)
    assert add_months(dt.date(2025, 8, 31), 6) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2025, 12, 15), 1) == dt.date(2026, 1, 15)


def test_without_a_local_threshold_the_error_names_the_parameter() -> None:
    tree = default_tree()
    name = "assistance.dibao.standard_monthly_urban"
    ov = {name: coerce_value(tree.spec(name), 1000, name)}
    with pytest.raises(CoverageError, match="share_threshold"):
        calculate(program("rigid_expenditure"), family(), ON, "000000", ov)


def test_a_negative_spending_figure_names_the_field() -> None:
    with pytest.raises(InputError, match="rigid_medical_oop_12m"):
        run(family(rigid_medical_oop_12m="-5"))
