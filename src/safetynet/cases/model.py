"""Tables of the case workflow: applications, their program tracks, objections, appeals, and the
register of staff and their close relatives.

One application per household application (one door); it fans out to one track per program, each
with its department, its state and every statutory due date, stored when the step that starts it
happens. Applications and tracks carry a ``version`` used for optimistic locking
(``version_id_col``): a write based on an out-of-date read fails instead of overwriting.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.cases.workflow import Department, Procedure, State
from safetynet.db.base import Base
from safetynet.domain.identity import mask_identity_number
from safetynet.domain.workdays import Deadline

__all__ = [
    "Appeal",
    "Application",
    "Complaint",
    "Death",
    "JobAcceptance",
    "JobRefusal",
    "NoticeSequence",
    "Objection",
    "Recheck",
    "StaffMember",
    "StaffRelative",
    "Track",
]


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


STATES = tuple(s.value for s in State)
PROCEDURES = tuple(p.value for p in Procedure)
DEPARTMENT_CODES = tuple(d.value for d in Department)
APPEAL_KINDS = ("reconsideration", "litigation")
APPEAL_STATUSES = ("lodged", "decided")
APPEAL_OUTCOMES = ("upheld", "varied", "revoked", "dismissed")
REOPEN_STEPS = ("investigation", "township_opinion", "decision", "payment")
RECHECK_STATUSES = ("open", "done")


class Application(Base):
    """A household's application, lodged once at one door and screened against every program."""

    __tablename__ = "case_applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    hukou_region_code: Mapped[str] = mapped_column(String(6))
    # Lodged where the applicant lives rather than at the hukou place, and on what basis.
    lodged_outside_hukou: Mapped[bool] = mapped_column(Boolean, default=False)
    outside_hukou_basis: Mapped[str] = mapped_column(Text, default="")
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    lodged_on: Mapped[dt.date] = mapped_column(Date)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    submitted_by: Mapped[str] = mapped_column(String(100))
    accepted_by: Mapped[str | None] = mapped_column(String(100))
    # The household facts as given at submission (the input of the rules core) and the one-door
    # screening of every program on them.
    household_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    screening: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    relative_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    relative_matches: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy's declarative API)


