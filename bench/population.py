"""The benchmark's synthetic population: a thin wrapper over ``safetynet.batch.synth``.

The benchmark times the rules engine on the same generator as ``safetynet synth`` (distributions,
calibration targets and sources: docs/synthetic-population.md). Everything in it is ILLUSTRATIVE.

``synthetic_population(n_persons, seed=..., on=...)`` returns a ``Population`` of exactly
``n_persons`` persons of one county-level city (mixed urban and rural hukou), deterministic in
(``n_persons``, ``seed``, ``on``).
"""

from __future__ import annotations

import datetime as dt

from safetynet.batch import synth
from safetynet.policy.population import Population

BENCH_COUNTY = "510181"
"""都江堰市, a county-level city: about 45 % of its households have urban hukou."""


def synthetic_population(n_persons: int, *, seed: int = 20260701, on: dt.date) -> Population:
    """``n_persons`` persons in households, as columns; deterministic in (n, seed, on)."""
    if n_persons <= 0:
        raise ValueError("n_persons must be positive")
    return synth.generate_county(BENCH_COUNTY, n_persons, seed=seed, on=on).population


def fields_defaulted() -> list[str]:
    """Declared fields that the generator leaves at their default (for the report)."""
    return synth.fields_defaulted()
