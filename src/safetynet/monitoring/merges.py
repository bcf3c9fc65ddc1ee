"""Monitoring follows a merge of two registry persons (``PersonsMerged``, ADR 0012/0016): the
merged person's feed records and alerts move to the person kept; an alert the kept person
already has (same rule and month) is resolved ``dismissed`` as that alert's duplicate, so its
payment hold is released (payments follows ``AlertResolved``). Each move is audited.
"""

from __future__ import annotations

from sqlalchemy import select, update

from safetynet.audit.log import append
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.monitoring.alerts import ResolveAlert, resolve_in
from safetynet.monitoring.alerts_model import Alert
from safetynet.monitoring.model import FeedRecord
from safetynet.registry.duplicates import PersonsMerged

__all__ = ["follow_persons_merged"]


def follow_persons_merged(event: PersonsMerged, uow: UnitOfWork) -> None:
    session = uow.session
    kept, merged = event.kept_person_id, event.merged_person_id
    records = list(session.scalars(select(FeedRecord.id).where(FeedRecord.person_id == merged)))
    if records:
        session.execute(
            update(FeedRecord)
            .where(FeedRecord.person_id == merged)
            .values(person_id=kept)
            .execution_options(synchronize_session="fetch")
        )
    kept_subject, merged_subject = f"person:{kept}", f"person:{merged}"
    twins = {
        (a.rule, a.month): a.id
        for a in session.scalars(select(Alert).where(Alert.subject == kept_subject))
    }
    moved, duplicates = [], []
    alerts = list(
        session.scalars(select(Alert).where(Alert.person_id == merged).order_by(Alert.id))
    )
    for alert in alerts:
        twin = twins.get((alert.rule, alert.month)) if alert.subject == merged_subject else None
        alert.person_id = kept
        if twin is None and alert.subject == merged_subject:
            alert.subject = kept_subject
        moved.append(alert.id)
        if twin is not None and alert.status != "resolved":
            duplicates.append(alert.id)
            reason = f"person {merged} was merged into person {kept}, who has alert {twin}"
            on = max(event.occurred_at.date(), alert.raised_on)
            command = ResolveAlert(
                alert_id=alert.id, outcome="dismissed", actor=event.actor, on=on, reason=reason
            )
            resolve_in(uow, alert, command, event.occurred_at)
    session.flush()
    if records or moved:
        append(session, actor=event.actor, command="MergePersons",
               event="MonitoringRecordsMoved", entity="person", entity_id=merged,
               before={"person_id": merged},
               after={"person_id": kept, "feed_records": len(records), "alerts": moved,
                      "alerts_dismissed_as_duplicates": duplicates},
               occurred_at=event.occurred_at)  # fmt: skip
