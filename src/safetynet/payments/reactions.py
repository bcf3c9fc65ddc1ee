"""How payments follows the other areas' events (wired in ``safetynet.bootstrap``), in the
publisher's transaction, through the public functions of ``payments.holds`` and
``payments.entitlements``.

* Monitoring stored alerts that stop the next payment (``AlertsStored``, one event for a whole
  run): a hold on each household, every program, from the first month still stoppable.
* Monitoring dismissed an alert (``AlertResolved``): the hold it placed is released.
* A case decision set the amounts of an enrolment's months (``AmountsScheduled``, a gradual
  exit): the entitlement schedule says them.

Each follower reads the event through a ``Protocol`` of its own: payments imports no other area.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import select

from safetynet.audit.log import Actor
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.payments.entitlements import (
    ChangeEntitlement,
    ScheduleEntry,
    monthly_due,
    next_month,
    record_entitlement_change,
)
from safetynet.payments.holds import (
    SENT,
    PlaceHold,
    active_holds,
    place_hold_in,
    release_holds_of_alert,
)
from safetynet.payments.model import EntitlementChange, PaymentHold, PaymentInstruction
from safetynet.registry.model import Enrolment

__all__ = [
    "place_holds_of_stops",
    "record_scheduled_amounts",
    "release_hold_of_dismissed_alert",
]

_CHUNK = 900  # households per IN list (SQLite's bound parameters)


class Stop(Protocol):
    @property
    def alert_id(self) -> int: ...
    @property
    def household_id(self) -> int: ...
    @property
    def month(self) -> str: ...
    @property
    def reason(self) -> str: ...


class StopsStored(Protocol):
    """Monitoring's ``AlertsStored``; ``holds_placed`` receives the ids of the holds placed."""

    @property
    def stops(self) -> Sequence[Stop]: ...
    @property
    def actor(self) -> Actor: ...
    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def holds_placed(self) -> list[int]: ...


def _sent_months(uow: UnitOfWork, stops: Sequence[Stop]) -> set[tuple[int, str]]:
    """(household, month) of the stops whose instructions have all gone to the bank."""
    households = sorted({s.household_id for s in stops})
    months = sorted({s.month for s in stops})
    statuses: dict[tuple[int, str], set[str]] = {}
    for start in range(0, len(households), _CHUNK):
        for household, month, status in uow.session.execute(
            select(
                PaymentInstruction.household_id,
                PaymentInstruction.month,
                PaymentInstruction.status,
            ).where(
                PaymentInstruction.household_id.in_(households[start : start + _CHUNK]),
                PaymentInstruction.month.in_(months),
            )
        ):
            statuses.setdefault((household, month), set()).add(status)
    return {key for key, found in statuses.items() if found <= set(SENT)}


def place_holds_of_stops(event: StopsStored, uow: UnitOfWork) -> None:
    """A hold per stop (its own audit entry), from the stop's month unless that month's
    instructions of the household have all gone to the bank, then from the month after; none
    while a hold on all the household's programs from that month stands. Standing holds and
    sent months are read once for the whole batch."""
    if not event.stops:
        return
    sent = _sent_months(uow, event.stops)
    standing = active_holds(uow.session, {s.household_id for s in event.stops})
    for stop in event.stops:
        key = (stop.household_id, stop.month)
        from_month = next_month(stop.month) if key in sent else stop.month
        holds = standing.setdefault(stop.household_id, [])
        if any(h.program is None and h.from_month <= from_month for h in holds):
            continue  # the household's payments are already stopped from that month
        hold_id, placed = place_hold_in(
            uow.session,
            PlaceHold(
                household_id=stop.household_id,
                from_month=from_month,
                reason=stop.reason,
                actor=event.actor,
                source=f"alert {stop.alert_id}",
                alert_id=stop.alert_id,
            ),
            event.occurred_at,
        )
        if placed:
            event.holds_placed.append(hold_id)
            hold = uow.session.get(PaymentHold, hold_id)
            assert hold is not None  # just placed
            holds.append(hold)


class ResolvedAlert(Protocol):
    @property
    def alert_id(self) -> int: ...
    @property
    def outcome(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def actor(self) -> Actor: ...
    @property
    def occurred_at(self) -> dt.datetime: ...


def release_hold_of_dismissed_alert(event: ResolvedAlert, uow: UnitOfWork) -> None:
    """A dismissed alert releases the hold it placed (the release's own audit entry); any other
    outcome keeps it."""
    if event.outcome != "dismissed":
        return
    release_holds_of_alert(
        uow.session,
        event.alert_id,
        f"alert {event.alert_id} dismissed: {event.reason}",
        event.actor,
        event.occurred_at,
    )


class ScheduledAmounts(Protocol):
    @property
    def enrolment_id(self) -> int: ...
    @property
    def schedule(self) -> Sequence[tuple[str, int]]: ...
    @property
    def reason(self) -> str: ...
    @property
    def actor(self) -> Actor: ...
    @property
    def occurred_at(self) -> dt.datetime: ...


def record_scheduled_amounts(event: ScheduledAmounts, uow: UnitOfWork) -> None:
    """Make the enrolment's entitlement schedule say each month's amount (months from the
    enrolment's start on): one entry from each month whose amount differs from what the schedule
    already gives for it, so a frozen exit adds nothing and a tapered one a step a month. The
    roll pays exactly these amounts, and the difference for months already paid."""
    enrolment = uow.session.get(Enrolment, event.enrolment_id)
    assert enrolment is not None  # the publisher read it in this transaction
    entries = [
        ScheduleEntry(row.id, row.from_month, row.amount_fen)
        for row in uow.session.scalars(
            select(EntitlementChange)
            .where(EntitlementChange.enrolment_id == enrolment.id)
            .order_by(EntitlementChange.id)
        )
    ]
    first = f"{enrolment.start_date.year:04d}-{enrolment.start_date.month:02d}"
    for month, amount in event.schedule:
        if month < first:
            continue  # paid under an earlier enrolment
        due = monthly_due(
            month, enrolment.start_date, enrolment.end_date, enrolment.amount_fen, entries
        )
        if due == amount:
            continue
        entry_id = record_entitlement_change(
            uow.session,
            ChangeEntitlement(
                enrolment_id=enrolment.id,
                from_month=month,
                amount_fen=amount,
                reason=f"{event.reason}: {month}",
                actor=event.actor,
            ),
            event.occurred_at,
        )
        entries.append(ScheduleEntry(entry_id, month, amount))
