"""``Subjects``: values worked out for the persons a rule concerns become the same per-person and
per-household columns as the rule over every person with the others masked to 0 — the exactness
the programs' subset paths rest on."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from safetynet.policy.population import Population
from safetynet.policy.programs.subjects import Subjects


@st.composite
def county(draw: st.DrawFn) -> tuple[Population, np.ndarray, np.ndarray, np.ndarray]:
    """A population (households of 1–6 members, in member order), who the rule concerns, a
    further condition among them, and per-person amounts: mostly 0, or dense, or negative."""
    sizes = draw(st.lists(st.integers(1, 6), min_size=0, max_size=40))
    household_of = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    n = len(household_of)
    mask = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    further = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    value = st.one_of(st.just(0), st.integers(-(10**12), 10**12))
    amounts = np.array(draw(st.lists(value, min_size=n, max_size=n)), dtype=np.int64)
    return Population(household_of=household_of), mask, further, amounts


@settings(max_examples=300, deadline=None)
@given(county())
def test_subjects_give_what_the_masked_rule_over_everybody_gives(
    drawn: tuple[Population, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    pop, mask, further, amounts = drawn
    masked = np.where(mask, amounts, 0)
    subjects = Subjects.of(pop, mask)
    own = amounts[subjects.at]  # the rule worked out for its subjects alone
    assert subjects.spread(own).tolist() == masked.tolist()
    assert subjects.sum_h(own).tolist() == pop.sum_h(masked).tolist()
    assert subjects.any_h(own != 0).tolist() == pop.any_h(masked != 0).tolist()
    first = [0] * pop.n_households
    for i in reversed(range(pop.n_persons)):  # the last written is each household's first
        if mask[i]:
            first[pop.household_of[i]] = int(amounts[i])
    assert subjects.first_value(own).tolist() == first
    # Narrowed to those among them for whom a further condition holds: as masking by both.
    narrower = subjects.within(further[subjects.at])
    both = np.where(mask & further, amounts, 0)
    assert narrower.sum_h(amounts[narrower.at]).tolist() == pop.sum_h(both).tolist()
    assert narrower.spread(amounts[narrower.at]).tolist() == both.tolist()


def test_a_fact_nobody_gave_is_taken_for_the_subjects_without_a_copy() -> None:
    pop = Population(household_of=np.repeat(np.arange(100_000, dtype=np.int64), 3))
    subjects = Subjects.of(pop, np.arange(pop.n_persons) % 7 == 0)
    unset = np.broadcast_to(np.int64(4), (pop.n_persons,))
    taken = subjects.take(unset)
    assert len(taken) == len(subjects.at)
    assert set(taken.tolist()) == {4}
    assert taken.strides == (0,)  # still one value, not a column per subject
    given_ = np.arange(pop.n_persons, dtype=np.int64)
    assert subjects.take(given_).tolist() == given_[subjects.at].tolist()
