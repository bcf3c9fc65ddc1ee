"""Working days and statutory time limits on China's working-day calendar.

Working days exclude weekends and statutory holidays but include the adjusted working weekend
days (调休上班日). Counting starts on the day after the triggering event. Each year follows its
official notice where one is known and a provisional calendar otherwise (``domain/calendar.py``):
a deadline is never refused for lack of a notice, but one computed across a provisional year is a
``Deadline`` with ``provisional`` set, so that it is shown as such and recomputed once the notice
is added.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from safetynet.domain.calendar import Source, active_calendar

__all__ = [
    "Deadline",
    "DeadlineBasis",
    "add_natural_days",
    "add_working_days",
    "calendar_sources",
    "is_working_day",
    "working_days_between",
    "working_days_in_month",
]


@dataclass(frozen=True)
class DeadlineBasis:
    """How a deadline was computed, so that it can be computed again on a newer calendar."""

    start: dt.date
    days: int
    kind: Literal["working", "natural"]

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "days": self.days, "kind": self.kind}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DeadlineBasis:
        kind: Literal["working", "natural"] = "natural" if raw["kind"] == "natural" else "working"
        return cls(dt.date.fromisoformat(raw["start"]), int(raw["days"]), kind)

    def compute(self) -> Deadline:
        if self.kind == "natural":
            return add_natural_days(self.start, self.days)
        return add_working_days(self.start, self.days)


class Deadline(dt.date):
    """A due date that also says whether it rests on a provisional calendar year.

    It is a ``datetime.date`` (stored, compared and printed as one), so code that only needs the
    date keeps working; ``provisional`` and ``basis`` travel with it to where it is stored.
    Date arithmetic on it gives a plain, non-provisional date.
    """

    provisional: bool
    basis: DeadlineBasis | None

    def __new__(
        cls, *args: Any, provisional: bool = False, basis: DeadlineBasis | None = None
    ) -> Deadline:
        self = super().__new__(cls, *args)
        self.provisional = provisional
        self.basis = basis
        return self

    @property
    def date(self) -> dt.date:
        return dt.date(self.year, self.month, self.day)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.isoformat(), self.provisional, self.basis))

    def __repr__(self) -> str:
        mark = ", provisional" if self.provisional else ""
        return f"Deadline({self.isoformat()}{mark})"


def _rebuild(text: str, provisional: bool, basis: DeadlineBasis | None) -> Deadline:
    day = dt.date.fromisoformat(text)
    return Deadline(day.year, day.month, day.day, provisional=provisional, basis=basis)


def is_working_day(day: dt.date) -> bool:
    return active_calendar().is_working_day(day)


def calendar_sources(start: dt.date, end: dt.date) -> list[tuple[int, Source]]:
    """Each year from ``start`` to ``end`` with the calendar it is counted on."""
    calendar = active_calendar()
    return [(year, calendar.source(year)) for year in range(start.year, end.year + 1)]


def _deadline(end: dt.date, start: dt.date, basis: DeadlineBasis) -> Deadline:
    calendar = active_calendar()
    # Only the days examined count: the years after the start up to the end.
    first = start + dt.timedelta(days=1) if end > start else end
    provisional = any(
        calendar.source(year) == "provisional" for year in range(first.year, end.year + 1)
    )
    return Deadline(end.year, end.month, end.day, provisional=provisional, basis=basis)


def add_working_days(start: dt.date, days: int) -> Deadline:
    """The date on which a limit of ``days`` working days, counted from the day after ``start``, ends."""
    if days < 0:
        raise ValueError("a time limit cannot be negative")
    calendar = active_calendar()
    day = start
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            remaining -= 1
    return _deadline(day, start, DeadlineBasis(_plain(start), days, "working"))


def add_natural_days(start: dt.date, days: int, *, roll_to_working_day: bool = True) -> Deadline:
    """End of a period of natural days counted from the day after ``start``.

    Where the last day is not a working day the period ends on the next working day
    (Civil Code art. 203), unless ``roll_to_working_day`` is false.
    """
    end = start + dt.timedelta(days=days)
    if not roll_to_working_day:
        return Deadline(end.year, end.month, end.day)
    calendar = active_calendar()
    while not calendar.is_working_day(end):
        end += dt.timedelta(days=1)
    return _deadline(
        end, start + dt.timedelta(days=days - 1), DeadlineBasis(_plain(start), days, "natural")
    )


def _plain(day: dt.date) -> dt.date:
    return dt.date(day.year, day.month, day.day)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
    calendar = active_calendar()
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            count += 1
    return count


def working_days_in_month(year: int, month: int) -> int:
    first = dt.date(year, month, 1)
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return working_days_between(first - dt.timedelta(days=1), last)
