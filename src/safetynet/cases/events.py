"""Events of the case workflow, in the past tense: what happened, recorded in the audit log.

Each handler returns the event it recorded; the event's class name is the audit entry's
``event`` and ``entity``/``entity_id`` name the row it is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "AdvancePaid",
    "AppealDecided",
    "AppealLodged",
    "ApplicationAccepted",
    "ApplicationSubmitted",
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
class StaffRelativeRegistered(Event):
    entity: ClassVar[str] = "staff_relative"
