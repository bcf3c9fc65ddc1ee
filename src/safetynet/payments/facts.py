"""The entitlement schedule follows corrected facts: income recorded or corrected in the registry
for a month already paid changes what was due for it, so the next roll pays arrears or records a
recovery (docs/payments.md, "Facts corrected after payment").

``follow_income_changes`` handles the registry's ``IncomeChanged`` event (wired in
``safetynet.bootstrap``) in the import's own transaction. For each household with instructions
from the first changed month on, and each such month, the rules core evaluates the household from
the registry twice, with the income in force for that month after the change and as it was before
(only the changed items differ), and the difference is added to what the schedule says is due for
that month: the change of the facts, and nothing else, reaches the schedule. Whatever else
differs between the registry and the decided amount (facts only the case file holds) stays as
decided.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
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

__all__ = ["follow_income_changes"]


def follow_income_changes(event: IncomeChanged, uow: UnitOfWork) -> None:
    """Bring the schedule of every enrolment paid for a changed month up to the new facts."""
    session = uow.session
    by_household: dict[int, list[IncomeChange]] = defaultdict(list)
    for change in event.changes:
        by_household[change.household_id].append(change)
    for household_id, changes in sorted(by_household.items()):
        earliest = min(c.month for c in changes)
        paid = session.execute(
            select(PaymentInstruction.enrolment_id, PaymentInstruction.month)
            .where(
                PaymentInstruction.household_id == household_id,
                PaymentInstruction.month >= earliest,
            )
            .order_by(PaymentInstruction.month)
        ).all()
        if not paid:
            continue  # nothing paid yet for these months: decisions set what is paid
        try:
            _follow(session, event, household_id, changes, paid)
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
    delta = {m: _effect(session, household, changes, m, programs) for m in months}
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
            m: max(0, _due(enrolment, m, entries) + delta[m].get(enrolment.program, 0)) for m in own
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


def _effect(
    session: Session,
    household: Household,
    changes: list[IncomeChange],
    month: str,
    programs: list[str],
) -> dict[str, int]:
    """Per program, how much the changes of income move the household's amount for ``month``
    (after minus before), as the rules core computes it from the registry."""
    from safetynet.batch.runner import evaluate_county
    from safetynet.monitoring.verification import INCOME_FIELDS, load_county

    first = dt.date.fromisoformat(f"{month}-01")
    shifts: list[tuple[int, str, int]] = []  # person, population field, after - before
    for change in changes:
        field = INCOME_FIELDS.get(change.kind)
        if field is None or change.month > month:
            continue
        before = _in_force_before(session, change, changes, month)
        if before is not None and before != change.after_fen:
            shifts.append((change.person_id, field, change.after_fen - before))
    if not shifts:
        return {}
    amounts: list[dict[str, int]] = []
    for revert in (False, True):
        data, _ = load_county(session, household.region_code, first, [household.id])
        if revert:
            row_of = {int(p): i for i, p in enumerate(data.person_id)}
            for person_id, field, shift in shifts:
                if person_id in row_of:
                    data.population.persons[field][row_of[person_id]] -= shift
        result = evaluate_county(data, first, only=programs)
        amounts.append(
            {
                program: int(amount) if eligible else 0
                for program, eligible, amount in zip(
                    result.results.column("program").to_pylist(),
                    result.results.column("eligible").to_pylist(),
                    result.results.column("amount_fen").to_pylist(),
                    strict=True,
                )
            }
        )
    now_, then = amounts
    return {p: now_.get(p, 0) - then.get(p, 0) for p in programs}


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
