"""Working days and statutory time limits on China's official holiday calendar.

Working days exclude weekends and statutory holidays but include the adjusted working
weekend days (调休上班日). Counting starts on the day after the triggering event. A year the
official calendar does not cover is an error, never a silent Monday-to-Friday guess.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from safetynet.errors import CoverageError


def is_working_day(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise CoverageError(
            f"the official holiday calendar does not cover {day.year} ({exc}); "
            "update the chinesecalendar package once the State Council publishes that year"
        ) from None


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date on which a limit of ``days`` working days, counted from the day after ``start``, ends."""
    if days < 0:
        raise ValueError("a time limit cannot be negative")
    day = start
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def add_natural_days(start: dt.date, days: int, *, roll_to_working_day: bool = True) -> dt.date:
    """End of a period of natural days counted from the day after ``start``.

    Where the last day is not a working day the period ends on the next working day
    (Civil Code art. 203), unless ``roll_to_working_day`` is false.
    """
    end = start + dt.timedelta(days=days)
    while roll_to_working_day and not is_working_day(end):
        end += dt.timedelta(days=1)
    return end


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def working_days_in_month(year: int, month: int) -> int:
    first = dt.date(year, month, 1)
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return working_days_between(first - dt.timedelta(days=1), last)
