"""Pension relationship transfer (国办发〔2009〕66号) and scheme linking (人社部发〔2014〕17号)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from safetynet.errors import InputError
from safetynet.insurance.transfer import (
    ContributionPeriod,
    Month,
    claim_place,
    link_schemes,
    needs_temporary_account,
    periods_from_json,
    run_json,
    transfer_amount,
)

ROOT = Path(__file__).resolve().parents[2]
ON = dt.date(2025, 9, 1)


def period(place: str, start: str, end: str, base: int = 5000, **kw: Any) -> ContributionPeriod:
    return ContributionPeriod(
        place, Month.parse(start, "start"), Month.parse(end, "end"), base * 100, **kw
    )


def test_e14_1_pooled_36000_total_116000() -> None:
    # account 80,000; bases 60,000 a year for 5 years since 1998 → 12 % × 300,000 = 36,000
    r = transfer_amount(80_000_00, [period("A", "2010-01", "2014-12", 60_000, annual=True)], ON)
    assert r.base_total == 300_000_00
    assert r.pooled == 36_000_00
    assert r.total == 116_000_00
    assert r.months_counted == 60


def test_e14_1_from_the_example_json() -> None:
    doc = json.loads((ROOT / "examples/insurance/pension_transfer_e14.json").read_text())
    out = run_json(doc)
    assert out["pooled_transfer"] == "36000.00"
    assert out["total_moved"] == "116000.00"
    assert out["claim_place"] == "420100"  # under 10 years anywhere → hukou place


def test_only_bases_since_1998_count() -> None:
    # 1996-01..1999-12 at 1,000/month: only the 24 months of 1998-1999 count → 12 % × 24,000
    r = transfer_amount(0, [period("A", "1996-01", "1999-12", 1000)], ON)
    assert r.months_counted == 24
    assert r.pooled == 2_880_00


def test_partial_year_is_pro_rata_by_months() -> None:
    # 7 months at an annual base of 50,000: 50,000 × 7/12 = 29,166.666… → 12 % = 3,500.00
    r = transfer_amount(0, [period("A", "2020-01", "2020-07", 50_000, annual=True)], ON)
    assert r.pooled == 3_500_00
    # 5 months: 50,000 × 5/12 × 12 % = 2,500.00 exactly
    r = transfer_amount(0, [period("A", "2020-01", "2020-05", 50_000, annual=True)], ON)
    assert r.pooled == 2_500_00


def test_only_the_place_being_left_moves_its_pooled_funds() -> None:
    periods = [period("A", "2010-01", "2014-12", 5000), period("B", "2015-01", "2016-12", 8000)]
    assert transfer_amount(0, periods, ON, from_place="B").pooled == 23_040_00  # 12 % × 192,000
    assert transfer_amount(0, periods, ON, from_place="A").pooled == 36_000_00


def test_resident_periods_do_not_move_pooled_funds() -> None:
    r = transfer_amount(0, [period("A", "2010-01", "2014-12", 5000, scheme="resident")], ON)
    assert r.pooled == 0


@pytest.mark.parametrize(
    ("sex", "born", "destination", "expected"),
    [
        ("male", dt.date(1975, 9, 1), "B", True),  # exactly 50 on the move date
        ("male", dt.date(1975, 9, 2), "B", False),  # one day short of 50
        ("female", dt.date(1985, 9, 1), "B", True),  # exactly 40
        ("female", dt.date(1986, 1, 1), "B", False),  # 39
        ("male", dt.date(1960, 1, 1), "H", False),  # moving to the hukou place
    ],
)
def test_temporary_account(sex: Any, born: dt.date, destination: str, expected: bool) -> None:
    assert needs_temporary_account(sex, born, ON, destination, "H") is expected


def test_temporary_account_refuses_a_birth_after_the_move() -> None:
    with pytest.raises(InputError, match="birth_date"):
        needs_temporary_account("male", dt.date(2030, 1, 1), ON, "B", "H")


def test_claim_at_the_hukou_place_when_the_relationship_is_there() -> None:
    periods = [period("A", "2000-01", "2014-12"), period("H", "2015-01", "2020-12")]
    d = claim_place(periods, "H", ON)
    assert (d.place, d.rule) == ("H", "relationship at the hukou place")


def test_claim_at_the_current_place_with_10_years() -> None:
    periods = [period("A", "2000-01", "2004-12"), period("B", "2005-01", "2014-12")]
    d = claim_place(periods, "H", ON)
    assert (d.place, d.months_by_place["B"]) == ("B", 120)
    assert d.rule == "10+ years at the current place"


def test_claim_at_the_last_earlier_place_with_10_years() -> None:
    periods = [
        period("A", "1995-01", "2004-12"),  # 10 years
        period("B", "2005-01", "2016-12"),  # 12 years
        period("C", "2017-01", "2024-12"),  # 8 years: current, under 10
    ]
    d = claim_place(periods, "H", ON)
    assert (d.place, d.rule) == ("B", "last earlier place with 10+ years")


def test_years_at_a_place_are_cumulative_across_periods() -> None:
    periods = [
        period("A", "2000-01", "2005-12"),  # 6 years at A
        period("B", "2006-01", "2009-12"),
        period("A", "2010-01", "2013-12"),  # +4 = 10 years at A
        period("C", "2014-01", "2016-12"),
    ]
    assert claim_place(periods, "H", ON).place == "A"


def test_claim_at_the_hukou_place_when_no_place_has_10_years() -> None:
    periods = [period("A", "2000-01", "2008-12"), period("B", "2009-01", "2017-12")]  # 9 + 9
    d = claim_place(periods, "H", ON)
    assert (d.place, d.rule) == ("H", "no place with 10+ years: the hukou place")


def test_temporary_account_periods_do_not_make_a_claim_place() -> None:
    periods = [
        period("A", "2000-01", "2009-12"),
        period("B", "2010-01", "2024-12", temporary=True),  # 15 years, temporary account
    ]
    d = claim_place(periods, "H", ON)
    assert d.place == "A"


def test_link_to_employee_merges_account_not_years() -> None:
    periods = [
        period("A", "2000-01", "2015-12"),  # 16 employee years
        period("R", "2016-01", "2020-12", 200, scheme="resident"),  # 5 resident years
    ]
    r = link_schemes(periods, 50_000_00, 8_000_00, ON)
    assert r.direction == "to_employee"
    assert r.account == 58_000_00
    assert r.years_months == 192  # the resident years are not counted


def test_link_to_resident_merges_account_and_years() -> None:
    periods = [
        period("A", "2000-01", "2009-12"),  # 10 employee years
        period("R", "2010-01", "2024-12", 200, scheme="resident"),  # 15 resident years
    ]
    r = link_schemes(periods, 30_000_00, 8_000_00, ON)
    assert r.direction == "to_resident"
    assert r.account == 38_000_00
    assert r.years_months == 300


def test_overlapping_employee_and_resident_months_count_once() -> None:
    periods = [
        period("A", "2000-01", "2009-12"),
        period("R", "2009-01", "2012-12", 200, scheme="resident"),  # 12 months overlap
    ]
    r = link_schemes(periods, 0, 0, ON)
    assert r.refunded_resident_months == 12
    assert r.years_months == 120 + 36


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([], "periods"),
        (
            [{"place": "A", "start": "2020-01", "end": "2019-12", "monthly_base": "1"}],
            "periods[0].end",
        ),
        (
            [{"place": "A", "start": "2020-13", "end": "2021-12", "monthly_base": "1"}],
            "periods[0].start",
        ),
        ([{"place": "A", "start": "2020-01", "end": "2021-12"}], "periods[0].monthly_base"),
        (
            [
                {
                    "place": "A",
                    "start": "2020-01",
                    "end": "2021-12",
                    "monthly_base": "1",
                    "annual_base": "12",
                }
            ],
            "periods[0].monthly_base",
        ),
        (
            [{"place": "A", "start": "2020-01", "end": "2021-12", "monthly_base": "-1"}],
            "periods[0].base",
        ),
        (
            [
                {
                    "place": "A",
                    "start": "2020-01",
                    "end": "2021-12",
                    "monthly_base": "1",
                    "scheme": "x",
                }
            ],
            "periods[0].scheme",
        ),
        (
            [
                {"place": "A", "start": "2020-01", "end": "2021-12", "monthly_base": "1"},
                {"place": "B", "start": "2021-06", "end": "2022-12", "monthly_base": "1"},
            ],
            "periods[1]",
        ),
    ],
)
def test_bad_histories_name_the_field(rows: list[dict[str, Any]], field: str) -> None:
    with pytest.raises(InputError) as err:
        periods_from_json(rows)
    assert err.value.field == field


def test_gaps_are_allowed_and_reported() -> None:
    doc = {
        "date": "2025-09-01",
        "account_balance": "0",
        "periods": [
            {"place": "A", "start": "2010-01", "end": "2010-12", "monthly_base": "1000"},
            {"place": "B", "start": "2011-04", "end": "2011-12", "monthly_base": "1000"},
        ],
    }
    out = run_json(doc)
    assert out["notes"] == ["employee: no contributions for 3 month(s) before 2011-04"]
    assert out["months_counted"] == 21
