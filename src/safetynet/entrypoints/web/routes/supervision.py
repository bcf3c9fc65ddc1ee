"""The auditor's pages: the hash chain verified, the audit trail of a household or a case as a
timeline, the register of staff relatives; and the monitoring alerts with re-checks opened from
them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from safetynet.cases import commands as c
from safetynet.entrypoints.api.policy import Action
from safetynet.entrypoints.web import views
from safetynet.entrypoints.web.errors import attempt
from safetynet.entrypoints.web.rendering import page_locale, render
from safetynet.entrypoints.web.session import NotFound, StaffUser, form_of, service_of, staff

router = APIRouter(include_in_schema=False)


@router.get("/supervision")
def supervision(
    request: Request, user: Annotated[StaffUser, Depends(staff(Action.AUDIT_VERIFY))]
) -> Response:
    return render(request, "supervision.html", user, {"report": None})


@router.post("/supervision/verify")
async def verify(
    request: Request, user: Annotated[StaffUser, Depends(staff(Action.AUDIT_VERIFY))]
) -> Response:
    """Verify the whole chain (every entry's hash and key, the checkpoints)."""
    await form_of(request)
    report = service_of(request).verify_audit()
    return render(request, "supervision.html", user, {"report": report})


@router.get("/supervision/households/{household_id}")
def household_trail(
    request: Request,
    household_id: int,
    user: Annotated[StaffUser, Depends(staff(Action.AUDIT_VERIFY))],
) -> Response:
    found = views.household_in_region(service_of(request).db, household_id, user.region)
    if found is None:
        raise NotFound()
    entries = [
        views.TimelineEntry(
            h.entry_id, h.occurred_at, h.actor, h.role, h.event, h.entity, h.entity_id, h.after
        )
        for h in reversed(found.history)
    ]
    context = {"heading_no": found.household_no, "entries": entries, "kind": "household"}
    return render(request, "timeline.html", user, context)


@router.get("/supervision/tracks/{track_id}")
def case_trail(
    request: Request,
    track_id: int,
    user: Annotated[StaffUser, Depends(staff(Action.AUDIT_VERIFY))],
) -> Response:
    service = service_of(request)
    track = service.track(track_id, user.region)
    if track is None:
        raise NotFound()
    entries = views.case_timeline(service.db, track_id, track.application_id)
    context = {"heading_no": str(track_id), "entries": entries, "kind": "case"}
    return render(request, "timeline.html", user, context)


@router.get("/relatives")
def relatives(
    request: Request, user: Annotated[StaffUser, Depends(staff(Action.READ_RELATIVES))]
) -> Response:
    """The register of staff relatives of the region and the applications it flagged."""
    service = service_of(request)
    context = {
        "register": service.staff_register(user.region),
        "flagged": service.relatives_report(user.region),
    }
    return render(request, "relatives.html", user, context)


@router.get("/alerts")
def alerts(
    request: Request, user: Annotated[StaffUser, Depends(staff(Action.READ_ALERTS))]
) -> Response:
    service = service_of(request)
    found = views.alerts_in_region(service.db, user.region)
    return render(request, "alerts.html", user, {"alerts": found, "today": service.today()})


@router.post("/alerts/{alert_id}/recheck")
async def open_recheck(
    request: Request,
    alert_id: int,
    user: Annotated[StaffUser, Depends(staff(Action.OPEN_RECHECK))],
) -> Response:
    """Open a re-check of one of the household's tracks because of the alert."""
    form = await form_of(request)
    service = service_of(request)
    try:
        track_id = int(form.get("track_id", ""))
    except ValueError:
        raise NotFound() from None
    if service.track(track_id, user.region) is None:
        raise NotFound()
    locale = page_locale(request, user)
    command = c.OpenRecheck(
        actor=user.user.actor,
        on=service.today(),
        track_id=track_id,
        alert_id=alert_id,
        reason=form.get("reason", "").strip() or "monitoring alert",
    )
    _, errors = attempt(lambda: service.run(command), locale)
    if errors:
        found = views.alerts_in_region(service.db, user.region)
        context = {"alerts": found, "errors": errors, "today": service.today()}
        return render(request, "alerts.html", user, context, status_code=422)
    return RedirectResponse(f"/cases/tracks/{track_id}?done=open-recheck", status_code=303)
