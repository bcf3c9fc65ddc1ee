"""The hand-made county of the monitoring tests: its people, households and feed records, and the
comparison run on it; the differences and dibao amounts are worked out by hand in the tests.

Illustrative parameters [I] (overrides): urban dibao standard S = 1,000 yuan per person per month,
no employment-cost deduction, financial assets up to 24 × S per member, no vehicle, one home.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from safetynet.domain.identity import check_character
from safetynet.monitoring.compare import Comparison, compare_county
from safetynet.monitoring.records import FEED_RECORD_SCHEMA
from safetynet.policy.population import population_from_households
from safetynet.policy.screening import load_parameter_values
from safetynet.registry.county_data import CountyData

COUNTY = "310115"
MONTH = dt.date(2025, 9, 1)
ROOT = Path(__file__).resolve().parents[2]
FALLBACKS = load_parameter_values(ROOT / "examples" / "illustrative_locality.yaml")
OVERRIDES: dict[str, Any] = {
    "assistance.dibao.standard_monthly_urban": 100_000,  # 1,000 yuan in fen
    "assistance.dibao.employment_cost_method": "none",
    "assistance.dibao.assets.financial_assets_months": 24,
    "assistance.dibao.assets.max_vehicles": 0,
    "assistance.dibao.assets.max_homes": 1,
}


def idn(born: str, seq: int, region: str = COUNTY) -> str:
    first17 = f"{region}{born}{seq:03d}"
    return first17 + check_character(first17)


A, B = idn("19800101", 11), idn("19820202", 12)  # household 10
C, D = idn("19750303", 13), idn("19770404", 14)  # household 20
E = idn("19850505", 15)  # household 30
F, G = idn("19700606", 17), idn("19720707", 18)  # household 40
K = idn("19900808", 19)  # household 50
CHILD, OLD_CHILD = idn("20250810", 21), idn("20250501", 23)
STRANGER = idn("19600101", 25, "310112")  # not in this county


def member(number: str, relation: str, wage: str = "0") -> dict[str, Any]:
    return {"id_number": number, "relation": relation, "wage_income": wage}


HOUSEHOLDS: list[tuple[int, dict[str, Any]]] = [
    (10, {"is_dibao_recipient": True, "members": [member(A, "head", "1000"), member(B, "spouse")]}),
    (20, {"is_dibao_recipient": True, "members": [member(C, "head", "1500"), member(D, "spouse")]}),
    (30, {"members": [member(E, "head")]}),
    (40, {"is_dibao_recipient": True, "members": [member(F, "head"), member(G, "spouse", "1500")]}),
    (50, {"is_dibao_marginal_registered": True, "members": [member(K, "head")]}),
]


def county_data(
    households: list[tuple[int, dict[str, Any]]] = HOUSEHOLDS, county: str = COUNTY
) -> CountyData:
    pop = population_from_households([{"hukou_type": "urban", **h} for _, h in households])
    numbers = [m["id_number"] for _, h in households for m in h["members"]]
    return CountyData(
        county=county,
        population=pop,
        household_id=np.asarray([i for i, _ in households], dtype=np.int64),
        region=np.asarray([county] * len(households), dtype=object),
        person_id=np.arange(1, len(numbers) + 1, dtype=np.int64) * 100,
        id_number=np.asarray(numbers, dtype=object),
    )


def records(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.table(
        {f.name: [r.get(f.name) for r in rows] for f in FEED_RECORD_SCHEMA},
        schema=FEED_RECORD_SCHEMA,
    )


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


FEEDS = [
    # household 10: wages 3,000 in August and September; deposits 60,000 then 50,000 at one bank
    {"kind": "wages", "id_number": A, "month": "2025-08", "amount_fen": 300_000},
    {"kind": "wages", "id_number": A, "month": "2025-09", "amount_fen": 300_000},
    {"kind": "bank_deposits", "id_number": A, "reference": "ICBC", "event_date": day("2025-08-31"),
     "amount_fen": 6_000_000},
    {"kind": "bank_deposits", "id_number": A, "reference": "ICBC", "event_date": day("2025-09-20"),
     "amount_fen": 5_000_000},
    # household 20: C's wage within the tolerance (1,550 vs 1,500); D: June is outside the window,
    # July 1,200 and September 1,800 average to 1,500
    {"kind": "wages", "id_number": C, "month": "2025-09", "amount_fen": 155_000},
    {"kind": "wages", "id_number": D, "month": "2025-06", "amount_fen": 500_000},
    {"kind": "wages", "id_number": D, "month": "2025-07", "amount_fen": 120_000},
    {"kind": "wages", "id_number": D, "month": "2025-09", "amount_fen": 180_000},
    # household 30: a low-value car (15,000) is not counted, a 50,000 one is; a hospital stay in
    # August (12,000 out of pocket), one in May outside the window
    {"kind": "vehicles", "id_number": E, "reference": "沪A11111", "event_date": day("2024-01-01"),
     "amount_fen": 1_500_000},
    {"kind": "vehicles", "id_number": E, "reference": "沪A22222", "event_date": day("2025-08-15"),
     "amount_fen": 5_000_000},
    {"kind": "hospital_bills", "id_number": E, "event_date": day("2025-08-01"),
     "amount_fen": 2_000_000, "second_amount_fen": 1_200_000},
    {"kind": "hospital_bills", "id_number": E, "event_date": day("2025-05-01"),
     "amount_fen": 900_000, "second_amount_fen": 800_000},
    # household 40: G died
    {"kind": "deaths", "id_number": G, "event_date": day("2025-09-03")},
    # household 50: a child born in August (another in May is outside the window); a move out
    {"kind": "births", "id_number": K, "reference": CHILD, "event_date": day("2025-08-10")},
    {"kind": "births", "id_number": K, "reference": OLD_CHILD, "event_date": day("2025-05-01")},
    {"kind": "hukou_moves", "id_number": K, "event_date": day("2025-09-05"),
     "region_code": "310112"},
    # not a person of this county
    {"kind": "deaths", "id_number": STRANGER, "event_date": day("2025-09-01")},
]  # fmt: skip


def compare(
    rows: list[dict[str, Any]] = FEEDS,
    data: CountyData | None = None,
    extra: dict[str, Any] | None = None,
) -> Comparison:
    return compare_county(
        data or county_data(),
        records(rows),
        MONTH,
        overrides={**OVERRIDES, **(extra or {})},
        fallbacks=FALLBACKS,
    )
