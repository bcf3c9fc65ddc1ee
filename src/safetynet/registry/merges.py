"""The registry follows its own merges (``PersonsMerged``, ADR 0016): an enrolment is a
household's, so it follows the household's members — the merged person's memberships moved to
the person kept (``registry.duplicates``). A household the merge left without any member keeps
no active enrolment: each is suspended (a new version, audited) so that nobody is paid twice for
one person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select

from safetynet.db.unit_of_work import UnitOfWork
from safetynet.registry.duplicates import PersonsMerged
from safetynet.registry.handlers import ChangeEnrolment, change_enrolment
from safetynet.registry.model import Enrolment, Membership

__all__ = ["suspend_emptied_enrolments"]


def suspend_emptied_enrolments(event: PersonsMerged, uow: UnitOfWork) -> None:
    if not event.households:
        return
    still = set(
        uow.session.scalars(
            select(Membership.household_id).where(
                Membership.household_id.in_(event.households), Membership.end_date.is_(None)
            )
        )
    )
    emptied = [h for h in event.households if h not in still]
    enrolments = list(
        uow.session.scalars(
            select(Enrolment.id)
            .where(Enrolment.household_id.in_(emptied), Enrolment.status == "active")
            .order_by(Enrolment.id)
        )
    )
    reason = (
        f"person {event.merged_person_id} was merged into person {event.kept_person_id}: "
        "no member of the household is left"
    )
    clock: Callable[[], dt.datetime] = lambda: event.occurred_at  # noqa: E731  (the event's time)
    with uow.held_commits():
        for enrolment_id in enrolments:
            change_enrolment(
                ChangeEnrolment(enrolment_id, reason, event.actor, status="suspended"), uow, clock
            )
