"""Adding a year's official calendar: the command, and the recomputation of every stored deadline
that was provisional for that year, in one transaction with its audit entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from safetynet.audit.log import Actor, append
from safetynet.cases.events import CalendarChanged
from safetynet.cases.model import DEADLINE_TABLES
from safetynet.db.calendar_years import OfficialCalendarYear, added_years, forget_sync
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.calendar import OfficialYear, install_added_years, shipped_years
from safetynet.domain.workdays import DeadlineBasis
from safetynet.errors import InputError

__all__ = [
    "AddCalendarYear",
    "CalendarYearAdded",
    "RecomputeProvisional",
    "add_calendar_year",
    "recompute_provisional",
    "recompute_provisional_deadlines",
]

COMMAND = "AddCalendarYear"


@dataclass(frozen=True)
class AddCalendarYear:
    actor: Actor
    calendar: OfficialYear


@dataclass(frozen=True)
class CalendarYearAdded:
    year: int
    recomputed: int  # provisional deadlines computed again
    moved: int  # of which the date changed
    still_provisional: int  # provisional deadlines left: they cross another year without a notice


def add_calendar_year(
    uow: UnitOfWork,
    cmd: AddCalendarYear,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> CalendarYearAdded:
    year = cmd.calendar.year
    if year in shipped_years():
        raise InputError("year", f"{year} already has its official calendar (shipped)")
    if uow.session.get(OfficialCalendarYear, year) is not None:
        raise InputError("year", f"{year} already has its official calendar (added before)")
    now = clock()
    document = cmd.calendar.to_document()
    uow.session.add(
        OfficialCalendarYear(year=year, document=document, added_at=now, added_by=cmd.actor.name)
    )
    append(
        uow.session,
        actor=cmd.actor,
        command=COMMAND,
        event="CalendarYearAdded",
        entity="official_calendar_year",
        entity_id=year,
        after={"year": year, "references": document["references"]},
        occurred_at=now,
    )
    uow.session.flush()
    previous = [y for y in added_years(uow.session) if y.year != year]
    install_added_years([*previous, cmd.calendar])
    forget_sync()
    try:
        recomputed, moved, still = _recompute_everywhere(uow, cmd.actor, now)
        uow.commit()
    except BaseException:
        install_added_years(previous)
        raise
    return CalendarYearAdded(year, recomputed, moved, still)


def _recompute_everywhere(uow: UnitOfWork, actor: Actor, now: dt.datetime) -> tuple[int, int, int]:
    """The case tables' provisional deadlines, then (``CalendarChanged``, published now) the
    other areas' (monitoring alerts' due dates); the counts of all of them."""
    event = CalendarChanged(COMMAND, actor, now)
    recomputed, moved, still = recompute_provisional(uow, actor, now)
    uow.emit(event)
    uow.publish()
    counts = event.counts
    return recomputed + counts.recomputed, moved + counts.moved, still + counts.still


@dataclass(frozen=True)
class RecomputeProvisional:
    actor: Actor


def recompute_provisional_deadlines(
    uow: UnitOfWork,
    cmd: RecomputeProvisional,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> tuple[int, int, int]:
    """Recompute the stored provisional deadlines on the calendar in force (the registry's years
    are read when the unit of work starts): for a deadline written by a process that had not yet
    seen a year added at the same moment. Returns (recomputed, moved, still provisional)."""
    result = _recompute_everywhere(uow, cmd.actor, clock())
    uow.commit()
    return result


def recompute_provisional(uow: UnitOfWork, actor: Actor, now: dt.datetime) -> tuple[int, int, int]:
    """Compute every stored provisional deadline of the case tables again on the calendar now in
    force; each one whose date or mark changes is written and audited. Returns (recomputed,
    moved, still provisional). Monitoring's alerts follow ``CalendarChanged``."""
    recomputed = moved = still = 0
    for mapped in DEADLINE_TABLES:
        table: Any = mapped  # one of four models with the same two columns used here
        rows = uow.session.scalars(
            select(table).where(table.provisional_deadlines.is_not(None)).order_by(table.id)
        )
        for row in rows:
            for name, raw in sorted((row.provisional_deadlines or {}).items()):
                old: dt.date | None = getattr(row, name)
                new = DeadlineBasis.from_json(raw).compute()
                still += new.provisional
                if new.provisional and new == old:
                    continue  # another year still without a notice; nothing changed
                recomputed += 1
                moved += new != old
                setattr(row, name, new)
                before: dict[str, Any] = {name: _text(old), "provisional": True}
                after: dict[str, Any] = {name: new.isoformat(), "provisional": new.provisional}
                append(
                    uow.session,
                    actor=actor,
                    command=COMMAND,
                    event="DeadlineRecomputed",
                    entity=table.__tablename__,
                    entity_id=row.id,
                    before=before,
                    after=after,
                    occurred_at=now,
                )
    return recomputed, moved, still


def _text(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()
