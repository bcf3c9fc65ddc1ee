"""Events of the case workflow, in the past tense: what happened, recorded in the audit log.

Each handler returns the event it recorded; the event's class name is the audit entry's
``event`` and ``entity``/``entity_id`` name the row it is about.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import ClassVar

from safetynet.audit.log import Actor

__all__ = [
    "AdvancePaid",
    "AmountsScheduled",
    "AppealDecided",
    "AppealLodged",
    "ApplicationAccepted",
    "ApplicationSubmitted",
    "BenefitAwarded",
    "BenefitWithdrawn",
    "CalendarChanged",
    "ComplaintAnswered",
    "ComplaintLodged",
    "DeathRecorded",
    "Event",
    "GradualExitStarted",
    "HomeVisitRecorded",
    "InvestigationStarted",
    "JobAcceptanceRecorded",
    "JobRefusalRecorded",
    "ObjectionRecorded",
    "PaymentStarted",
    "PublicNoticeClosed",
    "PublicNoticePosted",
    "RecheckOpened",
    "RecheckRecorded",
    "RecheckScheduled",
    "RecomputeCounts",
    "RefusalNotified",
    "StaffRelativeRegistered",
    "TerminationNoticePosted",
    "TimeLimitExtended",
    "TownshipOpinionGiven",
    "TrackConfirmed",
    "TrackRefused",
    "TrackReopened",
    "TrackSuspended",
    "TrackTerminated",
    "VerificationReportAttached",
]


@dataclass(frozen=True)
class Event:
    entity_id: int
    entity: ClassVar[str] = "track"

    @property
    def name(self) -> str:
        return type(self).__name__


@dataclass(frozen=True)
class ApplicationSubmitted(Event):
    track_ids: tuple[int, ...] = ()
    entity: ClassVar[str] = "application"


@dataclass(frozen=True)
class ApplicationAccepted(Event):
    entity: ClassVar[str] = "application"


class InvestigationStarted(Event): ...


class HomeVisitRecorded(Event): ...


class VerificationReportAttached(Event): ...


class TownshipOpinionGiven(Event): ...


class PublicNoticePosted(Event): ...


class TerminationNoticePosted(Event): ...


class ObjectionRecorded(Event): ...


class PublicNoticeClosed(Event): ...


class TrackConfirmed(Event): ...


class TrackRefused(Event): ...


class RefusalNotified(Event): ...


class PaymentStarted(Event): ...


class AdvancePaid(Event): ...


class RecheckScheduled(Event): ...


class RecheckRecorded(Event): ...


class DeathRecorded(Event): ...


class TimeLimitExtended(Event): ...


class GradualExitStarted(Event): ...


class JobRefusalRecorded(Event): ...


class JobAcceptanceRecorded(Event): ...


@dataclass(frozen=True)
class RecheckOpened(Event):
    """Also published for other areas: monitoring resolves the alert ``recheck_started`` (or
    links it to ``track_id`` when already resolved so)."""

    alert_id: int
    track_id: int
    actor: Actor
    on: dt.date
    reason: str
    occurred_at: dt.datetime
    entity: ClassVar[str] = "recheck"


class TrackReopened(Event): ...


class TrackSuspended(Event): ...


class TrackTerminated(Event): ...


@dataclass(frozen=True)
class AppealLodged(Event):
    entity: ClassVar[str] = "appeal"


@dataclass(frozen=True)
class AppealDecided(Event):
    entity: ClassVar[str] = "appeal"


@dataclass(frozen=True)
class ComplaintLodged(Event):
    entity: ClassVar[str] = "complaint"


@dataclass(frozen=True)
class ComplaintAnswered(Event):
    entity: ClassVar[str] = "complaint"


@dataclass(frozen=True)
class StaffRelativeRegistered(Event):
    entity: ClassVar[str] = "staff_relative"


# -- published for other areas only (not an audit entry of their own) ---------------------------


@dataclass(frozen=True)
class AmountsScheduled:
    """A decision set the amount of each month of ``schedule`` (YYYY-MM, fen) for an enrolment
    (a gradual exit): payments makes its entitlement schedule say them."""

    enrolment_id: int
    schedule: tuple[tuple[str, int], ...]
    reason: str
    actor: Actor
    occurred_at: dt.datetime


@dataclass(frozen=True)
class BenefitAwarded:
    """A one-off or per-event benefit was decided on track ``case_id`` (an emergency advance,
    ``kind="advance"``, or the decided award, ``kind="award"``): payments records it, known by
    (program, case, sequence), and pays it once, to the household's account, to the provider
    (``provider``: its code) or at once from the reserve of ``township`` (9 digits)."""

    program: str
    case_id: int
    sequence: int
    kind: str
    household_id: int
    amount_fen: int
    payee: str
    provider: str | None
    township: str | None
    due_on: dt.date
    reason: str
    actor: Actor
    occurred_at: dt.datetime


@dataclass(frozen=True)
class BenefitWithdrawn:
    """A one-off or per-event benefit's track ``case_id`` was refused — after an appeal or a
    reconsideration sent it back to a decision, or before any award: payments withdraws what it
    awarded on the case and not yet paid, and recovers what was paid."""

    program: str
    case_id: int
    household_id: int
    due_on: dt.date
    reason: str
    actor: Actor
    occurred_at: dt.datetime


@dataclass
class RecomputeCounts:
    """Provisional deadlines computed again: ``moved`` of them to another date, ``still``
    provisional (they cross another year without a notice)."""

    recomputed: int = 0
    moved: int = 0
    still: int = 0


@dataclass(frozen=True)
class CalendarChanged:
    """The official calendar in force changed (a year added) or the stored provisional deadlines
    are to be computed again (``command``): every area recomputes its own in the publisher's
    transaction, with an audit entry each, and adds them to ``counts``."""

    command: str
    actor: Actor
    occurred_at: dt.datetime
    counts: RecomputeCounts = field(default_factory=RecomputeCounts)
