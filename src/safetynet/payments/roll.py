"""The monthly payment roll: one instruction per (household, program, month), exactly once.

``roll_month`` walks the eligible enrolments in enrolment-id order and inserts instructions in
batches. Each batch is one transaction that inserts with ``ON CONFLICT DO NOTHING`` on the natural
key and records the run's progress, so a crash at any point loses at most the batch in flight
(rolled back whole), and rolling again (a rerun or a resume) inserts exactly the missing
instructions: never a second one, never a skipped one. A resume rescans from the first enrolment
rather than trusting the interrupted run's cursor: an enrolment added meanwhile with a lower id is
still found, and existing keys cost one index probe each. One audit entry per finished run.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, fields
from decimal import Decimal
from operator import attrgetter
from typing import Any

from sqlalchemy import Select, case, exists, func, select, text, update
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.db.bulk import among, insert_new, refresh_statistics, update_rows, without_jit
from safetynet.db.engine import Database
from safetynet.domain.money import Rounding, format_yuan
from safetynet.domain.regions import default_registry
from safetynet.errors import InputError, SafetyNetError
from safetynet.logs import logged_stage
from safetynet.payments.entitlements import ScheduleEntry
from safetynet.payments.holds import ENDED, SUSPENDED, active_holds
from safetynet.payments.model import (
    EntitlementChange,
    PayeeAccount,
    PaymentAdjustment,
    PaymentHold,
    PaymentInstruction,
    PaymentRecovery,
    PaymentRun,
)
from safetynet.payments.months import month_bounds, month_of, parse_month
from safetynet.payments.roll_awards import roll_awards
from safetynet.payments.roll_plain import MONTHLY, NATURAL_KEY, insert_plain
from safetynet.payments.roll_plan import (
    TOUCHABLE,
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
from safetynet.policy.parameters import ParameterTree, default_tree
from safetynet.registry.model import Enrolment, Household

__all__ = [
    "ADJUSTMENT_KEY",
    "NATURAL_KEY",
    "OFFSET_ROUNDING",
    "OFFSET_SHARE",
    "SYSTEM_ACTOR",
    "TOUCHABLE",
    "Clock",
    "RollInProgressError",
    "RollReport",
    "apply_roll_plan",
    "eligible_enrolments",
    "load_roll_inputs",
    "month_bounds",
    "month_lock",
    "parse_month",
    "roll_candidates",
    "roll_month",
]

Clock = Callable[[], dt.datetime]
ADJUSTMENT_KEY = ("household_id", "program", "for_month", "roll_month")
OFFSET_SHARE = "payments.recovery.max_offset_share"
OFFSET_ROUNDING = "payments.recovery.offset_rounding"
SYSTEM_ACTOR = Actor(name="system", role="payments_clerk")
# First key of the PostgreSQL advisory lock of a month's roll (the second is YYYYMM).
ROLL_LOCK_SPACE = 5_010_001
_COUNTY = re.compile(r"[0-9]{6}")


@dataclass(frozen=True, slots=True)
class RollReport:
    """What one call of ``roll_month`` did: ``eligible = created + already_present``.

    ``eligible`` counts the instructions of the month the run found or made (an enrolment paid
    for the month, or an ended one whose arrears need a carrier); ``adjustments`` those it
    recorded, ``arrears_fen`` and ``overpaid_fen`` their sums, ``held`` the instructions it left
    held (``held_by_hold`` of them under a payment hold, the rest without an account) and
    ``settled_held`` the held instructions of earlier months it settled (no longer due).
    """

    run_id: int
    month: str
    county: str | None
    eligible: int
    created: int
    already_present: int
    batches: int
    interrupted_runs: tuple[int, ...]
    adjustments: int = 0
    arrears_fen: int = 0
    overpaid_fen: int = 0
    held: int = 0
    held_by_hold: int = 0
    settled_held: int = 0
    # One-off awards (``payments.roll_awards``): instructions made for awards due by the month,
    # their sum, and how many of them are held or settled (nothing left after the advances).
    awards_created: int = 0
    awards_fen: int = 0
    awards_held: int = 0
    awards_settled: int = 0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def eligible_enrolments(month: str, county: str | None = None) -> Select[int, int, str, int]:
    """Active enrolments covering some day of ``month``, in enrolment-id order.

    An enrolment covers the month when it starts on or before the month's last day and is open or
    ends on or after its first day (the month of ``end_date`` is paid). Only status ``active``
    counts: suspended and ended enrolments are not paid. ``county`` is the household's region.
    """
    first, last = month_bounds(month)
    query = (
        select(Enrolment.id, Enrolment.household_id, Enrolment.program, Enrolment.amount_fen)
        .where(
            Enrolment.status == "active",
            Enrolment.start_date <= last,
            (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= first),
        )
        .order_by(Enrolment.id)
    )
    if county is not None:
        query = query.join(Household, Household.id == Enrolment.household_id).where(
            Household.region_code == county
        )
    return query


def _same_scope(month: str, county: str | None) -> Any:
    county_clause = PaymentRun.county.is_(None) if county is None else PaymentRun.county == county
    return (PaymentRun.month == month) & county_clause


def roll_candidates(
    month: str, county: str | None = None
) -> Select[int, int, str, dt.date, dt.date | None, int, bool, str]:
    """The enrolments a roll of ``month`` looks at, in id order: those eligible for the month and
    those (not suspended) with an instruction for an earlier month, whose paid months are checked
    against the schedule as known now."""
    first, last = month_bounds(month)
    eligible = (Enrolment.status == "active") & (
        Enrolment.end_date.is_(None) | (Enrolment.end_date >= first)
    )
    paid_before = exists().where(
        PaymentInstruction.enrolment_id == Enrolment.id, PaymentInstruction.month < month
    )
    query = (
        select(
            Enrolment.id,
            Enrolment.household_id,
            Enrolment.program,
            Enrolment.start_date,
            Enrolment.end_date,
            Enrolment.amount_fen,
            eligible,
            Household.region_code,
        )
        .join(Household, Household.id == Enrolment.household_id)
        .where(
            Enrolment.status != "suspended",
            Enrolment.start_date <= last,
            eligible | paid_before,
        )
        .order_by(Enrolment.id)
    )
    if county is not None:
        query = query.where(Household.region_code == county)
    return query


@dataclass
class _Totals:
    eligible: int = 0
    created: int = 0
    batches: int = 0
    adjustments: int = 0
    arrears_fen: int = 0
    overpaid_fen: int = 0
    held: int = 0
    held_by_hold: int = 0
    settled_held: int = 0

    def add(self, other: _Totals) -> None:
        for name in _TOTALS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


_TOTALS = tuple(f.name for f in fields(_Totals))


class _RecoveryParams:
    """The offset share and its rounding for a county, looked up once per county."""

    def __init__(self, tree: ParameterTree, on: dt.date) -> None:
        self.tree = tree
        self.on = on
        self._cache: dict[str, tuple[Decimal, Rounding]] = {}

    def __call__(self, region: str) -> tuple[Decimal, Rounding]:
        hit = self._cache.get(region)
        if hit is None:
            lineage = default_registry().lineage_codes(region)
            share = Decimal(str(self.tree.resolve(OFFSET_SHARE, self.on, lineage).value))
            mode = Rounding(self.tree.resolve(OFFSET_ROUNDING, self.on, lineage).value)
            hit = self._cache[region] = (share, mode)
        return hit

    def for_batch(self, found: Sequence[Candidate]) -> RollParams:
        return RollParams(offsets={c.region: self(c.region) for c in found})


def _sums(
    session: Session,
    model: type[PaymentRecovery] | type[PaymentInstruction],
    amount: Any,
    households: Sequence[int],
    *where: Any,
) -> dict[tuple[int, str], int]:
    """The sum of ``amount`` per (household, program) over the rows of ``model`` of these
    households (and ``where``)."""
    return {
        (h, p): int(total)
        for h, p, total in session.execute(
            select(model.household_id, model.program, func.sum(amount))
            .where(among(session, model.household_id, households), *where)
            .group_by(model.household_id, model.program)
        )
    }


class _Owners:
    """Which enrolment a month of a household's program belongs to: of the household's
    enrolments in the program whose months include it, the latest (highest id); else the
    enrolment the instruction or adjustment was made under.

    A month paid under one enrolment is so checked against the enrolment that covers it now:
    when an amount changes from a month already rolled (the enrolment ends, a new one starts with
    the new amount), the new enrolment finds the month paid at the old amount and pays the
    difference, instead of the old one recovering the whole month and nothing paying it again.
    """

    def __init__(self, session: Session, households: Sequence[int]) -> None:
        self._session = session
        self._households = households
        self._covering: dict[tuple[int, str], list[tuple[int, str, str | None]]] | None = None

    def _load(self) -> dict[tuple[int, str], list[tuple[int, str, str | None]]]:
        """The households' enrolments, read when first asked for (a first month asks nothing)."""
        session, households = self._session, self._households
        covering: dict[tuple[int, str], list[tuple[int, str, str | None]]] = {}
        for enrolment_id, household_id, program, start, end in session.execute(
            select(
                Enrolment.id,
                Enrolment.household_id,
                Enrolment.program,
                Enrolment.start_date,
                Enrolment.end_date,
            ).where(among(session, Enrolment.household_id, households))
        ):
            covering.setdefault((household_id, program), []).append(
                (enrolment_id, month_of(start), None if end is None else month_of(end))
            )
        return covering

    def __call__(self, household_id: int, program: str, month: str, made_under: int) -> int:
        if self._covering is None:
            self._covering = self._load()
        found = [
            enrolment_id
            for enrolment_id, first, last in self._covering.get((household_id, program), [])
            if first <= month and (last is None or month <= last)
        ]
        return max(found) if found else made_under


