"""Commands of the case workflow: what a user asks for, in the imperative.

Every command names the actor (user, role, region) and the business date ``on`` on which the
step happened; the deadlines are computed from those dates, the audit timestamp from the clock.
``expected_version`` (optional) is the track version the user saw: if the track has changed since,
the command is refused instead of acting on what the user did not see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from safetynet.audit.log import Actor

__all__ = [
    "AcceptApplication",
    "AnswerComplaint",
    "AttachVerificationReport",
    "ClosePublicNotice",
    "Command",
    "ConfirmTrack",
    "DecideAppeal",
    "ExtendTimeLimit",
    "GiveTownshipOpinion",
    "LodgeAppeal",
    "LodgeComplaint",
    "NotifyRefusal",
    "OpenRecheck",
    "PostPublicNotice",
    "RecordDeath",
    "RecordHomeVisit",
    "RecordJobAcceptance",
    "RecordJobRefusal",
    "RecordObjection",
    "RecordRecheck",
    "RefuseTrack",
    "RegisterStaffRelative",
    "ScheduleRecheck",
    "StartGradualExit",
    "StartInvestigation",
    "StartPayment",
    "SubmitApplication",
    "SuspendTrack",
    "TerminateTrack",
]


@dataclass(frozen=True, kw_only=True)
class Command:
    actor: Actor
    on: dt.date


@dataclass(frozen=True, kw_only=True)
class SubmitApplication(Command):
    """Lodge one application for a registered household at one door.

    ``household`` is the household JSON of the rules core (stored as the application's facts).
    ``programs`` are the tracks to open; by default every one-door program the screening finds
    the household eligible for. ``region`` is where it is lodged; if that is not the hukou region
    of the household, ``outside_hukou_basis`` must say which rule allows it.
    """

    household_region: str
    household_no: str
    region: str
    household: Mapping[str, Any]
    programs: tuple[str, ...] | None = None
    emergency: bool = False
    devolved: bool = False  # confirmation devolved to the township (dibao, 2022 notice)
    outside_hukou_basis: str = ""


@dataclass(frozen=True, kw_only=True)
class AcceptApplication(Command):
    application_id: int


@dataclass(frozen=True, kw_only=True)
class TrackCommand(Command):
    track_id: int
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class StartInvestigation(TrackCommand):
    investigators: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class RecordHomeVisit(TrackCommand):
    visitors: tuple[str, ...]
    level: Literal["township", "county"] = "township"
    notes: str = ""


@dataclass(frozen=True, kw_only=True)
class AttachVerificationReport(TrackCommand):
    report: Mapping[str, Any]
    cross_check_requested_on: dt.date
    cross_check_started_on: dt.date | None = None


@dataclass(frozen=True, kw_only=True)
class GiveTownshipOpinion(TrackCommand):
    proposal: Literal["approve", "refuse"]
    reasons: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class PostPublicNotice(TrackCommand):
    """Post the township's opinion (``purpose="decision"``) or a proposed termination."""

    purpose: Literal["decision", "termination"] = "decision"


@dataclass(frozen=True, kw_only=True)
class RecordObjection(TrackCommand):
    summary: str


@dataclass(frozen=True, kw_only=True)
class ClosePublicNotice(TrackCommand):
    """Close the notice; the file goes to the county, which receives it on ``county_received_on``
    (the closing date if not given)."""

    county_received_on: dt.date | None = None


Payee = Literal["household", "provider", "township_reserve"]


@dataclass(frozen=True, kw_only=True)
class ConfirmTrack(TrackCommand):
    """Approve: the rules core computes the amount; enrolment starts the following month. A
    one-off or per-event program is awarded instead, paid once: to the household's account, to
    ``provider`` (medical assistance settled with the hospital: the provider's code) or at once
    from the reserve of ``township`` (9-digit code); the case's emergency advance is deducted."""

    overrides: Mapping[str, Any] = field(default_factory=dict)
    paid_to: Payee = "household"
    provider: str | None = None
    township: str | None = None


@dataclass(frozen=True, kw_only=True)
class RefuseTrack(TrackCommand):
    reasons: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class NotifyRefusal(TrackCommand):
    """Record that the written refusal notice was served."""


@dataclass(frozen=True, kw_only=True)
class StartPayment(TrackCommand):
    """Start payment of an approved track, or pay an emergency advance before the paperwork:
    through the bank to the household's account, or at once from the reserve of ``township``
    (``paid_to="township_reserve"``)."""

    advance_amount_fen: int | None = None
    paid_to: Literal["household", "township_reserve"] = "household"
    township: str | None = None


@dataclass(frozen=True, kw_only=True)
class ScheduleRecheck(TrackCommand):
    frequency: Literal["annual", "half_yearly"]


@dataclass(frozen=True, kw_only=True)
class OpenRecheck(TrackCommand):
    """Open a re-check of a paying, suspended or gradual-exit track because of monitoring alert
    ``alert_id`` (about the track's household). It is due within
    ``common.procedure.monitoring.recheck_limit`` working days of ``on``, or on ``due`` if the
    office sets an earlier date. An alert not yet resolved is resolved ``recheck_started`` in the
    same transaction. ``RecordRecheck`` closes it."""

    alert_id: int
    reason: str
    due: dt.date | None = None


@dataclass(frozen=True, kw_only=True)
class RecordRecheck(TrackCommand):
    """Record a re-check and schedule the next periodic one; it closes the re-checks opened on
    the track (``OpenRecheck``) up to ``on``. ``household`` (the facts found, as for
    ``SubmitApplication``) recalculates the amount from the following month; without it nothing
    material changed and the amount stays (2021 dibao measures art. 31). In the gradual-exit
    period only findings are recorded (the exit runs on; terminate to stop earlier)."""

    frequency: Literal["annual", "half_yearly"]
    findings: str
    household: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class RecordDeath(TrackCommand):
    id_number: str


@dataclass(frozen=True, kw_only=True)
class ExtendTimeLimit(TrackCommand):
    """Extend the overall time limit to its extended length (dibao: 30 → 45 working days), once,
    before it expires, for a recorded reason (2021 dibao measures art. 22)."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class StartGradualExit(TrackCommand):
    """Income rose above the standard through work in ``income_rose_in`` (``YYYY-MM``): the
    household keeps dibao for the gradual-exit period (渐退期) the rules core gives, then stops.
    ``household`` are the facts after the rise."""

    income_rose_in: str
    household: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class RecordJobRefusal(TrackCommand):
    """A member able to work refused a suitable job offer without good reason; at the refusal
    limit (3, art. 34) that member's share stops from the following month."""

    id_number: str
    offer: str


@dataclass(frozen=True, kw_only=True)
class RecordJobAcceptance(TrackCommand):
    """A member accepted a suitable job offer: the member's refusals "in a row" (art. 34) count
    from zero again. A share already stopped stays stopped until a re-check recalculates the
    household with the new job's income (``RecordRecheck`` with ``household``)."""

    id_number: str
    offer: str


@dataclass(frozen=True, kw_only=True)
class SuspendTrack(TrackCommand):
    reason: str


@dataclass(frozen=True, kw_only=True)
class TerminateTrack(TrackCommand):
    reason: str


@dataclass(frozen=True, kw_only=True)
class LodgeAppeal(TrackCommand):
    kind: Literal["reconsideration", "litigation"]
    decision_known_on: dt.date
    grounds: str


@dataclass(frozen=True, kw_only=True)
class DecideAppeal(Command):
    """Record the appeal's outcome. A decision in the applicant's favour (``revoked`` or
    ``varied``) names the step the track goes back to: ``investigation`` (investigate again),
    ``township_opinion`` (a new opinion on the file), ``decision`` (the county decides again) or
    ``payment`` (a suspension or termination is undone and payment resumes)."""

    appeal_id: int
    outcome: Literal["upheld", "varied", "revoked", "dismissed"]
    reasons: tuple[str, ...]
    reopen_at: Literal["investigation", "township_opinion", "decision", "payment"] | None = None


@dataclass(frozen=True, kw_only=True)
class RegisterStaffRelative(Command):
    staff_name: str
    staff_role: str
    staff_region: str
    id_number: str
    relation: str


@dataclass(frozen=True, kw_only=True)
class LodgeComplaint(Command):
    """A household's complaint (投诉), about one of its tracks (``track_id``) or in general."""

    household_id: int
    text: str
    track_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class AnswerComplaint(Command):
    """The office's answer to a complaint (once)."""

    complaint_id: int
    answer: str
