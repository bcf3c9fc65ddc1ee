"""Request and response bodies of the API: ``XCreate`` in, ``XPublic`` out, one body per action."""

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from safetynet.entrypoints.api.bounds import (
    AlertId,
    AmountFen,
    BusinessDate,
    DisclosureReason,
    HouseholdFacts,
    IdNumberText,
    JsonObject,
    LongText,
    Name,
    Names,
    Programs,
    Reasons,
    RegionCode,
    ShortText,
    Version,
    YearMonth,
)

__all__ = [
    "ERROR_RESPONSES",
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
    "ErrorPublic",
    "ExtendLimitBody",
    "FullIdNumberPublic",
    "GradualExitBody",
    "HomeVisitBody",
    "IdNumberReadBody",
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


class ErrorPublic(BaseModel):
    """Why a request was refused (every 4xx answer but 422, which names the field)."""

    detail: str


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorPublic, "description": "The body is not JSON."},
    401: {"model": ErrorPublic, "description": "No valid bearer token."},
    403: {"model": ErrorPublic, "description": "The role may not take this action."},
    404: {
        "model": ErrorPublic,
        "description": "Not found, or outside the user's region (the same answer for both).",
    },
    409: {
        "model": ErrorPublic,
        "description": "The step conflicts with the state: out of order, already recorded, "
        "changed since read, maker-checker.",
    },
}
"""The refusals every operation may give, declared in the OpenAPI with their body."""


class ApplicationCreate(BaseModel):
    """One application at one door for a registered household."""

    household_region: RegionCode = Field(
        description="Region code of the household in the registry."
    )
    household_no: ShortText = Field(description="Household number in the registry.")
    region: RegionCode = Field(
        description="Region where the application is lodged (the user's region or below)."
    )
    household: HouseholdFacts = Field(
        description="The household facts, as for `safetynet calc` (see `safetynet fields`)."
    )
    programs: Programs | None = Field(
        default=None, description="Programs applied for; default: every one the screening finds."
    )
    emergency: bool = False
    devolved: bool = Field(
        default=False, description="Dibao confirmation devolved to the township."
    )
    outside_hukou_basis: LongText = Field(
        default="", description="The rule allowing lodging outside the hukou place."
    )
    on: BusinessDate | None = Field(default=None, description="Business date; default today.")


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


class IdNumberReadBody(BaseModel):
    """Why the full identity number is needed: kept in the audit log with who and when."""

    reason: DisclosureReason = Field(
        description="Why the full number is needed (e.g. a bank account to open); logged."
    )


class FullIdNumberPublic(BaseModel):
    """One person's full identity number: the only answer of the API that is not masked."""

    person_id: int
    id_number: str = Field(description="In full; its reading is in the audit log.")


class ActionBody(BaseModel):
    """Every action names the track version the user saw (optimistic locking: 409 if it changed)
    and may give the business date of the step (default today)."""

    expected_version: Version
    on: BusinessDate | None = None


class InvestigationBody(ActionBody):
    investigators: Names = Field(description="The team (at least two people).")


class HomeVisitBody(ActionBody):
    visitors: Names
    level: Literal["township", "county"] = "township"
    notes: LongText = ""


class VerificationBody(ActionBody):
    report: JsonObject
    cross_check_requested_on: BusinessDate
    cross_check_started_on: BusinessDate | None = None


class OpinionBody(ActionBody):
    proposal: Literal["approve", "refuse"]
    reasons: Reasons


class PostNoticeBody(ActionBody):
    purpose: Literal["decision", "termination"] = "decision"


class ObjectionBody(ActionBody):
    summary: LongText


class CloseNoticeBody(ActionBody):
    county_received_on: BusinessDate | None = None


class RefuseBody(ActionBody):
    reasons: Reasons


Township = Annotated[
    str,
    Field(pattern=r"^[0-9]{9}$", description="9-digit township code (county code + 3 digits)."),
]


class PaymentBody(ActionBody):
    advance_amount_fen: AmountFen | None = None
    paid_to: Literal["household", "township_reserve"] = Field(
        default="household",
        description="An emergency advance: through the bank to the household's account, or at "
        "once from the township reserve (临时救助备用金) of ``township``.",
    )
    township: Township | None = None


class ConfirmBody(ActionBody):
    paid_to: Literal["household", "provider", "township_reserve"] = Field(
        default="household",
        description="A one-off award: to the household's account, to ``provider`` (medical "
        "assistance settled with the hospital) or at once from the reserve of ``township``.",
    )
    provider: str | None = Field(default=None, min_length=1, max_length=40)
    township: Township | None = None


class ExtendLimitBody(ActionBody):
    reason: LongText = Field(description="The special circumstance that needs more time.")


class RecheckScheduleBody(ActionBody):
    frequency: Literal["annual", "half_yearly"]


class RecheckBody(ActionBody):
    frequency: Literal["annual", "half_yearly"] = Field(description="Of the next re-check.")
    findings: LongText
    household: HouseholdFacts | None = Field(
        default=None,
        description="The facts found, if they changed: the amount is recalculated from the "
        "following month.",
    )


class DeathBody(ActionBody):
    id_number: IdNumberText = Field(description="The member who died (never echoed back).")


class JobRefusalBody(ActionBody):
    id_number: IdNumberText = Field(
        description="The member who refused (never echoed back in full)."
    )
    offer: LongText


class JobAcceptanceBody(ActionBody):
    id_number: IdNumberText = Field(
        description="The member who accepted (never echoed back in full)."
    )
    offer: LongText


class OpenRecheckBody(ActionBody):
    alert_id: AlertId = Field(description="The monitoring alert about the track's household.")
    reason: LongText = Field(description="What the re-check is to establish.")
    due: BusinessDate | None = Field(
        default=None,
        description="An earlier due date set by the office; default and latest: the time limit "
        "(common.procedure.monitoring.recheck_limit working days).",
    )


class ReasonBody(ActionBody):
    reason: LongText


class GradualExitBody(ActionBody):
    income_rose_in: YearMonth = Field(
        description="The month income rose above the standard, YYYY-MM."
    )
    household: HouseholdFacts = Field(description="The household facts after the rise.")


class AppealCreate(ActionBody):
    kind: Literal["reconsideration", "litigation"]
    decision_known_on: BusinessDate
    grounds: LongText


class AppealDecision(BaseModel):
    expected_version: Version = Field(description="The appeal version the user saw.")
    outcome: Literal["upheld", "varied", "revoked", "dismissed"]
    reasons: Reasons
    reopen_at: Literal["investigation", "township_opinion", "decision", "payment"] | None = Field(
        default=None,
        description="For a decision in the applicant's favour (revoked, varied): the step the "
        "track goes back to.",
    )
    on: BusinessDate | None = None


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

    staff_name: Name
    staff_role: Annotated[Name, Field(max_length=40)]
    id_number: IdNumberText = Field(description="The relative's; shown masked afterwards.")
    relation: Annotated[ShortText, Field(max_length=20)]
    on: BusinessDate | None = None


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
