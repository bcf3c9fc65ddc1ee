"""Price-linkage subsidy: triggers, capped local triggers, dated easing and coverage, amounts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.errors import CoverageError, InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from safetynet.policy.parameters import coerce_value, default_tree


def run(
    members: list[dict[str, Any]],
    on: dt.date = dt.date(2025, 9, 1),
    region: str = "000000",
    household: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Evaluation:
    tree = default_tree()
    values = {"assistance.dibao.standard_monthly_urban": 1000, **(overrides or {})}
    coerced = {k: coerce_value(tree.spec(k), v, k) for k, v in values.items()}
    hh = {"members": members, **(household or {})}
    ev, _ = calculate(program("price_subsidy"), hh, on, region, coerced)
    return ev


ONE = [{"relation": "head", "birth_date": "1960-01-01", "sex": "female"}]
DIBAO = {"is_dibao_recipient": True}


@pytest.mark.parametrize(
    ("cpi", "food", "yuan"),
    [("0.036", "0.02", 36), ("0.02", "0.065", 65), ("0.03", "0.05", 0), ("0.04", "0.07", 70)],
)
def test_e6_1_amount_per_person(cpi: str, food: str, yuan: int) -> None:
    ev = run(
        ONE,
        household=DIBAO,
        overrides={"common.economy.cpi_yoy": cpi, "common.economy.food_cpi_yoy": food},
    )
    assert int(ev.result.amount[0]) == yuan * 100


def test_wuhan_lower_trigger_pays_30() -> None:
    ev = run(
        ONE,
        on=dt.date(2024, 2, 1),
        region="420100",
        household=DIBAO,
        overrides={"common.economy.cpi_yoy": "0.03", "common.economy.food_cpi_yoy": "0.05"},
    )
    assert int(ev.result.amount[0]) == 3000


def test_local_trigger_above_national_is_capped() -> None:
    ev = run(
        ONE,
        household=DIBAO,
        overrides={
            "assistance.price_subsidy.cpi_trigger": "0.05",
            "common.economy.cpi_yoy": "0.036",
            "common.economy.food_cpi_yoy": "0",
        },
    )
    assert int(ev.result.amount[0]) == 3600


def test_easing_months_use_3_percent() -> None:
    idx = {"common.economy.cpi_yoy": "0.031", "common.economy.food_cpi_yoy": "0"}
    assert (
        int(run(ONE, on=dt.date(2023, 3, 1), household=DIBAO, overrides=idx).result.amount[0])
        == 3100
    )
    assert (
        int(run(ONE, on=dt.date(2023, 4, 1), household=DIBAO, overrides=idx).result.amount[0]) == 0
    )


def test_household_amount_is_per_person_times_covered() -> None:
    members: list[dict[str, Any]] = [
        {"relation": "head", "birth_date": "1950-01-01", "sex": "male", "is_tekun_recipient": True},
        {"relation": "spouse", "birth_date": "1952-01-01", "sex": "female"},
    ]
    ev = run(
        members, overrides={"common.economy.cpi_yoy": "0.036", "common.economy.food_cpi_yoy": "0"}
    )
    assert int(ev.result.amount[0]) == 3600
    assert ev.result.person_amount is not None
    assert [int(x) for x in ev.result.person_amount] == [3600, 0]


def test_missing_cpi_statistic_names_the_parameter() -> None:
    with pytest.raises(CoverageError, match=r"common\.economy\.cpi_yoy"):
        run(ONE, household=DIBAO)


def test_bad_input_names_the_field() -> None:
    bad = [
        {
            "relation": "head",
            "birth_date": "1960-01-01",
            "sex": "female",
            "orphan_allowance_recipient": "yes",
        }
    ]
    with pytest.raises(InputError, match="orphan_allowance_recipient"):
        run(bad, overrides={"common.economy.cpi_yoy": "0.036", "common.economy.food_cpi_yoy": "0"})