# -- Load: what a batch reads, as plain data ---------------------------------------------------

_VALUE_COLUMNS = tuple(f.name for f in fields(InstructionValues))


_VALUES = tuple(getattr(PaymentInstruction, name) for name in _VALUE_COLUMNS)
_VALUE_GETTER = attrgetter(*_VALUE_COLUMNS)


def _load_current(
    session: Session, month: str, households: Sequence[int]
) -> dict[tuple[int, str], CurrentInstruction]:
    """The month's instructions, locked: whatever wrote them (a concurrent batch, a hold) has
    committed before the adjustments are read, so the arrears read match the instructions
    written back (an instruction is never rewritten from an older read). Read as columns."""
    current: dict[tuple[int, str], CurrentInstruction] = {}
    for id_, household_id, program, *values in session.execute(
        select(
            PaymentInstruction.id,
            PaymentInstruction.household_id,
            PaymentInstruction.program,
            *_VALUES,
        )
        .where(
            PaymentInstruction.month == month,
            PaymentInstruction.award_id.is_(None),
            among(session, PaymentInstruction.household_id, households),
        )
        .order_by(PaymentInstruction.id)
        .with_for_update()
    ):
        current[(household_id, program)] = CurrentInstruction(id_, InstructionValues(*values))
    return current


def _load_schedules(session: Session, ids: Sequence[int]) -> dict[int, list[ScheduleEntry]]:
    entries: dict[int, list[ScheduleEntry]] = {}
    for enrolment_id, entry_id, from_month, amount in session.execute(
        select(
            EntitlementChange.enrolment_id,
            EntitlementChange.id,
            EntitlementChange.from_month,
            EntitlementChange.amount_fen,
        ).where(among(session, EntitlementChange.enrolment_id, ids))
    ):
        entries.setdefault(enrolment_id, []).append(ScheduleEntry(entry_id, from_month, amount))
    return entries


