"""What one batch of the monthly roll decides, as a pure function of what it read.

``plan_roll(inputs, params)`` takes the plain data a batch of the roll loads (``payments.roll``:
the enrolments looked at, their schedules, the instructions and adjustments of earlier months, the
month's instructions, accounts, holds, recoveries) and returns a ``RollPlan``: the instructions of
the month to create or bring up to date (pending, held with a reason, or settled), the held
instructions of earlier months brought up to date, and the adjustments (arrears, overpayments to
recover) of earlier paid months. No database, no clock, no I/O: ``payments.roll`` loads the inputs
and writes the plan in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from safetynet.domain.money import Rounding, mul_ratio
from safetynet.payments.entitlements import ScheduleEntry, monthly_due
from safetynet.payments.holds import ENDED, NO_ACCOUNT

__all__ = [
    "TOUCHABLE",
    "Account",
    "Candidate",
    "CurrentInstruction",
    "HeldBefore",
    "HeldUpdate",
    "Hold",
    "InstructionValues",
    "PlannedAdjustment",
    "PlannedInstruction",
    "RollInputs",
    "RollParams",
    "RollPlan",
    "plan_roll",
]

# Instructions a roll may still change (not yet in a bank file).
TOUCHABLE = ("pending", "held", "settled")
Key = tuple[int, str]


@dataclass(frozen=True, slots=True)
class Candidate:
    """An enrolment the roll looks at; ``eligible``: paid for the month (else only its earlier
    paid months are checked)."""

    id: int
    household_id: int
    program: str
    start: dt.date
    end: dt.date | None
    amount_fen: int
    eligible: bool
    region: str

    @property
    def key(self) -> Key:
        return (self.household_id, self.program)


@dataclass(frozen=True, slots=True)
class Account:
    """A payee account of a household valid on some day of the month."""

    id: int
    bank_code: str
    account_number: str
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass(frozen=True, slots=True)
class Hold:
    """A standing payment hold of a household (``program`` None: every program)."""

    id: int
    program: str | None
    from_month: str
    reason: str

    def covers(self, program: str, month: str) -> bool:
        return (self.program is None or self.program == program) and self.from_month <= month


@dataclass(frozen=True, slots=True)
class InstructionValues:
    """The columns of a month's instruction the roll decides."""

    amount_fen: int
    arrears_fen: int
    recovery_fen: int
    account: str | None
    bank_code: str | None
    payee_account_id: int | None
    status: str
    hold_id: int | None
    held_reason: str | None


@dataclass(frozen=True, slots=True)
class CurrentInstruction:
    """The month's instruction already there for a (household, program)."""

    id: int
    values: InstructionValues


@dataclass(frozen=True, slots=True)
class HeldBefore:
    """An instruction of an earlier month held by a hold or an end or suspension (never paid)."""

    id: int
    month: str
    amount_fen: int
    arrears_fen: int
    recovery_fen: int
    hold_id: int | None
    held_reason: str | None


@dataclass(frozen=True, slots=True)
class RollParams:
    """The recovery offset share and its rounding per county (region code)."""

    offsets: Mapping[str, tuple[Decimal, Rounding]]


