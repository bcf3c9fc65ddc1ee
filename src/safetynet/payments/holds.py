"""Payment holds: stopping a household's payments from a month on until someone releases the stop.

A hold (``payment_holds``) names a household, one program or all of them, the first month it
stops, a reason and its source (a monitoring alert, or a clerk). While it stands, every instruction
it covers that has not gone to the bank is ``held`` with the hold's id and reason: the roll creates
it so, the bank file never exports it (``payments.bankfile``). Placing and releasing are commands,
each one transaction with one audit entry (``PaymentHoldPlaced``, ``PaymentHoldReleased``).

Released, the instructions it held go back to ``pending`` (they carry the account the roll chose)
or, without an account, stay ``held`` for want of one; another hold that still stands and covers
them keeps them held under its own id. Instructions already exported or paid are never touched:
money sent to the bank cannot be stopped. docs/payments.md, "Payment holds".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.db.bulk import among
from safetynet.db.engine import Database
from safetynet.domain.identity import mask_identity_number
from safetynet.errors import InputError, UnknownNameError
from safetynet.monitoring.alerts_model import Alert
from safetynet.payments.model import PaymentHold, PaymentInstruction
from safetynet.payments.months import next_month, parse_month
from safetynet.registry.model import Household, Membership, Person

__all__ = [
    "DIED",
    "ENDED",
    "HELD_KINDS",
    "NO_ACCOUNT",
    "SENT",
    "SUSPENDED",
    "HoldRow",
    "PlaceHold",
    "ReleaseHold",
    "active_holds",
    "covering_hold",
    "first_stoppable_month",
    "held_kind",
    "list_holds",
    "place_hold",
    "place_hold_in",
    "release_hold",
    "release_hold_in",
    "release_holds_of_alert",
]

Clock = Callable[[], dt.datetime]
NO_ACCOUNT = "no payee account valid in the month"
# How the reason of an instruction the bank file found no longer standing begins (then the
# enrolment's own reason, e.g. "death reported late"): ``payments.bankfile``.
SUSPENDED = "enrolment suspended"
ENDED = "entitlement ended"
# ... or whose payee (or the only member of the household) is recorded dead: ``payments.deaths``.
DIED = "payee died"
# What keeps a held instruction, in the order reports list them.
HELD_KINDS = ("no account", "payment hold", "suspended", "ended", "payee died")
# Statuses of an instruction whose money has gone to the bank: a hold cannot stop it any more.
# (``failed`` is not among them: the bank returned it, and its retry is a payment still to make.)
SENT = ("exported", "paid")
# Statuses a hold turns into ``held`` (it also takes over those held for want of an account).
STOPPABLE = ("pending", "failed")


@dataclass(frozen=True, kw_only=True)
class PlaceHold:
    """Stop the household's payments of ``program`` (None: of every program) from
    ``from_month`` on. ``alert_id``: the monitoring alert asking for it (one hold per alert)."""

    household_id: int
    from_month: str
    reason: str
    actor: Actor
    program: str | None = None
    source: str = "manual"
    alert_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class ReleaseHold:
    """Lift a hold that stands, saying why."""

    hold_id: int
    reason: str
    actor: Actor


@dataclass(frozen=True, slots=True)
class HoldRow:
    """An active hold as listed to a clerk (identity number masked)."""

    id: int
    county: str
    household_id: int
    household_no: str
    person: str | None  # masked identity number of the person concerned (or the household head)
    program: str | None
    from_month: str
    reason: str
    source: str
    placed_at: dt.datetime
    placed_by: str
    held_instructions: int


def _text(value: str, field: str) -> str:
    if not value.strip():
        raise InputError(field, "is required: say why")
    return value.strip()


def covering_hold(holds: Iterable[PaymentHold], program: str, month: str) -> PaymentHold | None:
    """Of ``holds`` (one household's, standing), the first placed that covers the program and
    month, or None."""
    found = [h for h in holds if h.active and h.covers(program, month)]
    return min(found, key=lambda h: h.id) if found else None


def active_holds(session: Session, household_ids: Iterable[int]) -> dict[int, list[PaymentHold]]:
    """The standing holds of these households, by household."""
    wanted = sorted(set(household_ids))
    out: dict[int, list[PaymentHold]] = {}
    # One query on PostgreSQL (the ids as one array); SQLite takes a bounded number of values.
    step = max(len(wanted), 1) if session.get_bind().dialect.name == "postgresql" else 900
    for start in range(0, len(wanted), step):
        for hold in session.scalars(
            select(PaymentHold)
            .where(
                among(session, PaymentHold.household_id, wanted[start : start + step]),
                PaymentHold.released_at.is_(None),
            )
            .order_by(PaymentHold.id)
        ):
            out.setdefault(hold.household_id, []).append(hold)
    return out


def held_kind(hold_id: int | None, held_reason: str | None) -> str:
    """What keeps a held instruction: one of ``HELD_KINDS``."""
    if hold_id is not None:
        return "payment hold"
    if held_reason is not None and held_reason.startswith(SUSPENDED):
        return "suspended"
    if held_reason is not None and held_reason.startswith(ENDED):
        return "ended"
    if held_reason is not None and held_reason.startswith(DIED):
        return "payee died"
    return "no account"


def first_stoppable_month(session: Session, household_id: int, month: str) -> str:
    """The first month from ``month`` on whose payment can still be stopped: ``month`` itself
    unless the household has instructions for it and every one has gone to the bank (exported or
    paid), then the month after."""
    statuses = set(
        session.scalars(
            select(PaymentInstruction.status).where(
                PaymentInstruction.household_id == household_id, PaymentInstruction.month == month
            )
        )
    )
    return next_month(month) if statuses and statuses <= set(SENT) else month


def place_hold_in(session: Session, cmd: PlaceHold, now: dt.datetime) -> tuple[int, bool]:
    """Place the hold in the caller's transaction, with its audit entry. Returns (hold id,
    whether it is new): a hold for an alert that already has one is not placed twice."""
    from_month = parse_month(cmd.from_month, "from_month")
    reason = _text(cmd.reason, "reason")
    program = None if cmd.program is None else _text(cmd.program, "program")
    if cmd.alert_id is not None:
        existing = session.scalar(
            select(PaymentHold.id).where(PaymentHold.alert_id == cmd.alert_id)
        )
        if existing is not None:
            return existing, False
    if session.get(Household, cmd.household_id) is None:
        raise UnknownNameError("household", str(cmd.household_id))
    hold = PaymentHold(
        household_id=cmd.household_id,
        program=program,
        from_month=from_month,
        reason=reason,
        source=_text(cmd.source, "source"),
        alert_id=cmd.alert_id,
        placed_at=now,
        placed_by=cmd.actor.name,
    )
    session.add(hold)
    session.flush()
    covered = [
        PaymentInstruction.household_id == cmd.household_id,
        PaymentInstruction.month >= from_month,
        PaymentInstruction.status.in_(STOPPABLE)
        | ((PaymentInstruction.status == "held") & PaymentInstruction.hold_id.is_(None)),
    ]
    if program is not None:
        covered.append(PaymentInstruction.program == program)
    stopped = session.execute(
        update(PaymentInstruction)
        .where(*covered)
        .values(status="held", hold_id=hold.id, held_reason=reason)
        .returning(PaymentInstruction.id)
    ).all()
    append(
        session,
        actor=cmd.actor,
        command="PlaceHold",
        event="PaymentHoldPlaced",
        entity="payment_hold",
        entity_id=hold.id,
        after={
            "household": cmd.household_id,
            "program": program or "all",
            "from_month": from_month,
            "reason": reason,
            "source": hold.source,
            "alert": cmd.alert_id,
            "instructions_held": sorted(i for (i,) in stopped),
        },
        occurred_at=now,
    )
    return hold.id, True


def place_hold(db: Database, cmd: PlaceHold, clock: Clock) -> int:
    """``PlaceHold`` in its own transaction; returns the hold's id."""
    with db.sessions.begin() as session:
        return place_hold_in(session, cmd, clock())[0]


