"""One year of the cohort-component method: survival, births and net migration by age and sex.

Persons are whole numbers: each cell is rounded (half to even) after survival, so a projection is
deterministic and a small case can be computed by hand. Deaths of the year are taken at its end;
births of the year are those of the women alive at its start, and a newborn survives to the end of
the year with 1 − q(0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from safetynet.analysis.funds.schedules import AGES, FloatArray, IntArray


@dataclass(frozen=True)
class Step:
    population: IntArray  # [sex, age] at the end of the year
    births: int
    deaths: int


def survive(counts: IntArray, q: FloatArray) -> IntArray:
    """Each cell × (1 − q), rounded, moved one year of age on; the open age keeps its survivors."""
    survivors = np.rint(counts * (1.0 - q)).astype(np.int64)
    out = np.zeros_like(survivors)
    out[:, 1:] = survivors[:, :-1]
    out[:, AGES - 1] += survivors[:, AGES - 1]
    return out


def advance(
    population: IntArray,
    q: FloatArray,
    fertility: FloatArray,
    total_fertility: float,
    sex_ratio: float,
    migration: IntArray,
) -> Step:
    """The population at the end of the next year from that at the end of this one.

    births = Σ_a TFR × share(a) × women(a); boys = births × SRB ÷ (1 + SRB); each newborn enters
    age 0 with probability 1 − q(0); net migrants are added to their age last."""
    nxt = survive(population, q)
    deaths = int(population.sum() - nxt.sum())
    births = round(float(np.sum(fertility * total_fertility * population[1])))
    boys = round(births * sex_ratio / (1.0 + sex_ratio))
    newborn = np.asarray([boys, births - boys], dtype=np.float64)
    nxt[:, 0] = np.rint(newborn * (1.0 - q[:, 0])).astype(np.int64)
    deaths += births - int(nxt[:, 0].sum())
    nxt = np.maximum(nxt + migration, 0)
    return Step(nxt, births, deaths)
