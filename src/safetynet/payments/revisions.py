"""A one-off award follows its decision when an appeal or a reconsideration changes it.

The case publishes the new decision as it publishes the first one: ``BenefitAwarded`` again with
the same key (program, case, sequence) and the amount now decided, or ``BenefitWithdrawn`` when
the case is refused. What the case was decided so far is the sum of its live awards (kind
``award`` and ``revision``) less the recoveries they carry; when the new decision differs:

* the awards not yet paid (their instruction not in a bank file, not paid from a township
  reserve, carrying no recovery) are withdrawn (``cancelled_at``; their instruction
  ``cancelled``, never sent);
* nothing of the case paid: a ``revision`` award of the whole new amount (the case's advances
  deducted, as for a first award) — a refusal before payment pays nothing;
* something paid: a ``revision`` award of the rise (paid once by the next roll), or of 0
  carrying a recovery of the fall (``payment_recoveries``, offset against later payments like an
  overpaid month).

docs/payments.md, "A decision changed on appeal".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.money import format_yuan
from safetynet.payments.model import (
    OneOffAward,
    PaymentInstruction,
    PaymentRecovery,
    ReserveEntry,
)

__all__ = ["ChangedDecision", "revise_award", "withdraw_benefit_award"]

PAID = ("exported", "paid")  # in a bank file or paid: recovered, never withdrawn
DECIDED = ("award", "revision")


class ChangedDecision(Protocol):
    """A case's decision on a one-off benefit, as payments reads it."""

    @property
    def program(self) -> str: ...
    @property
    def case_id(self) -> int: ...
    @property
    def household_id(self) -> int: ...
    @property
    def due_on(self) -> dt.date: ...
    @property
    def reason(self) -> str: ...
    @property
    def actor(self) -> Actor: ...
    @property
    def occurred_at(self) -> dt.datetime: ...


@dataclass(frozen=True)
class _Case:
    awards: list[OneOffAward]  # every award of the case, advances too, by sequence
    live: list[OneOffAward]  # decided awards not withdrawn
    instructions: dict[int, PaymentInstruction]
    recoveries: dict[int, int]  # award id -> recovery recorded on it
    from_reserve: set[int]

    def net(self, award: OneOffAward) -> int:
        """What ``award`` decides: a revision's recovery lowers the decision; an award's is the
        advance above it (the decision is the award's amount)."""
        lowered = self.recoveries.get(award.id, 0) if award.kind == "revision" else 0
        return award.amount_fen - lowered

    def decided(self) -> int:
        return sum(self.net(a) for a in self.live)

    def is_paid(self, award: OneOffAward) -> bool:
        instruction = self.instructions.get(award.id)
        return (
            (instruction is not None and instruction.status in PAID)
            or award.id in self.from_reserve
            or award.id in self.recoveries
        )


def _load(session: Session, program: str, case_id: int) -> _Case:
    awards = list(
        session.scalars(
            select(OneOffAward)
            .where(OneOffAward.program == program, OneOffAward.case_id == case_id)
            .order_by(OneOffAward.sequence)
            .with_for_update()
        )
    )
    ids = [a.id for a in awards]
    instructions = {
        int(i.award_id): i
        for i in session.scalars(
            select(PaymentInstruction).where(PaymentInstruction.award_id.in_(ids))
        )
        if i.award_id is not None
    }
    recoveries = {
        int(a): int(v)
        for a, v in session.execute(
            select(PaymentRecovery.award_id, PaymentRecovery.amount_fen).where(
                PaymentRecovery.award_id.in_(ids)
            )
        )
        if a is not None
    }
    reserve = set(
        session.scalars(select(ReserveEntry.award_id).where(ReserveEntry.award_id.in_(ids)))
    )
    live = [a for a in awards if a.kind in DECIDED and a.cancelled_at is None]
    return _Case(awards, live, instructions, recoveries, {int(r) for r in reserve if r})


