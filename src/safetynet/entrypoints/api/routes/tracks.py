"""``/tracks/{track_id}``: read a track and take the workflow's steps on it.

Each action builds one workflow command and hands it to the service; the body carries the
``expected_version`` the user saw (409 if the track has changed since).
"""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from safetynet.cases import commands as c
from safetynet.entrypoints.api.auth import User
from safetynet.entrypoints.api.deps import ScopedTrack, ServiceDep, allowed, not_found, scoped_track
from safetynet.entrypoints.api.policy import Action
from safetynet.entrypoints.api.schemas import (
    ActionBody,
    CloseNoticeBody,
    HomeVisitBody,
    InvestigationBody,
    ObjectionBody,
    OpinionBody,
    PaymentBody,
    PostNoticeBody,
    RefuseBody,
    TrackPublic,
    VerificationBody,
)
from safetynet.entrypoints.api.service import CaseService

__all__ = ["router"]

router = APIRouter(prefix="/tracks", tags=["tracks"])


def _on(body: ActionBody, service: CaseService) -> dt.date:
    return body.on or service.today()


def _run(service: CaseService, track: ScopedTrack, cmd: c.TrackCommand) -> TrackPublic:
    service.run(cmd)
    found = service.track(track.id, track.user.region)
    assert found is not None  # scoped before the step
    return found


@router.get("/{track_id}", openapi_extra={"x-action": Action.READ.value})
def read_track(
    track_id: int, user: Annotated[User, Depends(allowed(Action.READ))], service: ServiceDep
) -> TrackPublic:
    """One track: its state, version, deadlines (the pending ones listed) and decision."""
    found = service.track(track_id, user.region)
    if found is None:
        raise not_found("track", track_id)
    return found


@router.get(
    "/{track_id}/notice",
    openapi_extra={"x-action": Action.READ.value},
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def read_notice(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.READ))], service: ServiceDep
) -> Response:
    """The written notice of the track's decision as PDF: an approval with the amount, the first
    payment month and the explanation with citations, or a refusal with reasons and the appeal
    route. A track without a decision is refused (409)."""
    return Response(content=service.notice_pdf(track.id), media_type="application/pdf")


@router.post("/{track_id}/accept", openapi_extra={"x-action": Action.ACCEPT.value})
def accept(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.ACCEPT))],
    body: ActionBody,
    service: ServiceDep,
) -> TrackPublic:
    """Accept the application the track belongs to: every track of it starts its statutory
    clocks (investigation start within 3 working days, overall limit)."""
    service.accept(track.user.actor, _on(body, service), track.id, body.expected_version)
    found = service.track(track.id, track.user.region)
    assert found is not None  # scoped before the step
    return found


@router.post(
    "/{track_id}/start-investigation", openapi_extra={"x-action": Action.START_INVESTIGATION.value}
)
def start_investigation(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.START_INVESTIGATION))],
    body: InvestigationBody,
    service: ServiceDep,
) -> TrackPublic:
    """Start the investigation with a team of at least two people."""
    return _run(
        service,
        track,
        c.StartInvestigation(
            actor=track.user.actor,
            on=_on(body, service),
            track_id=track.id,
            expected_version=body.expected_version,
            investigators=tuple(body.investigators),
        ),
    )


@router.post("/{track_id}/home-visit", openapi_extra={"x-action": Action.HOME_VISIT.value})
def home_visit(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.HOME_VISIT))],
    body: HomeVisitBody,
    service: ServiceDep,
) -> TrackPublic:
    """Record a home visit (township, or county where the rules ask for one); township visitors
    count as investigators for maker-checker."""
    return _run(
        service,
        track,
        c.RecordHomeVisit(
            actor=track.user.actor,
            on=_on(body, service),
            track_id=track.id,
            expected_version=body.expected_version,
            visitors=tuple(body.visitors),
            level=body.level,
            notes=body.notes,
        ),
    )


@router.post("/{track_id}/verification", openapi_extra={"x-action": Action.VERIFICATION.value})
def verification(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.VERIFICATION))],
    body: VerificationBody,
    service: ServiceDep,
) -> TrackPublic:
    """Attach the verification report and the cross-check request (after the home visit)."""
    return _run(
        service,
        track,
        c.AttachVerificationReport(
            actor=track.user.actor,
            on=_on(body, service),
            track_id=track.id,
            expected_version=body.expected_version,
            report=body.report,
            cross_check_requested_on=body.cross_check_requested_on,
            cross_check_started_on=body.cross_check_started_on,
        ),
    )