def release_hold_in(session: Session, cmd: ReleaseHold, now: dt.datetime) -> int:
    """Release the hold in the caller's transaction, with its audit entry; returns how many
    instructions it held that are now payable again (pending)."""
    reason = _text(cmd.reason, "reason")
    hold = session.get(PaymentHold, cmd.hold_id, with_for_update=True)
    if hold is None:
        raise UnknownNameError("payment hold", str(cmd.hold_id))
    if not hold.active:
        raise InputError(
            "hold", f"hold {hold.id} was already released on {hold.released_at:%Y-%m-%d}"
        )
    hold.released_at = now
    hold.released_by = cmd.actor.name
    hold.release_reason = reason
    session.flush()
    others = active_holds(session, [hold.household_id]).get(hold.household_id, [])
    held = session.scalars(
        select(PaymentInstruction)
        .where(PaymentInstruction.hold_id == hold.id, PaymentInstruction.status == "held")
        .order_by(PaymentInstruction.id)
        .with_for_update()
    ).all()
    payable, still = [], []
    for instruction in held:
        other = covering_hold(others, instruction.program, instruction.month)
        if other is not None:
            instruction.hold_id = other.id
            instruction.held_reason = other.reason
            still.append(instruction.id)
        elif instruction.account is not None:
            instruction.status = "pending"
            instruction.hold_id = None
            instruction.held_reason = None
            payable.append(instruction.id)
        else:
            instruction.hold_id = None
            instruction.held_reason = NO_ACCOUNT
            still.append(instruction.id)
    session.flush()
    append(
        session,
        actor=cmd.actor,
        command="ReleaseHold",
        event="PaymentHoldReleased",
        entity="payment_hold",
        entity_id=hold.id,
        before={"released": False},
        after={
            "released": True,
            "household": hold.household_id,
            "reason": reason,
            "instructions_payable": payable,
            "instructions_still_held": still,
        },
        occurred_at=now,
    )
    return len(payable)


