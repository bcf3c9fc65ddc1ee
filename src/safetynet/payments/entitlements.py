"""The entitlement schedule: which monthly amount is due to an enrolment for which month, as known
now, and the two commands that change it after the fact (a new amount from a month on; an end,
e.g. a death reported late).

The schedule is append-only (``entitlement_changes``): a correction is a new entry, never an edit,
so the roll can always say why a month's due amount changed and when that became known. What is
due for a month (``monthly_due``):

* nothing outside the enrolment's months (before the month of ``start_date``, after the month of
  ``end_date``; the month in which it ends is due in full);
* else the amount of the entry in force: the latest ``from_month`` not after the month, and among
  entries with the same ``from_month`` the one recorded last;
* else (no entry yet) the enrolment's own ``amount_fen``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.db.engine import Database
from safetynet.domain.money import format_yuan
from safetynet.errors import InputError, UnknownNameError
from safetynet.payments.holds import DIED, ENDED
from safetynet.payments.model import EntitlementChange, PaymentInstruction
from safetynet.payments.months import month_of, next_month, parse_month
from safetynet.registry.model import Enrolment, EnrolmentHistory

__all__ = [
    "ChangeEntitlement",
    "EndEntitlement",
    "ScheduleEntry",
    "change_entitlement",
    "end_entitlement",
    "month_of",
    "monthly_due",
    "next_month",
    "record_entitlement_change",
    "schedule",
]

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    """One entry of the schedule as the roll reads it."""

    id: int
    from_month: str
    amount_fen: int


def monthly_due(
    month: str,
    start: dt.date,
    end: dt.date | None,
    base_amount_fen: int,
    entries: Sequence[ScheduleEntry],
) -> int:
    """The amount due for ``month`` (YYYY-MM) under the schedule as known now (module docstring)."""
    if month < month_of(start) or (end is not None and month > month_of(end)):
        return 0
    in_force: ScheduleEntry | None = None
    for entry in entries:
        if entry.from_month <= month and (
            in_force is None or (entry.from_month, entry.id) > (in_force.from_month, in_force.id)
        ):
            in_force = entry
    return base_amount_fen if in_force is None else in_force.amount_fen


# -- Commands --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeEntitlement:
    """From ``from_month`` on, ``amount_fen`` a month is due (e.g. a standard raised from January
    and recorded in March)."""

    enrolment_id: int
    from_month: str
    amount_fen: int
    reason: str
    actor: Actor


@dataclass(frozen=True)
class EndEntitlement:
    """The enrolment ends on ``end_date`` (e.g. the day of death); the month of that day is still
    due in full, nothing after it."""

    enrolment_id: int
    end_date: dt.date
    reason: str
    actor: Actor


def _enrolment(session: Session, enrolment_id: int) -> Enrolment:
    enrolment = session.get(Enrolment, enrolment_id, with_for_update=True)
    if enrolment is None:
        raise UnknownNameError("enrolment", str(enrolment_id))
    return enrolment


def _reason(text: str) -> str:
    if not text.strip():
        raise InputError("reason", "is required: say why the entitlement changes")
    return text.strip()


def _add_entry(
    session: Session,
    entry: EntitlementChange,
    *,
    actor: Actor,
    command: str,
    event: str,
    after: dict[str, Any],
    before: dict[str, Any] | None = None,
) -> int:
    """Add the schedule entry and its audit entry (``after`` led by the entry's id) to the
    session's transaction; returns the entry's id."""
    session.add(entry)
    session.flush()
    append(
        session,
        actor=actor,
        command=command,
        event=event,
        entity="enrolment",
        entity_id=entry.enrolment_id,
        before=before,
        after={"entry": entry.id, **after},
        occurred_at=entry.recorded_at,
    )
    return entry.id


def change_entitlement(db: Database, cmd: ChangeEntitlement, clock: Clock) -> int:
    """Append a new amount to the schedule (one transaction with its audit entry); returns the
    entry's id. The next roll pays the difference for months already paid (arrears) or records
    it as an overpayment to recover."""
    now = clock()
    with db.sessions.begin() as session:
        return record_entitlement_change(session, cmd, now)


def record_entitlement_change(session: Session, cmd: ChangeEntitlement, now: dt.datetime) -> int:
    """``change_entitlement`` inside the caller's transaction (flushed, not committed), for a
    step that changes the schedule together with its own rows, e.g. a case decision."""
    from_month = parse_month(cmd.from_month, "from_month")
    if cmd.amount_fen < 0:
        raise InputError("amount", "is negative")
    reason = _reason(cmd.reason)
    enrolment = _enrolment(session, cmd.enrolment_id)
    if from_month < month_of(enrolment.start_date):
        raise InputError(
            "from_month",
            f"{from_month} is before the enrolment starts ({enrolment.start_date})",
        )
    if enrolment.end_date is not None and from_month > month_of(enrolment.end_date):
        raise InputError(
            "from_month", f"{from_month} is after the enrolment ended ({enrolment.end_date})"
        )
    return _add_entry(
        session,
        EntitlementChange(
            enrolment_id=enrolment.id,
            kind="amount",
            from_month=from_month,
            amount_fen=cmd.amount_fen,
            effective_date=None,
            reason=reason,
            recorded_at=now,
            recorded_by=cmd.actor.name,
        ),
        actor=cmd.actor,
        command="ChangeEntitlement",
        event="EntitlementChanged",
        after={
            "from_month": from_month,
            "amount": format_yuan(cmd.amount_fen),
            "reason": reason,
        },
    )


def end_entitlement(db: Database, cmd: EndEntitlement, clock: Clock) -> int:
    """End the enrolment on ``end_date`` (status ``ended``, a new enrolment version with the
    reason) and append an ``end`` entry (amount 0 from the following month) to the schedule, in
    one transaction with its audit entry; returns the entry's id."""
    reason = _reason(cmd.reason)
    now = clock()
    with db.sessions.begin() as session:
        enrolment = _enrolment(session, cmd.enrolment_id)
        if enrolment.status == "ended":
            raise InputError(
                "enrolment", f"enrolment {enrolment.id} has already ended ({enrolment.end_date})"
            )
        if cmd.end_date < enrolment.start_date:
            raise InputError(
                "end_date",
                f"{cmd.end_date} is before the enrolment starts ({enrolment.start_date})",
            )
        before = {
            "status": enrolment.status,
            "end_date": None if enrolment.end_date is None else enrolment.end_date.isoformat(),
        }
        enrolment.status = "ended"
        enrolment.end_date = cmd.end_date
        enrolment.version += 1
        session.add(
            EnrolmentHistory(
                enrolment_id=enrolment.id,
                version=enrolment.version,
                changed_at=now,
                status=enrolment.status,
                start_date=enrolment.start_date,
                end_date=enrolment.end_date,
                amount_fen=enrolment.amount_fen,
                reason=reason,
            )
        )
        nothing_due_from = next_month(month_of(cmd.end_date))
        # Months the bank file held for the death are now held for the end: the roll brings
        # those up to date (settled at 0) instead of recovering money that was never sent.
        session.execute(
            update(PaymentInstruction)
            .where(
                PaymentInstruction.enrolment_id == enrolment.id,
                PaymentInstruction.month >= nothing_due_from,
                PaymentInstruction.status == "held",
                PaymentInstruction.hold_id.is_(None),
                PaymentInstruction.held_reason.startswith(DIED),
            )
            .values(held_reason=f"{ENDED} on {cmd.end_date.isoformat()}: {reason}")
        )
        return _add_entry(
            session,
            EntitlementChange(
                enrolment_id=enrolment.id,
                kind="end",
                from_month=nothing_due_from,
                amount_fen=0,
                effective_date=cmd.end_date,
                reason=reason,
                recorded_at=now,
                recorded_by=cmd.actor.name,
            ),
            actor=cmd.actor,
            command="EndEntitlement",
            event="EntitlementEnded",
            before=before,
            after={
                "status": "ended",
                "end_date": cmd.end_date.isoformat(),
                "nothing_due_from": nothing_due_from,
                "reason": reason,
            },
        )


def schedule(db: Database, enrolment_id: int) -> list[EntitlementChange]:
    """The enrolment's schedule in the order it was recorded."""
    with db.sessions() as session:
        if session.get(Enrolment, enrolment_id) is None:
            raise UnknownNameError("enrolment", str(enrolment_id))
        rows = session.scalars(
            select(EntitlementChange)
            .where(EntitlementChange.enrolment_id == enrolment_id)
            .order_by(EntitlementChange.id)
        ).all()
        session.expunge_all()
        return list(rows)
