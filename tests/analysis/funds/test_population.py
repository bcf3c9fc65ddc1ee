"""One year of the cohort-component method, computed by hand."""

from __future__ import annotations

import numpy as np

from safetynet.analysis.funds.population import advance, survive
from safetynet.analysis.funds.schedules import AGES


def _tiny() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pop = np.zeros((2, AGES), dtype=np.int64)
    pop[0, 30], pop[1, 30] = 1000, 2000  # 1,000 men and 2,000 women aged 30
    pop[1, 100] = 10  # 10 women aged 100 and over
    q = np.zeros((2, AGES))
    q[:, 0] = 0.01
    q[0, 30], q[1, 30] = 0.1, 0.05
    q[1, 100] = 0.5
    fertility = np.zeros(AGES)
    fertility[30] = 1.0  # every birth to a mother aged 30
    return pop, q, fertility


def test_a_tiny_population_ages_dies_and_bears_children_as_computed_by_hand() -> None:
    pop, q, fertility = _tiny()
    migration = np.zeros((2, AGES), dtype=np.int64)
    migration[0, 31] = 7  # 7 men aged 31 arrive
    step = advance(pop, q, fertility, total_fertility=0.06, sex_ratio=1.1, migration=migration)
    # survivors: 1,000 × 0.9 = 900 men, 2,000 × 0.95 = 1,900 women, now 31; +7 migrants
    assert step.population[0, 31] == 907
    assert step.population[1, 31] == 1900
    # births: 2,000 women × 0.06 = 120; boys 120 × 1.1 ÷ 2.1 = 62.86 → 63, girls 57;
    # survive the first year with 1 − 0.01: 62.37 → 62 boys, 56.43 → 56 girls
    assert step.births == 120
    assert list(step.population[:, 0]) == [62, 56]
    # the open age keeps its survivors: 10 × 0.5 = 5
    assert step.population[1, 100] == 5
    # deaths: 100 men + 100 women at 30, 5 at 100, 1 boy and 1 girl
    assert step.deaths == 207
    assert step.population.sum() == 907 + 1900 + 62 + 56 + 5


def test_survival_moves_everyone_up_one_year_and_keeps_the_open_age() -> None:
    counts = np.zeros((2, AGES), dtype=np.int64)
    counts[0, 99], counts[0, 100] = 4, 6
    out = survive(counts, np.zeros((2, AGES)))
    assert out[0, 100] == 10
    assert out[0, 99] == 0
