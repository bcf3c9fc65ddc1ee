"""Payments follows a merge of two registry persons (``PersonsMerged``, ADR 0016): the payee
accounts the merged person held are held by the person kept, so every instruction paid to those
accounts names the surviving payee. (The holds the merged person's alerts placed follow those
alerts: monitoring moves them, and dismisses a duplicate of an alert the kept person has, which
releases its hold; ``payments.reactions``.) Audited.
"""

from __future__ import annotations

from sqlalchemy import select, update

from safetynet.audit.log import append
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.payments.model import PayeeAccount
from safetynet.registry.duplicates import PersonsMerged

__all__ = ["follow_persons_merged"]


def follow_persons_merged(event: PersonsMerged, uow: UnitOfWork) -> None:
    session = uow.session
    kept, merged = event.kept_person_id, event.merged_person_id
    accounts = list(
        session.scalars(select(PayeeAccount.id).where(PayeeAccount.holder_person_id == merged))
    )
    if not accounts:
        return
    session.execute(
        update(PayeeAccount)
        .where(PayeeAccount.id.in_(accounts))
        .values(holder_person_id=kept)
        .execution_options(synchronize_session="fetch")
    )
    append(session, actor=event.actor, command="MergePersons", event="PayeeAccountsMoved",
           entity="person", entity_id=merged, before={"holder_person_id": merged},
           after={"holder_person_id": kept, "payee_accounts": accounts},
           occurred_at=event.occurred_at)  # fmt: skip