class Track(Base):
    """One program of an application, following that program's procedure."""

    __tablename__ = "case_tracks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("case_applications.id"), index=True)
    program: Mapped[str] = mapped_column(String(60))
    procedure: Mapped[str] = mapped_column(String(12))
    department: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(20))
    devolved: Mapped[bool] = mapped_column(Boolean, default=False)

    # Who handled the track before the decision (maker-checker: none of them may decide it).
    accepted_by: Mapped[str | None] = mapped_column(String(100))
    investigators: Mapped[list[str]] = mapped_column(JSON, default=list)

    investigation_start_due: Mapped[dt.date | None] = mapped_column(Date)
    investigation_started_on: Mapped[dt.date | None] = mapped_column(Date)
    home_visit_on: Mapped[dt.date | None] = mapped_column(Date)
    county_home_visit_on: Mapped[dt.date | None] = mapped_column(Date)
    verification_report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cross_check_requested_on: Mapped[dt.date | None] = mapped_column(Date)
    cross_check_start_due: Mapped[dt.date | None] = mapped_column(Date)
    cross_check_started_on: Mapped[dt.date | None] = mapped_column(Date)
    township_opinion_due: Mapped[dt.date | None] = mapped_column(Date)
    township_opinion_on: Mapped[dt.date | None] = mapped_column(Date)
    proposal: Mapped[str | None] = mapped_column(String(10))
    opinion_reasons: Mapped[list[str] | None] = mapped_column(JSON)
    notice_posted_on: Mapped[dt.date | None] = mapped_column(Date)
    notice_ends_on: Mapped[dt.date | None] = mapped_column(Date)
    county_received_on: Mapped[dt.date | None] = mapped_column(Date)
    county_decision_due: Mapped[dt.date | None] = mapped_column(Date)
    spot_check_selected: Mapped[bool] = mapped_column(Boolean, default=False)
    overall_due: Mapped[dt.date | None] = mapped_column(Date)
    overall_extended_due: Mapped[dt.date | None] = mapped_column(Date)
    # The overall limit extended (特殊情况可以延长): once, before it expires, with a reason.
    limit_extended_on: Mapped[dt.date | None] = mapped_column(Date)
    limit_extension_reason: Mapped[str | None] = mapped_column(Text)

    decision: Mapped[str | None] = mapped_column(String(10))
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    refusal_reasons: Mapped[list[str] | None] = mapped_column(JSON)
    refusal_notice_due: Mapped[dt.date | None] = mapped_column(Date)
    refusal_notified_on: Mapped[dt.date | None] = mapped_column(Date)
    # The written notice's document number (浦民救〔2025〕123号), allocated with the decision.
    notice_no: Mapped[str | None] = mapped_column(String(40))

    advance_paid_on: Mapped[dt.date | None] = mapped_column(Date)
    advance_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    paperwork_due: Mapped[dt.date | None] = mapped_column(Date)
    first_payment_month: Mapped[str | None] = mapped_column(String(7))
    payment_started_on: Mapped[dt.date | None] = mapped_column(Date)

    recheck_due: Mapped[dt.date | None] = mapped_column(Date)
    recheck_reason: Mapped[str | None] = mapped_column(String(20))
    last_recheck_on: Mapped[dt.date | None] = mapped_column(Date)
    # Gradual exit (渐退): the month income rose, the last month paid, and the amount per month.
    gradual_exit_from: Mapped[str | None] = mapped_column(String(7))
    gradual_exit_until: Mapped[str | None] = mapped_column(String(7))
    gradual_exit_schedule: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    suspended_on: Mapped[dt.date | None] = mapped_column(Date)
    terminated_on: Mapped[dt.date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(Text)
    # Due dates computed across a year with no official calendar yet: name -> how it was computed
    # (domain.workdays.DeadlineBasis), kept by the listener below and used to recompute them.
    provisional_deadlines: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy's declarative API)
    __table_args__ = (
        UniqueConstraint("application_id", "program"),
        CheckConstraint(_one_of("status", STATES), name="status"),
        CheckConstraint(_one_of("procedure", PROCEDURES), name="procedure"),
        CheckConstraint(_one_of("department", DEPARTMENT_CODES), name="department"),
        CheckConstraint("proposal IS NULL OR proposal IN ('approve', 'refuse')", name="proposal"),
        CheckConstraint("decision IS NULL OR decision IN ('approved', 'refused')", name="decision"),
        CheckConstraint("amount_fen IS NULL OR amount_fen >= 0", name="amount_fen"),
    )

    def __repr__(self) -> str:
        return f"Track({self.id}, {self.program}, {self.status})"


class NoticeSequence(Base):
    """The last document number an office gave its written notices in a year (migration 0025).

    ``cases.numbering.next_number`` increments it inside the decision's transaction: a rolled back
    decision gives its number back, so numbers are neither reused nor skipped."""

    __tablename__ = "notice_sequences"

    office: Mapped[str] = mapped_column(String(40), primary_key=True)  # region:department
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("last_number >= 0", name="last_number"),)


class Objection(Base):
    """An objection raised during a public notice; it sends the track back to investigation."""

    __tablename__ = "case_objections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("case_tracks.id"), index=True)
    lodged_on: Mapped[dt.date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))


class Complaint(Base):
    """A complaint a household lodges (投诉): about its case or how it was served; the office
    answers it (migration 0025), by its time limit (migration 0030)."""

    __tablename__ = "case_complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    track_id: Mapped[int | None] = mapped_column(ForeignKey("case_tracks.id"))
    lodged_on: Mapped[dt.date] = mapped_column(Date)
    lodged_by: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    answer: Mapped[str | None] = mapped_column(Text)
    answered_on: Mapped[dt.date | None] = mapped_column(Date)
    # The day by which the office answers (migration 0030; none for complaints lodged before).
    answer_due: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (CheckConstraint("status IN ('lodged', 'answered')", name="status"),)


class Appeal(Base):
    """Administrative reconsideration or litigation against a track's decision."""

    __tablename__ = "case_appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("case_tracks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    decision_known_on: Mapped[dt.date] = mapped_column(Date)
    lodged_on: Mapped[dt.date] = mapped_column(Date)
    lodge_due: Mapped[dt.date] = mapped_column(Date)
    decision_due: Mapped[dt.date | None] = mapped_column(Date)
    grounds: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str | None] = mapped_column(String(10))
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    reasons: Mapped[list[str] | None] = mapped_column(JSON)
    # A decision in the applicant's favour sends the track back to this step.
    reopened_at: Mapped[str | None] = mapped_column(String(20))
    provisional_deadlines: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Optimistic locking, as for tracks: two people recording one decision at once record one.
    version: Mapped[int] = mapped_column(Integer, server_default="1")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy's declarative API)
    __table_args__ = (
        CheckConstraint(_one_of("kind", APPEAL_KINDS), name="kind"),
        CheckConstraint(_one_of("status", APPEAL_STATUSES), name="status"),
        CheckConstraint(
            f"outcome IS NULL OR {_one_of('outcome', APPEAL_OUTCOMES)}", name="outcome"
        ),
        CheckConstraint(
            f"reopened_at IS NULL OR {_one_of('reopened_at', REOPEN_STEPS)}", name="reopened_at"
        ),
    )