def _load_paid(
    session: Session, month: str, households: Sequence[int], owner: _Owners
) -> dict[int, dict[str, int]]:
    """The amounts instructed for the months before ``month``, by the enrolment covering each."""
    paid: dict[int, dict[str, int]] = {}
    for enrolment_id, household_id, program, paid_month, amount in session.execute(
        select(
            PaymentInstruction.enrolment_id,
            PaymentInstruction.household_id,
            PaymentInstruction.program,
            PaymentInstruction.month,
            PaymentInstruction.amount_fen,
        ).where(
            among(session, PaymentInstruction.household_id, households),
            PaymentInstruction.month < month,
            PaymentInstruction.award_id.is_(None),
        )
    ):
        assert enrolment_id is not None  # a monthly instruction (no award) has its enrolment
        paid.setdefault(owner(household_id, program, paid_month, enrolment_id), {})[paid_month] = (
            amount
        )
    return paid


def _load_held_before(
    session: Session, month: str, ids: Sequence[int]
) -> dict[int, list[HeldBefore]]:
    """Instructions of earlier months kept by a hold, an end or a suspension, locked."""
    held: dict[int, list[HeldBefore]] = {}
    i = PaymentInstruction
    for (
        enrolment_id,
        id_,
        held_month,
        amount,
        arrears,
        recovery,
        hold_id,
        reason,
    ) in session.execute(
        select(
            i.enrolment_id,
            i.id,
            i.month,
            i.amount_fen,
            i.arrears_fen,
            i.recovery_fen,
            i.hold_id,
            i.held_reason,
        )
        .where(
            among(session, i.enrolment_id, ids),
            i.month < month,
            i.status == "held",
            i.hold_id.is_not(None)
            | i.held_reason.startswith(ENDED)
            | i.held_reason.startswith(SUSPENDED),
        )
        .order_by(i.month)
        .with_for_update()  # a bank file releasing one meanwhile is waited for, then seen
    ):
        assert enrolment_id is not None  # selected by enrolment
        held.setdefault(enrolment_id, []).append(
            HeldBefore(id_, held_month, amount, arrears, recovery, hold_id, reason)
        )
    return held