def _withdraw(session: Session, case: _Case, now: dt.datetime) -> list[int]:
    """Withdraw the live awards not yet paid; their instructions are cancelled."""
    withdrawn = []
    for award in case.live:
        if case.is_paid(award):
            continue
        award.cancelled_at = now
        instruction = case.instructions.get(award.id)
        if instruction is not None:
            instruction.status = "cancelled"
            instruction.hold_id = None
            instruction.held_reason = None
        withdrawn.append(award.id)
    session.flush()
    return withdrawn


def _advances(case: _Case) -> int:
    return sum(a.amount_fen for a in case.awards if a.kind == "advance")


def _new_revision(
    session: Session, change: ChangedDecision, case: _Case, amount: int, deducted: int
) -> OneOffAward:
    last = case.live[-1] if case.live else case.awards[-1]
    provider = last.provider_id if last.payee == "provider" else None
    revision = OneOffAward(
        program=change.program,
        case_id=change.case_id,
        sequence=max(a.sequence for a in case.awards) + 1,
        kind="revision",
        household_id=change.household_id,
        amount_fen=amount,
        deducted_fen=deducted,
        payable_fen=amount - deducted,
        payee="provider" if provider is not None else "household",
        provider_id=provider,
        township=None,
        due_on=change.due_on,
        reason=change.reason,
        recorded_at=change.occurred_at,
        recorded_by=change.actor.name,
    )
    session.add(revision)
    session.flush()
    return revision


def revise_award(session: Session, change: ChangedDecision, amount_fen: int) -> int | None:
    """Make the case's awards follow its decision of ``amount_fen`` (0: refused), in the
    caller's transaction (module docstring). Returns the revision award's id, if one was made."""
    case = _load(session, change.program, change.case_id)
    before = case.decided()
    if not case.live and not any(a.kind in DECIDED for a in case.awards):
        return None  # never awarded: a first decision records its award itself
    if amount_fen == before:
        return None
    withdrawn = _withdraw(session, case, change.occurred_at)
    paid = [a for a in case.live if a.id not in withdrawn]
    base = sum(case.net(a) for a in paid)
    revision, recovery = None, 0
    advances = _advances(case)
    if not paid and (amount_fen > 0 or advances > 0):
        # nothing of the case paid: the whole new amount, the advances deducted once more (an
        # advance above it, or a refusal after one, is recovered)
        deducted = min(advances, amount_fen)
        revision = _new_revision(session, change, case, amount_fen, deducted)
        recovery = advances - deducted
    elif paid and amount_fen > base:
        revision = _new_revision(session, change, case, amount_fen - base, 0)
    elif paid and amount_fen < base:
        revision = _new_revision(session, change, case, 0, 0)
        recovery = base - amount_fen
    if revision is not None and recovery > 0:
        session.add(
            PaymentRecovery(
                household_id=change.household_id,
                program=change.program,
                award_id=revision.id,
                amount_fen=recovery,
                created_at=change.occurred_at,
            )
        )
    _audit(session, change, before, amount_fen, withdrawn, revision, recovery)
    return None if revision is None else revision.id


def _audit(
    session: Session,
    change: ChangedDecision,
    before: int,
    after: int,
    withdrawn: list[int],
    revision: OneOffAward | None,
    recovery: int,
) -> None:
    append(
        session,
        actor=change.actor,
        command="BenefitAwarded" if after else "BenefitWithdrawn",
        event="OneOffAwardRevised",
        entity="one_off_award",
        entity_id=revision.id if revision is not None else min(withdrawn, default=0),
        before={"program": change.program, "case": change.case_id,
                "decided": format_yuan(before)},
        after={"program": change.program, "case": change.case_id, "decided": format_yuan(after),
               "withdrawn_awards": withdrawn,
               "revision_award": None if revision is None else revision.id,
               "revision_payable": None if revision is None else format_yuan(revision.payable_fen),
               "to_recover": format_yuan(recovery), "reason": change.reason},
        occurred_at=change.occurred_at,
    )  # fmt: skip


def withdraw_benefit_award(event: ChangedDecision, uow: UnitOfWork) -> None:
    """Follower of the case workflow's ``BenefitWithdrawn`` (``safetynet.bootstrap``): the case
    refused, its awards follow a decision of nothing."""
    revise_award(uow.session, event, 0)