def release_hold(db: Database, cmd: ReleaseHold, clock: Clock) -> int:
    """``ReleaseHold`` in its own transaction; returns how many instructions are payable again."""
    with db.sessions.begin() as session:
        return release_hold_in(session, cmd, clock())


def release_holds_of_alert(
    session: Session, alert_id: int, reason: str, actor: Actor, now: dt.datetime
) -> list[int]:
    """Release the standing hold the alert placed, if any (caller's transaction); its id."""
    hold_id = session.scalar(
        select(PaymentHold.id).where(
            PaymentHold.alert_id == alert_id, PaymentHold.released_at.is_(None)
        )
    )
    if hold_id is None:
        return []
    release_hold_in(session, ReleaseHold(hold_id=hold_id, reason=reason, actor=actor), now)
    return [hold_id]


def list_holds(db: Database, county: str | None = None) -> list[HoldRow]:
    """The holds that stand, by county and id; the person is the alert's (or the household
    head), its identity number masked."""
    with db.sessions() as session:
        query = (
            select(PaymentHold, Household.region_code, Household.household_no, Alert.person_id)
            .join(Household, Household.id == PaymentHold.household_id)
            .outerjoin(Alert, Alert.id == PaymentHold.alert_id)
            .where(PaymentHold.released_at.is_(None))
            .order_by(Household.region_code, PaymentHold.id)
        )
        if county is not None:
            query = query.where(Household.region_code == county)
        found = session.execute(query).all()
        ids = [hold.id for hold, *_ in found]
        counts: dict[int | None, int] = {
            h: int(n)
            for h, n in session.execute(
                select(PaymentInstruction.hold_id, func.count())
                .where(PaymentInstruction.hold_id.in_(ids), PaymentInstruction.status == "held")
                .group_by(PaymentInstruction.hold_id)
            )
        }
        people: dict[int, str] = {}
        wanted = {p for *_, p in found if p is not None}
        if wanted:
            people.update(
                (i, n)
                for i, n in session.execute(
                    select(Person.id, Person.id_number).where(Person.id.in_(wanted))
                )
            )
        heads: dict[int, str] = dict(
            session.execute(
                select(Membership.household_id, Person.id_number)
                .join(Person, Person.id == Membership.person_id)
                .where(
                    Membership.household_id.in_({hold.household_id for hold, *_ in found}),
                    Membership.relation == "head",
                    Membership.end_date.is_(None),
                )
            ).all()
        )
        rows = []
        for hold, region, household_no, person_id in found:
            number = people.get(person_id) if person_id is not None else None
            number = number or heads.get(hold.household_id)
            rows.append(
                HoldRow(
                    id=hold.id,
                    county=region,
                    household_id=hold.household_id,
                    household_no=household_no,
                    person=None if number is None else mask_identity_number(number),
                    program=hold.program,
                    from_month=hold.from_month,
                    reason=hold.reason,
                    source=hold.source,
                    placed_at=hold.placed_at,
                    placed_by=hold.placed_by,
                    held_instructions=int(counts.get(hold.id, 0)),
                )
            )
        return rows
