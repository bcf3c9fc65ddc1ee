"""``/tracks/{track_id}``: read a track and take the workflow's steps on it.

Each action builds one workflow command and hands it to the service; the body carries the
``expected_version`` the user saw (409 if the track has changed since).
"""

import datetime as dt
from typing import Annotated, Any, Literal, TypedDict

from fastapi import APIRouter, Depends, Response, status

from safetynet.audit.log import Actor
from safetynet.cases import commands as c
from safetynet.entrypoints.api.auth import User
from safetynet.entrypoints.api.bounds import TrackIdPath, refuse_amounts_above
from safetynet.entrypoints.api.deps import ScopedTrack, ServiceDep, allowed, not_found, scoped_track
from safetynet.entrypoints.api.policy import Action
from safetynet.entrypoints.api.schemas import (
    ActionBody,
    AppealCreate,
    AppealPublic,
    CloseNoticeBody,
    ConfirmBody,
    DeathBody,
    ExtendLimitBody,
    GradualExitBody,
    HomeVisitBody,
    InvestigationBody,
    JobAcceptanceBody,
    JobRefusalBody,
    ObjectionBody,
    OpenRecheckBody,
    OpinionBody,
    PaymentBody,
    PostNoticeBody,
    ReasonBody,
    RecheckBody,
    RecheckScheduleBody,
    RefuseBody,
    TrackPublic,
    VerificationBody,
)
from safetynet.entrypoints.api.service import CaseService

__all__ = ["router"]

router = APIRouter(prefix="/tracks", tags=["tracks"])


class _Step(TypedDict):
    """What every track command carries: who takes the step, on which business date, on which
    track, and the track version the user saw."""

    actor: Actor
    on: dt.date
    track_id: int
    expected_version: int


def _step(track: ScopedTrack, body: ActionBody, service: CaseService) -> _Step:
    return _Step(
        actor=track.user.actor,
        on=body.on or service.today(),
        track_id=track.id,
        expected_version=body.expected_version,
    )


def _amounts_within_maximum(
    service: CaseService,
    track: ScopedTrack,
    step: _Step,
    *,
    fen: dict[str, int | None] | None = None,
    households: dict[str, dict[str, Any] | None] | None = None,
) -> None:
    """422 for an amount above the maximum in force on the step's date where the track was
    lodged (``common.intake.maximum_amount``)."""
    refuse_amounts_above(
        service.maximum_amount_fen(step["on"], track.region),
        on=step["on"],
        region=track.region,
        fen=fen,
        households=households,
    )


def _reread(service: CaseService, track: ScopedTrack) -> TrackPublic:
    found = service.track(track.id, track.user.region)
    assert found is not None  # scoped before the step
    return found


def _run(service: CaseService, track: ScopedTrack, cmd: c.TrackCommand) -> TrackPublic:
    service.run(cmd)
    return _reread(service, track)


@router.get("/{track_id}", openapi_extra={"x-action": Action.READ.value})
def read_track(
    track_id: TrackIdPath,
    user: Annotated[User, Depends(allowed(Action.READ))],
    service: ServiceDep,
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
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.READ))],
    service: ServiceDep,
    copy: Literal["citizen", "file"] = "citizen",
) -> Response:
    """The written notice of the track's decision as PDF, with its document number: an approval
    with the amount, the first payment month and the calculation in an annex, or a refusal with
    reasons; the appeal rights. ``copy=file`` is the office's copy (parameter ids and provenance
    flags in the annex). A track without a decision is refused (409)."""
    return Response(content=service.notice_pdf(track.id, copy), media_type="application/pdf")


@router.post("/{track_id}/accept", openapi_extra={"x-action": Action.ACCEPT.value})
def accept(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.ACCEPT))],
    body: ActionBody,
    service: ServiceDep,
) -> TrackPublic:
    """Accept the application the track belongs to: every track of it starts its statutory
    clocks (investigation start within 3 working days, overall limit)."""
    service.accept(**_step(track, body, service))
    return _reread(service, track)


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
            **_step(track, body, service), investigators=tuple(body.investigators)
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
            **_step(track, body, service),
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
            **_step(track, body, service),
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
            **_step(track, body, service), proposal=body.proposal, reasons=tuple(body.reasons)
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
        service, track, c.PostPublicNotice(**_step(track, body, service), purpose=body.purpose)
    )


@router.post("/{track_id}/objection", openapi_extra={"x-action": Action.OBJECTION.value})
def objection(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.OBJECTION))],
    body: ObjectionBody,
    service: ServiceDep,
) -> TrackPublic:
    """Record an objection during the notice: the track goes back to investigation."""
    return _run(
        service, track, c.RecordObjection(**_step(track, body, service), summary=body.summary)
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
            **_step(track, body, service), county_received_on=body.county_received_on
        ),
    )


