"""``Population``: a fact nobody gave costs nothing and reads as its declared default."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from safetynet.policy import population
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


def _person(**extra: object) -> dict[str, object]:
    return {"relation": "head", "birth_date": "1970-01-01", "sex": "male", **extra}


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (lambda hs: hs[2]["members"][1].pop("birth_date"),
         "households[2].members[1].birth_date", "is required"),
        (lambda hs: hs[1]["members"].append(_person(relation="cousin")),
         "households[1].members[2].relation", "'cousin' is not one of"),
        (lambda hs: hs[0]["members"][1].update(wage_incom="1.00"),
         "households[0].members[1].wage_incom", "did you mean 'wage_income'?"),
        (lambda hs: hs[2].update(hukou="urban"), "households[2].hukou", "unknown field"),
        (lambda hs: hs[1]["members"].insert(0, "Li"), "households[1].members[0]",
         "expected an object"),
        (lambda hs: hs[2]["members"][0].update(id_number="110105198503010032"),
         "households[2].members[0].birth_date", "contradicts the identity number"),
        (lambda hs: hs.__setitem__(1, []), "households[1]", "expected an object"),
        (lambda hs: hs[2]["members"].clear(), "households[2].members", "at least one member"),
        (lambda hs: hs[2]["members"][1].update(wage_income="-3.00", relation="x"),
         "households[2].members[1].relation", "'x' is not one of"),
        (lambda hs: hs[0].update(financial_assets="-1.00"), "households[0].financial_assets",
         "negative"),
    ],
)  # fmt: skip
def test_a_wrong_fact_is_named_by_its_household_member_and_field(
    change: Any, field: str, reason: str
) -> None:
    from safetynet.errors import InputError
    from safetynet.policy.population import population_from_households

    households: list[Any] = [
        {"household_id": f"H-{i}", "members": [_person(), _person(relation="spouse", sex="female")]}
        for i in range(3)
    ]
    assert population_from_households(households).n_persons == 6
    change(households)
    with pytest.raises(InputError) as refused:
        population_from_households(households)
    assert refused.value.field == field
    assert reason in refused.value.reason
    one = [households[2]] if field.startswith("households[2]") else None
    if one is not None:  # one household alone is "household"
        with pytest.raises(InputError) as alone:
            population_from_households(one)
        assert alone.value.field == field.replace("households[2]", "household")


@pytest.mark.parametrize("ordered", [True, False])
def test_household_sums_are_exact_for_empty_sparse_dense_and_unset_columns(ordered: bool) -> None:
    """``sum_h`` sums a mostly-zero column from its few non-zero persons and a column nobody gave
    from the household sizes: every shape gives the sums a clerk would add up by hand."""
    rng = np.random.default_rng(15)
    sizes = rng.integers(1, 6, size=3_000)
    groups = np.arange(len(sizes)) if ordered else rng.permutation(len(sizes))  # ids by position
    pop = Population(household_of=np.repeat(groups, sizes).astype(np.int64))
    pop.household_ids = [f"H{i}" for i in range(len(sizes))]
    n = pop.n_persons
    big = 2**62 // 8

    def by_hand(values: np.ndarray) -> list[int]:
        bounds = np.concatenate(([0], np.cumsum(sizes)))
        return [sum(int(v) for v in values[a:b]) for a, b in itertools.pairwise(bounds)]

    sparse = np.zeros(n, dtype=np.int64)
    sparse[rng.choice(n, 40, replace=False)] = rng.integers(-big, big, 40)
    columns = {
        "zero": np.zeros(n, dtype=np.int64),
        "sparse": sparse,
        "sparse bool": sparse > 0,
        "sparse int8": (sparse % 3).astype(np.int8),
        "dense": rng.integers(-(10**9), 10**9, n),
        "dense bool": rng.random(n) < 0.7,
        "unset": np.broadcast_to(np.int64(2_500), (n,)),
        "unset true": np.broadcast_to(np.True_, (n,)),
        "unset zero": np.broadcast_to(np.int64(0), (n,)),
        "one person": np.eye(1, n, n - 1, dtype=np.int32)[0] * 7,
    }
    for name, values in columns.items():
        found = pop.sum_h(values)
        assert found.dtype == np.int64, name
        assert found.tolist() == by_hand(values), name
        assert pop.any_h(values != 0).tolist() == [s != 0 for s in by_hand(values != 0)], name


I64 = np.iinfo(np.int64)


@pytest.mark.parametrize(
    "values",
    [
        np.array([True, False, True, True, False, True, True]),
        np.array([I64.max, -1, 1, I64.min, I64.max, 0, I64.min], dtype=np.int64),
        np.array([I64.max, I64.max, 5, 7, -7, I64.min + 1, -1], dtype=np.int64),
        np.array([127, 127, -128, 3, 4, -128, 127], dtype=np.int8),
        np.broadcast_to(np.int64(I64.max), (7,)),  # a fact nobody gave: a read-only view
    ],
)
def test_a_large_population_sums_each_household_as_a_small_one_does(
    values: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above ``_SUM_BY_SEGMENTS`` persons a household's sum is one reduction over its run of
    members (``np.add.reduceat``), below it a difference of running totals: the same int64 to the
    fen, also at the type's limits (where both wrap the same way) and on narrow types."""
    household_of = np.array([0, 0, 1, 2, 2, 2, 3], dtype=np.int64)
    small = Population(household_of=household_of).sum_h(values)
    monkeypatch.setattr(population, "_SUM_BY_SEGMENTS", 1)
    large = Population(household_of=household_of).sum_h(values)
    assert large.dtype == small.dtype == np.int64
    assert large.tolist() == small.tolist()
    with np.errstate(over="ignore"):
        exact = [sum(int(v) for v in values[a:b]) for a, b in ((0, 2), (2, 3), (3, 6), (6, 7))]
    assert large.tolist() == [(s + 2**63) % 2**64 - 2**63 for s in exact]
    assert Population(household_of=household_of).count_h(values != 0).tolist() == [
        int((values[a:b] != 0).sum()) for a, b in ((0, 2), (2, 3), (3, 6), (6, 7))
    ]
