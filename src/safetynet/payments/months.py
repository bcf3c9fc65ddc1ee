"""Calendar months as the payments area writes them (``YYYY-MM``)."""

from __future__ import annotations

import datetime as dt
import re

from safetynet.errors import InputError

__all__ = ["month_bounds", "month_of", "next_month", "parse_month"]

_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def parse_month(value: str, field: str = "month") -> str:
    """``value`` checked as a calendar month ``YYYY-MM``."""
    if not _MONTH.fullmatch(value) or not 1 <= int(value[5:]) <= 12 or value[:4] == "0000":
        raise InputError(field, f"{value!r} is not a month (YYYY-MM)")
    return value


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """The first and last day of ``month`` (YYYY-MM)."""
    first = dt.date.fromisoformat(f"{parse_month(month)}-01")
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)
