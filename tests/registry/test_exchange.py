"""Registry exchange: a department's search by identity number answers the person's current
households and their enrolments, refuses outside its region as for an unknown person, and logs
every request with the number masked."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from safetynet.audit.log import Actor
from safetynet.audit.model import AuditEvent
from safetynet.db.engine import Database
from safetynet.errors import InputError
from safetynet.registry.exchange import search_by_id_number
from tests.cases.helpers import HEAD, REGION, register_household

MEDICAL = Actor("医保局_浦东", "department", REGION)
ON = dt.date(2025, 9, 25)


def test_the_answer_and_the_refusals_are_logged_masked(database: Database) -> None:
    register_household(database, "H1", [HEAD])
    found = search_by_id_number(database, actor=MEDICAL, authorised=True, id_number=HEAD,
                                purpose="医疗救助资格核对", on=ON)  # fmt: skip
    far = Actor("医保局_朝阳", "department", "110105")
    refused = search_by_id_number(database, actor=far, authorised=True, id_number=HEAD,
                                  purpose="医疗救助资格核对", on=ON)  # fmt: skip
    denied = search_by_id_number(database, actor=MEDICAL, authorised=False, id_number=HEAD,
                                 purpose="医疗救助资格核对", on=ON)  # fmt: skip
    assert found.status == "succ"
    assert [r["household"]["household_no"] for r in found.records] == ["H1"]
    assert (refused.status, refused.reason, refused.records) == ("rjct", "rjct.not_found", [])
    assert (denied.status, denied.reason) == ("rjct", "rjct.unauthorised")
    with database.sessions() as session:
        logged = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.event for e in logged] == [
        "RecordsDisclosed",
        "DisclosureRefused",
        "DisclosureRefused",
    ]
    assert all(HEAD not in str(e.after) for e in logged)


def test_a_purpose_is_required(database: Database) -> None:
    with pytest.raises(InputError, match="purpose"):
        search_by_id_number(database, actor=MEDICAL, authorised=True, id_number=HEAD,
                            purpose=" ", on=ON)  # fmt: skip
