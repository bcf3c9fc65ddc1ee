"""Central adjustment fund (国发〔2018〕18号): worked example E13.1 and the rules around it."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from safetynet.domain.money import Rounding
from safetynet.errors import CoverageError, InputError
from safetynet.insurance.pooling import (
    Province,
    central_adjustment,
    central_adjustment_on,
    insured_headcount,
    per_capita_allocation,
    provinces_from_json,
    run_json,
)

ROOT = Path(__file__).resolve().parents[2]
BN = 100_000_000_000  # fen in one billion yuan (1e9 yuan × 100)

# E13.1 (toy data): A wage 100,000, 10 m insured, 2 m retirees; B wage 60,000, 5 m, 2.5 m.
E13 = [
    Province("A", 100_000 * 100, 10_000_000, 2_000_000),
    Province("B", 60_000 * 100, 5_000_000, 2_500_000),
]


def test_e13_1_with_the_2020_ratio_of_4_percent() -> None:
    r = central_adjustment_on(E13, dt.date(2020, 6, 30))
    assert r.ratio == Decimal("0.04")
    a, b = r.provinces
    assert a.contribution == 36 * BN  # 100,000 × 0.9 × 10^7 × 4 % = 36.0 bn
    assert b.contribution == 108 * BN // 10  # 60,000 × 0.9 × 5 × 10^6 × 4 % = 10.8 bn
    assert r.fund == 468 * BN // 10  # 46.8 bn
    assert r.per_capita == 10_400 * 100  # 46.8 bn / 4.5 m
    assert a.allocation == 208 * BN // 10  # 2 m × 10,400 = 20.8 bn
    assert b.allocation == 26 * BN  # 2.5 m × 10,400 = 26.0 bn
    assert a.net == -152 * BN // 10  # −15.2 bn
    assert b.net == 152 * BN // 10  # +15.2 bn
    assert r.residual == 0
    assert sum(p.net for p in r.provinces) == 0


@pytest.mark.parametrize(
    ("on", "ratio"),
    [
        (dt.date(2018, 7, 1), "0.03"),
        (dt.date(2019, 3, 1), "0.035"),
        (dt.date(2020, 12, 31), "0.04"),
        (dt.date(2021, 1, 1), "0.045"),
    ],
)
def test_contribution_ratio_by_year(on: dt.date, ratio: str) -> None:
    assert central_adjustment_on(E13, on).ratio == Decimal(ratio)


def test_no_central_adjustment_outside_2018_07_to_2021() -> None:
    with pytest.raises(CoverageError, match=r"insurance\.central_adjustment\.contribution_ratio"):
        central_adjustment_on(E13, dt.date(2022, 3, 1))
    with pytest.raises(CoverageError, match=r"insurance\.central_adjustment\.contribution_ratio"):
        central_adjustment_on(E13, dt.date(2018, 6, 30))


def test_headcount_is_the_mean_of_the_two_counts_when_employment_is_given() -> None:
    assert insured_headcount(10_000_000, 9_000_001) == Decimal("9500000.5")
    r = central_adjustment(
        [Province("A", 100_000_00, 10_000_000, 1_000, enterprise_employment=9_000_001)],
        ratio=Decimal("0.04"),
        wage_base_ratio=Decimal("0.9"),
    )
    # 100,000 × 0.9 × 9,500,000.5 × 0.04 = 34,200,001,800 yuan exactly
    assert r.provinces[0].contribution == 34_200_001_800 * 100


def test_per_capita_rounded_to_the_fen_and_residual_reported() -> None:
    assert per_capita_allocation(100, 3) == 33  # 33.33… fen → 33
    r = central_adjustment(
        [Province("A", 100, 1, 1), Province("B", 0, 0, 2)],
        ratio=Decimal("1"),
        wage_base_ratio=Decimal("1"),
    )
    assert r.fund == 100
    assert r.per_capita == 33
    assert r.residual == 1  # 100 − 3 × 33
    assert [p.net for p in r.provinces] == [33 - 100, 66]


def test_json_round_trip_of_the_example_file() -> None:
    doc = json.loads((ROOT / "examples/insurance/central_adjustment_e13.json").read_text())
    out = run_json(doc)
    assert out["fund"] == "46800000000.00"
    assert out["per_capita_allocation"] == "10400.00"
    assert [p["net"] for p in out["provinces"]] == ["-15200000000.00", "15200000000.00"]
    assert {p["name"] for p in out["parameters"]} >= {
        "insurance.central_adjustment.contribution_ratio",
        "insurance.central_adjustment.wage_base_ratio",
    }
    # an override of the ratio is honoured
    doc["overrides"] = {"insurance.central_adjustment.contribution_ratio": "0.03"}
    assert run_json(doc)["provinces"][0]["contribution"] == "27000000000.00"


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([], "provinces"),
        ([{"province": "A", "average_wage": "1", "retirees": 1}], "provinces[0].insured_employees"),
        (
            [{"province": "A", "average_wage": "1", "insured_employees": -1, "retirees": 1}],
            "provinces[0].insured_employees",
        ),
        (
            [{"province": "A", "average_wage": "x", "insured_employees": 1, "retirees": 1}],
            "provinces[0].average_wage",
        ),
        (
            [
                {"province": "A", "average_wage": "1", "insured_employees": 1, "retirees": 1},
                {"province": "A", "average_wage": "1", "insured_employees": 1, "retirees": 1},
            ],
            "provinces[1].province",
        ),
        (
            [{"province": "A", "average_wage": "1", "insured": 1, "retirees": 1}],
            "provinces[0].insured",
        ),
    ],
)
def test_bad_input_names_the_field(rows: list[dict[str, object]], field: str) -> None:
    with pytest.raises(InputError) as err:
        provinces_from_json(rows)
    assert err.value.field == field


def test_no_retirees_anywhere_is_an_error() -> None:
    with pytest.raises(InputError, match="retirees"):
        central_adjustment(
            [Province("A", 100, 1, 0)], ratio=Decimal("0.04"), wage_base_ratio=Decimal("0.9")
        )


def test_half_even_rounding_mode_is_respected() -> None:
    # 1 fen × 1 × 1 × 0.5 = 0.5 fen: half up → 1, half even → 0
    prov = [Province("A", 1, 1, 1)]
    half, one = Decimal("0.5"), Decimal("1")
    assert (
        central_adjustment(prov, ratio=half, wage_base_ratio=one, mode=Rounding.HALF_UP).fund == 1
    )
    assert (
        central_adjustment(prov, ratio=half, wage_base_ratio=one, mode=Rounding.HALF_EVEN).fund == 0
    )
