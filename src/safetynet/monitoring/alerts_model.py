"""Tables of economic status verification and dynamic monitoring alerts.

``monitoring_alerts`` holds one row per (rule, subject, month): raising the same month again finds
the row and adds nothing. An alert is open, assigned or resolved; a resolution names an outcome of
``OUTCOMES`` (a dismissal also a reason). ``verification_reports`` keeps one report per household
and date, as the comparison produced it, for the case workflow's cross-check step.
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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.db.base import Base

__all__ = ["OUTCOMES", "SEVERITIES", "STATUSES", "Alert", "VerificationReport"]

STATUSES = ("open", "assigned", "resolved")
SEVERITIES = ("low", "medium", "high", "critical")
OUTCOMES = ("recheck_started", "payment_stopped", "referred", "dismissed")
"""Confirmed (a re-check started, the payment stopped, or referred to another office) or
dismissed (with a reason)."""


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Alert(Base):
    """One alert raised by a monitoring rule for a person or a household in one month."""

    __tablename__ = "monitoring_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    county: Mapped[str] = mapped_column(String(6))
    office: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    subject: Mapped[str] = mapped_column(String(40))  # person:ID or household:ID
    month: Mapped[str] = mapped_column(String(7))
    raised_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)  # identity numbers masked
    status: Mapped[str] = mapped_column(String(10))
    assigned_to: Mapped[str | None] = mapped_column(String(100))
    assigned_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(20))
    resolution_reason: Mapped[str | None] = mapped_column(Text)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    track_id: Mapped[int | None] = mapped_column(ForeignKey("case_tracks.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # A due date computed across a year with no official calendar yet: {"due_on": how it was
    # computed (domain.workdays.DeadlineBasis)}, so that it is shown as provisional and computed
    # again when the year is added (cases.calendar_years). SQL NULL otherwise, also when a
    # bulk insert passes None.
    provisional_deadlines: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy's declarative API)
    __table_args__ = (
        UniqueConstraint("rule", "subject", "month"),
        CheckConstraint(_one_of("status", STATUSES), name="status"),
        CheckConstraint(_one_of("severity", SEVERITIES), name="severity"),
        CheckConstraint(_one_of("outcome", OUTCOMES), name="outcome"),
        CheckConstraint(
            "(status = 'resolved') = (outcome IS NOT NULL AND resolved_on IS NOT NULL)",
            name="resolution",
        ),
        CheckConstraint(
            "outcome IS NULL OR outcome <> 'dismissed' OR resolution_reason IS NOT NULL",
            name="dismissal_reason",
        ),
        Index("ix_monitoring_alerts_office_status", "office", "status"),
    )

    @property
    def due_provisional(self) -> bool:
        """The due date rests on a provisional calendar year (暂定)."""
        return "due_on" in (self.provisional_deadlines or {})


class VerificationReport(Base):
    """The economic status verification of one household on one date (JSON, ids masked)."""

    __tablename__ = "verification_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    county: Mapped[str] = mapped_column(String(6))
    as_of: Mapped[dt.date] = mapped_column(Date)
    differences: Mapped[int] = mapped_column(Integer)
    changes_eligibility: Mapped[bool] = mapped_column(Boolean)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # A later verification of the same household and date is a new version, never an update:
    # the report an amount was decided on stays readable as it was.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __table_args__ = (UniqueConstraint("household_id", "as_of", "version"),)