@router.post(
    "/{track_id}/township-opinion", openapi_extra={"x-action": Action.TOWNSHIP_OPINION.value}
)
def township_opinion(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.TOWNSHIP_OPINION))],
    body: OpinionBody,
    service: ServiceDep,
) -> TrackPublic:
    """Give the township's opinion (approve or refuse) with its reasons."""
    return _run(
        service,
        track,
        c.GiveTownshipOpinion(
            actor=track.user.actor,
            on=_on(body, service),
            track_id=track.id,
            expected_version=body.expected_version,
            proposal=body.proposal,
            reasons=tuple(body.reasons),
        ),
    )


@router.post("/{track_id}/post-notice", openapi_extra={"x-action": Action.POST_NOTICE.value})
def post_notice(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.POST_NOTICE))],
    body: PostNoticeBody,
    service: ServiceDep,
) -> TrackPublic:
    """Post the public notice (7 days, rolled to a working day)."""
    return _run(
        service,
        track,
        c.PostPublicNotice(
            actor=track.user.actor,
            on=_on(body, service),
            track_id=track.id,
            expected_version=body.expected_version,
            purpose=body.purpose,
        ),
    )


@router.post("/{track_id}/objection", openapi_extra={"x-action": Action.OBJECTION.value})
def objection(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.OBJECTION))],
    body: ObjectionBody,
    service: ServiceDep,
) -> TrackPublic:
    """Record an objection during the notice: the track goes back to investigation."""
    return _run(
        service,
        track,
        c.RecordObjection(
            actor=track.user.actor,
            on=_on(body, service),
            track_id=track.id,
            expected_version=body.expected_version,
            summary=body.summary,
        ),
    )


@router.post("/{track_id}/close-notice", openapi_extra={"x-action": Action.CLOSE_NOTICE.value})
def close_notice(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.CLOSE_NOTICE))],
    body: CloseNoticeBody,
    service: ServiceDep,
) -> TrackPublic:
    """Close the notice from its end date; the file goes to the county (its decision clock starts
    when it receives it)."""
    return _run(
        service,
        track,
        c.ClosePublicNotice(
            actor=track.user.actor,
            on=_on(body, service),
            track_id=track.id,
            expected_version=body.expected_version,
            county_received_on=body.county_received_on,
        ),
    )


@router.post("/{track_id}/confirm", openapi_extra={"x-action": Action.CONFIRM.value})
def confirm(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.CONFIRM))],
    body: ActionBody,
    service: ServiceDep,
) -> TrackPublic:
    """Approve: the rules core computes the amount; enrolment starts the following month. Refused
    (409) for whoever accepted or investigated the case (maker-checker)."""
    return _run(
        service,
        track,
        c.ConfirmTrack(
            actor=track.user.actor,
            on=_on(body, service),
            track_id=track.id,
            expected_version=body.expected_version,
        ),
    )


@router.post("/{track_id}/refuse", openapi_extra={"x-action": Action.REFUSE.value})
def refuse(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.REFUSE))],
    body: RefuseBody,
    service: ServiceDep,
) -> TrackPublic:
    """Refuse with reasons; the written notice is due within 3 working days."""
    return _run(
        service,
        track,
        c.RefuseTrack(
            actor=track.user.actor,
            on=_on(body, service),
            track_id=track.id,
            expected_version=body.expected_version,
            reasons=tuple(body.reasons),
        ),
    )


@router.post("/{track_id}/start-payment", openapi_extra={"x-action": Action.START_PAYMENT.value})
def start_payment(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.START_PAYMENT))],
    body: PaymentBody,
    service: ServiceDep,
) -> TrackPublic:
    """Start payment of an approved track from its first payment month (or pay an emergency advance)."""
    return _run(
        service,
        track,
        c.StartPayment(
            actor=track.user.actor,
            on=_on(body, service),
            track_id=track.id,
            expected_version=body.expected_version,
            advance_amount_fen=body.advance_amount_fen,
        ),
    )
