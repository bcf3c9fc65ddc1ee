"""Document numbers of written notices: one sequence per office and year (``notice_sequences``).

``next_number`` runs in the caller's transaction (the decision's unit of work): the row is
created at 0 if the office has none for the year, then incremented with one ``UPDATE …
RETURNING``, which on PostgreSQL locks the row until the transaction ends. Two decisions of one
office at once therefore take consecutive numbers, and a decision that rolls back takes its
increment with it: no number is given twice or left out.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from safetynet.cases.model import NoticeSequence
from safetynet.db.bulk import conflict_insert

__all__ = ["next_number"]


def next_number(session: Session, office: str, year: int) -> int:
    """The next document number of ``office`` in ``year`` (1, 2, …)."""
    session.execute(
        conflict_insert(session, NoticeSequence)
        .values(office=office, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["office", "year"])
    )
    number = session.execute(
        update(NoticeSequence)
        .where(NoticeSequence.office == office, NoticeSequence.year == year)
        .values(last_number=NoticeSequence.last_number + 1)
        .returning(NoticeSequence.last_number)
    ).scalar_one()
    return int(number)
