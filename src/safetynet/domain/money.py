"""Exact money: amounts are integer fen (分), ratios are Decimal, rounding is a named parameter.

Every function here works on a Python int or on a NumPy int64 array alike, so one household
and ten million households are computed by the same arithmetic.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from safetynet.errors import InputError

FEN_PER_YUAN = 100
IntArray = npt.NDArray[np.int64]
FenLike = TypeVar("FenLike", int, IntArray)


class Rounding(StrEnum):
    """How a computed amount is brought to its granularity (a policy parameter, not a habit)."""

    HALF_UP = "half_up"  # 四舍五入: halves away from zero
    HALF_EVEN = "half_even"  # banker's rounding
    HALF_DOWN = "half_down"  # halves toward zero
    DOWN = "down"  # truncate toward zero
    UP = "up"  # away from zero
    FLOOR = "floor"
    CEILING = "ceiling"


# The largest amount a signed 64-bit integer column holds, in fen: anything at or above 2^63 fen
# cannot be stored, summed or compared by the database or NumPy.
MAX_FEN = 2**63 - 1
# An amount as people type it: an optional sign, digits with thousands separators only in their
# place (1,234,567) or none at all, and an optional fraction. ASCII digits only: a superscript
# or other Unicode digit passes str.isdigit() but is not a digit of an amount.
_AMOUNT = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.[0-9]*)?")
_FULL_WIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})


def yuan_to_fen(
    value: object,
    field: str = "amount",
    row: int | None = None,
    *,
    maximum_fen: int | None = None,
) -> int:
    """Parse an amount in yuan (str, int or Decimal; at most 2 decimals) into integer fen.

    Text may use full-width characters and thousands separators in their valid positions only:
    ``1,200.50`` and ``１２，０００`` are accepted, ``12,50`` and ``1,2,3`` refused, never guessed.
    Amounts of 2^63 fen or more, or beyond ``maximum_fen`` either way, are refused.
    """
    if isinstance(value, bool) or value is None:
        raise InputError(field, f"expected an amount in yuan, got {value!r}", row)
    if isinstance(value, float):
        # Floats cannot carry money exactly; callers parse JSON with Decimal instead.
        value = Decimal(repr(value))
    if isinstance(value, int | Decimal):
        amount = Decimal(value)
    else:
        amount = _parse_amount_text(str(value), field, row)
    if not amount.is_finite():
        raise InputError(field, f"{value!r} is not a finite amount", row)
    fen = amount * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise InputError(field, f"{value!r} has more than 2 decimal places (fen)", row)
    if abs(fen) > MAX_FEN:
        raise InputError(field, f"{value!r} is too large for an amount (2^63 fen or more)", row)
    if maximum_fen is not None and abs(fen) > maximum_fen:
        raise InputError(
            field, f"{value!r} is above the maximum of {format_yuan(maximum_fen)} yuan", row
        )
    return int(fen)


def parse_decimal_text(raw: str, field: str, row: int | None = None) -> Decimal:
    """A number as people type it (amounts, areas): the rules of ``yuan_to_fen`` for text."""
    return _parse_amount_text(raw, field, row)


def _parse_amount_text(raw: str, field: str, row: int | None) -> Decimal:
    text = raw.translate(_FULL_WIDTH).strip()
    if text.count(".") > 1:
        raise InputError(field, f"{raw!r} has more than one decimal point", row)
    if text[1:].count("+") + text[1:].count("-") or text[:2] in ("+-", "-+", "--", "++"):
        raise InputError(field, f"{raw!r}: a sign (+ or -) may only stand first", row)
    if "," in text and _looks_numeric(text) and not _AMOUNT.fullmatch(text):
        raise InputError(
            field,
            f"{raw!r}: a thousands separator (,) must stand between groups of 3 digits "
            "(1,200.50); a decimal comma is not accepted, write 12.50",
            row,
        )
    if not _AMOUNT.fullmatch(text) or not any(c in "0123456789" for c in text):
        raise InputError(field, f"{raw!r} is not an amount in yuan", row)
    return Decimal(text.replace(",", ""))


def _looks_numeric(text: str) -> bool:
    return all(c in "0123456789,.+-" for c in text)


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(int(fen)) / FEN_PER_YUAN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_yuan(fen: int) -> str:
    """'1234.50' — the form amounts take in JSON output and notices."""
    return f"{fen_to_yuan(fen):.2f}"


def ratio_parts(ratio: Decimal | int | str) -> tuple[int, int]:
    """A decimal ratio as an exact integer fraction (numerator, denominator > 0)."""
    num, den = Decimal(str(ratio)).as_integer_ratio()
    return num, den


def div_round(numerator: FenLike, denominator: int, mode: Rounding) -> FenLike:
    """Integer division ``numerator / denominator`` rounded by ``mode`` (denominator > 0)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    if isinstance(numerator, int):
        return int(_div_round_array(np.asarray([numerator], dtype=np.int64), denominator, mode)[0])
    return _div_round_array(numerator, denominator, mode)


