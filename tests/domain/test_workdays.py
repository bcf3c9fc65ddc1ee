"""Statutory time limits on the official holiday calendar."""

from __future__ import annotations

import copy as copy_module
import datetime as dt
import pickle

import pytest

from safetynet.domain.workdays import (
    Deadline,
    DeadlineBasis,
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


def test_a_year_without_a_notice_gives_a_provisional_deadline_not_an_error() -> None:
    # 10 working days after Friday 2026-12-25 on the provisional 2027 calendar: 4 days in
    # December, 1 January a holiday, 5 the week after, the 10th on Monday 11 January.
    due = add_working_days(dt.date(2026, 12, 25), 10)
    assert due == dt.date(2027, 1, 11)
    assert isinstance(due, Deadline)
    assert due.provisional
    assert due.basis == DeadlineBasis(dt.date(2026, 12, 25), 10, "working")
    assert due.basis.compute() == due


def test_a_deadline_inside_official_years_is_not_provisional() -> None:
    due = add_working_days(dt.date(2026, 12, 1), 10)
    assert due == dt.date(2026, 12, 15)
    assert not due.provisional


def test_natural_days_are_provisional_only_when_the_end_is_counted_on_a_provisional_year() -> None:
    assert not add_natural_days(dt.date(2026, 11, 20), 30).provisional
    assert add_natural_days(dt.date(2026, 12, 20), 30).provisional


def test_a_deadline_keeps_its_mark_when_copied() -> None:
    due = add_working_days(dt.date(2026, 12, 25), 10)
    for copy in (pickle.loads(pickle.dumps(due)), copy_module.deepcopy(due)):
        assert copy == due
        assert copy.provisional
        assert copy.basis == due.basis


def test_years_beyond_the_lunar_tables_are_refused_with_a_reason() -> None:
    with pytest.raises(CoverageError, match="2100"):
        add_working_days(dt.date(2099, 12, 30), 5)


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
