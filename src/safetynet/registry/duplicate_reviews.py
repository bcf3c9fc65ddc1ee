"""The duplicates review queue with maker-checker (ADR 0016): one person proposes to merge or to
separate a queued pair, another — in a role that approves, never the proposer — approves it (the
merge or separation is then made, in the approval's transaction, by ``MergePersons`` /
``SeparatePersons`` of ``registry.duplicates``) or rejects it (the pair waits for a new
proposal). Each step is a command with its audit entry; identity numbers are masked in every
view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.errors import InputError, SafetyNetError, UnknownNameError
from safetynet.registry.changes import APPROVER_ROLES
from safetynet.registry.duplicates import (
    MergePersons,
    PairView,
    SeparatePersons,
    merge_persons,
    pair_view,
    separate_persons,
)
from safetynet.registry.duplicates_model import DuplicatePair
from safetynet.registry.model import Person

__all__ = [
    "HANDLERS",
    "ApproveDuplicateDecision",
    "DuplicateDecisionRefusedError",
    "PairProposal",
    "ProposeDuplicateDecision",
    "RejectDuplicateDecision",
    "pair_regions",
    "pair_with_proposal",
]

Clock = Callable[[], dt.datetime]


class DuplicateDecisionRefusedError(SafetyNetError):
    """A step the pair's state does not allow: already decided, nothing proposed or a proposal
    waiting, the proposer deciding their own proposal, a role that does not approve."""

    def __init__(self, pair_id: int, action: str, reason: str) -> None:
        self.pair_id = pair_id
        self.action = action
        self.reason = reason
        super().__init__(f"duplicate pair {pair_id}: cannot {action}: {reason}")


@dataclass(frozen=True, slots=True)
class PairProposal:
    """A pair as a clerk sees it, with the decision proposed and waiting (if any)."""

    pair: PairView
    proposed_action: str | None
    proposed_keep_person_id: int | None
    proposed_by: str | None
    proposed_at: dt.datetime | None
    proposal_reason: str | None


def _pair(session: Session, pair_id: int) -> DuplicatePair:
    pair = session.get(DuplicatePair, pair_id, with_for_update=True)
    if pair is None:
        raise UnknownNameError("duplicate pair", str(pair_id))
    return pair


def pair_regions(session: Session, pair_id: int) -> tuple[str, ...] | None:
    """The hukou regions of the pair's two persons (None: no such pair)."""
    pair = session.get(DuplicatePair, pair_id)
    if pair is None:
        return None
    rows = session.scalars(
        select(Person.hukou_region_code).where(
            Person.id.in_((pair.person_id, pair.other_person_id))
        )
    )
    return tuple(rows)


def pair_with_proposal(session: Session, pair_id: int) -> PairProposal | None:
    view = pair_view(session, pair_id)
    if view is None:
        return None
    pair = session.get(DuplicatePair, pair_id)
    assert pair is not None
    return PairProposal(view, pair.proposed_action, pair.proposed_keep_person_id,
                        pair.proposed_by, pair.proposed_at, pair.proposal_reason)  # fmt: skip


def _proposal(pair: DuplicatePair) -> dict[str, Any]:
    return {
        "proposed_action": pair.proposed_action,
        "proposed_keep_person_id": pair.proposed_keep_person_id,
        "proposed_by": pair.proposed_by,
        "proposal_reason": pair.proposal_reason,
    }


def _audit(
    uow: UnitOfWork,
    actor: Actor,
    command: str,
    event: str,
    pair: DuplicatePair,
    before: Mapping[str, Any],
    now: dt.datetime,
) -> None:
    append(uow.session, actor=actor, command=command, event=event, entity="duplicate_pair",
           entity_id=pair.id, before=before, after=_proposal(pair) | {"status": pair.status},
           occurred_at=now)  # fmt: skip


# -- propose -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ProposeDuplicateDecision:
    """Propose to merge the pair (keeping ``keep_person_id``) or to separate it."""

    pair_id: int
    action: Literal["merge", "separate"]
    reason: str
    actor: Actor
    keep_person_id: int | None = None