def _load_adjusted(
    session: Session, month: str, households: Sequence[int], owner: _Owners
) -> tuple[dict[int, dict[str, int]], dict[int, int]]:
    """The adjustments recorded so far per month of the covering enrolment, and the arrears
    recorded by a roll of ``month`` per enrolment."""
    adjusted: dict[int, dict[str, int]] = {}
    arrears_now: dict[int, int] = {}
    for enrolment_id, household_id, program, for_month, roll_month_, amount in session.execute(
        select(
            PaymentAdjustment.enrolment_id,
            PaymentAdjustment.household_id,
            PaymentAdjustment.program,
            PaymentAdjustment.for_month,
            PaymentAdjustment.roll_month,
            PaymentAdjustment.amount_fen,
        ).where(among(session, PaymentAdjustment.household_id, households))
    ):
        months = adjusted.setdefault(owner(household_id, program, for_month, enrolment_id), {})
        months[for_month] = months.get(for_month, 0) + amount
        if roll_month_ == month and amount > 0:
            arrears_now[enrolment_id] = arrears_now.get(enrolment_id, 0) + amount
    return adjusted, arrears_now


def _load_accounts(
    session: Session, households: Sequence[int], first: dt.date, last: dt.date
) -> dict[int, list[Account]]:
    accounts: dict[int, list[Account]] = {}
    a = PayeeAccount
    # Columns, not entities: the roll only reads them (no object per account in the session).
    for id_, household_id, bank_code, number, valid_from, valid_to in session.execute(
        select(a.id, a.household_id, a.bank_code, a.account_number, a.valid_from, a.valid_to)
        .where(
            among(session, a.household_id, households),
            a.valid_from <= last,
            a.valid_to.is_(None) | (a.valid_to >= first),
        )
        .order_by(a.id)
    ):
        accounts.setdefault(household_id, []).append(
            Account(id_, bank_code, number, valid_from, valid_to)
        )
    return accounts


def _load_holds(session: Session, households: Sequence[int]) -> dict[int, list[Hold]]:
    return {
        household: [Hold(h.id, h.program, h.from_month, h.reason) for h in holds]
        for household, holds in active_holds(session, households).items()
    }


def load_roll_inputs(session: Session, month: str, found: Sequence[Candidate]) -> RollInputs:
    """Everything ``plan_roll`` needs for these candidates, read in the caller's transaction
    (the month's instructions first and locked: ``_load_current``)."""
    ids = [c.id for c in found]
    households = sorted({c.household_id for c in found})
    first, last = month_bounds(month)
    current = _load_current(session, month, households)
    schedules = _load_schedules(session, ids)
    owner = _Owners(session, households)
    paid = _load_paid(session, month, households, owner)
    held_before = _load_held_before(session, month, ids)
    holds = _load_holds(session, households)
    adjusted, arrears_now = _load_adjusted(session, month, households, owner)
    return RollInputs(
        month=month,
        first=first,
        last=last,
        candidates=found,
        current=current,
        schedules=schedules,
        paid=paid,
        held_before=held_before,
        adjusted=adjusted,
        arrears_now=arrears_now,
        accounts=_load_accounts(session, households, first, last),
        holds=holds,
        recovered=_sums(session, PaymentRecovery, PaymentRecovery.amount_fen, households),
        offset_before=_sums(
            session,
            PaymentInstruction,
            PaymentInstruction.recovery_fen,
            households,
            PaymentInstruction.month != month,
        ),
    )


# -- Apply: write a plan in the caller's transaction ----------------------------------------