class Death(Base):
    """The death of a household member, recorded on a track once (a second report of the same
    death is refused, not applied twice)."""

    __tablename__ = "case_deaths"
    __table_args__ = (UniqueConstraint("track_id", "id_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("case_tracks.id"), index=True)
    id_number: Mapped[str] = mapped_column(String(18))
    died_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"Death(id={self.id}, {mask_identity_number(self.id_number)})"


class JobRefusal(Base):
    """A suitable job offer refused without good reason by a member of a dibao household
    (2021 measures art. 34); the count per member decides when that member's share stops."""

    __tablename__ = "case_job_refusals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("case_tracks.id"), index=True)
    id_number: Mapped[str] = mapped_column(String(18))
    refused_on: Mapped[dt.date] = mapped_column(Date)
    offer: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))

    @property
    def masked_id_number(self) -> str:
        return mask_identity_number(self.id_number)

    def __repr__(self) -> str:
        return f"JobRefusal(id={self.id}, {self.masked_id_number})"


class JobAcceptance(Base):
    """A suitable job offer accepted by a member of a dibao household: the member's refusals
    "in a row" (2021 measures art. 34) count again from zero after it. ``after_refusal_id`` is
    the member's last refusal on the track when the offer was accepted (none: 0), so the count
    is the refusals recorded after it."""

    __tablename__ = "case_job_acceptances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("case_tracks.id"), index=True)
    id_number: Mapped[str] = mapped_column(String(18))
    accepted_on: Mapped[dt.date] = mapped_column(Date)
    offer: Mapped[str] = mapped_column(Text)
    after_refusal_id: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(100))

    @property
    def masked_id_number(self) -> str:
        return mask_identity_number(self.id_number)

    def __repr__(self) -> str:
        return f"JobAcceptance(id={self.id}, {self.masked_id_number})"


class Recheck(Base):
    """A re-check of a paying (suspended, gradual-exit) track opened for a reason, e.g. a monitoring
    alert, with its own due date; ``RecordRecheck`` closes it (``done``). One per alert."""

    __tablename__ = "case_rechecks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("case_tracks.id"), index=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("monitoring_alerts.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    opened_by: Mapped[str] = mapped_column(String(100))
    due: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(4))
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_by: Mapped[str | None] = mapped_column(String(100))
    provisional_deadlines: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        CheckConstraint(_one_of("status", RECHECK_STATUSES), name="status"),
        CheckConstraint("(status = 'done') = (closed_on IS NOT NULL)", name="closed_when_done"),
    )


class StaffMember(Base):
    """A member of staff who handles cases (for the register of staff relatives, art. 11)."""

    __tablename__ = "staff_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(40))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))

    __table_args__ = (UniqueConstraint("name", "region_code"),)


class StaffRelative(Base):
    """A close relative of a member of staff; the identity number is stored, shown masked."""

    __tablename__ = "staff_relatives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), index=True)
    id_number: Mapped[str] = mapped_column(String(18), index=True)
    relation: Mapped[str] = mapped_column(String(20))

    __table_args__ = (UniqueConstraint("staff_id", "id_number"),)

    @property
    def masked_id_number(self) -> str:
        return mask_identity_number(self.id_number)

    def __repr__(self) -> str:
        return f"StaffRelative(id={self.id}, {self.masked_id_number})"


# Provisional deadlines are marked where they are set, whatever the code path: assigning a
# provisional ``Deadline`` to any date column records how it was computed; assigning anything
# else to that column clears the mark.
DEADLINE_TABLES: tuple[type[Track] | type[Recheck] | type[Appeal], ...] = (Track, Recheck, Appeal)


def _mark_provisional(target: Any, value: Any, _old: Any, initiator: Any) -> None:
    name = initiator.key
    marks = dict(target.provisional_deadlines or {})
    if isinstance(value, Deadline) and value.provisional and value.basis is not None:
        marks[name] = value.basis.to_json()
    elif name in marks:
        del marks[name]
    else:
        return
    target.provisional_deadlines = marks or None


for _table in DEADLINE_TABLES:
    for _column in _table.__table__.columns:
        if isinstance(_column.type, Date):
            event.listen(getattr(_table, _column.key), "set", _mark_provisional)
