"""Parsing a cell's text into a value (region, date, month, money, area, count); every problem names its field."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from safetynet.domain.money import MAX_FEN, parse_decimal_text, yuan_to_fen
from safetynet.domain.regions import NATION_CODE, validate_region_code
from safetynet.errors import InputError
from safetynet.intake.limits import IntakeLimits, intake_limits

if TYPE_CHECKING:
    pass

__all__ = [
    "parse_area",
    "parse_count",
    "parse_date_text",
    "parse_money",
    "parse_month",
    "parse_region",
]


_MONTH_RE = re.compile(r"([0-9]{4})(?:[-/.]|年)?([0-9]{1,2})(?:月|[-/.]0?1)?")


_DATE_RE = re.compile(r"([0-9]{4})[-/.年]?([0-9]{1,2})[-/.月]?([0-9]{1,2})日?")


def parse_region(text: str) -> str:
    code = validate_region_code(text, "region")
    if code == NATION_CODE:
        raise InputError("region", "000000 stands for the whole nation, not a hukou region")
    return code


def parse_date_text(
    text: str, field_name: str, limits: IntakeLimits | None = None
) -> dt.date | None:
    """A date (YYYY-MM-DD, YYYY/M/D, YYYYMMDD, YYYY年M月D日) or None for an empty cell; any
    problem is reported under ``field_name``; with ``limits``, a date outside the plausible
    window of business dates is refused."""
    text = text.strip()
    if not text:
        return None
    match = _DATE_RE.fullmatch(text)
    if match is None:
        raise InputError(field_name, f"{text!r} is not a date: expected YYYY-MM-DD")
    try:
        day = dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise InputError(field_name, f"{text!r} is not a real date") from None
    return limits.check_date(day, field_name) if limits is not None else day


def parse_month(text: str, field_name: str) -> str:
    match = _MONTH_RE.fullmatch(text.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise InputError(field_name, f"{text!r} is not a month: expected YYYY-MM, e.g. 2025-09")
    return f"{match[1]}-{int(match[2]):02d}"


def parse_money(text: str, field_name: str, maximum_fen: int | None = None) -> int:
    """An amount in yuan as typed (see ``yuan_to_fen``), 0 or more and at most ``maximum_fen``
    (default: the intake's maximum today)."""
    if maximum_fen is None:
        maximum_fen = intake_limits().maximum_fen
    fen = yuan_to_fen(text, field_name, maximum_fen=maximum_fen)
    if fen < 0:
        raise InputError(field_name, f"{text} is negative; amounts are 0 or more")
    return fen


def parse_count(text: str, maximum: int, field_name: str = "count") -> int:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InputError(field_name, f"{text!r} is not a whole number") from None
    if number != number.to_integral_value():
        raise InputError(field_name, f"{text!r} is not a whole number")
    if not 0 <= number <= maximum:
        raise InputError(field_name, f"{text} is outside 0-{maximum}")
    return int(number)


def parse_area(text: str) -> int:
    if not text:
        return 0
    try:
        area = parse_decimal_text(text, "property_area")
    except InputError as exc:
        raise InputError(
            "property_area", exc.reason.replace("amount in yuan", "area in m²")
        ) from None
    dm2 = area * 100
    if dm2 != dm2.to_integral_value():
        raise InputError("property_area", f"{text!r}: at most 2 decimals of m²")
    if area < 0:
        raise InputError("property_area", f"{text} is negative")
    if dm2 > MAX_FEN:  # stored as 64-bit dm², like fen
        raise InputError("property_area", f"{text!r} is too large for an area")
    return int(dm2)