def _apply_held_updates(session: Session, plan: RollPlan, totals: _Totals) -> None:
    update_rows(
        session,
        PaymentInstruction,
        "id",
        [
            {
                "id": held.id,
                "amount_fen": held.amount_fen,
                "recovery_fen": held.recovery_fen,
                "status": held.status,
                "hold_id": held.hold_id,
                "held_reason": held.held_reason,
            }
            for held in plan.held_updates
        ],
    )
    totals.settled_held += plan.settled_held


def _apply_adjustments(
    session: Session, plan: RollPlan, month: str, run_id: int, now: dt.datetime, totals: _Totals
) -> None:
    """Insert the adjustments (a key present already is skipped) and, for the overpayments
    inserted, their recoveries."""
    rows = [
        {
            "household_id": a.household_id,
            "program": a.program,
            "for_month": a.for_month,
            "roll_month": month,
            "enrolment_id": a.enrolment_id,
            "kind": a.kind,
            "amount_fen": a.amount_fen,
            "due_fen": a.due_fen,
            "paid_before_fen": a.paid_before_fen,
            "instruction_id": None,
            "run_id": run_id,
            "created_at": now,
        }
        for a in plan.adjustments
    ]
    inserted = insert_new(
        session,
        PaymentAdjustment,
        rows,
        ADJUSTMENT_KEY,
        PaymentAdjustment.id,
        PaymentAdjustment.amount_fen,
        PaymentAdjustment.household_id,
        PaymentAdjustment.program,
    )
    overpaid = [(i, -amount, h, p) for i, amount, h, p in inserted if amount < 0]
    insert_new(
        session,
        PaymentRecovery,
        [
            {
                "household_id": h,
                "program": p,
                "adjustment_id": adjustment_id,
                "amount_fen": amount,
                "created_at": now,
            }
            for adjustment_id, amount, h, p in sorted(overpaid)
        ],
        ("adjustment_id",),
        PaymentRecovery.id,
    )
    totals.adjustments += len(inserted)
    totals.arrears_fen += sum(amount for _, amount, _, _ in inserted if amount > 0)
    totals.overpaid_fen += sum(amount for _, amount, _, _ in overpaid)


def _columns(values: InstructionValues) -> dict[str, Any]:
    """The instruction's columns the roll decides (every value a scalar: what ``asdict`` gives,
    without its deep copy of each value, once per instruction)."""
    return dict(zip(_VALUE_COLUMNS, _VALUE_GETTER(values), strict=True))


def _apply_instructions(
    session: Session, plan: RollPlan, month: str, run_id: int, now: dt.datetime, totals: _Totals
) -> None:
    """Update the month's instructions that changed, then insert the new ones in one statement;
    a key made meanwhile by a concurrent roll is skipped (that roll decided it) and counted as
    present."""
    update_rows(
        session,
        PaymentInstruction,
        "id",
        [{"id": p.existing_id, **_columns(p.values)} for p in plan.updates],
    )
    existing = plan.updates + plan.unchanged
    totals.eligible += plan.frozen + len(existing)
    totals.held += sum(p.values.status == "held" for p in existing)
    totals.held_by_hold += sum(p.values.hold_id is not None for p in existing)
    new_rows = [
        {
            "household_id": p.candidate.household_id,
            "program": p.candidate.program,
            "month": month,
            "enrolment_id": p.candidate.id,
            "created_at": now,
            "run_id": run_id,
            **_columns(p.values),
        }
        for p in plan.new
    ]
    made = insert_new(
        session,
        PaymentInstruction,
        new_rows,
        NATURAL_KEY,
        PaymentInstruction.id,
        PaymentInstruction.status,
        PaymentInstruction.hold_id,
        index_where=MONTHLY,
    )
    _count_new(totals, made, tried=len(new_rows))


def _count_new(totals: _Totals, made: Sequence[Any], tried: int) -> None:
    """Count ``tried`` new instructions of the month, ``made`` of them written (rows of
    (id or enrolment, status, hold id)): a key taken meanwhile counts as present."""
    totals.created += len(made)
    totals.eligible += tried
    totals.held += sum(status == "held" for _, status, _ in made)
    totals.held_by_hold += sum(hold_id is not None for _, _, hold_id in made)


