"""Case work follows a merge of two registry persons (``PersonsMerged``, ADR 0016): the records
of a case that name a person by identity number — a member's death, a job offer refused or
accepted, a registered relative of staff — name the person kept instead of the merged one
(a record the kept person already has on the same case or staff member is left as it is).
Audited with both numbers masked.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from safetynet.audit.log import append
from safetynet.cases.model import Death, JobAcceptance, JobRefusal, StaffRelative
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.identity import mask_identity_number
from safetynet.registry.duplicates import PersonsMerged
from safetynet.registry.model import Person

__all__ = ["follow_persons_merged"]


# record kind -> the column that a second record of the same person may not share
_UNIQUE_WITH: dict[type[Any], str | None] = {
    Death: "track_id",
    JobRefusal: None,
    JobAcceptance: None,
    StaffRelative: "staff_id",
}


def _renumber(uow: UnitOfWork, kind: type[Any], merged: str, kept: str) -> int:
    owner = _UNIQUE_WITH[kind]
    rows = list(uow.session.scalars(select(kind).where(kind.id_number == merged)))
    taken: set[int] = set()
    if owner is not None:
        taken = set(uow.session.scalars(select(getattr(kind, owner)).where(kind.id_number == kept)))
    moved = 0
    for row in rows:
        if owner is not None and getattr(row, owner) in taken:
            continue
        row.id_number = kept
        moved += 1
    return moved


def follow_persons_merged(event: PersonsMerged, uow: UnitOfWork) -> None:
    session = uow.session
    numbers = dict(
        session.execute(
            select(Person.id, Person.id_number).where(
                Person.id.in_((event.kept_person_id, event.merged_person_id))
            )
        ).all()
    )
    kept, merged = numbers[event.kept_person_id], numbers[event.merged_person_id]
    moved = {kind.__tablename__: _renumber(uow, kind, merged, kept) for kind in _UNIQUE_WITH}
    session.flush()
    if any(moved.values()):
        append(session, actor=event.actor, command="MergePersons", event="CaseRecordsRenamed",
               entity="person", entity_id=event.merged_person_id,
               before={"id_number": mask_identity_number(merged)},
               after={"id_number": mask_identity_number(kept)} | moved,
               occurred_at=event.occurred_at)  # fmt: skip
