"""``/appeals/{appeal_id}``: read an appeal and record its decision.

Appeals are lodged against a track (``POST /tracks/{track_id}/appeals``); a decision in the
applicant's favour sends the track back to the step it names.
"""

from typing import Annotated

from fastapi import APIRouter, Depends

from safetynet.cases import commands as c
from safetynet.entrypoints.api.deps import ScopedAppeal, ServiceDep, scoped_appeal
from safetynet.entrypoints.api.policy import Action
from safetynet.entrypoints.api.schemas import AppealDecision, AppealPublic

__all__ = ["router"]

router = APIRouter(prefix="/appeals", tags=["appeals"])


def _found(service: ServiceDep, appeal: ScopedAppeal) -> AppealPublic:
    found = service.appeal(appeal.id, appeal.user.region)
    assert found is not None  # scoped before
    return found


@router.get("/{appeal_id}", openapi_extra={"x-action": Action.READ.value})
def read_appeal(
    appeal: Annotated[ScopedAppeal, Depends(scoped_appeal(Action.READ))], service: ServiceDep
) -> AppealPublic:
    """One appeal: its kind, time limits, grounds and outcome."""
    return _found(service, appeal)


@router.post("/{appeal_id}/decide", openapi_extra={"x-action": Action.DECIDE_APPEAL.value})
def decide_appeal(
    appeal: Annotated[ScopedAppeal, Depends(scoped_appeal(Action.DECIDE_APPEAL))],
    body: AppealDecision,
    service: ServiceDep,
) -> AppealPublic:
    """Record the appeal's outcome with reasons. ``revoked`` or ``varied`` (in the applicant's
    favour) must name ``reopen_at``: the track goes back to investigation, a new township
    opinion, a new county decision, or payment resumes (a suspension or termination undone).
    A decided appeal, or a step the track's state does not allow, is refused (409)."""
    service.decide_appeal(
        c.DecideAppeal(
            actor=appeal.user.actor,
            on=body.on or service.today(),
            appeal_id=appeal.id,
            outcome=body.outcome,
            reasons=tuple(body.reasons),
            reopen_at=body.reopen_at,
        ),
        body.expected_version,
    )
    return _found(service, appeal)