def _link_arrears(session: Session, plan: RollPlan, month: str) -> None:
    """Point this roll's arrears at the month's instruction that carries them (one statement
    for the batch: an adjustment's household and program are its enrolment's)."""
    if not plan.carriers:
        return
    a = PaymentAdjustment
    session.execute(
        update(a)
        .where(
            among(session, a.enrolment_id, [c.id for c in plan.carriers]),
            a.roll_month == month,
            a.amount_fen > 0,
            a.instruction_id.is_(None),
        )
        .values(
            instruction_id=select(PaymentInstruction.id)
            .where(
                PaymentInstruction.household_id == a.household_id,
                PaymentInstruction.program == a.program,
                PaymentInstruction.month == month,
            )
            .scalar_subquery()
        )
    )


def apply_roll_plan(
    session: Session, plan: RollPlan, month: str, run_id: int, now: dt.datetime, totals: _Totals
) -> None:
    """Write ``plan`` in the caller's transaction, counting into ``totals``."""
    _apply_held_updates(session, plan, totals)
    _apply_adjustments(session, plan, month, run_id, now, totals)
    _apply_instructions(session, plan, month, run_id, now, totals)
    _link_arrears(session, plan, month)


def _roll_batch(
    session: Session,
    month: str,
    found: list[Candidate],
    run_id: int,
    now: dt.datetime,
    params: _RecoveryParams,
    totals: _Totals,
) -> None:
    """One batch in the caller's transaction: the plain enrolments' instructions set at a time
    (``payments.roll_plain``), then the others loaded, planned (``payments.roll_plan``) and
    applied."""
    made = insert_plain(session, month, [c.id for c in found if c.eligible], run_id, now)
    if made:
        _count_new(totals, made, tried=len(made))  # a plain one not written is planned below
        done = {enrolment_id for enrolment_id, _, _ in made}
        found = [c for c in found if c.id not in done]
    if found:
        plan = plan_roll(load_roll_inputs(session, month, found), params.for_batch(found))
        apply_roll_plan(session, plan, month, run_id, now, totals)


class RollInProgressError(SafetyNetError):
    """Another roll of the same month held the month's lock for longer than this one would wait."""


@contextmanager
def month_lock(db: Database, month: str, wait_seconds: float) -> Iterator[None]:
    """Hold the month's roll lock while the block runs: one roll of a month at a time.

    On PostgreSQL a session advisory lock on (``ROLL_LOCK_SPACE``, YYYYMM), taken on a connection
    of its own: the server releases it when that connection ends, so a roll killed with SIGKILL
    never leaves the month locked. A second roll waits up to ``wait_seconds`` and then gives up
    with ``RollInProgressError``. On SQLite every batch already runs under the database's write
    lock (BEGIN IMMEDIATE), so batches of two rolls never interleave inside a transaction.
    """
    if db.dialect != "postgresql":
        yield
        return
    key = {"space": ROLL_LOCK_SPACE, "month": int(month.replace("-", ""))}
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        deadline = time.monotonic() + wait_seconds
        while not connection.execute(
            text("SELECT pg_try_advisory_lock(:space, :month)"), key
        ).scalar_one():
            if time.monotonic() >= deadline:
                raise RollInProgressError(
                    f"another roll of {month} is running{_running_run(db, month)}; "
                    f"waited {wait_seconds:g} s: roll again once it has finished"
                )
            time.sleep(0.1)
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:space, :month)"), key)


def _running_run(db: Database, month: str) -> str:
    with db.sessions() as session:
        row = session.execute(
            select(PaymentRun.id, PaymentRun.started_at)
            .where(PaymentRun.month == month, PaymentRun.status == "running")
            .order_by(PaymentRun.id.desc())
            .limit(1)
        ).first()
    return "" if row is None else f" (run {row[0]}, started {row[1]:%Y-%m-%d %H:%M:%S})"


@logged_stage("payment roll")
def roll_month(
    db: Database,
    month: str,
    county: str | None = None,
    batch_size: int = 2000,
    *,
    actor: Actor = SYSTEM_ACTOR,
    clock: Clock = _now,
    tree: ParameterTree | None = None,
    wait_seconds: float = 900.0,
    workers: int = 1,
) -> RollReport:
    """Create the missing payment instructions of ``month`` (optionally one county's), with the
    adjustments of earlier months and the recoveries they call for.

    Safe to call again at any time, also after a crash: see the module docstring. Rolls of one
    month (whatever their county) run one at a time (``month_lock``): a second waits up to
    ``wait_seconds`` for the first to finish, then completes whatever is left. Runs of the same
    month and county left ``running`` by a crash are marked ``interrupted`` by the next call.

    ``workers``: on PostgreSQL, the households are shared out among as many threads, each rolling
    its share batch after batch on a connection of its own (one household's enrolments always in
    the same share), so that one share's statements run on the server while another's batch is
    planned. On SQLite one share: it writes one transaction at a time.
    """
    month = parse_month(month)
    if county is not None and not _COUNTY.fullmatch(county):
        raise InputError("county", f"{county!r} is not a 6-digit county code")
    if batch_size < 1:
        raise InputError("batch_size", "must be at least 1")
    if workers < 1:
        raise InputError("workers", "must be at least 1")
    with month_lock(db, month, wait_seconds):
        return _roll_locked(db, month, county, batch_size, actor, clock, tree, workers)


