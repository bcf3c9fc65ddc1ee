"""The hotline and active discovery on the workbench: calls routed to the user's office and below
(recorded, answered, rated), their figures per office, and the leads of persons in difficulty
with their way from the report to the decision. Every form is one ``outreach`` command; a lead
or a call outside the user's region answers "not found"."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from safetynet.audit.log import Actor
from safetynet.cases.views import region_subtree
from safetynet.entrypoints.api.bounds import INT4_MAX
from safetynet.entrypoints.api.policy import Action, in_region
from safetynet.entrypoints.web import outreach_forms as forms
from safetynet.entrypoints.web.errors import FieldErrors, attempt
from safetynet.entrypoints.web.rendering import page_locale, render
from safetynet.entrypoints.web.session import NotFound, StaffUser, form_of, service_of, staff
from safetynet.errors import UnknownNameError
from safetynet.outreach.model import CHANNELS, LEAD_SOURCES, TOPICS, Contact
from safetynet.outreach.views import contact_rows, lead_progress, lead_rows, office_stats

router = APIRouter(include_in_schema=False)

_FIELDS = {
    "subject": "subject_name",
    "subject.name": "subject_name",
    "subject.id_number": "subject_id_number",
}
"""A handler's field name → the form's input."""


def _field_of(prefix: str) -> Callable[[str], str]:
    return lambda field: f"{prefix}-{_FIELDS.get(field, field)}"


def _hotline_context(request: Request, user: StaffUser) -> dict[str, Any]:
    service = service_of(request)
    with service.db.sessions() as session:
        rows = contact_rows(session, within=user.region, today=service.today())
    query = request.query_params
    return {
        **forms.listing("contacts", rows, query),
        **forms.form_state(query, service.today()),
        "channels": CHANNELS,
        "topics": TOPICS,
    }


def _refused(
    request: Request, user: StaffUser, template: str, context: dict[str, Any], key: str,
    errors: FieldErrors, form: Mapping[str, str],
) -> Response:  # fmt: skip
    context.update(errors=errors, form=form, failed=key)
    return render(request, template, user, context, status_code=422)


@router.get("/hotline")
def hotline(request: Request, user: Annotated[StaffUser, Depends(staff(Action.READ))]) -> Response:
    """Calls and messages routed to the user's office or below, overdue first."""
    return render(request, "hotline.html", user, _hotline_context(request, user))


@router.post("/hotline")
async def record_call(
    request: Request, user: Annotated[StaffUser, Depends(staff(Action.RECORD_CONTACT))]
) -> Response:
    """Record a call; a report of a person in need opens a lead too."""
    form = await form_of(request)
    service = service_of(request)

    def run() -> int:
        command = forms.record_contact(form, user.user.actor, service.today(), user.region)
        return int(service.bus.handle(command))

    _, errors = attempt(run, page_locale(request, user), _field_of("rc"))
    if errors:
        context = _hotline_context(request, user)
        return _refused(request, user, "hotline.html", context, "rc", errors, form)
    return RedirectResponse("/hotline?done=record", status_code=303)


def _contact_in_region(request: Request, user: StaffUser, contact_id: int) -> None:
    """The call is routed to the user's office or below (else "not found", as a missing one)."""
    if not 1 <= contact_id <= INT4_MAX:
        raise NotFound()
    with service_of(request).db.sessions() as session:
        contact = session.get(Contact, contact_id)
        office = contact.routed_to if contact is not None else None
    if office is None or not in_region(user.region, office):
        raise NotFound()


Builder = Callable[[Mapping[str, str], Actor, Any, int], object]


async def _contact_step(
    request: Request, user: StaffUser, contact_id: int, key: str, build: Builder
) -> Response:
    form = await form_of(request)
    _contact_in_region(request, user, contact_id)
    service = service_of(request)

    def run() -> None:
        service.bus.handle(build(form, user.user.actor, service.today(), contact_id))

    _, errors = attempt(run, page_locale(request, user), _field_of(f"{key}-{contact_id}"))
    if errors:
        context = _hotline_context(request, user)
        failed = f"{key}-{contact_id}"
        return _refused(request, user, "hotline.html", context, failed, errors, form)
    return RedirectResponse(f"/hotline?done={key}", status_code=303)


