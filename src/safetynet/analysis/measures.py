"""Distributional measures over households, exact: poverty (FGT 0/1/2), the Gini coefficient and
income deciles. Pure functions of integer-fen arrays; ratios come back as ``Fraction``.

Conventions (docs/analysis.md): every member of a household has the household's income per head
(or per equivalent adult); incomes below zero count as zero; persons, not households, are the
unit of the poverty and inequality measures and of the deciles.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from safetynet.policy.population import IntArray

__all__ = ["Poverty", "decile_of", "equivalised", "gini", "poverty"]

_CHUNK = 100  # partial sums of 100 products stay inside int64 even for a nation (1.4e9 persons)


@dataclass(frozen=True)
class Poverty:
    """Foster-Greer-Thorbecke measures over persons: headcount ratio (α=0), poverty gap (α=1),
    squared poverty gap (α=2); ``persons``: the persons counted, ``poor``: those below the line."""

    persons: int
    poor: int
    headcount: Fraction
    gap: Fraction
    squared_gap: Fraction


def _exact_sum(values: IntArray) -> int:
    """The sum of an int64 array as a Python int, never overflowing."""
    if len(values) == 0:
        return 0
    starts = np.arange(0, len(values), _CHUNK)
    return sum(int(x) for x in np.add.reduceat(values, starts))


def poverty(income: IntArray, size: IntArray, line: IntArray) -> Poverty:
    """FGT measures of households with monthly ``income`` (fen), ``size`` members and a per-person
    ``line`` (fen per month; 0 = no line, the household is left out).

    A member's gap is (line − income/size)/line; a household's members together contribute
    size·gap = (size·line − income)/line to α=1 and (size·line − income)²/(size·line²) to α=2, so
    the sums are exact integers grouped by (line, size)."""
    counted = line > 0
    income, size, line = np.maximum(income[counted], 0), size[counted], line[counted]
    persons = int(size.sum())
    short = size * line - income  # > 0: below the line
    poor = short > 0
    n_poor = int(size[poor].sum())
    if persons == 0:
        zero = Fraction(0)
        return Poverty(0, 0, zero, zero, zero)
    gap, squared = Fraction(0), Fraction(0)
    short, size_p, line_p = short[poor], size[poor], line[poor]
    for z in np.unique(line_p):
        at_z = line_p == z
        gap += Fraction(_exact_sum(short[at_z]), int(z))
        for n in np.unique(size_p[at_z]):
            rows = at_z & (size_p == n)
            s = short[rows]
            squared += Fraction(sum(int(v) * int(v) for v in s), int(n) * int(z) * int(z))
    return Poverty(persons, n_poor, Fraction(n_poor, persons), gap / persons, squared / persons)


def equivalised(income: IntArray, weight_tenths: IntArray) -> IntArray:
    """Household income per equivalent adult in whole fen (rounded down); ``weight_tenths`` is the
    household's equivalence weight × 10 (per head: 10 × members). Negative income counts as 0."""
    value: IntArray = np.maximum(income, 0) * 10 // np.maximum(weight_tenths, 1)
    return value


def gini(value: IntArray, size: IntArray) -> Fraction:
    """The Gini coefficient over persons, each of a household's ``size`` members having its
    ``value`` (fen, ≥ 0): 1 − Σ nᵢ(Sᵢ₋₁ + Sᵢ) / (N·S), S the cumulative sums of n·value in
    ascending order of value (the area under the Lorenz curve, exact with ties)."""
    order = np.argsort(value, kind="stable")
    v, n = value[order], size[order]
    total_persons = int(n.sum())
    share = n * v
    cumulative = np.cumsum(share)
    total = int(cumulative[-1]) if len(cumulative) else 0
    if total_persons == 0 or total == 0:
        return Fraction(0)
    before = cumulative - share
    area = _exact_sum(n * before) + _exact_sum(n * cumulative)
    return 1 - Fraction(area, total_persons * total)


def decile_of(value: IntArray, size: IntArray) -> IntArray:
    """Each household's income decile (0-9) among persons: households in ascending order of
    ``value``, a household in the decile of its first member."""
    order = np.argsort(value, kind="stable")
    n = size[order].astype(np.int64)
    total = int(n.sum())
    before = np.cumsum(n) - n
    decile = np.zeros(len(value), np.int64)
    if total:
        decile[order] = np.minimum(before * 10 // total, 9)
    return decile
