"""Facts several programs read alike are made once per county for an untraced run, and are
the same values an explanation works out for itself."""

from __future__ import annotations

import datetime as dt

import numpy as np

from safetynet.policy.engine import Params, Trace
from safetynet.policy.population import Population, declare_all_fields
from safetynet.policy.programs import shared_facts
from safetynet.policy.screening import load_parameter_values

ON = dt.date(2026, 7, 1)


def _county(excluded: np.ndarray | None) -> Population:
    declare_all_fields()
    household_of = np.repeat(np.arange(4, dtype=np.int64), [1, 3, 2, 4])
    persons = {"birth_date": np.array([19500101, 19800615, 20100701, 20260701, 19900101,
                                       19911231, 19400301, 19700701, 20000101, 20200630])}  # fmt: skip
    if excluded is not None:
        persons["excluded_reason"] = excluded
    return Population(persons=persons, household_of=household_of)


def test_family_members_leave_out_the_excluded_and_are_the_sizes_without_them() -> None:
    params = Params(ON, "510181", fallbacks=load_parameter_values("demo"))
    nobody = _county(None)
    assert shared_facts.family_members(nobody, params, Trace()).tolist() == [1, 3, 2, 4]
    some = _county(np.array([0, 0, 2, 0, 1, 1, 0, 0, 0, 3]))
    assert shared_facts.family_members(some, params, Trace()).tolist() == [1, 2, 0, 3]


def test_made_once_for_a_county_and_worked_out_again_when_explained() -> None:
    params = Params(ON, "510181", fallbacks=load_parameter_values("demo"))
    pop = _county(None)
    first = shared_facts.age(pop, params, Trace())
    assert first.tolist() == [76, 46, 16, 0, 36, 34, 86, 56, 26, 6]
    assert shared_facts.age(pop, params, Trace()) is first  # read by four programs, made once
    explained = shared_facts.age(pop, params, Trace(pop, 0, on=True))
    assert explained is not first
    assert explained.tolist() == first.tolist()
    other = _county(None)  # another county's population is never given this one's values
    assert shared_facts.age(other, params, Trace()) is not first
