"""``Population``: a fact nobody gave costs nothing and reads as its declared default."""

from __future__ import annotations

import numpy as np
import pytest

from safetynet.policy.population import FIELDS, Population, among, declare_all_fields


def test_an_unset_fact_reads_as_its_default_without_a_column_of_copies() -> None:
    declare_all_fields()
    pop = Population(household_of=np.repeat(np.arange(1_000_000, dtype=np.int64), 3))
    grade = pop.p("disability_grade")
    assert len(grade) == 3_000_000
    assert int(grade.max()) == int(grade.min()) == FIELDS.get("disability_grade").default_value()
    assert grade.strides == (0,)  # one value seen 3 M times: no memory per person
    with pytest.raises(ValueError, match="read-only"):
        grade[0] = 1  # a program can never change a default for everyone by accident
    assert pop.take(np.array([5, 7])).p("disability_grade").tolist() == [0] * 6


@pytest.mark.parametrize("n", [0, 1, 7, 4_096, 4_097, 50_000])
@pytest.mark.parametrize("codes", [(), (3,), (0, 5, 9), tuple(range(0, 40, 2))])
def test_among_is_isin_for_one_household_and_a_county(n: int, codes: tuple[int, ...]) -> None:
    """A one-household call compares codes one by one, a county uses ``np.isin``: the same answer,
    also on a fact nobody gave (a read-only view of its default)."""
    values = np.random.default_rng(n).integers(0, 12, n)
    assert among(values, codes).tolist() == np.isin(values, codes).tolist()
    unset = np.broadcast_to(np.int64(5), (n,))
    assert among(unset, codes).tolist() == np.isin(unset, codes).tolist()
