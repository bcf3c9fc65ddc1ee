"""What one batch of the roll decides, without a database: ``plan_roll`` over plain data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from safetynet.domain.money import Rounding
from safetynet.payments.entitlements import ScheduleEntry
from safetynet.payments.holds import NO_ACCOUNT
from safetynet.payments.months import month_bounds
from safetynet.payments.roll_plan import (
    Account,
    Candidate,
    CurrentInstruction,
    HeldBefore,
    Hold,
    InstructionValues,
    RollInputs,
    RollParams,
    RollPlan,
    plan_roll,
)

D = dt.date
MONTH = "2025-09"
REGION = "110105"
PARAMS = RollParams(offsets={REGION: (Decimal("0.5"), Rounding.DOWN)})
JANUARY = D(2025, 1, 1)
ACCOUNT = Account(7, "102", "6222020200112233445", JANUARY, None)


def _candidate(
    enrolment_id: int = 1,
    *,
    start: dt.date = JANUARY,
    end: dt.date | None = None,
    amount_fen: int = 80_000,
    eligible: bool = True,
) -> Candidate:
    return Candidate(
        id=enrolment_id,
        household_id=enrolment_id,
        program="dibao",
        start=start,
        end=end,
        amount_fen=amount_fen,
        eligible=eligible,
        region=REGION,
    )


def _plan(candidate: Candidate, *, with_account: bool = True, **inputs: object) -> RollPlan:
    first, last = month_bounds(MONTH)
    accounts = {candidate.household_id: [ACCOUNT]} if with_account else {}
    return plan_roll(
        RollInputs(
            month=MONTH,
            first=first,
            last=last,
            candidates=[candidate],
            accounts=accounts,
            **inputs,  # type: ignore[arg-type]
        ),
        PARAMS,
    )


def _only_new(plan: RollPlan) -> InstructionValues:
    assert not plan.updates
    assert not plan.unchanged
    assert len(plan.new) == 1
    return plan.new[0].values


def test_new_enrolment_is_paid_its_amount_to_its_account() -> None:
    values = _only_new(_plan(_candidate(amount_fen=80_000)))
    assert (values.amount_fen, values.arrears_fen, values.recovery_fen) == (80_000, 0, 0)
    assert values.status == "pending"
    assert (values.account, values.bank_code, values.payee_account_id) == (
        ACCOUNT.account_number,
        "102",
        7,
    )


def test_raised_earlier_month_is_paid_as_arrears_with_the_month() -> None:
    # Paid 80 000 for August; the schedule now says 90 000 from August on.
    raised = {1: [ScheduleEntry(11, "2025-08", 90_000)]}
    plan = _plan(_candidate(), schedules=raised, paid={1: {"2025-08": 80_000}})
    [adjustment] = plan.adjustments
    assert (adjustment.for_month, adjustment.kind) == ("2025-08", "arrears")
    assert (adjustment.amount_fen, adjustment.due_fen, adjustment.paid_before_fen) == (
        10_000,
        90_000,
        80_000,
    )
    values = _only_new(plan)
    assert (values.amount_fen, values.arrears_fen, values.recovery_fen) == (90_000, 10_000, 0)
    assert [c.id for c in plan.carriers] == [1]


def test_lowered_earlier_month_is_recovered_from_the_month_within_the_share() -> None:
    # Paid 80 000 for July and August; 50 000 due from July: 60 000 overpaid, and at most half
    # of the month's 50 000 is kept back now.
    lowered = {1: [ScheduleEntry(11, "2025-07", 50_000)]}
    paid = {1: {"2025-07": 80_000, "2025-08": 80_000}}
    plan = _plan(_candidate(), schedules=lowered, paid=paid)
    assert [(a.for_month, a.kind, a.amount_fen) for a in plan.adjustments] == [
        ("2025-07", "overpayment", -30_000),
        ("2025-08", "overpayment", -30_000),
    ]
    values = _only_new(plan)
    assert (values.amount_fen, values.arrears_fen, values.recovery_fen) == (50_000, 0, 25_000)
    assert values.status == "pending"


def test_recovery_already_offset_by_other_months_is_not_taken_twice() -> None:
    plan = _plan(
        _candidate(),
        recovered={(1, "dibao"): 30_000},
        offset_before={(1, "dibao"): 25_000},
    )
    assert _only_new(plan).recovery_fen == 5_000


def test_a_hold_keeps_the_month_unpaid_with_its_reason() -> None:
    hold = Hold(id=3, program=None, from_month="2025-08", reason="income check pending")
    values = _only_new(_plan(_candidate(), holds={1: [hold]}))
    assert (values.status, values.hold_id, values.held_reason) == (
        "held",
        3,
        "income check pending",
    )
    assert values.amount_fen == 80_000


def test_a_hold_of_another_program_or_a_later_month_does_not_hold() -> None:
    holds = [
        Hold(id=3, program="tekun", from_month="2025-01", reason="other program"),
        Hold(id=4, program=None, from_month="2025-10", reason="from next month"),
    ]
    values = _only_new(_plan(_candidate(), holds={1: holds}))
    assert (values.status, values.hold_id) == ("pending", None)


def test_held_earlier_month_of_an_ended_entitlement_is_settled_at_zero() -> None:
    # July was held by a hold and never paid; the entitlement ended in June since.
    held = HeldBefore(
        id=50,
        month="2025-07",
        amount_fen=80_000,
        arrears_fen=0,
        recovery_fen=0,
        hold_id=3,
        held_reason="check",
    )
    candidate = _candidate(end=D(2025, 6, 30), eligible=False)
    plan = _plan(candidate, held_before={1: [held]}, paid={1: {"2025-07": 80_000}})
    [update] = plan.held_updates
    assert (update.id, update.amount_fen, update.status, update.hold_id) == (50, 0, "settled", None)
    assert plan.settled_held == 1
    assert not plan.adjustments  # never paid: nothing to recover
    assert not plan.new  # nothing due after the end


def test_ended_enrolment_is_not_paid_after_its_end() -> None:
    plan = _plan(_candidate(end=D(2025, 8, 31), eligible=False), paid={1: {"2025-08": 80_000}})
    assert not plan.new
    assert not plan.updates
    assert not plan.adjustments


def test_ended_enrolment_with_arrears_gets_a_carrier_paying_only_the_arrears() -> None:
    raised = {1: [ScheduleEntry(11, "2025-08", 85_000)]}
    candidate = _candidate(end=D(2025, 8, 31), eligible=False)
    plan = _plan(candidate, schedules=raised, paid={1: {"2025-08": 80_000}})
    values = _only_new(plan)
    assert (values.amount_fen, values.arrears_fen) == (0, 5_000)


def test_no_account_holds_the_month_with_the_reason() -> None:
    values = _only_new(_plan(_candidate(), with_account=False))
    assert (values.status, values.held_reason, values.hold_id, values.account) == (
        "held",
        NO_ACCOUNT,
        None,
        None,
    )
    assert values.amount_fen == 80_000


def test_exported_instruction_of_the_month_is_left_alone() -> None:
    sent = InstructionValues(80_000, 0, 0, "x", "102", 7, "exported", None, None)
    plan = _plan(_candidate(amount_fen=90_000), current={(1, "dibao"): CurrentInstruction(9, sent)})
    assert plan.frozen == 1
    assert not plan.new
    assert not plan.updates


def test_pending_instruction_of_the_month_is_brought_up_to_date() -> None:
    old = InstructionValues(80_000, 0, 0, ACCOUNT.account_number, "102", 7, "pending", None, None)
    current = {(1, "dibao"): CurrentInstruction(9, old)}
    plan = _plan(_candidate(amount_fen=90_000), current=current)
    [update] = plan.updates
    assert (update.existing_id, update.values.amount_fen) == (9, 90_000)
    assert _plan(_candidate(amount_fen=80_000), current=current).unchanged
