"""``/outreach``: active discovery (leads of persons in difficulty, their home visits and
outcomes) and the hotline (calls and messages routed with a deadline, answered and rated),
scoped to the user's region (docs/services.md). The routes only build commands and queries."""

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from safetynet.cases.views import region_subtree
from safetynet.entrypoints.api.auth import User
from safetynet.entrypoints.api.bounds import (
    INT4_MAX,
    BusinessDate,
    IdNumberText,
    LongText,
    Name,
    RegionCode,
    ShortText,
)
from safetynet.entrypoints.api.deps import ServiceDep, allowed, not_found
from safetynet.entrypoints.api.policy import Action, in_region
from safetynet.entrypoints.api.service import CaseService
from safetynet.errors import UnknownNameError
from safetynet.outreach import commands as c
from safetynet.outreach.model import Contact, Lead
from safetynet.outreach.views import contact_rows, lead_progress, lead_rows, office_stats

__all__ = ["router"]

router = APIRouter(prefix="/outreach", tags=["outreach"])

LeadIdPath = Annotated[int, Path(ge=1, le=INT4_MAX, description="A lead id.")]
ContactIdPath = Annotated[int, Path(ge=1, le=INT4_MAX, description="A contact id.")]
Sources = Literal[
    "village_worker", "community_worker", "grid_worker", "school", "hospital", "police",
    "monitoring",
]  # fmt: skip


class SubjectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    id_number: IdNumberText | None = None
    household_region: RegionCode | None = None
    household_no: ShortText | None = None


class LeadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: BusinessDate
    source: Sources
    region: RegionCode
    reported_by: Name
    subject: SubjectBody
    situation: LongText
    needs: Annotated[list[ShortText], Field(max_length=10)] = []


class VisitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: BusinessDate
    visitors: Annotated[list[Name], Field(min_length=1, max_length=10)]
    findings: LongText
    expected_version: Annotated[int, Field(ge=1, le=INT4_MAX)] | None = None


class CloseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: BusinessDate
    outcome: Literal["referral", "closed_note"]
    note: LongText
    expected_version: Annotated[int, Field(ge=1, le=INT4_MAX)] | None = None


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: BusinessDate
    channel: Literal["phone", "message", "web", "letter"]
    topic: Literal["consultation", "application", "person_in_need", "complaint", "staff_conduct"]
    region: RegionCode
    caller_name: Name
    caller_phone: Annotated[str, Field(min_length=5, max_length=24)]
    summary: LongText
    subject: SubjectBody | None = None
    needs: Annotated[list[ShortText], Field(max_length=10)] = []


class AnswerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: BusinessDate
    answer: LongText
    expected_version: Annotated[int, Field(ge=1, le=INT4_MAX)] | None = None


class RatingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: BusinessDate
    rating: Annotated[int, Field(ge=1, le=5)]
    comment: LongText = ""


class Created(BaseModel):
    id: int


def _subject(body: SubjectBody | None) -> c.Subject | None:
    if body is None:
        return None
    return c.Subject(
        name=body.name,
        id_number=body.id_number,
        household_region=body.household_region,
        household_no=body.household_no,
    )


def _own_region(user: User, region: str) -> None:
    if not in_region(user.region, region):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"region {region} is outside yours")


def _scoped(kind: type[Lead] | type[Contact], column: str) -> Callable[..., Any]:
    def check(service: CaseService, user: User, ident: int) -> None:
        with service.db.sessions() as session:
            row = session.get(kind, ident)
            region = getattr(row, column) if row is not None else None
        if region is None or not in_region(user.region, region):
            raise not_found(kind.__name__.lower(), ident)

    return check


_lead_in_region = _scoped(Lead, "region_code")
_contact_in_region = _scoped(Contact, "routed_to")


def _x(action: Action) -> dict[str, Any]:
    return {"x-action": action.value}


@router.get("/leads", openapi_extra=_x(Action.READ))
def list_leads(
    user: Annotated[User, Depends(allowed(Action.READ))],
    service: ServiceDep,
    lead_status: Annotated[
        Literal["open", "visited", "closed"] | None, Query(alias="status")
    ] = None,
) -> list[dict[str, Any]]:
    """The leads of the user's region and below, overdue visits first (identity numbers
    masked)."""
    with service.db.sessions() as session:
        return lead_rows(session, within=user.region, today=service.today(), status=lead_status)


@router.post("/leads", status_code=status.HTTP_201_CREATED, openapi_extra=_x(Action.REPORT_LEAD))
def report_lead(
    body: LeadCreate,
    user: Annotated[User, Depends(allowed(Action.REPORT_LEAD))],
    service: ServiceDep,
) -> Created:
    """A person in difficulty found by a worker, a school, a hospital, the police or monitoring:
    a lead with its home-visit deadline in working days."""
    _own_region(user, body.region)
    subject = _subject(body.subject)
    assert subject is not None
    command = c.ReportLead(
        actor=user.actor,
        on=body.on,
        source=body.source,
        region=body.region,
        reported_by=body.reported_by,
        subject=subject,
        situation=body.situation,
        needs=tuple(body.needs),
    )
    return Created(id=service.bus.handle(command))