@dataclass(frozen=True)
class RollInputs:
    """What one batch of the roll of ``month`` read. Maps by enrolment id unless said otherwise:
    ``paid`` and ``adjusted`` are amounts per earlier month of the enrolment that covers it now;
    ``arrears_now`` the arrears already recorded by a roll of this month; ``recovered`` (total
    overpayments recorded) and ``offset_before`` (recovered by other months' instructions) by
    (household, program); ``accounts`` and ``holds`` by household."""

    month: str
    first: dt.date
    last: dt.date
    candidates: Sequence[Candidate]
    current: Mapping[Key, CurrentInstruction] = field(default_factory=dict)
    schedules: Mapping[int, Sequence[ScheduleEntry]] = field(default_factory=dict)
    paid: Mapping[int, Mapping[str, int]] = field(default_factory=dict)
    held_before: Mapping[int, Sequence[HeldBefore]] = field(default_factory=dict)
    adjusted: Mapping[int, Mapping[str, int]] = field(default_factory=dict)
    arrears_now: Mapping[int, int] = field(default_factory=dict)
    accounts: Mapping[int, Sequence[Account]] = field(default_factory=dict)
    holds: Mapping[int, Sequence[Hold]] = field(default_factory=dict)
    recovered: Mapping[Key, int] = field(default_factory=dict)
    offset_before: Mapping[Key, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HeldUpdate:
    """A held instruction of an earlier month brought up to date (``settled``: nothing left)."""

    id: int
    amount_fen: int
    recovery_fen: int
    status: str
    hold_id: int | None
    held_reason: str | None


@dataclass(frozen=True, slots=True)
class PlannedAdjustment:
    """Arrears (amount > 0) or an overpayment to recover (amount < 0) for an earlier month."""

    household_id: int
    program: str
    for_month: str
    enrolment_id: int
    amount_fen: int
    due_fen: int
    paid_before_fen: int

    @property
    def kind(self) -> str:
        return "arrears" if self.amount_fen > 0 else "overpayment"


@dataclass(frozen=True, slots=True)
class PlannedInstruction:
    """A month's instruction to create (``existing_id`` None) or to update."""

    candidate: Candidate
    values: InstructionValues
    existing_id: int | None = None


@dataclass
class RollPlan:
    """What a batch writes. ``frozen``: the month's instructions already exported (left alone);
    ``unchanged``: those already right; ``carriers``: the candidates whose instruction of the
    month carries arrears recorded by this roll."""

    held_updates: list[HeldUpdate] = field(default_factory=list)
    adjustments: list[PlannedAdjustment] = field(default_factory=list)
    new: list[PlannedInstruction] = field(default_factory=list)
    updates: list[PlannedInstruction] = field(default_factory=list)
    unchanged: list[PlannedInstruction] = field(default_factory=list)
    frozen: int = 0
    carriers: list[Candidate] = field(default_factory=list)

    @property
    def settled_held(self) -> int:
        return sum(update.status == "settled" for update in self.held_updates)


class _State:
    """The running sums a batch updates as it goes (copies of the inputs')."""

    def __init__(self, inputs: RollInputs) -> None:
        self.paid = {k: dict(v) for k, v in inputs.paid.items()}
        self.recovered = dict(inputs.recovered)
        self.offset_before = dict(inputs.offset_before)


def plan_roll(inputs: RollInputs, params: RollParams) -> RollPlan:
    """The writes of one batch of the roll of ``inputs.month`` (module docstring).

    An instruction of an earlier month that a payment hold keeps has not been paid: it is brought
    up to date with the schedule in place (e.g. an entitlement ended since: amount 0, settled)
    instead of being corrected by an adjustment, so nothing is recovered that was never paid.
    """
    plan = RollPlan()
    state = _State(inputs)
    for candidate in inputs.candidates:
        existing = inputs.current.get(candidate.key)
        if existing is not None and existing.values.status not in TOUCHABLE:
            plan.frozen += 1  # exported or settled by the bank: frozen until the next month
            continue
        plan.held_updates += _update_held(inputs, state, candidate)
        arrears = inputs.arrears_now.get(candidate.id, 0)
        adjustments = _adjustments(inputs, state, candidate)
        if adjustments:  # most candidates have none: no sums over nothing
            plan.adjustments += adjustments
            key = candidate.key
            overpaid = -sum(a.amount_fen for a in adjustments if a.amount_fen < 0)
            state.recovered[key] = state.recovered.get(key, 0) + overpaid
            arrears += sum(a.amount_fen for a in adjustments if a.amount_fen > 0)
        if existing is None and not candidate.eligible and arrears == 0:
            continue  # ended: nothing due this month and no arrears to carry
        values = _month_values(inputs, params, state, candidate, existing, arrears)
        if existing is None:
            plan.new.append(PlannedInstruction(candidate, values))
        elif values != existing.values:
            plan.updates.append(PlannedInstruction(candidate, values, existing.id))
        else:
            plan.unchanged.append(PlannedInstruction(candidate, values, existing.id))
        if arrears:
            plan.carriers.append(candidate)
    return plan


def _due(inputs: RollInputs, candidate: Candidate, month: str) -> int:
    return monthly_due(
        month,
        candidate.start,
        candidate.end,
        candidate.amount_fen,
        inputs.schedules.get(candidate.id, ()),
    )


def _update_held(inputs: RollInputs, state: _State, candidate: Candidate) -> list[HeldUpdate]:
    """The candidate's held instructions of earlier months, kept by a hold and never paid, brought
    up to date (what the adjustments of their month already carry stays with them)."""
    updates = []
    for instruction in inputs.held_before.get(candidate.id, ()):
        due = _due(inputs, candidate, instruction.month)
        target = max(0, due - inputs.adjusted.get(candidate.id, {}).get(instruction.month, 0))
        if target == instruction.amount_fen:
            continue
        offset = min(instruction.recovery_fen, target + instruction.arrears_fen)
        key = candidate.key
        state.offset_before[key] = (
            state.offset_before.get(key, 0) - instruction.recovery_fen + offset
        )
        settled = target + instruction.arrears_fen - offset == 0
        updates.append(
            HeldUpdate(
                id=instruction.id,
                amount_fen=target,
                recovery_fen=offset,
                status="settled" if settled else "held",
                hold_id=None if settled else instruction.hold_id,
                held_reason=None if settled else instruction.held_reason,
            )
        )
        state.paid.setdefault(candidate.id, {})[instruction.month] = target
    return updates


def _adjustments(
    inputs: RollInputs, state: _State, candidate: Candidate
) -> list[PlannedAdjustment]:
    """Arrears or overpayments of the candidate's earlier months paid other than now due."""
    out = []
    for paid_month, instructed in sorted(state.paid.get(candidate.id, {}).items()):
        paid = instructed + inputs.adjusted.get(candidate.id, {}).get(paid_month, 0)
        due = _due(inputs, candidate, paid_month)
        if due != paid:
            out.append(
                PlannedAdjustment(
                    household_id=candidate.household_id,
                    program=candidate.program,
                    for_month=paid_month,
                    enrolment_id=candidate.id,
                    amount_fen=due - paid,
                    due_fen=due,
                    paid_before_fen=paid,
                )
            )
    return out


def _month_amount(
    inputs: RollInputs, candidate: Candidate, existing: CurrentInstruction | None
) -> int:
    """The month's amount: what is due now; an instruction already made for an enrolment no
    longer eligible keeps its amount, unless a hold or an end recorded after the roll keeps it
    (never paid: what the schedule says is due now, an ended entitlement 0)."""
    due_now = _due(inputs, candidate, inputs.month) if candidate.eligible else 0
    if existing is None:
        return due_now
    kept = existing.values.hold_id is not None or (existing.values.held_reason or "").startswith(
        ENDED  # by the bank file's re-check
    )
    if kept:
        return _due(inputs, candidate, inputs.month)
    return due_now if candidate.eligible else existing.values.amount_fen


def _account_for_month(
    accounts: Sequence[Account], first: dt.date, last: dt.date
) -> Account | None:
    """Of the accounts valid on some day of [first, last], the one with the latest start."""
    best: Account | None = None
    for item in accounts:
        valid = item.valid_from <= last and (item.valid_to is None or item.valid_to >= first)
        if valid and (best is None or item.valid_from > best.valid_from):
            best = item
    return best


def _covering_hold(holds: Sequence[Hold], program: str, month: str) -> Hold | None:
    found = [h for h in holds if h.covers(program, month)]
    return min(found, key=lambda h: h.id) if found else None


def _month_values(
    inputs: RollInputs,
    params: RollParams,
    state: _State,
    candidate: Candidate,
    existing: CurrentInstruction | None,
    arrears: int,
) -> InstructionValues:
    """The month's instruction: amount, arrears, the recovery offset, account, status."""
    amount = _month_amount(inputs, candidate, existing)
    share, mode = params.offsets[candidate.region]
    outstanding = state.recovered.get(candidate.key, 0) - state.offset_before.get(candidate.key, 0)
    # nothing outstanding (the common case): no offset, whatever the share would give
    offset = (
        max(0, min(outstanding, mul_ratio(amount + arrears, share, mode))) if outstanding > 0 else 0
    )
    payee = _account_for_month(
        inputs.accounts.get(candidate.household_id, ()), inputs.first, inputs.last
    )
    net = amount + arrears - offset
    hold = _covering_hold(
        inputs.holds.get(candidate.household_id, ()), candidate.program, inputs.month
    )
    blocked = hold is not None or payee is None
    status = "settled" if net == 0 else ("held" if blocked else "pending")
    held_reason = None
    if status == "held":
        held_reason = NO_ACCOUNT if hold is None else hold.reason
    return InstructionValues(
        amount_fen=amount,
        arrears_fen=arrears,
        recovery_fen=offset,
        account=None if payee is None else payee.account_number,
        bank_code=None if payee is None else payee.bank_code,
        payee_account_id=None if payee is None else payee.id,
        status=status,
        hold_id=None if status != "held" or hold is None else hold.id,
        held_reason=held_reason,
    )
