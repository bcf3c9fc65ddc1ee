"""Request and response bodies of the API: ``XCreate`` in, ``XPublic`` out, one body per action."""

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ActionBody",
    "AppealCreate",
    "AppealDecision",
    "AppealPublic",
    "ApplicationCreate",
    "ApplicationPublic",
    "AuditProblemPublic",
    "AuditReportPublic",
    "CloseNoticeBody",
    "DeadlinePublic",
    "DeathBody",
    "ExtendLimitBody",
    "GradualExitBody",
    "HomeVisitBody",
    "InvestigationBody",
    "JobAcceptanceBody",
    "JobAcceptancePublic",
    "JobRefusalBody",
    "JobRefusalPublic",
    "ObjectionBody",
    "OpenRecheckBody",
    "OpinionBody",
    "PaymentBody",
    "PendingDeadline",
    "PostNoticeBody",
    "ReasonBody",
    "RecheckBody",
    "RecheckPublic",
    "RecheckScheduleBody",
    "RefuseBody",
    "RelativeCasePublic",
    "StaffRelativeCreate",
    "StaffRelativePublic",
    "TrackPublic",
    "VerificationBody",
]


class ApplicationCreate(BaseModel):
    """One application at one door for a registered household."""

    household_region: str = Field(description="Region code of the household in the registry.")
    household_no: str = Field(description="Household number in the registry.")
    region: str = Field(
        description="Region where the application is lodged (the user's region or below)."
    )
    household: dict[str, Any] = Field(
        description="The household facts, as for `safetynet calc` (see `safetynet fields`)."
    )
    programs: list[str] | None = Field(
        default=None, description="Programs applied for; default: every one the screening finds."
    )
    emergency: bool = False
    devolved: bool = Field(
        default=False, description="Dibao confirmation devolved to the township."
    )
    outside_hukou_basis: str = Field(
        default="", description="The rule allowing lodging outside the hukou place."
    )
    on: dt.date | None = Field(default=None, description="Business date; default today.")


class PendingDeadline(BaseModel):
    deadline: str
    due: dt.date
    provisional: bool = Field(
        default=False,
        description="Computed across a year with no official calendar yet (暂定); recomputed "
        "when the year's calendar is added.",
    )


class JobRefusalPublic(BaseModel):
    """A refused job offer of one member (identity number masked) and that member's count."""

    id_number: str = Field(description="Masked.")
    refused_on: dt.date
    offer: str
    count: int = Field(
        description="The member's refusals in a row up to this one (an accepted offer starts "
        "the count again)."
    )


class JobAcceptancePublic(BaseModel):
    """A suitable job offer a member accepted (identity number masked)."""

    id_number: str = Field(description="Masked.")
    accepted_on: dt.date
    offer: str


class RecheckPublic(BaseModel):
    """A re-check opened on the track because of a monitoring alert."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    alert_id: int
    reason: str
    opened_on: dt.date
    opened_by: str
    due: dt.date
    status: str = Field(description="open, or done once a re-check is recorded.")
    closed_on: dt.date | None
    closed_by: str | None
    due_provisional: bool = Field(
        default=False, description="The due date is provisional (no official calendar yet)."
    )


class GradualExitMonth(BaseModel):
    month: str
    amount_fen: int


class TrackPublic(BaseModel):
    """One program of an application: its state, deadlines and decision."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    application_id: int
    program: str
    procedure: str
    department: str
    status: str
    devolved: bool
    version: int = Field(description="Send it back as `expected_version` with the next action.")
    accepted_by: str | None
    investigators: list[str]
    investigation_start_due: dt.date | None
    investigation_started_on: dt.date | None
    home_visit_on: dt.date | None
    county_home_visit_on: dt.date | None
    cross_check_requested_on: dt.date | None
    cross_check_start_due: dt.date | None
    township_opinion_due: dt.date | None
    township_opinion_on: dt.date | None
    proposal: str | None
    opinion_reasons: list[str] | None
    notice_posted_on: dt.date | None
    notice_ends_on: dt.date | None
    county_received_on: dt.date | None
    county_decision_due: dt.date | None
    spot_check_selected: bool
    overall_due: dt.date | None
    overall_extended_due: dt.date | None
    decision: str | None
    decided_on: dt.date | None
    decided_by: str | None
    amount_fen: int | None
    explanation: dict[str, Any] | None
    refusal_reasons: list[str] | None
    refusal_notice_due: dt.date | None
    refusal_notified_on: dt.date | None
    advance_paid_on: dt.date | None
    advance_amount_fen: int | None
    paperwork_due: dt.date | None
    first_payment_month: str | None
    payment_started_on: dt.date | None
    recheck_due: dt.date | None
    recheck_reason: str | None
    last_recheck_on: dt.date | None
    limit_extended_on: dt.date | None
    limit_extension_reason: str | None
    gradual_exit_from: str | None
    gradual_exit_until: str | None
    gradual_exit_schedule: list[GradualExitMonth] | None
    suspended_on: dt.date | None
    terminated_on: dt.date | None
    end_reason: str | None
    job_refusals: list[JobRefusalPublic] = Field(default_factory=list)
    job_acceptances: list[JobAcceptancePublic] = Field(default_factory=list)
    rechecks: list[RecheckPublic] = Field(
        default_factory=list, description="Re-checks opened because of monitoring alerts."
    )
    pending_deadlines: list[PendingDeadline] = Field(
        default_factory=list, description="Deadlines that bind the track in its current state."
    )
    provisional_dates: list[str] = Field(
        default_factory=list,
        description="The date fields above computed across a year with no official calendar "
        "yet (暂定); recomputed when the year's calendar is added.",
    )