@router.get("/leads/{lead_id}", openapi_extra=_x(Action.READ))
def lead_way(
    lead_id: LeadIdPath,
    user: Annotated[User, Depends(allowed(Action.READ))],
    service: ServiceDep,
) -> list[dict[str, Any]]:
    """The lead's way from the report to the decision: each step's office, deadline, the day it
    was done and whether the deadline was met (met, late, pending, overdue)."""
    with service.db.sessions() as session:
        try:
            steps = lead_progress(
                session, lead_id, within=region_subtree(user.region), today=service.today()
            )
        except UnknownNameError:
            raise not_found("lead", lead_id) from None
    return [step.to_json() for step in steps]


@router.post("/leads/{lead_id}/visit", openapi_extra=_x(Action.VISIT_LEAD))
def visit(
    lead_id: LeadIdPath,
    body: VisitBody,
    user: Annotated[User, Depends(allowed(Action.VISIT_LEAD))],
    service: ServiceDep,
) -> dict[str, str]:
    """The home visit of a lead."""
    _lead_in_region(service, user, lead_id)
    service.bus.handle(
        c.RecordLeadVisit(
            actor=user.actor,
            on=body.on,
            lead_id=lead_id,
            visitors=tuple(body.visitors),
            findings=body.findings,
            expected_version=body.expected_version,
        )
    )
    return {"status": "visited"}


@router.post("/leads/{lead_id}/close", openapi_extra=_x(Action.CLOSE_LEAD))
def close(
    lead_id: LeadIdPath,
    body: CloseBody,
    user: Annotated[User, Depends(allowed(Action.CLOSE_LEAD))],
    service: ServiceDep,
) -> dict[str, str]:
    """End a lead by a referral or a closed note (an application closes it by itself)."""
    _lead_in_region(service, user, lead_id)
    service.bus.handle(
        c.CloseLead(
            actor=user.actor,
            on=body.on,
            lead_id=lead_id,
            outcome=body.outcome,
            note=body.note,
            expected_version=body.expected_version,
        )
    )
    return {"status": "closed"}


@router.get("/contacts", openapi_extra=_x(Action.READ))
def list_contacts(
    user: Annotated[User, Depends(allowed(Action.READ))],
    service: ServiceDep,
    unit: Literal["assistance", "supervision"] | None = None,
    contact_status: Annotated[Literal["open", "answered"] | None, Query(alias="status")] = None,
) -> list[dict[str, Any]]:
    """Calls and messages routed to the user's office or below, overdue first (telephone
    numbers masked)."""
    with service.db.sessions() as session:
        return contact_rows(
            session, within=user.region, today=service.today(), unit=unit, status=contact_status
        )


@router.post(
    "/contacts", status_code=status.HTTP_201_CREATED, openapi_extra=_x(Action.RECORD_CONTACT)
)
def record_contact(
    body: ContactCreate,
    user: Annotated[User, Depends(allowed(Action.RECORD_CONTACT))],
    service: ServiceDep,
) -> Created:
    """A call or message to the hotline, routed at once with its answer deadline; a report of a
    person in need opens a lead too."""
    _own_region(user, body.region)
    command = c.RecordContact(
        actor=user.actor,
        on=body.on,
        channel=body.channel,
        topic=body.topic,
        region=body.region,
        caller_name=body.caller_name,
        caller_phone=body.caller_phone,
        summary=body.summary,
        subject=_subject(body.subject),
        needs=tuple(body.needs),
    )
    return Created(id=service.bus.handle(command))


@router.post("/contacts/{contact_id}/answer", openapi_extra=_x(Action.ANSWER_CONTACT))
def answer(
    contact_id: ContactIdPath,
    body: AnswerBody,
    user: Annotated[User, Depends(allowed(Action.ANSWER_CONTACT))],
    service: ServiceDep,
) -> dict[str, str]:
    """The answer given to the caller."""
    _contact_in_region(service, user, contact_id)
    service.bus.handle(
        c.AnswerContact(
            actor=user.actor,
            on=body.on,
            contact_id=contact_id,
            answer=body.answer,
            expected_version=body.expected_version,
        )
    )
    return {"status": "answered"}


@router.post("/contacts/{contact_id}/rating", openapi_extra=_x(Action.RECORD_CONTACT))
def rate(
    contact_id: ContactIdPath,
    body: RatingBody,
    user: Annotated[User, Depends(allowed(Action.RECORD_CONTACT))],
    service: ServiceDep,
) -> dict[str, str]:
    """The caller's rating of the answer (1 to 5), taken by the hotline."""
    _contact_in_region(service, user, contact_id)
    service.bus.handle(
        c.RateContact(
            actor=user.actor, on=body.on, contact_id=contact_id, rating=body.rating,
            comment=body.comment,
        )
    )  # fmt: skip
    return {"status": "rated"}


@router.get("/stats", openapi_extra=_x(Action.READ))
def stats(
    user: Annotated[User, Depends(allowed(Action.READ))], service: ServiceDep
) -> list[dict[str, Any]]:
    """Per office under the user's region: calls, answered on time, overdue, escalated, ratings,
    topics; leads visited on time, overdue and ended in an application."""
    with service.db.sessions() as session:
        rows = office_stats(session, within=user.region, today=service.today())
    return [row.to_json() for row in rows]
