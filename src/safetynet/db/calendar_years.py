"""The official calendar years an administrator added (``safetynet calendar add-year``): stored in
the registry so that every process (API server, CLI, batch) counts working days alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from safetynet.db.base import Base
from safetynet.domain.calendar import OfficialYear, install_added_years, parse_official_year

__all__ = ["OfficialCalendarYear", "added_years", "forget_sync", "sync_calendar"]


class OfficialCalendarYear(Base):
    """One year's holiday notice as an administrator added it (the validated file's content)."""

    __tablename__ = "official_calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    added_by: Mapped[str] = mapped_column(String(100))


def added_years(session: Session | Connection) -> list[OfficialYear]:
    documents = session.scalars(
        select(OfficialCalendarYear.document).order_by(OfficialCalendarYear.year)
    )
    return [parse_official_year(document) for document in documents]


_seen: tuple[tuple[int, str], ...] | None = None


def sync_calendar(session: Session | Connection) -> None:
    """Install the registry's added years into this process's calendar when they changed (one
    small query; the documents are read only when a year was added since the last look)."""
    global _seen
    key = tuple(
        (int(year), str(at))
        for year, at in session.execute(
            select(OfficialCalendarYear.year, OfficialCalendarYear.added_at).order_by(
                OfficialCalendarYear.year
            )
        )
    )
    if key != _seen:
        install_added_years(added_years(session))
        _seen = key


def forget_sync() -> None:
    """The next ``sync_calendar`` reads the registry again (after installing years directly)."""
    global _seen
    _seen = None
