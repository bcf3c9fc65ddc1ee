"""Social insurance follows a merge of two registry persons (``PersonsMerged``, ADR 0016): the
merged person's contribution records move to the person kept; a month the kept person already
has for the same scheme and place stays with the merged person (the kept person's record wins,
as for income in the registry). Audited.
"""

from __future__ import annotations

from sqlalchemy import select, update

from safetynet.audit.log import append
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.insurance.contributions import ContributionRecord
from safetynet.registry.duplicates import PersonsMerged

__all__ = ["follow_persons_merged"]

_CHUNK = 500


def follow_persons_merged(event: PersonsMerged, uow: UnitOfWork) -> None:
    session = uow.session
    kept, merged = event.kept_person_id, event.merged_person_id
    key = (ContributionRecord.scheme, ContributionRecord.month, ContributionRecord.region_code)
    taken = set(session.execute(select(*key).where(ContributionRecord.person_id == kept)).all())
    rows = session.execute(
        select(ContributionRecord.id, *key).where(ContributionRecord.person_id == merged)
    ).all()
    movable = [row[0] for row in rows if tuple(row[1:]) not in taken]
    for start in range(0, len(movable), _CHUNK):
        session.execute(
            update(ContributionRecord)
            .where(ContributionRecord.id.in_(movable[start : start + _CHUNK]))
            .values(person_id=kept)
            .execution_options(synchronize_session="fetch")
        )
    if rows:
        append(session, actor=event.actor, command="MergePersons",
               event="ContributionRecordsMoved", entity="person", entity_id=merged,
               before={"person_id": merged},
               after={"person_id": kept, "contribution_records_moved": len(movable),
                      "kept_by_merged": len(rows) - len(movable)},
               occurred_at=event.occurred_at)  # fmt: skip
