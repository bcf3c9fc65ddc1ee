"""Statutory time limits on the official holiday calendar."""

from __future__ import annotations

import datetime as dt

import pytest

from safetynet.domain.workdays import (
    add_natural_days,
    add_working_days,
    is_working_day,
    working_days_between,
    working_days_in_month,
)
from safetynet.errors import CoverageError


def test_adjusted_working_sunday_counts() -> None:
    assert is_working_day(dt.date(2025, 9, 28))
    assert add_working_days(dt.date(2025, 9, 26), 3) == dt.date(2025, 9, 30)


def test_limit_can_end_on_an_adjusted_saturday() -> None:
    assert add_working_days(dt.date(2026, 1, 26), 15) == dt.date(2026, 2, 14)


def test_holidays_do_not_count() -> None:
    assert not is_working_day(dt.date(2025, 10, 1))
    assert add_working_days(dt.date(2025, 9, 26), 30) == dt.date(2025, 11, 13)


def test_uncovered_year_is_an_error_not_a_guess() -> None:
    with pytest.raises(CoverageError, match="2027"):
        add_working_days(dt.date(2026, 12, 30), 5)


def test_natural_days_roll_to_the_next_working_day() -> None:
    assert add_natural_days(dt.date(2025, 9, 26), 7) == dt.date(2025, 10, 9)
    assert add_natural_days(dt.date(2025, 9, 26), 7, roll_to_working_day=False) == dt.date(
        2025, 10, 3
    )


def test_counting_between_dates() -> None:
    assert working_days_between(dt.date(2025, 9, 26), dt.date(2025, 9, 30)) == 3
    assert working_days_between(dt.date(2025, 9, 30), dt.date(2025, 9, 26)) == 0
    assert working_days_in_month(2025, 10) == 18


def test_negative_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_days(dt.date(2025, 1, 2), -1)
