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
from hypothesis import given, settings
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


@given(
    st.lists(st.integers(min_value=-(10**12), max_value=10**12), min_size=1, max_size=20),
    st.integers(min_value=1, max_value=10**6),
    st.sampled_from(list(Rounding)),
)
def test_a_column_rounds_as_each_of_its_amounts_alone(
    ns: list[int], d: int, mode: Rounding
) -> None:
    # A column of amounts that are all ≥ 0 takes a shorter path than one with a negative amount:
    # both give, for each amount, what Decimal gives.
    for column in (ns, [abs(n) for n in ns]):
        got = div_round(np.array(column, dtype=np.int64), d, mode)
        expected = [
            int((Decimal(n) / Decimal(d)).quantize(Decimal(1), rounding=DECIMAL_MODES[mode]))
            for n in column
        ]
        assert [int(v) for v in got] == expected


def test_half_up_next_to_the_int64_limit_does_not_overflow() -> None:
    top = np.iinfo(np.int64).max
    got = div_round(np.array([top, top - 1, 0], dtype=np.int64), 10, Rounding.HALF_UP)
    assert [int(v) for v in got] == [top // 10 + 1, top // 10 + 1, 0]


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


# -- Amounts typed by people: thousands separators, full-width forms, bounds -------------------


@pytest.mark.parametrize(
    ("raw", "fen"),
    [
        ("1,200.50", 120050),
        ("12,000", 1200000),
        ("1,234,567.89", 123456789),
        ("１２，０００．５０", 1200050),  # full-width digits, comma and point
        ("１２,０００.５０", 1200050),
        ("\u3000 12.5 ", 1250),  # an ideographic space around the amount
        ("-1,200", -120000),
        ("+3", 300),
        (".5", 50),
    ],
)
def test_a_thousands_separator_in_its_place_is_accepted(raw: str, fen: int) -> None:
    assert yuan_to_fen(raw) == fen


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("12,50", "thousands separator"),
        ("1,2,3", "thousands separator"),
        ("1,20", "thousands separator"),
        ("1,2345", "thousands separator"),
        (",120", "thousands separator"),
        ("1,200,", "thousands separator"),
        ("1,200.000,5", "thousands separator"),
        ("１２，５０", "thousands separator"),
        ("1.2.3", "more than one decimal point"),
        ("12..5", "more than one decimal point"),
        ("12-", "sign"),
        ("1-2", "sign"),
        ("--12", "sign"),
        ("+-12", "sign"),
        ("1e3", "not an amount"),
        ("12²", "not an amount"),  # a superscript digit is not a digit of an amount
        ("١٢", "not an amount"),  # nor is an Arabic-Indic digit
        ("¥12", "not an amount"),
        ("12元", "not an amount"),
        ("", "not an amount"),
    ],
)
def test_a_misplaced_separator_or_sign_is_refused_with_the_reason(raw: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        yuan_to_fen(raw, "wage_income", 7)
    assert caught.value.field == "wage_income"
    assert caught.value.row == 7
    assert reason in caught.value.reason


@pytest.mark.parametrize("raw", ["92233720368547758.08", "9" * 30, 2**63 // 100 + 1])
def test_amounts_of_2_to_the_63_fen_or_more_are_refused(raw: object) -> None:
    with pytest.raises(InputError, match="too large"):
        yuan_to_fen(raw)


def test_a_stated_maximum_is_enforced() -> None:
    assert yuan_to_fen("1,000", maximum_fen=100_000) == 100_000
    with pytest.raises(InputError, match=r"above the maximum of 1000\.00"):
        yuan_to_fen("1,000.01", maximum_fen=100_000)
    with pytest.raises(InputError, match="above the maximum"):
        yuan_to_fen("-1,000.01", maximum_fen=100_000)


_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
_ALPHABET = "0123456789,.,.-+ e²" + "".join(_FULL_WIDTH[c] for c in "0123456789,.")


def _oracle(text: str) -> Decimal | None:
    """An independent reading of an amount: full-width to ASCII, then digit groups checked by
    splitting on commas (first group 1-3 digits, every later one exactly 3, none after the
    point). None when the text is not an amount this way."""
    ascii_text = "".join(chr(ord(c) - 0xFEE0) if "！" <= c <= "～" else c for c in text).strip()
    body = ascii_text[1:] if ascii_text[:1] in "+-" else ascii_text
    whole, _point, fraction = body.partition(".")
    if not (whole or fraction) or not all(c in "0123456789" for c in fraction):
        return None
    if "," in whole:
        groups = whole.split(",")
        if not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:]):
            return None
        whole = "".join(groups)
    if not all(c in "0123456789" for c in whole):
        return None
    sign = "-" if ascii_text.startswith("-") else ""
    return Decimal(f"{sign}{whole or '0'}.{fraction or '0'}")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=14))
def test_no_accepted_string_changes_value(text: str) -> None:
    expected = _oracle(text)
    try:
        fen = yuan_to_fen(text)
    except InputError:
        # Refused: either not an amount, or an amount finer than a fen or too large.
        assert (
            expected is None
            or expected * 100 != (expected * 100).to_integral_value()
            or (abs(expected * 100) >= 2**63)
        )
        return
    assert expected is not None, f"{text!r} was accepted as {fen} fen"
    assert abs(Decimal(fen) - expected * 100) < 1  # exact, to the fen


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**15),
    st.booleans(),
    st.booleans(),
)
def test_every_amount_written_with_separators_reads_back(fen: int, group: bool, wide: bool) -> None:
    text = f"{Decimal(fen) / 100:,.2f}" if group else f"{Decimal(fen) / 100:.2f}"
    if wide:
        text = "".join(_FULL_WIDTH.get(c, c) for c in text)
    assert yuan_to_fen(text) == fen
