"""Dibao over a county: the single-person payment worked out for the persons who qualify only, and
the counted income summed without a copy where no one is excluded, give the same fen as one
household alone, also on the large-population path (``Population.sum_h`` by segments)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from safetynet.policy import population
from safetynet.policy.engine import Params, Trace, compute, program
from safetynet.policy.population import Population, population_from_households
from tests.policy.strategies import ON, illustrative_overrides

OVERRIDES = illustrative_overrides()


def _person(born: str, sex: str, **facts: Any) -> dict[str, Any]:
    return {"birth_date": born, "sex": sex, **facts}


HOUSEHOLDS: list[dict[str, Any]] = [
    # clergy living in a venue: paid alone, the standard less its own counted income
    {"hukou_type": "urban", "financial_assets": "900000.00", "members": [
        _person("1950-01-01", "male", is_clergy_in_venue=True, pension_income="300.00"),
        _person("1955-01-01", "female", wage_income="9000.00")]},
    # a seriously ill member of a marginal household
    {"hukou_type": "rural", "members": [
        _person("1980-01-01", "male", wage_income="2000.00"),
        _person("1982-03-01", "female", has_serious_illness=True)]},
    # a prisoner's income is not counted; the household is paid the difference
    {"hukou_type": "urban", "members": [
        _person("1975-05-05", "male", excluded_reason="prisoner", wage_income="8000.00"),
        _person("2015-05-05", "female")]},
    # nobody qualifies
    {"hukou_type": "urban", "members": [_person("1990-01-01", "female", wage_income="9000.00")]},
]  # fmt: skip


def _dibao(pop: Population) -> Any:
    return compute(program("dibao"), pop, Params(ON, "000000", None, OVERRIDES), Trace())


@pytest.mark.parametrize("large", [False, True])
@pytest.mark.parametrize("excluded", [False, True])
def test_a_county_pays_each_person_and_household_as_each_household_alone(
    monkeypatch: pytest.MonkeyPatch, large: bool, excluded: bool
) -> None:
    households = HOUSEHOLDS if excluded else HOUSEHOLDS[:2] + HOUSEHOLDS[3:]
    alone = [_dibao(population_from_households([h])) for h in households]
    if large:
        monkeypatch.setattr(population, "_SUM_BY_SEGMENTS", 1)
    county = population_from_households(households * 50)
    together = _dibao(county)
    assert together.person_amount is not None
    for k in range(50):
        for i, one in enumerate(alone):
            row = k * len(households) + i
            members = np.flatnonzero(county.household_of == row)
            assert int(together.amount[row]) == int(one.amount[0])
            assert bool(together.eligible[row]) == bool(one.eligible[0])
            assert together.person_amount[members].tolist() == one.person_amount.tolist()


def test_the_clergy_member_is_paid_the_standard_less_own_income() -> None:
    result = _dibao(population_from_households(HOUSEHOLDS[:1]))
    standard = int(result.outputs["standard"][0])
    assert result.person_amount is not None
    assert result.person_amount.tolist() == [max(standard - 300_00, 0), 0]
    assert int(result.amount[0]) > 0  # paid through the household's amount


def test_a_seriously_ill_member_of_a_marginal_household_is_paid_alone() -> None:
    result = _dibao(population_from_households(HOUSEHOLDS[1:2]))
    assert bool(result.outputs["is_dibao_marginal"][0])
    assert result.person_amount is not None
    assert result.person_amount.tolist() == [0, int(result.outputs["standard"][0])]