def propose_decision(cmd: ProposeDuplicateDecision, uow: UnitOfWork, clock: Clock) -> int:
    pair = _pair(uow.session, cmd.pair_id)
    if pair.status != "open":
        raise DuplicateDecisionRefusedError(
            pair.id, "propose", f"it was already decided ({pair.status})"
        )
    if pair.proposed_action is not None:
        raise DuplicateDecisionRefusedError(
            pair.id,
            "propose",
            f"{pair.proposed_by} proposed to {pair.proposed_action} it on "
            f"{pair.proposed_at:%Y-%m-%d}: approve or reject that first",
        )
    if not cmd.reason.strip():
        raise InputError("reason", "is required: say why (kept in the audit log)")
    keep = cmd.keep_person_id if cmd.action == "merge" else None
    if cmd.action == "merge" and keep not in (pair.person_id, pair.other_person_id):
        raise InputError("keep_person_id", f"is not one of pair {pair.id}'s persons")
    if cmd.action == "separate" and cmd.keep_person_id is not None:
        raise InputError("keep_person_id", "a separation keeps both persons")
    now = clock()
    before = _proposal(pair)
    pair.proposed_action = cmd.action
    pair.proposed_keep_person_id = keep
    pair.proposed_by = cmd.actor.name
    pair.proposed_at = now
    pair.proposal_reason = cmd.reason.strip()
    uow.session.flush()
    _audit(uow, cmd.actor, "ProposeDuplicateDecision", "DuplicateDecisionProposed", pair,
           before, now)  # fmt: skip
    uow.commit()
    return pair.id


# -- approve or reject ---------------------------------------------------------------------------


def _checked(pair: DuplicatePair, actor: Actor, action: str) -> str:
    if pair.status != "open":
        raise DuplicateDecisionRefusedError(
            pair.id, action, f"it was already decided ({pair.status})"
        )
    if pair.proposed_action is None:
        raise DuplicateDecisionRefusedError(pair.id, action, "nothing is proposed")
    if actor.role not in APPROVER_ROLES:
        raise DuplicateDecisionRefusedError(
            pair.id,
            action,
            f"the role {actor.role} does not decide ({', '.join(sorted(APPROVER_ROLES))} do)",
        )
    if actor.name == pair.proposed_by:
        raise DuplicateDecisionRefusedError(
            pair.id, action, f"{actor.name} proposed it; another official must decide it "
            "(maker-checker)",
        )  # fmt: skip
    return pair.proposed_action


@dataclass(frozen=True, kw_only=True)
class ApproveDuplicateDecision:
    pair_id: int
    note: str
    actor: Actor


def approve_decision(cmd: ApproveDuplicateDecision, uow: UnitOfWork, clock: Clock) -> int:
    """Approve the proposal: the merge (followed by every area through ``PersonsMerged``) or
    the separation is made now, by the approver, with both names in the reason."""
    pair = _pair(uow.session, cmd.pair_id)
    action = _checked(pair, cmd.actor, "approve")
    reason = (
        f"{pair.proposal_reason} (proposed by {pair.proposed_by}, approved by "
        f"{cmd.actor.name}{': ' + cmd.note.strip() if cmd.note.strip() else ''})"
    )
    with uow.held_commits():
        if action == "merge":
            assert pair.proposed_keep_person_id is not None  # a CHECK constraint says so
            merge_persons(
                MergePersons(pair.id, pair.proposed_keep_person_id, cmd.actor, reason), uow, clock
            )
        else:
            separate_persons(SeparatePersons(pair.id, cmd.actor, reason), uow, clock)
    uow.commit()
    return pair.id


@dataclass(frozen=True, kw_only=True)
class RejectDuplicateDecision:
    pair_id: int
    reason: str
    actor: Actor


def reject_decision(cmd: RejectDuplicateDecision, uow: UnitOfWork, clock: Clock) -> int:
    """Reject the proposal, saying why: the pair stays open for a new proposal."""
    pair = _pair(uow.session, cmd.pair_id)
    _checked(pair, cmd.actor, "reject")
    if not cmd.reason.strip():
        raise InputError("reason", "is required: say why the proposal is rejected")
    now = clock()
    before = _proposal(pair)
    pair.proposed_action = None
    pair.proposed_keep_person_id = None
    pair.proposed_by = None
    pair.proposed_at = None
    pair.proposal_reason = None
    uow.session.flush()
    append(uow.session, actor=cmd.actor, command="RejectDuplicateDecision",
           event="DuplicateDecisionRejected", entity="duplicate_pair", entity_id=pair.id,
           before=before, after={"reason": cmd.reason.strip(), "status": pair.status},
           occurred_at=now)  # fmt: skip
    uow.commit()
    return pair.id


HANDLERS: Mapping[type, Callable[[Any, UnitOfWork, Clock], Any]] = {
    ProposeDuplicateDecision: propose_decision,
    ApproveDuplicateDecision: approve_decision,
    RejectDuplicateDecision: reject_decision,
}