def _roll_locked(
    db: Database,
    month: str,
    county: str | None,
    batch_size: int,
    actor: Actor,
    clock: Clock,
    tree: ParameterTree | None,
    workers: int,
) -> RollReport:
    run_id, interrupted = _start_run(db, month, county, clock)
    _refresh_payment_statistics(db)  # what last month's roll, bank files and returns changed
    params = _RecoveryParams(tree or default_tree(), month_bounds(month)[0])
    run = _RollRun(month, run_id, clock, params)
    if db.dialect == "postgresql" and workers > 1:
        totals = _roll_shared(db, county, batch_size, run, workers)
    else:
        totals = _roll_batches(db, county, batch_size, run)
    awards = roll_awards(db, month, county, batch_size, run_id, clock)
    _refresh_payment_statistics(db)  # this month's rows, for the bank files that follow
    report = RollReport(
        run_id=run_id,
        month=month,
        county=county,
        eligible=totals.eligible,
        created=totals.created,
        already_present=totals.eligible - totals.created,
        batches=totals.batches,
        interrupted_runs=interrupted,
        adjustments=totals.adjustments,
        arrears_fen=totals.arrears_fen,
        overpaid_fen=totals.overpaid_fen,
        held=totals.held,
        held_by_hold=totals.held_by_hold,
        settled_held=totals.settled_held,
        awards_created=awards.created,
        awards_fen=awards.created_fen,
        awards_held=awards.held,
        awards_settled=awards.settled,
    )
    _finish_run(db, report, actor, clock)
    return report


def _refresh_payment_statistics(db: Database) -> None:
    """The planner's statistics of the tables a roll writes and reads back (ADR 0034, 0035)."""
    with db.sessions.begin() as session:
        refresh_statistics(
            session,
            PaymentInstruction,
            PaymentAdjustment,
            PaymentRecovery,
            EntitlementChange,  # the plain enrolments' checks (ADR 0039)
            PaymentHold,
        )


def _start_run(
    db: Database, month: str, county: str | None, clock: Clock
) -> tuple[int, tuple[int, ...]]:
    """A new run of the month and county, the runs left ``running`` by a crash marked
    ``interrupted``: (the run's id, the interrupted runs' ids)."""
    with db.sessions.begin() as session:
        interrupted = tuple(
            session.scalars(
                select(PaymentRun.id)
                .where(_same_scope(month, county), PaymentRun.status == "running")
                .order_by(PaymentRun.id)
            )
        )
        if interrupted:
            session.execute(
                update(PaymentRun)
                .where(PaymentRun.id.in_(interrupted))
                .values(status="interrupted")
            )
        run = PaymentRun(
            month=month,
            county=county,
            started_at=clock(),
            status="running",
            batches=0,
            eligible_count=0,
            created_count=0,
            present_count=0,
        )
        session.add(run)
        session.flush()
        return run.id, interrupted


@dataclass(frozen=True, slots=True)
class _RollRun:
    """What every batch of one run of the roll shares."""

    month: str
    run_id: int
    clock: Clock
    params: _RecoveryParams


def _roll_batches(db: Database, county: str | None, batch_size: int, run: _RollRun) -> _Totals:
    """Every batch of candidates in enrolment-id order, each in its own transaction that also
    adds its counts to the run's progress."""
    query = roll_candidates(run.month, county).limit(batch_size)
    cursor = 0
    totals = _Totals()
    while True:
        with db.sessions.begin() as session:
            found = _candidates_after(session, query, cursor)
            if not found:
                return totals
            batch = _batch_in(session, found, run)
        cursor = found[-1].id
        totals.add(batch)