@router.post("/hotline/{contact_id}/answer")
async def answer_call(
    request: Request,
    contact_id: int,
    user: Annotated[StaffUser, Depends(staff(Action.ANSWER_CONTACT))],
) -> Response:
    return await _contact_step(request, user, contact_id, "answer", forms.answer_contact)


@router.post("/hotline/{contact_id}/rating")
async def rate_call(
    request: Request,
    contact_id: int,
    user: Annotated[StaffUser, Depends(staff(Action.RECORD_CONTACT))],
) -> Response:
    """The caller's rating of the answer, taken by the hotline."""
    return await _contact_step(request, user, contact_id, "rate", forms.rate_contact)


@router.get("/hotline/stats")
def hotline_stats(
    request: Request, user: Annotated[StaffUser, Depends(staff(Action.READ))]
) -> Response:
    """Per office under the user's region: calls, answered on time, overdue, ratings; leads."""
    service = service_of(request)
    with service.db.sessions() as session:
        rows = [
            s.to_json() for s in office_stats(session, within=user.region, today=service.today())
        ]
    return render(request, "hotline_stats.html", user, {"offices": rows})


# -- leads ---------------------------------------------------------------------------------------


def _leads_context(request: Request, user: StaffUser) -> dict[str, Any]:
    service = service_of(request)
    with service.db.sessions() as session:
        rows = lead_rows(session, within=user.region, today=service.today())
    query = request.query_params
    return {
        **forms.listing("leads", rows, query),
        **forms.form_state(query, service.today()),
        "sources": LEAD_SOURCES,
    }


@router.get("/leads")
def leads(request: Request, user: Annotated[StaffUser, Depends(staff(Action.READ))]) -> Response:
    """The leads of the user's region and below, overdue visits first."""
    return render(request, "leads.html", user, _leads_context(request, user))


@router.post("/leads")
async def report(
    request: Request, user: Annotated[StaffUser, Depends(staff(Action.REPORT_LEAD))]
) -> Response:
    form = await form_of(request)
    service = service_of(request)

    def run() -> int:
        command = forms.report_lead(form, user.user.actor, service.today(), user.region)
        return int(service.bus.handle(command))

    lead_id, errors = attempt(run, page_locale(request, user), _field_of("rl"))
    if errors or lead_id is None:
        context = _leads_context(request, user)
        return _refused(request, user, "leads.html", context, "rl", errors, form)
    return RedirectResponse(f"/leads/{lead_id}?done=report", status_code=303)


def _lead_context(request: Request, user: StaffUser, lead_id: int) -> dict[str, Any]:
    service = service_of(request)
    today = service.today()
    with service.db.sessions() as session:
        found = [
            r for r in lead_rows(session, within=user.region, today=today) if r["id"] == lead_id
        ]
        if not found:
            raise NotFound()
        try:
            way = lead_progress(session, lead_id, within=region_subtree(user.region), today=today)
        except UnknownNameError:
            raise NotFound() from None
    return {"lead": found[0], "way": way, **forms.form_state(request.query_params, today)}


@router.get("/leads/{lead_id}")
def lead(
    request: Request, lead_id: int, user: Annotated[StaffUser, Depends(staff(Action.READ))]
) -> Response:
    """The lead and its way: each step's office, deadline and whether it was kept."""
    return render(request, "lead.html", user, _lead_context(request, user, lead_id))


async def _lead_step(
    request: Request, user: StaffUser, lead_id: int, key: str, build: Builder
) -> Response:
    form = await form_of(request)
    context = _lead_context(request, user, lead_id)
    service = service_of(request)

    def run() -> None:
        service.bus.handle(build(form, user.user.actor, service.today(), lead_id))

    _, errors = attempt(run, page_locale(request, user), _field_of(key))
    if errors:
        return _refused(request, user, "lead.html", context, key, errors, form)
    return RedirectResponse(f"/leads/{lead_id}?done={key}", status_code=303)


@router.post("/leads/{lead_id}/visit")
async def visit(
    request: Request, lead_id: int, user: Annotated[StaffUser, Depends(staff(Action.VISIT_LEAD))]
) -> Response:
    return await _lead_step(request, user, lead_id, "visit", forms.visit_lead)


@router.post("/leads/{lead_id}/close")
async def close(
    request: Request, lead_id: int, user: Annotated[StaffUser, Depends(staff(Action.CLOSE_LEAD))]
) -> Response:
    return await _lead_step(request, user, lead_id, "close", forms.close_lead)