class ApplicationPublic(BaseModel):
    """An application with its tracks. Identity numbers are masked unless ``identity_numbers_masked``
    is false (a single application read by an investigator or a county approver)."""

    id: int
    version: int
    household_region: str
    household_no: str
    region: str
    hukou_region: str
    lodged_outside_hukou: bool
    outside_hukou_basis: str
    emergency: bool
    lodged_on: dt.date
    accepted_on: dt.date | None
    submitted_by: str
    accepted_by: str | None
    household: dict[str, Any]
    screening: list[dict[str, Any]]
    relative_flag: bool
    relative_matches: list[dict[str, Any]]
    identity_numbers_masked: bool
    tracks: list[TrackPublic]


class ActionBody(BaseModel):
    """Every action names the track version the user saw (optimistic locking: 409 if it changed)
    and may give the business date of the step (default today)."""

    expected_version: int
    on: dt.date | None = None


class InvestigationBody(ActionBody):
    investigators: list[str] = Field(description="The team (at least two people).")


class HomeVisitBody(ActionBody):
    visitors: list[str]
    level: Literal["township", "county"] = "township"
    notes: str = ""


class VerificationBody(ActionBody):
    report: dict[str, Any]
    cross_check_requested_on: dt.date
    cross_check_started_on: dt.date | None = None


class OpinionBody(ActionBody):
    proposal: Literal["approve", "refuse"]
    reasons: list[str]


class PostNoticeBody(ActionBody):
    purpose: Literal["decision", "termination"] = "decision"


class ObjectionBody(ActionBody):
    summary: str


class CloseNoticeBody(ActionBody):
    county_received_on: dt.date | None = None


class RefuseBody(ActionBody):
    reasons: list[str]


class PaymentBody(ActionBody):
    advance_amount_fen: int | None = None


class ExtendLimitBody(ActionBody):
    reason: str = Field(description="The special circumstance that needs more time.")


class RecheckScheduleBody(ActionBody):
    frequency: Literal["annual", "half_yearly"]


class RecheckBody(ActionBody):
    frequency: Literal["annual", "half_yearly"] = Field(description="Of the next re-check.")
    findings: str
    household: dict[str, Any] | None = Field(
        default=None,
        description="The facts found, if they changed: the amount is recalculated from the "
        "following month.",
    )


class DeathBody(ActionBody):
    id_number: str = Field(description="The member who died (never echoed back).")


class JobRefusalBody(ActionBody):
    id_number: str = Field(description="The member who refused (never echoed back in full).")
    offer: str


class JobAcceptanceBody(ActionBody):
    id_number: str = Field(description="The member who accepted (never echoed back in full).")
    offer: str


class OpenRecheckBody(ActionBody):
    alert_id: int = Field(description="The monitoring alert about the track's household.")
    reason: str = Field(description="What the re-check is to establish.")
    due: dt.date | None = Field(
        default=None,
        description="An earlier due date set by the office; default and latest: the time limit "
        "(common.procedure.monitoring.recheck_limit working days).",
    )


class ReasonBody(ActionBody):
    reason: str


class GradualExitBody(ActionBody):
    income_rose_in: str = Field(description="The month income rose above the standard, YYYY-MM.")
    household: dict[str, Any] = Field(description="The household facts after the rise.")


class AppealCreate(ActionBody):
    kind: Literal["reconsideration", "litigation"]
    decision_known_on: dt.date
    grounds: str


class AppealDecision(BaseModel):
    expected_version: int = Field(description="The appeal version the user saw.")
    outcome: Literal["upheld", "varied", "revoked", "dismissed"]
    reasons: list[str]
    reopen_at: Literal["investigation", "township_opinion", "decision", "payment"] | None = Field(
        default=None,
        description="For a decision in the applicant's favour (revoked, varied): the step the "
        "track goes back to.",
    )
    on: dt.date | None = None


class AppealPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    track_id: int
    version: int
    kind: str
    decision_known_on: dt.date
    lodged_on: dt.date
    lodge_due: dt.date
    decision_due: dt.date | None
    grounds: str
    status: str
    outcome: str | None
    decided_on: dt.date | None
    reasons: list[str] | None
    reopened_at: str | None
    provisional_dates: list[str] = Field(
        default_factory=list,
        description="The date fields above computed across a year with no official calendar "
        "yet (暂定); recomputed when the year's calendar is added.",
    )


class StaffRelativeCreate(BaseModel):
    """A member of staff working in the office's region and one close relative of theirs."""

    staff_name: str
    staff_role: str
    id_number: str = Field(description="The relative's; shown masked afterwards.")
    relation: str
    on: dt.date | None = None


class StaffRelativePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    relative_id: int
    staff_id: int
    staff: str
    staff_role: str
    staff_region: str
    relation: str
    id_number: str = Field(description="Masked.")


class RelativeCasePublic(BaseModel):
    """An application from a household with a registered relative of staff."""

    model_config = ConfigDict(from_attributes=True)

    application_id: int
    household_id: int
    region: str
    lodged_on: dt.date
    matches: list[dict[str, Any]]
    tracks: list[dict[str, Any]]


class DeadlinePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    track_id: int
    application_id: int
    program: str
    department: str
    status: str
    region: str
    deadline: str
    due: dt.date
    overdue: bool
    working_days_left: int
    appeal_id: int | None = None
    recheck_id: int | None = None
    provisional: bool = Field(
        default=False,
        description="Computed across a year with no official calendar yet (暂定).",
    )


class AuditProblemPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    entry_id: int
    kind: str
    detail: str


class AuditReportPublic(BaseModel):
    entries: int
    intact: bool
    problems: list[AuditProblemPublic]
