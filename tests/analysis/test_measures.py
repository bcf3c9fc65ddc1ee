"""Poverty, Gini and deciles on populations small enough to check by hand."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from safetynet.analysis.measures import decile_of, equivalised, gini, poverty


def a(*values: int) -> np.ndarray:
    return np.array(values, np.int64)


def test_gini_of_two_persons_one_with_everything_is_one_half() -> None:
    # 1 − Σ n(S₋ + S)/(N·S) = 1 − (1·(0+0) + 1·(0+100))/(2·100) = 1/2
    assert gini(a(0, 100), a(1, 1)) == Fraction(1, 2)
    assert gini(a(50, 50), a(2, 3)) == 0


def test_gini_counts_persons_not_households() -> None:
    # Persons: 0, 100, 100 → mean absolute difference (2·100·2)/9 = 400/9, mean 200/3:
    # G = (400/9) / (2 · 200/3) = 1/3
    assert gini(a(0, 100), a(1, 2)) == Fraction(1, 3)


def test_poverty_measures_of_a_household_below_the_line() -> None:
    # Household of 2 with 1,000 a month against a line of 1,000 a head: gap per person 1/2;
    # a household of 1 with 2,000 is not poor. 3 persons: headcount 2/3, gap 2·(1/2)/3 = 1/3,
    # squared gap 2·(1/4)/3 = 1/6.
    p = poverty(a(1_000, 2_000), a(2, 1), a(1_000, 1_000))
    assert (p.persons, p.poor) == (3, 2)
    assert (p.headcount, p.gap, p.squared_gap) == (Fraction(2, 3), Fraction(1, 3), Fraction(1, 6))


def test_households_without_a_line_are_left_out() -> None:
    p = poverty(a(0, 0), a(1, 1), a(0, 500))
    assert (p.persons, p.poor, p.gap) == (1, 1, Fraction(1))


def test_deciles_rank_persons() -> None:
    # Ten households of one person: one per decile, in order of income.
    values = a(*range(10, 0, -1))
    assert list(decile_of(values, np.ones(10, np.int64))) == list(range(9, -1, -1))
    # equivalised: per head (weight 10 × members) rounds down to whole fen; negative counts 0
    assert list(equivalised(a(1_001, -5), a(20, 10))) == [500, 0]