@router.post("/{track_id}/confirm", openapi_extra={"x-action": Action.CONFIRM.value})
def confirm(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.CONFIRM))],
    body: ConfirmBody,
    service: ServiceDep,
) -> TrackPublic:
    """Approve: the rules core computes the amount; enrolment starts the following month (a
    one-off program is awarded and paid once, the emergency advance deducted). Refused (409) for
    whoever accepted or investigated the case (maker-checker)."""
    step = _step(track, body, service)
    confirm = c.ConfirmTrack(
        **step, paid_to=body.paid_to, provider=body.provider, township=body.township
    )
    return _run(service, track, confirm)


@router.post("/{track_id}/refuse", openapi_extra={"x-action": Action.REFUSE.value})
def refuse(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.REFUSE))],
    body: RefuseBody,
    service: ServiceDep,
) -> TrackPublic:
    """Refuse with reasons; the written notice is due within 3 working days."""
    return _run(
        service, track, c.RefuseTrack(**_step(track, body, service), reasons=tuple(body.reasons))
    )


@router.post("/{track_id}/start-payment", openapi_extra={"x-action": Action.START_PAYMENT.value})
def start_payment(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.START_PAYMENT))],
    body: PaymentBody,
    service: ServiceDep,
) -> TrackPublic:
    """Start payment of an approved track from its first payment month (or pay an emergency advance)."""
    step = _step(track, body, service)
    _amounts_within_maximum(
        service, track, step, fen={"advance_amount_fen": body.advance_amount_fen}
    )
    start = c.StartPayment(
        **step,
        advance_amount_fen=body.advance_amount_fen,
        paid_to=body.paid_to,
        township=body.township,
    )
    return _run(service, track, start)


@router.post("/{track_id}/extend-limit", openapi_extra={"x-action": Action.EXTEND_LIMIT.value})
def extend_limit(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.EXTEND_LIMIT))],
    body: ExtendLimitBody,
    service: ServiceDep,
) -> TrackPublic:
    """Extend the overall time limit (dibao: 30 → 45 working days from acceptance) for a special
    circumstance: once, before it expires, with the reason recorded. Not for a limit that has no
    extended length (devolved confirmation, programs without one): 409."""
    return _run(
        service, track, c.ExtendTimeLimit(**_step(track, body, service), reason=body.reason)
    )


@router.post(
    "/{track_id}/schedule-recheck", openapi_extra={"x-action": Action.SCHEDULE_RECHECK.value}
)
def schedule_recheck(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.SCHEDULE_RECHECK))],
    body: RecheckScheduleBody,
    service: ServiceDep,
) -> TrackPublic:
    """Schedule the periodic re-check of a paying track: annual (stable finances) or half-yearly
    (irregular income, members able to work). An earlier re-check due after a death is kept."""
    return _run(
        service, track, c.ScheduleRecheck(**_step(track, body, service), frequency=body.frequency)
    )


@router.post("/{track_id}/rechecks", openapi_extra={"x-action": Action.OPEN_RECHECK.value})
def open_recheck(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.OPEN_RECHECK))],
    body: OpenRecheckBody,
    service: ServiceDep,
) -> TrackPublic:
    """Open a re-check of a paying, suspended or gradual-exit track because of monitoring alert
    ``alert_id`` (about the track's household; 422 otherwise). It is due within the re-check
    limit (30 working days [I]) or on an earlier ``due``; it is listed in the office's deadlines
    as ``alert_recheck`` and closed by the next recorded re-check. An alert not yet resolved is
    resolved ``recheck_started`` in the same transaction; one that opened a re-check already, or
    was resolved otherwise, is refused (409)."""
    return _run(
        service,
        track,
        c.OpenRecheck(
            **_step(track, body, service), alert_id=body.alert_id, reason=body.reason, due=body.due
        ),
    )


@router.post("/{track_id}/recheck", openapi_extra={"x-action": Action.RECORD_RECHECK.value})
def record_recheck(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.RECORD_RECHECK))],
    body: RecheckBody,
    service: ServiceDep,
) -> TrackPublic:
    """Record a re-check and schedule the next one; it closes the re-checks opened on the track
    (``rechecks``). With changed household facts the rules core recalculates the amount from the
    following month; a household no longer eligible is refused here (409): start its gradual exit
    or terminate it. In the gradual-exit period only findings are recorded (409 with facts)."""
    step = _step(track, body, service)
    _amounts_within_maximum(service, track, step, households={"household": body.household})
    return _run(
        service,
        track,
        c.RecordRecheck(
            **step,
            frequency=body.frequency,
            findings=body.findings,
            household=body.household,
        ),
    )


