"""The exchange API: an authorised department finds a household's enrolments by identity number;
a role that may not search is refused; a department of another region learns nothing; every
request is in the audit log, masked."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from safetynet.audit.model import AuditEvent
from safetynet.db.engine import Database
from safetynet.entrypoints.api import Role
from safetynet.registry.model import Enrolment, Household
from tests.cases.helpers import HEAD
from tests.entrypoints.api.conftest import OTHER, OWN, auth, token
from tests.entrypoints.api.flows import submit_dibao

PATH = "/exchange/registry/search"


def body(value: str = HEAD, purpose: str = "医疗救助资格核对 medical assistance") -> dict[str, Any]:
    return {
        "transaction_id": "mi-2025-0001",
        "search_request": [
            {
                "reference_id": "r1",
                "search_criteria": {
                    "query_type": "idtype-value",
                    "reg_type": "household",
                    "query": {"type": "id_number", "value": value},
                },
                "purpose": purpose,
            }
        ],
    }


def entries(database: Database) -> list[AuditEvent]:
    with database.sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.command == "ExchangeSearch")
                .order_by(AuditEvent.id)
            )
        )


def test_an_authorised_department_gets_the_households_enrolments_and_the_search_is_logged(
    client: TestClient, database: Database
) -> None:
    submit_dibao(client, database, "H1")
    with database.sessions() as session:
        household = session.scalars(select(Household).where(Household.household_no == "H1")).one()
        session.add(
            Enrolment(
                household_id=household.id,
                program="dibao",
                start_date=dt.date(2025, 10, 1),
                end_date=None,
                amount_fen=255000,
                status="active",
            )
        )
        session.commit()
    answer = client.post(PATH, headers=auth(token(Role.DEPARTMENT, OWN)), json=body())
    assert answer.status_code == 200, answer.text
    (response,) = answer.json()["search_response"]
    assert (response["reference_id"], response["status"]) == ("r1", "succ")
    (record,) = response["data"]["reg_records"]
    assert record["household"]["household_no"] == "H1"
    assert [(e["program"], e["amount_fen"]) for e in record["enrolments"]] == [("dibao", 255000)]
    assert HEAD not in answer.text
    (entry,) = entries(database)
    assert (entry.event, entry.actor, entry.id) == (
        "RecordsDisclosed",
        f"{Role.DEPARTMENT}_{OWN}",
        response["audit_entry"],
    )
    assert entry.after is not None
    assert HEAD not in json.dumps(entry.after)
    assert entry.after["status"] == "succ"


def test_a_role_that_may_not_search_is_refused_and_the_refusal_is_logged(
    client: TestClient, database: Database
) -> None:
    submit_dibao(client, database, "H1")
    answer = client.post(PATH, headers=auth(token(Role.INTAKE_CLERK, OWN)), json=body())
    assert answer.status_code == 403
    assert set(answer.json()) == {"detail"}
    (entry,) = entries(database)
    assert entry.after is not None
    assert (entry.event, entry.after["reason"]) == ("DisclosureRefused", "rjct.unauthorised")


def test_a_department_of_another_region_learns_nothing_the_same_as_for_an_unknown_person(
    client: TestClient, database: Database
) -> None:
    submit_dibao(client, database, "H1")
    far = client.post(PATH, headers=auth(token(Role.DEPARTMENT, OTHER)), json=body())
    unknown = client.post(
        PATH, headers=auth(token(Role.DEPARTMENT, OWN)), json=body("11010519491231002X")
    )
    for answer in (far, unknown):
        assert answer.status_code == 200
        (response,) = answer.json()["search_response"]
        assert (response["status"], response["status_reason_code"]) == ("rjct", "rjct.not_found")
        assert response["data"] == {"reg_records": []}
    assert [e.event for e in entries(database)] == ["DisclosureRefused", "DisclosureRefused"]


def test_a_search_without_a_purpose_or_with_a_bad_number_names_the_field(
    client: TestClient, database: Database
) -> None:
    bad_number = client.post(
        PATH, headers=auth(token(Role.DEPARTMENT, OWN)), json=body("110105198503010033")
    )
    no_purpose = client.post(
        PATH, headers=auth(token(Role.DEPARTMENT, OWN)), json=body(purpose="x")
    )
    assert bad_number.status_code == 422
    assert '"query","value"' in bad_number.text
    assert no_purpose.status_code == 422
    assert "purpose" in no_purpose.text
    assert entries(database) == []
