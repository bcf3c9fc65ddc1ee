"""Rules worked out on the persons they concern: the rows of those persons, and how values worked
out for them alone become per-person and per-household columns.

Most rules concern few persons of a county (the insured, the retired, those with a stay in
hospital); each person's values depend on that person's own facts, so working them out on those
rows alone gives, there, exactly what the same arithmetic gives over every person, and everybody
else is 0 (or false) as a rule masked by its subjects makes them.

This module registers no program.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from safetynet.policy.population import BoolArray, IntArray, Population


@dataclass(frozen=True)
class Subjects:
    """The rows of the persons a rule concerns (ascending), and how values worked out for them
    alone become per-person or per-household columns: 0 (or false) for everybody else, as the
    same rule over every person with the others masked to 0 gives. Households are numbered in
    the order their members come, as every population is made (``Population.household_of``)."""

    n_persons: int
    n_households: int
    at: IntArray
    household: IntArray  # each subject's household
    first: IntArray  # index in ``at`` of each household's first subject
    households: IntArray  # the households having a subject (of ``first``)
    others: IntArray  # index in ``at`` of every subject but the first of a household

    @staticmethod
    def of(pop: Population, mask: BoolArray) -> Subjects:
        at = np.flatnonzero(mask)
        return Subjects._made(pop.n_persons, pop.n_households, at, pop.household_of[at])

    def within(self, mask: BoolArray) -> Subjects:
        """The subjects for whom ``mask`` (one value per subject) holds."""
        return Subjects._made(
            self.n_persons, self.n_households, self.at[mask], self.household[mask]
        )

    @staticmethod
    def _made(n_persons: int, n_households: int, at: IntArray, household: IntArray) -> Subjects:
        starts = np.concatenate(([True], household[1:] != household[:-1]))[: len(at)]
        first, others = np.flatnonzero(starts), np.flatnonzero(~starts)
        return Subjects(n_persons, n_households, at, household, first, household[first], others)

    def take(self, column: np.ndarray) -> np.ndarray:
        """A person column's values of the subjects; a column that is one value seen through a
        zero-stride view (a fact nobody gave) stays one, read-only, without a pass."""
        if column.ndim == 1 and column.strides == (0,):
            return np.broadcast_to(column[:1], (len(self.at),))
        return column[self.at]

    def spread(self, values: np.ndarray) -> np.ndarray:
        """Per-subject values as a person column (0 elsewhere)."""
        out = np.zeros(self.n_persons, dtype=values.dtype)
        out[self.at] = values
        return out

    def sum_h(self, values: np.ndarray) -> IntArray:
        """Per-household sums (exact int64) of per-subject values: ``Population.sum_h``. Most
        households have one subject: the first one's value is placed, the few others added."""
        out = np.zeros(self.n_households, dtype=np.int64)
        given = np.count_nonzero(values)
        if given * 4 < len(values):  # mostly 0 (often all): only the others are added
            if given:
                rows = np.flatnonzero(values)
                np.add.at(out, self.household[rows], values[rows].astype(np.int64))
            return out
        out[self.households] = values[self.first]
        np.add.at(out, self.household[self.others], values[self.others].astype(np.int64))
        return out

    def any_h(self, mask: BoolArray) -> BoolArray:
        """Households with a subject for whom ``mask`` holds: ``Population.any_h``."""
        out = np.zeros(self.n_households, dtype=np.bool_)
        out[self.household[mask]] = True
        return out

    def first_value(self, values: np.ndarray) -> IntArray:
        """Each household's first subject's value (0 without one), gathered per household."""
        out = np.zeros(self.n_households, dtype=np.int64)
        out[self.households] = values[self.first]
        return out
