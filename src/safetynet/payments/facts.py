"""The entitlement schedule follows corrected facts: income recorded or corrected in the registry
for a month already paid changes what was due for it, so the next roll pays arrears or records a
recovery (docs/payments.md, "Facts corrected after payment").

``follow_income_changes`` handles the registry's ``IncomeChanged`` event (wired in
``safetynet.bootstrap``, which hands it the rules core's evaluation, ``IncomeEffect``: this area
does not import the batch runner) in the import's own transaction. For each household with
instructions from the first changed month on, and each such month, the rules core evaluates the
household from the registry twice, with the income in force for that month after the change and
as it was before (only the changed items differ), and the difference is added to what the
schedule says is due for that month: the change of the facts, and nothing else, reaches the
schedule. Whatever else differs between the registry and the decided amount (facts only the case
file holds) stays as decided.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safetynet.audit.log import append
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.errors import SafetyNetError
from safetynet.payments.entitlements import (
    ChangeEntitlement,
    ScheduleEntry,
    month_of,
    monthly_due,
    record_entitlement_change,
)
from safetynet.payments.model import EntitlementChange, PaymentInstruction
from safetynet.registry.events import IncomeChange, IncomeChanged
from safetynet.registry.model import Enrolment, Household, IncomeItem

__all__ = ["IncomeEffect", "IncomeShift", "follow_income_changes"]


class IncomeShift(NamedTuple):
    """A person's income of one kind (``wage``, ``pension``, ...) moved by ``fen`` (after minus
    before) for the month evaluated."""

    person_id: int
    kind: str
    fen: int


class IncomeEffect(Protocol):
    """Per program, how much ``shifts`` move the household's amount for ``month`` (``YYYY-MM``),
    after minus before, as the rules core computes it from the registry
    (``safetynet.batch.income_effects.income_effect``)."""

    def __call__(
        self,
        session: Session,
        household: Household,
        month: str,
        programs: Sequence[str],
        shifts: Sequence[IncomeShift],
    ) -> Mapping[str, int]: ...


def follow_income_changes(event: IncomeChanged, uow: UnitOfWork, effect: IncomeEffect) -> None:
    """Bring the schedule of every enrolment paid for a changed month up to the new facts;
    ``effect`` evaluates what a change of income moves (bootstrap binds it)."""
    session = uow.session
    by_household: dict[int, list[IncomeChange]] = defaultdict(list)
    for change in event.changes:
        by_household[change.household_id].append(change)
    for household_id, changes in sorted(by_household.items()):
        earliest = min(c.month for c in changes)
        paid = session.execute(
            select(
                func.coalesce(PaymentInstruction.enrolment_id, 0),  # never NULL: filtered below
                PaymentInstruction.month,
            )
            .where(
                PaymentInstruction.household_id == household_id,
                PaymentInstruction.month >= earliest,
                PaymentInstruction.enrolment_id.is_not(None),  # one-off awards are not monthly
            )
            .order_by(PaymentInstruction.month)
        ).all()
        if not paid:
            continue  # nothing paid yet for these months: decisions set what is paid
        try:
            _follow(session, effect, event, household_id, changes, paid)
        except SafetyNetError as error:
            # The rules cannot be evaluated for the household (e.g. parameters missing for its
            # region): the import stands, and the gap is on record for a clerk to act on.
            append(
                session,
                actor=event.actor,
                command="ImportHouseholds",
                event="EntitlementNotFollowed",
                entity="household",
                entity_id=household_id,
                after={"months": sorted({m for _, m in paid}), "reason": str(error)},
                occurred_at=event.occurred_at,
            )


def _follow(
    session: Session,
    effect: IncomeEffect,
    event: IncomeChanged,
    household_id: int,
    changes: list[IncomeChange],
    paid: Sequence[tuple[int, str]],
) -> None:
    household = session.get(Household, household_id)
    assert household is not None  # the import has just written its income
    enrolments = {
        e.id: e
        for e in session.scalars(
            select(Enrolment).where(Enrolment.id.in_({enrolment_id for enrolment_id, _ in paid}))
        )
    }
    programs = sorted({e.program for e in enrolments.values()})
    months = sorted({m for _, m in paid})
    delta = {
        m: effect(session, household, m, programs, shifts)
        for m in months
        if (shifts := _shifts(session, changes, m))
    }
    reason = f"income of {', '.join(sorted({c.month for c in changes}))} corrected ({event.source})"
    for enrolment_id in sorted(enrolments):
        enrolment = enrolments[enrolment_id]
        entries = [
            ScheduleEntry(row.id, row.from_month, row.amount_fen)
            for row in session.scalars(
                select(EntitlementChange)
                .where(EntitlementChange.enrolment_id == enrolment.id)
                .order_by(EntitlementChange.id)
            )
        ]
        own = sorted(
            m
            for e, m in paid
            if e == enrolment.id
            and month_of(enrolment.start_date) <= m
            and (enrolment.end_date is None or m <= month_of(enrolment.end_date))
        )

        # What each month is due with the change of the facts, against the schedule as it was.
        targets = {
            m: max(0, _due(enrolment, m, entries) + delta.get(m, {}).get(enrolment.program, 0))
            for m in own
        }
        for month in own:
            if _due(enrolment, month, entries) == targets[month]:
                continue
            entry_id = record_entitlement_change(
                session,
                ChangeEntitlement(
                    enrolment_id=enrolment.id,
                    from_month=month,
                    amount_fen=targets[month],
                    reason=reason,
                    actor=event.actor,
                ),
                event.occurred_at,
            )
            entries.append(ScheduleEntry(entry_id, month, targets[month]))


def _due(enrolment: Enrolment, month: str, schedule: list[ScheduleEntry]) -> int:
    return monthly_due(
        month, enrolment.start_date, enrolment.end_date, enrolment.amount_fen, schedule
    )


def _shifts(session: Session, changes: list[IncomeChange], month: str) -> list[IncomeShift]:
    """The changes of income in force for ``month``: after minus before, per person and kind."""
    shifts = []
    for change in changes:
        if change.month > month:
            continue
        before = _in_force_before(session, change, changes, month)
        if before is not None and before != change.after_fen:
            shifts.append(IncomeShift(change.person_id, change.kind, change.after_fen - before))
    return shifts


def _in_force_before(
    session: Session, change: IncomeChange, changes: list[IncomeChange], month: str
) -> int | None:
    """The amount of this income kind the person had in force for ``month`` before the change,
    or None when the changed item is not the one in force for ``month`` (a later month's item
    is)."""
    later = session.scalar(
        select(IncomeItem.id).where(
            IncomeItem.person_id == change.person_id,
            IncomeItem.kind == change.kind,
            IncomeItem.month > change.month,
            IncomeItem.month <= month,
        )
    )
    if later is not None:
        return None
    if change.before_fen is not None:
        return change.before_fen
    # A new item: before it, the latest earlier item was in force (as it was before this event).
    earlier = session.execute(
        select(IncomeItem.month, IncomeItem.amount_fen)
        .where(
            IncomeItem.person_id == change.person_id,
            IncomeItem.kind == change.kind,
            IncomeItem.month < change.month,
        )
        .order_by(IncomeItem.month.desc())
        .limit(1)
    ).first()
    if earlier is None:
        return 0
    for other in changes:
        if (other.person_id, other.kind, other.month) == (
            change.person_id,
            change.kind,
            earlier[0],
        ):
            return other.before_fen if other.before_fen is not None else 0
    return int(earlier[1])
