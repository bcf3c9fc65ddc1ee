"""Applications and their tracks: the statutory steps from acceptance to payment, appeals, the
written notice; every step a command of the case workflow, refused with its reason on the page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from safetynet.cases.workflow import took_part
from safetynet.entrypoints.api.policy import FULL_IDENTITY_ROLES, Action
from safetynet.entrypoints.web import steps, views
from safetynet.entrypoints.web.errors import attempt
from safetynet.entrypoints.web.rendering import page_locale, render
from safetynet.entrypoints.web.session import NotFound, StaffUser, form_of, service_of, staff

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/cases")
def cases(
    request: Request, user: Annotated[StaffUser, Depends(staff(Action.READ))], page: int = 0
) -> Response:
    """Applications lodged in the user's region, newest page last."""
    page = max(0, min(page, 10_000))
    found = service_of(request).applications(
        user.region, offset=page * PAGE, limit=PAGE, relatives=user.may(Action.READ_RELATIVES)
    )
    return render(request, "cases.html", user, {"applications": found, "page": page, "size": PAGE})


@router.get("/cases/{application_id}")
def application(
    request: Request,
    application_id: int,
    user: Annotated[StaffUser, Depends(staff(Action.READ))],
) -> Response:
    found = service_of(request).application(
        application_id, user.region, full_identity=False, relatives=user.may(Action.READ_RELATIVES)
    )
    if found is None:
        raise NotFound()
    return render(request, "application.html", user, {"application": found})


def _track_context(request: Request, user: StaffUser, track_id: int) -> dict[str, Any]:
    service = service_of(request)
    track = service.track(track_id, user.region)
    if track is None:
        raise NotFound()
    app = service.application(
        track.application_id, user.region, full_identity=False, relatives=False
    )
    assert app is not None  # the track is in the region, so is its application
    report = views.verification_report(service.db, track_id)
    declared = steps.declared_facts(app.household)
    offered = [
        steps.STEPS[name]
        for name in steps.STEPS_IN_STATE.get(track.status, ())
        if user.may(steps.STEPS[name].action)
    ]
    maker = took_part(track.accepted_by, track.investigators, user.user.name)
    if maker:
        offered = [s for s in offered if s.name not in ("confirm", "refuse")]
    return {
        "track": track,
        "application": app,
        "facts": views.fact_comparison(declared, report),
        "declared": declared,
        "report": report,
        "offered": offered,
        "maker": maker and user.may(Action.CONFIRM),
        "appeals": service.appeals_of(track_id),
        "today": service.today(),
        "full_identity": user.role in FULL_IDENTITY_ROLES,
        "errors": [],
        "form": {},
        "done": request.query_params.get("done", ""),
    }


@router.get("/cases/tracks/{track_id}")
def track_page(
    request: Request, track_id: int, user: Annotated[StaffUser, Depends(staff(Action.READ))]
) -> Response:
    return render(request, "track.html", user, _track_context(request, user, track_id))


@router.post("/cases/tracks/{track_id}/{step_name}")
async def track_step(
    request: Request,
    track_id: int,
    step_name: str,
    user: Annotated[StaffUser, Depends(staff(Action.READ))],
) -> Response:
    """Take ``step_name`` on the track, as the version the user saw (``version``)."""
    step = steps.STEPS.get(step_name)
    if step is None:
        raise NotFound()
    form = await form_of(request)
    staff(step.action)(request)  # the role may take this step (else 403)
    context = _track_context(request, user, track_id)
    service = service_of(request)
    today = service.today()
    locale = page_locale(request, user)
    try:
        version = int(form.get("version", ""))
    except ValueError:
        version = context["track"].version

    def run() -> int | None:
        if step.name == "accept":
            on = steps.parse_date(form["on"], "on") if form.get("on") else today
            service.accept(user.user.actor, on, track_id, version)
            return None
        return service.run(
            steps.build_command(step, form, user.user.actor, today, track_id, version)
        )

    _, errors = attempt(run, locale)
    if errors:
        context.update(errors=[(f"{step.name}-{f}" if f else "", m) for f, m in errors], form=form)
        context["failed_step"] = step.name
        return render(request, "track.html", user, context, status_code=422)
    return RedirectResponse(f"/cases/tracks/{track_id}?done={step.name}", status_code=303)


@router.get("/cases/tracks/{track_id}/notice.pdf")
def notice(
    request: Request, track_id: int, user: Annotated[StaffUser, Depends(staff(Action.READ))]
) -> Response:
    """The written notice of the track's decision, as PDF."""
    service = service_of(request)
    if service.track(track_id, user.region) is None:
        raise NotFound()
    pdf, errors = attempt(lambda: service.notice_pdf(track_id), page_locale(request, user))
    if pdf is None:
        context = {"heading": errors[0][1] if errors else "", "text": ""}
        return render(request, "message.html", user, context, status_code=409)
    headers = {"Content-Disposition": f'inline; filename="notice-{track_id}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.post("/cases/appeals/{appeal_id}/decide")
async def decide_appeal(
    request: Request,
    appeal_id: int,
    user: Annotated[StaffUser, Depends(staff(Action.DECIDE_APPEAL))],
) -> Response:
    form = await form_of(request)
    service = service_of(request)
    appeal = service.appeal(appeal_id, user.region)
    if appeal is None:
        raise NotFound()
    locale = page_locale(request, user)

    def run() -> None:
        command = steps.appeal_decision(form, user.user.actor, service.today(), appeal_id)
        service.decide_appeal(command, appeal.version)

    _, errors = attempt(run, locale)
    if errors:
        context = _track_context(request, user, appeal.track_id)
        context["errors"] = errors
        return render(request, "track.html", user, context, status_code=422)
    return RedirectResponse(f"/cases/tracks/{appeal.track_id}?done=decide-appeal", status_code=303)