def _candidates_after(session: Session, query: Any, cursor: int) -> list[Candidate]:
    """The candidates of ``query`` after enrolment ``cursor``, with JIT off for the rest of the
    caller's transaction (``without_jit``)."""
    without_jit(session)
    return [Candidate(*row) for row in session.execute(query.where(Enrolment.id > cursor))]


def _batch_in(session: Session, found: list[Candidate], run: _RollRun) -> _Totals:
    """One batch in the caller's transaction, its counts added to the run's progress."""
    batch = _Totals(batches=1)
    _roll_batch(session, run.month, found, run.run_id, run.clock(), run.params, batch)
    _record_progress(session, run.run_id, batch, found[-1].id)
    return batch


def _roll_shared(
    db: Database, county: str | None, batch_size: int, run: _RollRun, shares: int
) -> _Totals:
    """The candidates read in enrolment-id order, ``shares`` batches' worth at a time, and each
    block shared out by household (id modulo ``shares``); each share's batches run one after
    another on a thread of its own, each in its own transaction. A household is always in the
    same share, so two batches that run at the same time never touch the same household's rows,
    and each household's candidates are rolled in enrolment-id order, as by one thread."""
    query = roll_candidates(run.month, county).limit(batch_size * shares)
    pools = [
        ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"roll-{share}")
        for share in range(shares)
    ]
    pending: deque[Future[_Totals]] = deque()
    totals = _Totals()
    cursor = 0
    try:
        while True:
            with db.sessions() as session:
                found = _candidates_after(session, query, cursor)
            if not found:
                break
            cursor = found[-1].id
            parts: list[list[Candidate]] = [[] for _ in range(shares)]
            for candidate in found:
                parts[candidate.household_id % shares].append(candidate)
            pending.extend(
                pool.submit(_roll_found, db, part, run)
                for pool, part in zip(pools, parts, strict=True)
                if part
            )
            while len(pending) > 2 * shares:  # read ahead no more than two blocks
                totals.add(pending.popleft().result())
        while pending:
            totals.add(pending.popleft().result())
    finally:
        for pool in pools:
            pool.shutdown(cancel_futures=True)
    return totals


def _roll_found(db: Database, found: list[Candidate], run: _RollRun) -> _Totals:
    """One batch of a share (``_roll_shared``) in its own transaction, with the run's progress."""
    with db.sessions.begin() as session:
        without_jit(session)
        return _batch_in(session, found, run)


def _record_progress(session: Session, run_id: int, batch: _Totals, cursor: int) -> None:
    """Add a batch's counts to its run's (by increments: several shares may be adding theirs);
    ``last_enrolment_id``: the furthest enrolment a batch has reached."""
    run = PaymentRun
    session.execute(
        update(run)
        .where(run.id == run_id)
        .values(
            batches=run.batches + 1,
            eligible_count=run.eligible_count + batch.eligible,
            created_count=run.created_count + batch.created,
            present_count=run.present_count + batch.eligible - batch.created,
            last_enrolment_id=case(
                (run.last_enrolment_id > cursor, run.last_enrolment_id), else_=cursor
            ),
            adjustment_count=run.adjustment_count + batch.adjustments,
            held_count=run.held_count + batch.held,
        )
    )


def _finish_run(db: Database, report: RollReport, actor: Actor, clock: Clock) -> None:
    """Mark the run finished, with its one audit entry."""
    with db.sessions.begin() as session:
        session.execute(
            update(PaymentRun)
            .where(PaymentRun.id == report.run_id)
            .values(status="finished", finished_at=clock())
        )
        append(
            session,
            actor=actor,
            command="payments roll",
            event="payment_roll_finished",
            entity="payment_run",
            entity_id=report.run_id,
            after={
                "month": report.month,
                "county": report.county,
                "eligible": report.eligible,
                "created": report.created,
                "already_present": report.already_present,
                "batches": report.batches,
                "interrupted_runs": list(report.interrupted_runs),
                "adjustments": report.adjustments,
                "arrears": format_yuan(report.arrears_fen),
                "overpaid": format_yuan(report.overpaid_fen),
                "held": report.held,
                "held_by_hold": report.held_by_hold,
                "settled_held": report.settled_held,
                "one_off_awards_instructed": report.awards_created,
                "one_off_awards_total": format_yuan(report.awards_fen),
                "one_off_awards_held": report.awards_held,
                "one_off_awards_settled": report.awards_settled,
            },
            occurred_at=clock(),
        )
