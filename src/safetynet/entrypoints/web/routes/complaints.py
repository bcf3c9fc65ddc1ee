"""Households' complaints (投诉) on the workbench: those of households registered in the user's
region and below, unanswered first with their age in working days, and the office's answer (one
``AnswerComplaint`` command). A complaint of a household outside the user's region answers "not
found", exactly as a missing one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from safetynet.cases.views import complaint_region, complaint_rows
from safetynet.entrypoints.api.bounds import INT4_MAX
from safetynet.entrypoints.api.policy import Action, in_region
from safetynet.entrypoints.web import outreach_forms as forms
from safetynet.entrypoints.web.errors import FieldErrors, attempt
from safetynet.entrypoints.web.rendering import page_locale, render
from safetynet.entrypoints.web.session import NotFound, StaffUser, form_of, service_of, staff

router = APIRouter(include_in_schema=False)

_FIELDS = {"complaint_id": "answer"}
"""A handler's field name → the form's input (a complaint answered already: beside the answer)."""


def _complaints_context(request: Request, user: StaffUser) -> dict[str, Any]:
    service = service_of(request)
    with service.db.sessions() as session:
        rows = complaint_rows(session, within=user.region, today=service.today())
    query = request.query_params
    return forms.listing("complaints", rows, query) | forms.form_state(query, service.today())


@router.get("/complaints")
def complaints(
    request: Request, user: Annotated[StaffUser, Depends(staff(Action.READ_COMPLAINTS))]
) -> Response:
    """The complaints of households in the user's region and below, unanswered first."""
    return render(request, "complaints.html", user, _complaints_context(request, user))


def _complaint_in_region(request: Request, user: StaffUser, complaint_id: int) -> None:
    """The complaint's household is in the user's region or below (else "not found")."""
    if not 1 <= complaint_id <= INT4_MAX:
        raise NotFound()
    with service_of(request).db.sessions() as session:
        region = complaint_region(session, complaint_id)
    if region is None or not in_region(user.region, region):
        raise NotFound()


@router.post("/complaints/{complaint_id}/answer")
async def answer(
    request: Request,
    complaint_id: int,
    user: Annotated[StaffUser, Depends(staff(Action.ANSWER_COMPLAINT))],
) -> Response:
    """The office's answer to one complaint; the household reads it on its own page."""
    form = await form_of(request)
    _complaint_in_region(request, user, complaint_id)
    service = service_of(request)

    def run() -> None:
        command = forms.answer_complaint(form, user.user.actor, service.today(), complaint_id)
        service.bus.handle(command)

    key = f"answer-{complaint_id}"
    _, errors = attempt(run, page_locale(request, user), lambda f: f"{key}-{_FIELDS.get(f, f)}")
    if errors:
        return _refused(request, user, key, errors, form)
    return RedirectResponse(f"/complaints?done=answer#complaint-{complaint_id}", status_code=303)


def _refused(
    request: Request, user: StaffUser, key: str, errors: FieldErrors, form: dict[str, str]
) -> Response:
    context = _complaints_context(request, user)
    context.update(errors=errors, form=form, failed=key)
    return render(request, "complaints.html", user, context, status_code=422)
