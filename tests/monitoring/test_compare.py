"""The comparison of one county with its feeds, on a hand-made county whose differences and
dibao amounts are worked out by hand in the comments.

Illustrative parameters [I] (overrides): urban dibao standard S = 1,000 yuan per person per month,
no employment-cost deduction, financial assets up to 24 × S per member, no vehicle, one home.
Comparison parameters (national, [I]): wages averaged over the comparison month and the 2 before
(2025-07..09), a tolerance of 100 yuan, events of the last 3 months (2025-07-01..2025-09-30),
vehicles worth less than 20,000 yuan not counted.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from safetynet.errors import InputError
from safetynet.monitoring.compare import compare_county, month_end, months_back
from tests.monitoring.helpers import (
    CHILD,
    FEEDS,
    MONTH,
    OVERRIDES,
    STRANGER,
    A,
    C,
    D,
    E,
    F,
    G,
    K,
    compare,
    county_data,
    day,
)


def test_month_helpers() -> None:
    assert month_end(dt.date(2024, 2, 10)) == dt.date(2024, 2, 29)
    assert months_back(dt.date(2025, 1, 1), 2) == dt.date(2024, 11, 1)


def test_differences_of_the_hand_made_county() -> None:
    c = compare()
    got = [
        (d["household_id"], d["person_id"], d["kind"], d["item"], d["declared"], d["found"])
        for d in c.differences.to_pylist()
    ]
    assert got == [
        # deposits: the latest balance (50,000 yuan), against 0 declared
        (10, None, "bank_deposits", "financial_assets", 0, 5_000_000),
        # wages: (3,000 + 3,000) / 2 months = 3,000 against 1,000 declared
        (10, 100, "wages", "wage_income", 100_000, 300_000),
        # (1,200 + 1,800) / 2 = 1,500 against 0; C's 1,550 vs 1,500 is within 100 yuan
        (20, 400, "wages", "wage_income", 0, 150_000),
        (30, 500, "hospital_bills", "medical_out_of_pocket", 0, 1_200_000),
        (30, None, "vehicles", "vehicles", 0, 1),
        (40, 700, "deaths", "alive", 1, 0),
        (50, 800, "births", "birth", 0, 1),
        (50, 800, "hukou_moves", "hukou_region", 310115, 310112),
    ]
    vehicle = c.differences.to_pylist()[4]
    assert vehicle["amount_fen"] == 5_000_000  # the counted car only
    assert c.records_read == len(FEEDS)
    assert c.records_matched == len(FEEDS) - 1  # the stranger is not this county's
    birth = c.differences.to_pylist()[6]
    assert birth["reference"] == CHILD
    assert birth["event_date"] == dt.date(2025, 8, 10)


def test_eligibility_effects_with_the_real_engine() -> None:
    c = compare()
    dibao = {
        e["household_id"]: (
            e["declared_eligible"],
            e["declared_amount_fen"],
            e["found_eligible"],
            e["found_amount_fen"],
        )
        for e in c.effects.to_pylist()
        if e["program"] == "dibao"
    }
    assert dibao == {
        # declared income 1,000 < 2 × 1,000: (2,000 − 1,000) = 1,000 a month; with the feeds the
        # income is 3,000 ≥ 2,000 and 50,000 of deposits > 24 × 1,000 × 2 = 48,000: nothing
        10: (True, 100_000, False, 0),
        # 1,500 declared: 500 a month; with D's 1,500 the income is 3,000: nothing
        20: (True, 50_000, False, 0),
        # a person alone with no income: 1,000 a month; a car of 50,000 > 0 vehicles allowed
        30: (True, 100_000, False, 0),
        # 1,500 of 2 members: 500; G died, F alone with no income: 1,000 a month
        40: (True, 50_000, True, 100_000),
    }
    assert 50 not in dibao  # a birth or a move is not a fact the rules core reads here
    tests = {t["household_id"]: t for t in c.standard_tests.to_pylist()}
    assert tests[10]["declared_per_capita_fen"] == 50_000
    assert tests[10]["found_per_capita_fen"] == 150_000
    assert tests[10]["declared_below_standard"]
    assert not tests[10]["found_below_standard"]
    assert tests[10]["declared_assets_ok"]
    assert not tests[10]["found_assets_ok"]
    # financial assets alone: 0 declared ≤ 48,000; 50,000 found > 48,000
    assert tests[10]["declared_financial_ok"]
    assert not tests[10]["found_financial_ok"]
    assert tests[30]["found_financial_ok"]  # no deposits found: nothing to say
    assert (tests[40]["declared_members"], tests[40]["found_members"]) == (2, 1)
    tekun = [e for e in c.effects.to_pylist() if e["program"] == "tekun"]
    assert len(tekun) == 4
    assert not any(e["changed"] for e in tekun)


def test_sources_consulted_per_household() -> None:
    c = compare()
    consulted = {(r["household_id"], r["kind"]): r["records"] for r in c.consulted.to_pylist()}
    assert consulted[(10, "wages")] == 2
    assert consulted[(10, "bank_deposits")] == 2
    assert consulted[(20, "wages")] == 4
    assert consulted[(30, "hospital_bills")] == 2
    assert (20, "bank_deposits") not in consulted


def test_a_wider_tolerance_hides_small_differences() -> None:
    c = compare(extra={"assistance.monitoring.comparison.income_tolerance": 200_001})
    assert "wage_income" not in c.differences.column("item").to_pylist()


def test_no_records_means_no_differences() -> None:
    c = compare([])
    assert c.differences.num_rows == 0
    assert c.effects.num_rows == 0
    assert c.records_read == 0


def test_marriage_divorce_disability_unemployment_and_business() -> None:
    rows = [
        # A marries someone outside the household; C and D divorce
        {"kind": "marriages", "id_number": A, "reference": STRANGER, "code": "married",
         "event_date": day("2025-08-01")},
        {"kind": "marriages", "id_number": C, "reference": D, "code": "divorced",
         "event_date": day("2025-09-01")},
        # E gets a grade-2 physical disability certificate; F registers as unemployed
        {"kind": "disability_certificates", "id_number": E, "reference": "C1", "code": "physical",
         "grade": 2, "event_date": day("2025-09-02")},
        {"kind": "unemployment_registration", "id_number": F, "code": "registered",
         "event_date": day("2025-09-10")},
        {"kind": "business", "id_number": K, "reference": "91310000MA1", "amount_fen": 10_000_000,
         "event_date": day("2025-07-15")},
        {"kind": "social_insurance", "id_number": G, "month": "2025-09", "code": "pension_benefit",
         "amount_fen": 80_000},
    ]  # fmt: skip
    c = compare(rows)
    got = {
        (d["person_id"], d["item"]): (d["declared"], d["found"]) for d in c.differences.to_pylist()
    }
    assert got == {
        (100, "marriage"): (0, 1),
        (300, "divorce"): (1, 0),
        (500, "disability_grade"): (0, 2),
        (600, "unemployment_registered"): (0, 1),
        (800, "business_registrations"): (0, 1),
        (700, "pension_income"): (0, 80_000),
    }
    # E alone: a grade-2 certificate does not change the dibao amount here (1,000 either way)
    effects = {(e["household_id"], e["program"]): e for e in c.effects.to_pylist()}
    assert effects[(30, "dibao")]["found_amount_fen"] == 100_000
    # G's pension of 800: 1,500 + 800 = 2,300 ≥ 2,000, household 40 is no longer eligible
    assert not effects[(40, "dibao")]["found_eligible"]


def test_a_snapshot_without_identity_numbers_is_refused() -> None:
    data = county_data()
    data.id_number = None
    with pytest.raises(InputError, match="identity numbers"):
        compare(data=data)


def test_records_without_the_shared_columns_are_refused() -> None:
    with pytest.raises(InputError, match="columns missing"):
        compare_county(county_data(), pa.table({"kind": ["deaths"]}), MONTH, overrides=OVERRIDES)
