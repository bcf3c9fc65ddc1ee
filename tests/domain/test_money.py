"""Money is exact: fen, Decimal ratios and named rounding modes."""

from __future__ import annotations

from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from safetynet.domain.money import (
    Rounding,
    div_round,
    format_yuan,
    mul_ratio,
    round_to_unit,
    yuan_to_fen,
)
from safetynet.errors import InputError

DECIMAL_MODES = {
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.HALF_EVEN: ROUND_HALF_EVEN,
    Rounding.HALF_DOWN: ROUND_HALF_DOWN,
    Rounding.DOWN: ROUND_DOWN,
    Rounding.UP: ROUND_UP,
    Rounding.FLOOR: ROUND_FLOOR,
    Rounding.CEILING: ROUND_CEILING,
}


@pytest.mark.parametrize(
    ("raw", "fen"), [("900", 90000), ("7409.50", 740950), (12, 1200), ("1,083,760", 108376000)]
)
def test_yuan_parses_to_fen(raw: object, fen: int) -> None:
    assert yuan_to_fen(raw) == fen


@pytest.mark.parametrize("raw", ["12.345", "abc", None, True, "NaN"])
def test_bad_amounts_are_refused_with_the_field(raw: object) -> None:
    with pytest.raises(InputError, match="wage"):
        yuan_to_fen(raw, "wage")


def test_format_yuan_has_two_decimals() -> None:
    assert format_yuan(740950) == "7409.50"
    assert format_yuan(-5) == "-0.05"


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.integers(min_value=1, max_value=10**6),
    st.sampled_from(list(Rounding)),
)
def test_integer_rounding_agrees_with_decimal(n: int, d: int, mode: Rounding) -> None:
    expected = int((Decimal(n) / Decimal(d)).quantize(Decimal(1), rounding=DECIMAL_MODES[mode]))
    assert div_round(n, d, mode) == expected
    assert int(div_round(np.array([n], dtype=np.int64), d, mode)[0]) == expected


def test_ratio_multiplication_is_exact() -> None:
    # 1.3 × 600 yuan = 780 yuan, with no float anywhere
    assert mul_ratio(60000, Decimal("1.3")) == 78000
    # 0.65 × 13,100 yuan = 8,515 yuan
    assert mul_ratio(1310000, Decimal("0.65")) == 851500
    assert mul_ratio(1, Decimal("0.5"), Rounding.HALF_EVEN) == 0
    assert mul_ratio(1, Decimal("0.5"), Rounding.HALF_UP) == 1


def test_rounding_to_whole_yuan() -> None:
    assert round_to_unit(3650, 100, Rounding.HALF_UP) == 3700
    assert round_to_unit(3649, 100, Rounding.HALF_UP) == 3600
    assert round_to_unit(3649, 1, Rounding.HALF_UP) == 3649
