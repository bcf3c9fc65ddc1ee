"""The facts a program declares it ``concerns`` (``ProgramInfo.concerns``, ADR 0032) hold: a
household with none of them is neither eligible nor paid, whatever its other facts and the
parameters; computed for the concerned households alone, each gets what the whole computation
gives it; and ``payable``, which a county's run and ``POST /calculate`` use, answers as
``compute`` does, on random households and on a synthetic county."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safetynet.batch.synth import generate_county
from safetynet.policy import engine
from safetynet.policy.engine import Params, Program, Trace, compute, payable, programs
from safetynet.policy.population import FIELDS, Entity, Population, population_from_households
from safetynet.policy.screening import load_parameter_values
from tests.policy.strategies import ON, household_strategy, illustrative_overrides

OVERRIDES = illustrative_overrides()
GATED = [prog for prog in programs().values() if prog.info.concerns]
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_the_declared_facts_are_fields_with_a_default() -> None:
    assert len(GATED) >= 15  # the programs that concern few households say which
    for prog in GATED:
        for name in prog.info.concerns:
            assert name in FIELDS, (prog.id, name)
            assert FIELDS.get(name).default is not None, (prog.id, name)


def _without(household: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The household with every one of ``names`` left at its default."""
    kept = {k: v for k, v in household.items() if k not in names}
    kept["members"] = [{k: v for k, v in m.items() if k not in names} for m in household["members"]]
    return kept


def _same(pop: Population, rows: np.ndarray, whole: Any, found: Any, pid: str) -> None:
    assert found.eligible.dtype == whole.eligible.dtype, pid
    assert found.amount.dtype == whole.amount.dtype, pid
    assert list(found.eligible) == list(whole.eligible[rows]), pid
    assert list(found.amount) == list(whole.amount[rows]), pid
    assert (found.person_amount is None) == (whole.person_amount is None), pid
    if whole.person_amount is not None:
        assert list(found.person_amount) == list(whole.person_amount[pop.person_rows(rows)]), pid


@SETTINGS
@given(st.lists(household_strategy(), min_size=2, max_size=6), st.data())
def test_households_without_the_facts_get_nothing_and_the_others_what_the_whole_gives(
    batch: list[dict[str, Any]], data: st.DataObject
) -> None:
    for prog in GATED:
        names = prog.info.concerns
        cleared = data.draw(st.lists(st.booleans(), min_size=len(batch), max_size=len(batch)))
        households = [_without(h, names) if c else h for h, c in zip(batch, cleared, strict=True)]
        pop = population_from_households(households)
        params = Params(ON, "000000", None, OVERRIDES)
        whole = compute(prog, pop, params, Trace())
        rows, part = pop.concerned(names), pop.part_of(names)
        outside = np.setdiff1d(np.arange(pop.n_households), rows)
        assert not set(np.flatnonzero(cleared)) & set(rows.tolist()), prog.id
        assert not whole.eligible[outside].any(), prog.id
        assert not whole.amount[outside].any(), prog.id
        if whole.person_amount is not None:
            assert not whole.person_amount[pop.person_rows(outside)].any(), prog.id
        _same(pop, rows, whole, prog.compute(part, params, Trace()), prog.id)


def _results(pop: Population, on: dt.date, region: str, how: Any) -> dict[str, Any]:
    params = Params(on, region)
    return {pid: how(prog, pop, params, Trace()) for pid, prog in programs().items()}


@pytest.mark.parametrize("share", [0.0, 1.0])  # always the whole; always the concerned part
def test_payable_answers_as_compute_on_a_synthetic_county(
    share: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    on = dt.date(2026, 7, 1)
    pop = generate_county("510181", 6_000, seed=5, on=on).population
    whole = _results(pop, on, "510181", compute)
    monkeypatch.setattr(engine, "_CONCERNED_SHARE", share)
    paid = _results(pop, on, "510181", payable)
    everyone = np.arange(pop.n_households)
    for pid, result in paid.items():
        if not whole[pid].not_available:  # (not available: zeros for every person, as ever)
            assert (whole[pid].person_amount is not None) == programs()[pid].pays_persons, pid
        _same(pop, everyone, whole[pid], result, pid)
        assert result.not_available == whole[pid].not_available, pid
    if share:  # the part was taken: some gated program concerned some households, not all
        concerned = [len(pop.concerned(p.info.concerns)) for p in GATED]
        assert any(0 < n < pop.n_households for n in concerned)


def test_one_household_without_the_facts_is_not_computed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clerk's household with no employee-pension insurance: the employee pension is not
    computed for it at all (the answer is still "not eligible, nothing")."""
    calls: list[int] = []
    prog: Program = programs()["employee_pension"]
    real = type(prog).compute

    def counted(self: Program, pop: Population, p: Params, t: Trace) -> Any:
        calls.append(pop.n_households)
        return real(self, pop, p, t)

    monkeypatch.setattr(type(prog), "compute", counted)
    person: dict[str, Any] = {"birth_date": "1950-01-01", "sex": "male"}
    params = Params(dt.date(2026, 7, 1), "510181", fallbacks=load_parameter_values("demo"))
    pop = population_from_households([{"region": "510181", "members": [person]}])
    result = payable(prog, pop, params, Trace())
    assert calls == []
    assert not result.eligible[0]
    assert result.amount[0] == 0
    insured = {
        **person,
        "employee_pension_insured": True,
        "employee_pension_contribution_months": 300,
    }
    payable(prog, population_from_households([{"members": [insured]}]), params, Trace())
    assert calls == [1]
    explained = payable(prog, pop, params, Trace(pop, 0, on=True))
    assert calls == [1, 1]  # an explanation computes it whole
    assert not explained.eligible[0]
    assert Entity.PERSON is FIELDS.get("employee_pension_insured").entity
