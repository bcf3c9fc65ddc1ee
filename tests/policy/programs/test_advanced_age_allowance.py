"""Advanced-age allowance: Beijing bands, local hukou, no national scale."""

from __future__ import annotations

import datetime as dt

import pytest

from safetynet.errors import CoverageError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import program


def amount(birth: str, region: str = "110000", local: bool = True) -> int:
    member = {
        "relation": "head",
        "birth_date": birth,
        "sex": "female",
        "advanced_age_local_hukou": local,
    }
    ev, _ = calculate(
        program("advanced_age_allowance"), {"members": [member]}, dt.date(2025, 9, 1), region
    )
    return int(ev.result.amount[0])


@pytest.mark.parametrize(
    ("birth", "fen"),
    [
        ("1945-09-02", 0),
        ("1945-09-01", 10000),
        ("1935-09-02", 10000),
        ("1935-09-01", 50000),
        ("1925-09-02", 50000),
        ("1925-09-01", 80000),
        ("1915-01-01", 80000),
    ],
)
def test_beijing_bands(birth: str, fen: int) -> None:
    assert amount(birth) == fen


def test_requires_local_hukou() -> None:
    assert amount("1930-01-01", local=False) == 0


def test_no_national_scale() -> None:
    with pytest.raises(CoverageError, match=r"welfare\.advanced_age\.allowance_monthly"):
        amount("1930-01-01", region="000000")