def _div_round_array(n: IntArray, d: int, mode: Rounding) -> IntArray:
    return np.asarray(_div_round_raw(n, d, mode), dtype=np.int64)


def _div_round_raw(n: IntArray, d: int, mode: Rounding) -> Any:
    if d == 1:  # a whole ratio: nothing to round (and no pass of integer division)
        return n
    if mode is Rounding.HALF_UP and _fits_half_up(n, d):
        # Amounts are almost always ≥ 0: then half-up is ⌊(n + ⌊d/2⌋) / d⌋ exactly (the rest r
        # rounds up iff r ≥ ⌈d/2⌉ iff 2r ≥ d), one addition and one division by a scalar.
        return (n + d // 2) // d
    # Floor division by a scalar (NumPy divides by a constant with a multiply and shifts) and the
    # rest from it: several times faster than ``np.divmod``. 0 <= r < d (floor division, d > 0).
    q = n // d
    r = n - q * d
    has_rest = r > 0
    if mode is Rounding.FLOOR:
        return q
    if mode is Rounding.CEILING:
        return q + has_rest
    negative = n < 0
    if mode is Rounding.DOWN:
        return q + (has_rest & negative)
    if mode is Rounding.UP:
        return q + (has_rest & ~negative)
    twice = 2 * r
    above = twice > d
    half = twice == d
    if mode is Rounding.HALF_UP:
        return q + above + (half & ~negative)
    if mode is Rounding.HALF_DOWN:
        return q + above + (half & negative)
    if mode is Rounding.HALF_EVEN:
        return q + above + (half & (q % 2 == 1))
    raise ValueError(f"unknown rounding mode {mode}")


_INT64_MAX = int(np.iinfo(np.int64).max)


def _fits_half_up(n: Any, d: int) -> bool:
    """``n`` is never negative and ``n + ⌊d/2⌋`` cannot overflow int64."""
    if isinstance(n, np.ndarray):
        return n.size == 0 or bool(n.min() >= 0 and n.max() <= _INT64_MAX - d // 2)
    return bool(0 <= n <= _INT64_MAX - d // 2)


def mul_ratio(
    fen: FenLike, ratio: Decimal | int | str, mode: Rounding = Rounding.HALF_UP
) -> FenLike:
    """``fen × ratio`` rounded to whole fen, exactly (no float anywhere)."""
    num, den = ratio_parts(ratio)
    if isinstance(fen, int):
        return div_round(fen * num, den, mode)
    return div_round(fen * np.int64(num), den, mode)


def round_to_unit(fen: FenLike, unit_fen: int, mode: Rounding) -> FenLike:
    """Round an amount in fen to a granularity: 1 (fen), 10 (jiao) or 100 (yuan)."""
    if unit_fen == 1:
        return fen
    return div_round(fen, unit_fen, mode) * unit_fen
