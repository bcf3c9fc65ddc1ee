"""Registry exchange with other departments: a person's household and its enrolments, answered to
an authorised department and refused to any other, every request recorded in the audit log.

The shapes follow the Digital Convergence Initiative's social registry API (search by an
identifier; ``succ`` or ``rjct`` per request with a reason code). A department is authorised when
the caller (the REST API's role policy) says so *and* the person lies in the department's region;
a refusal says the same whether the person is outside the region or unknown, so a refused
department learns nothing about who is registered. Identity numbers are masked in the answer and
in the log: the department already holds the number it asked about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.db.engine import Database
from safetynet.domain.identity import mask_identity_number, parse_identity_number
from safetynet.domain.privacy import mask_text
from safetynet.errors import InputError
from safetynet.registry.disclosure import covers_region
from safetynet.registry.model import Enrolment, Household, Membership, Person

__all__ = ["ExchangeAnswer", "search_by_id_number"]

MIN_PURPOSE_LENGTH = 4


@dataclass(frozen=True)
class ExchangeAnswer:
    """One search request's answer: ``succ`` with the records, or ``rjct`` with a reason code."""

    status: str
    reason: str | None
    records: list[dict[str, Any]]
    audit_entry: int


def _household_records(session: Session, person: Person, on: dt.date) -> list[dict[str, Any]]:
    memberships = session.scalars(
        select(Membership).where(
            Membership.person_id == person.id,
            Membership.start_date <= on,
            (Membership.end_date.is_(None)) | (Membership.end_date >= on),
        )
    ).all()
    records = []
    for membership in memberships:
        household = session.get(Household, membership.household_id)
        if household is None:  # pragma: no cover - a membership always has its household
            continue
        enrolments = session.scalars(
            select(Enrolment)
            .where(Enrolment.household_id == household.id)
            .order_by(Enrolment.program, Enrolment.start_date)
        ).all()
        records.append(
            {
                "household": {
                    "region_code": household.region_code,
                    "household_no": household.household_no,
                    "relation_of_person": membership.relation,
                },
                "enrolments": [
                    {
                        "program": e.program,
                        "status": e.status,
                        "start_date": e.start_date.isoformat(),
                        "end_date": e.end_date.isoformat() if e.end_date else None,
                        "amount_fen": e.amount_fen,
                    }
                    for e in enrolments
                ],
            }
        )
    return records


def search_by_id_number(
    db: Database,
    *,
    actor: Actor,
    authorised: bool,
    id_number: str,
    purpose: str,
    on: dt.date,
    clock: Callable[[], dt.datetime] | None = None,
) -> ExchangeAnswer:
    """Answer one department's search by identity number, and log it (granted or refused) in
    the same transaction that reads the records. ``authorised`` is the caller's role decision;
    the region check is made here."""
    why = purpose.strip()
    if len(why) < MIN_PURPOSE_LENGTH:
        raise InputError(
            "purpose", f"say what the data is for (at least {MIN_PURPOSE_LENGTH} characters)"
        )
    number = parse_identity_number(id_number, "query.value").value
    with db.sessions() as session:
        person = session.scalars(select(Person).where(Person.id_number == number)).one_or_none()
        reason: str | None = None
        records: list[dict[str, Any]] = []
        if not authorised:
            reason = "rjct.unauthorised"
        elif person is None or not covers_region(session, actor.region or "000000", person):
            reason = "rjct.not_found"
        else:
            records = _household_records(session, person, on)
        entry = append(
            session,
            actor=actor,
            command="ExchangeSearch",
            event="RecordsDisclosed" if reason is None else "DisclosureRefused",
            entity="person",
            entity_id=person.id if person is not None and reason is None else 0,
            after={
                "id_number": mask_identity_number(number),
                "purpose": mask_text(why),
                "status": "succ" if reason is None else "rjct",
                "reason": reason,
                "households": len(records),
            },
            occurred_at=clock() if clock is not None else None,
        )
        session.commit()
        return ExchangeAnswer("succ" if reason is None else "rjct", reason, records, entry.id)
