"""Temporary assistance (临时救助): the emergency advance and county top-up, the spending-type test,
the cap and the one-case-one-decision flag. Figures are illustrative [I] and passed as overrides."""

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

ON = dt.date(2025, 9, 1)
BASE: dict[str, Any] = {
    "assistance.dibao.standard_monthly_urban": 1000,
    "assistance.dibao.standard_monthly_rural": 800,
    "assistance.temporary_assistance.township_advance_limit": 3000,
    "common.economy.per_capita_disposable_income_prev_year_urban": 54188,
}


def run(household: dict[str, Any], **extra: Any) -> Evaluation:
    tree = default_tree()
    raw = {**BASE, **{k.replace("__", "."): v for k, v in extra.items()}}
    ov = {name: coerce_value(tree.spec(name), value, name) for name, value in raw.items()}
    ev, _ = calculate(program("temporary_assistance"), household, ON, "000000", ov)
    return ev


def couple(**kw: Any) -> dict[str, Any]:
    return {
        "hukou_type": "urban",
        "members": [
            {"relation": "head", "birth_date": "1970-05-01", "sex": "male"},
            {"relation": "spouse", "birth_date": "1972-08-01", "sex": "female"},
        ],
        **kw,
    }


def out(ev: Evaluation, key: str) -> str:
    fen = int(ev.result.outputs[key][0])
    return f"{fen // 100}.{fen % 100:02d}"


def test_worked_example_e3_1_advance_3000_then_county_top_up_to_6000() -> None:
    ev = run(couple(temporary_assistance_type="emergency"))
    assert bool(ev.result.eligible[0])
    assert out(ev, "township_advance") == "3000.00"
    assert out(ev, "county_top_up") == "3000.00"
    assert out(ev, "total") == "6000.00"
    assert out(ev, "cap") == "12000.00"
    assert not bool(ev.result.outputs["needs_case_decision"][0])
    assert int(ev.result.amount[0]) == 600_000


def test_a_need_above_the_cap_is_capped_and_flagged_for_a_case_decision() -> None:
    ev = run(couple(temporary_assistance_type="emergency", temporary_assistance_need="20000"))
    assert out(ev, "total") == "12000.00"
    assert bool(ev.result.outputs["needs_case_decision"][0])
    assert out(ev, "amount_above_cap") == "8000.00"


def test_the_multiples_are_local_parameters() -> None:
    ev = run(
        couple(temporary_assistance_type="emergency"),
        assistance__temporary_assistance__emergency__standard_multiple=4,
    )
    assert out(ev, "total") == "8000.00"


def test_spending_type_needs_income_below_the_previous_year_reference() -> None:
    poor = couple(temporary_assistance_type="spending", temporary_assistance_need="5000")
    poor["members"][0]["wage_income"] = "9031.33"  # 9,031.33 × 12 = 108,375.96 < 108,376
    assert out(run(poor), "total") == "5000.00"
    assert out(run(poor), "township_advance") == "0.00"
    poor["members"][0]["wage_income"] = "9031.34"  # 108,376.08 ≥ 2 × 54,188
    assert not bool(run(poor).result.eligible[0])


def test_spending_type_without_an_assessed_need_pays_nothing() -> None:
    ev = run(couple(temporary_assistance_type="spending"))
    assert not bool(ev.result.eligible[0])


def test_no_request_needs_no_local_figures() -> None:
    household = couple()
    ev, _ = calculate(program("temporary_assistance"), household, ON, "000000", {})
    assert not bool(ev.result.eligible[0])


def test_an_emergency_without_a_township_limit_names_the_parameter() -> None:
    tree = default_tree()
    name = "assistance.dibao.standard_monthly_urban"
    ov = {name: coerce_value(tree.spec(name), 1000, name)}
    with pytest.raises(CoverageError, match="township_advance_limit"):
        calculate(
            program("temporary_assistance"),
            couple(temporary_assistance_type="emergency"),
            ON,
            "000000",
            ov,
        )


def test_a_negative_need_is_refused_with_the_field_named() -> None:
    with pytest.raises(InputError, match="temporary_assistance_need"):
        run(couple(temporary_assistance_type="emergency", temporary_assistance_need="-1"))


@settings(max_examples=60, deadline=None)
@given(need=st.integers(0, 5_000_000), members=st.integers(1, 6))
def test_advance_plus_top_up_is_the_total_and_never_exceeds_the_cap(
    need: int, members: int
) -> None:
    household = {
        "hukou_type": "rural",
        "temporary_assistance_type": "emergency",
        "temporary_assistance_need": f"{need // 100}.{need % 100:02d}",
        "members": [
            {"relation": "other", "birth_date": "1980-01-01", "sex": "female"}
            for _ in range(members)
        ],
    }
    r = run(household).result
    total = int(r.outputs["total"][0])
    advance = int(r.outputs["township_advance"][0])
    assert advance + int(r.outputs["county_top_up"][0]) == total == int(r.amount[0])
    assert advance <= 300_000
    assert total <= int(r.outputs["cap"][0]) == 6 * 80_000 * members
    assert bool(r.outputs["needs_case_decision"][0]) == (need > total and need > 0)