@router.post("/{track_id}/death", openapi_extra={"x-action": Action.RECORD_DEATH.value})
def record_death(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.RECORD_DEATH))],
    body: DeathBody,
    service: ServiceDep,
) -> TrackPublic:
    """Record the death of a household member on ``on``: the household is re-checked within 3
    months of it."""
    return _run(
        service, track, c.RecordDeath(**_step(track, body, service), id_number=body.id_number)
    )


@router.post(
    "/{track_id}/job-refusals", openapi_extra={"x-action": Action.RECORD_JOB_REFUSAL.value}
)
def record_job_refusal(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.RECORD_JOB_REFUSAL))],
    body: JobRefusalBody,
    service: ServiceDep,
) -> TrackPublic:
    """Record a suitable job offer a member refused without good reason (dibao). At the third
    refusal that member's share stops from the following month and the amount is recalculated."""
    return _run(
        service,
        track,
        c.RecordJobRefusal(
            **_step(track, body, service), id_number=body.id_number, offer=body.offer
        ),
    )


@router.post(
    "/{track_id}/job-acceptances", openapi_extra={"x-action": Action.RECORD_JOB_ACCEPTANCE.value}
)
def record_job_acceptance(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.RECORD_JOB_ACCEPTANCE))],
    body: JobAcceptanceBody,
    service: ServiceDep,
) -> TrackPublic:
    """Record a suitable job offer a member accepted (dibao): the member's refusals in a row
    count from zero again. The amount does not change here; a re-check with the new wage
    recalculates it (also a share stopped for refusals)."""
    return _run(
        service,
        track,
        c.RecordJobAcceptance(
            **_step(track, body, service), id_number=body.id_number, offer=body.offer
        ),
    )


@router.post("/{track_id}/suspend", openapi_extra={"x-action": Action.SUSPEND.value})
def suspend(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.SUSPEND))],
    body: ReasonBody,
    service: ServiceDep,
) -> TrackPublic:
    """Suspend payment of a paying track, with the reason; the enrolment is suspended too."""
    return _run(service, track, c.SuspendTrack(**_step(track, body, service), reason=body.reason))


@router.post("/{track_id}/gradual-exit", openapi_extra={"x-action": Action.GRADUAL_EXIT.value})
def gradual_exit(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.GRADUAL_EXIT))],
    body: GradualExitBody,
    service: ServiceDep,
) -> TrackPublic:
    """Income rose above the standard through work: the household keeps dibao for the
    gradual-exit period of the rules core (6 months after the month of the rise, nationally) and
    payment ends after it. The months and amounts are in ``gradual_exit_schedule``."""
    step = _step(track, body, service)
    _amounts_within_maximum(service, track, step, households={"household": body.household})
    return _run(
        service,
        track,
        c.StartGradualExit(
            **step,
            income_rose_in=body.income_rose_in,
            household=body.household,
        ),
    )


@router.post("/{track_id}/terminate", openapi_extra={"x-action": Action.TERMINATE.value})
def terminate(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.TERMINATE))],
    body: ReasonBody,
    service: ServiceDep,
) -> TrackPublic:
    """End support from the following month. Tekun needs its 7-day termination notice first
    (``post-notice`` with ``purpose=termination``) and ends only once it has run (409 before)."""
    return _run(service, track, c.TerminateTrack(**_step(track, body, service), reason=body.reason))


@router.get("/{track_id}/appeals", openapi_extra={"x-action": Action.READ.value})
def list_appeals(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.READ))], service: ServiceDep
) -> list[AppealPublic]:
    """The appeals lodged against the track, oldest first."""
    return service.appeals_of(track.id)


@router.post(
    "/{track_id}/appeals",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"x-action": Action.LODGE_APPEAL.value},
)
def lodge_appeal(
    track: Annotated[ScopedTrack, Depends(scoped_track(Action.LODGE_APPEAL))],
    body: AppealCreate,
    service: ServiceDep,
) -> AppealPublic:
    """Lodge an administrative reconsideration or a lawsuit against the track's decision, within
    its time limit from the day the applicant knew of the decision (409 after it)."""
    appeal_id = service.run(
        c.LodgeAppeal(
            **_step(track, body, service),
            kind=body.kind,
            decision_known_on=body.decision_known_on,
            grounds=body.grounds,
        )
    )
    found = service.appeal(appeal_id, track.user.region)
    assert found is not None  # against a track in the user's region
    return found
