"""Deaths known to SafetyNet by any door, looked up in bulk for the bank file's re-check.

A death reaches the system by the case workflow (``RecordDeath``, table ``case_deaths``) or by the
deaths department feed (``feeds load deaths``, ``feed_records`` of kind ``deaths``); ``payments
end`` ends the enrolment itself and is seen by the bank file through the enrolment. The registry
keeps no death date of its own (``persons`` has none), so it is no door here. A feed record stops
counting once a ``death`` monitoring alert about the same person, raised after the delivery was
loaded, is dismissed (the clerk found the report wrong); a death recorded on a case has no
correction path (docs/payments.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, literal, select, union_all
from sqlalchemy.orm import Session

from safetynet.cases.model import Death
from safetynet.monitoring.alerts_model import Alert
from safetynet.monitoring.model import FeedDelivery, FeedRecord
from safetynet.payments.holds import DIED
from safetynet.registry.model import Person

__all__ = ["KnownDeath", "known_deaths"]

_ORDER = {"case": 0, "feed": 1}  # of two records of one date, the case's is named


@dataclass(frozen=True, slots=True)
class KnownDeath:
    person_id: int
    died_on: dt.date
    source: str  # "deaths feed delivery 3" or "case record"

    @property
    def reason(self) -> str:
        return f"{DIED} on {self.died_on.isoformat()} ({self.source})"


def known_deaths(session: Session, persons: Any) -> dict[int, KnownDeath]:
    """The earliest recorded death of each of ``persons`` (a SELECT of person ids) that has one,
    by any door, in one query."""
    from_cases = (
        select(
            Person.id.label("person_id"),
            Death.died_on.label("died_on"),
            literal("case").label("door"),
            literal(None).label("delivery_id"),
        )
        .join(Person, Person.id_number == Death.id_number)
        .where(Person.id.in_(persons))
    )
    dismissed = exists().where(
        Alert.rule == "death",
        Alert.person_id == FeedRecord.person_id,
        Alert.outcome == "dismissed",
        Alert.created_at >= FeedDelivery.loaded_at,
    )
    from_feeds = (
        select(
            FeedRecord.person_id,
            FeedRecord.event_date,
            literal("feed"),
            FeedRecord.delivery_id,
        )
        .join(FeedDelivery, FeedDelivery.id == FeedRecord.delivery_id)
        .where(
            and_(
                FeedRecord.kind == "deaths",
                FeedRecord.event_date.is_not(None),
                FeedRecord.person_id.in_(persons),
                ~dismissed,
            )
        )
    )
    found: dict[int, KnownDeath] = {}
    best: dict[int, tuple[dt.date, int, int]] = {}
    result: Any = session.execute(union_all(from_cases, from_feeds))
    rows: list[tuple[int, dt.date | str, str, int | None]] = [tuple(r) for r in result]
    for person_id, died_on, door, delivery_id in rows:
        if isinstance(died_on, str):  # a literal-typed union column on SQLite
            died_on = dt.date.fromisoformat(died_on)
        key = (died_on, _ORDER[door], delivery_id or 0)
        if person_id in best and best[person_id] <= key:
            continue
        best[person_id] = key
        source = "case record" if door == "case" else f"deaths feed delivery {delivery_id}"
        found[person_id] = KnownDeath(person_id, died_on, source)
    return found
