"""The one way to read a person's full identity number: with a reason, recorded in the audit log.

Everything else shows identity numbers masked. When a person needs the full number (to send to
a bank or another department, to answer a court), ``read_full_id_number`` gives it only to a
user whose region covers the person, only with a stated reason, and writes who, when and why to
the audit log in the same transaction, committed before the number is returned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.db.engine import Database
from safetynet.domain.privacy import mask_text
from safetynet.domain.regions import default_registry
from safetynet.errors import InputError, UnknownNameError
from safetynet.registry.model import Household, Membership, Person

__all__ = ["MIN_REASON_LENGTH", "covers_region", "person_in_region", "read_full_id_number"]

MIN_REASON_LENGTH = 4
"""Characters a reason needs at least (四个字 in Chinese says why; "x" does not)."""


def read_full_id_number(
    db: Database,
    *,
    actor: Actor,
    person_id: int,
    reason: str,
    clock: Callable[[], dt.datetime] | None = None,
) -> str:
    """The full identity number of ``person_id``, after its reading is committed to the log.

    Refused with the reason if the reason is missing or too short, the person is unknown, or
    the person lies outside the actor's region (said the same way as an unknown person, so
    existence outside the region is not revealed).
    """
    why = reason.strip()
    if len(why) < MIN_REASON_LENGTH:
        raise InputError(
            "reason",
            f"say why the full identity number is needed (at least {MIN_REASON_LENGTH} "
            "characters); the reason is kept in the audit log",
        )
    with db.sessions() as session:
        person = session.get(Person, person_id)
        if person is None or not _covers(session, actor, person):
            raise UnknownNameError("person", str(person_id))
        number = person.id_number
        append(
            session,
            actor=actor,
            command="ReadFullIdentityNumber",
            event="FullIdentityNumberRead",
            entity="person",
            entity_id=person.id,
            # The log keeps the masked number; mask_text also masks one typed into the reason.
            after={"id_number": number, "reason": mask_text(why)},
            occurred_at=clock() if clock is not None else None,
        )
        session.commit()
    return number


def person_in_region(db: Database, person_id: int, region: str) -> bool:
    """Whether ``person_id`` exists and ``region`` covers them (their hukou or a household of
    theirs lies in it or below it): the check ``read_full_id_number`` makes, for a caller that
    must refuse before it reads anything else (the REST API's 404)."""
    with db.sessions() as session:
        person = session.get(Person, person_id)
        return person is not None and covers_region(session, region, person)


def _covers(session: Session, actor: Actor, person: Person) -> bool:
    if actor.region is None:  # a user acting for no region in particular (the command line)
        return True
    return covers_region(session, actor.region, person)


def covers_region(session: Session, region: str, person: Person) -> bool:
    regions = {person.hukou_region_code}
    regions.update(
        session.scalars(
            select(Household.region_code)
            .join(Membership, Membership.household_id == Household.id)
            .where(Membership.person_id == person.id)
        )
    )
    registry = default_registry()
    return any(region in registry.lineage_codes(code) for code in regions)
