"""Tables of active discovery and the hotline.

A **lead** (线索) is a person in difficulty that someone found: a village or community worker, a
grid worker, a school, a hospital, the police, the hotline or monitoring. It has an owner (the
office of its region), a working-day deadline to visit the home, and ends in an application, a
referral or a closed note. A **contact** (来电来信) is one call or message to the hotline: who
called (kept for the answer, masked in every display), about what, where; it is routed to the
responsible office (complaints about staff conduct to supervision) with a deadline by topic,
escalated one level up when overdue, answered and rated. Rows are never deleted; ``version``
refuses a write based on an out-of-date read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.db.base import Base

__all__ = [
    "CHANNELS",
    "LEAD_OUTCOMES",
    "LEAD_SOURCES",
    "LEAD_STATUSES",
    "TOPICS",
    "Contact",
    "Lead",
]

LEAD_SOURCES = (
    "hotline",
    "village_worker",
    "community_worker",
    "grid_worker",
    "school",
    "hospital",
    "police",
    "monitoring",
)
"""Who found the person (主动发现的渠道)."""

LEAD_STATUSES = ("open", "visited", "closed")
LEAD_OUTCOMES = ("application", "referral", "closed_note")
CHANNELS = ("phone", "message", "web", "letter")
TOPICS = ("consultation", "application", "person_in_need", "complaint", "staff_conduct")
"""What a contact is about; ``person_in_need`` becomes a lead, ``staff_conduct`` goes to
supervision."""
CONTACT_STATUSES = ("open", "answered")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Lead(Base):
    """A person in difficulty found by someone, until the home visit and the outcome."""

    __tablename__ = "outreach_leads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    reported_on: Mapped[dt.date] = mapped_column(Date)
    reported_by: Mapped[str] = mapped_column(String(100))
    subject_name: Mapped[str] = mapped_column(String(100))
    subject_id_number: Mapped[str | None] = mapped_column(String(18))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    situation: Mapped[str] = mapped_column(Text)
    needs: Mapped[list[str]] = mapped_column(JSON)
    owner: Mapped[str] = mapped_column(String(100))
    visit_due: Mapped[dt.date] = mapped_column(Date)
    visit_due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10))
    visited_on: Mapped[dt.date | None] = mapped_column(Date)
    visitors: Mapped[list[str] | None] = mapped_column(JSON)
    findings: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(12))
    application_id: Mapped[int | None] = mapped_column(Integer)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    close_note: Mapped[str | None] = mapped_column(Text)
    contact_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        CheckConstraint(_one_of("source", LEAD_SOURCES), name="source"),
        CheckConstraint(_one_of("status", LEAD_STATUSES), name="status"),
        CheckConstraint(f"outcome IS NULL OR {_one_of('outcome', LEAD_OUTCOMES)}", name="outcome"),
        Index("ix_outreach_leads_household", "household_id"),
    )


class Contact(Base):
    """One call or message to the hotline, routed, answered within its deadline, and rated."""

    __tablename__ = "outreach_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    topic: Mapped[str] = mapped_column(String(16))
    received_on: Mapped[dt.date] = mapped_column(Date)
    taken_by: Mapped[str] = mapped_column(String(100))
    caller_name: Mapped[str] = mapped_column(String(100))
    caller_phone: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    summary: Mapped[str] = mapped_column(Text)
    routed_to: Mapped[str] = mapped_column(String(12), index=True)
    unit: Mapped[str] = mapped_column(String(12))
    due: Mapped[dt.date] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_on: Mapped[dt.date | None] = mapped_column(Date)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_on: Mapped[dt.date | None] = mapped_column(Date)
    answered_by: Mapped[str | None] = mapped_column(String(100))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    lead_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        CheckConstraint(_one_of("channel", CHANNELS), name="channel"),
        CheckConstraint(_one_of("topic", TOPICS), name="topic"),
        CheckConstraint(_one_of("status", CONTACT_STATUSES), name="status"),
        CheckConstraint(_one_of("unit", ("assistance", "supervision")), name="unit"),
        CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating"),
    )
