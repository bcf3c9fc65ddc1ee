"""A small population in two Shanghai districts whose figures are worked out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from safetynet.policy.population import population_from_households
from safetynet.registry.county_data import CountyData, write_county, write_manifest

XUHUI, PUDONG = "310104", "310115"  # Shanghai: one city-wide dibao standard, 1,650 from 2025-07
MONTH = "2025-09"


def adult(transfer_yuan: int, **more: Any) -> dict[str, Any]:
    return {"birth_date": "1985-01-01", "sex": "female", "transfer_income": str(transfer_yuan),
            **more}  # fmt: skip


def household(*members: dict[str, Any], **more: Any) -> dict[str, Any]:
    rows = [dict(m, relation="head" if i == 0 else "spouse" if i == 1 else "child")
            for i, m in enumerate(members)]  # fmt: skip
    return {"hukou_type": "urban", "members": rows, **more}


# Per-capita counted income is the transfer income (no wages, no assets unless said).
HOUSEHOLDS = {
    XUHUI: [
        household(
            adult(1000), adult(1000), is_dibao_recipient=True
        ),  # A: 2 persons, 2,000, enrolled
        household(adult(3000)),  # B: 1 person, 3,000 (above 1,650 and above 1,815)
        household(adult(1500), adult(1500), adult(1500)),  # C: 3 persons, 4,500
        household(adult(1700)),  # E: 1 person, 1,700 (above 1,650, below 1,815)
        household(adult(1000), financial_assets="10000000"),  # F: 1,000, assets far too high
    ],
    PUDONG: [household(adult(750), adult(750))],  # D: 2 persons, 1,500
}


def write_population(root: Path) -> None:
    next_h, next_p = 1, 1
    for county, households in HOUSEHOLDS.items():
        pop = population_from_households(households)
        n_h, n_p = pop.n_households, pop.n_persons
        write_county(
            root,
            CountyData(
                county=county,
                population=pop,
                household_id=np.arange(next_h, next_h + n_h, dtype=np.int64),
                region=np.array([county] * n_h),
                person_id=np.arange(next_p, next_p + n_p, dtype=np.int64),
                id_number=None,
            ),
        )
        next_h, next_p = next_h + n_h, next_p + n_p
    write_manifest(root, {"counties": list(HOUSEHOLDS), "source": "hand-computed test households"})
