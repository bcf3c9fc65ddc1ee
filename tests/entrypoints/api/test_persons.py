"""``POST /persons/{id}/id-number``: a full identity number for the roles that need it, in their
region, for a stated reason logged before the answer, never cached, and the only answer whose
``id_number`` is not masked."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safetynet.audit.model import AuditEvent
from safetynet.db.engine import Database
from safetynet.entrypoints.api import Role
from safetynet.registry.model import Person
from tests.cases.helpers import register_household
from tests.entrypoints.api.conftest import CITY, NEIGHBOUR, OTHER, OWN, auth, token

NUMBER = "110105198503010032"
REASON = "开立救助金账户需核对完整身份号码"


def _person(database: Database, region: str = OWN) -> int:
    register_household(database, "H1", [NUMBER], region=region)
    with database.sessions() as session:
        return session.scalars(select(Person.id).where(Person.id_number == NUMBER)).one()


def _reads(database: Database) -> list[AuditEvent]:
    with database.sessions() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.event == "FullIdentityNumberRead"))
        )


def _read(client: TestClient, tok: str, person: int, body: object = None) -> Any:
    return client.post(
        f"/persons/{person}/id-number",
        headers=auth(tok),
        json={"reason": REASON} if body is None else body,
    )


@pytest.mark.parametrize(
    ("role", "region"), [(Role.INVESTIGATOR, OWN), (Role.COUNTY_APPROVER, CITY)]
)
def test_the_full_number_is_answered_unmasked_uncached_and_logged_first(
    client: TestClient, database: Database, role: Role, region: str
) -> None:
    person = _person(database)
    response = _read(client, token(role, region), person)
    assert response.status_code == 200, response.text
    assert response.json() == {"person_id": person, "id_number": NUMBER}
    assert response.headers["cache-control"] == "no-store"
    [entry] = _reads(database)
    assert (entry.actor, entry.role, entry.region, entry.entity_id) == (
        f"{role}_{region}",
        role.value,
        region,
        str(person),
    )
    assert entry.after is not None
    assert entry.after["reason"] == REASON
    assert NUMBER not in str(entry.after)  # the log keeps the number masked


@pytest.mark.parametrize("role", [Role.INTAKE_CLERK, Role.TOWNSHIP_REVIEWER, Role.AUDITOR])
def test_other_roles_are_refused_before_anything_is_read(
    client: TestClient, database: Database, role: Role
) -> None:
    person = _person(database)
    response = _read(client, token(role, OWN), person)
    assert response.status_code == 403
    assert NUMBER not in response.text
    assert NUMBER[-4:] not in response.text
    assert _reads(database) == []


def test_outside_the_region_is_answered_like_an_unknown_person(
    client: TestClient, database: Database
) -> None:
    person = _person(database)
    for region in (OTHER, NEIGHBOUR):
        outside = _read(client, token(Role.COUNTY_APPROVER, region), person)
        unknown = _read(client, token(Role.COUNTY_APPROVER, region), person + 1000)
        assert (outside.status_code, unknown.status_code) == (404, 404)
        assert outside.json() == {"detail": f"person {person} not found"}
        assert unknown.json() == {"detail": f"person {person + 1000} not found"}
        # Refused before the body is read: a missing reason does not tell them apart either.
        assert _read(client, token(Role.COUNTY_APPROVER, region), person, {}).status_code == 404
    assert _reads(database) == []


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({}, "Field required"),
        ({"reason": "看看"}, "at least 4 characters"),
        ({"reason": "   看看   "}, "at least 4 characters"),
        ({"reason": "x" * 1_001}, "at most 1000 characters"),
        ({"reason": "核对身份\x00号码"}, "U+0000"),
    ],
)
def test_a_reason_is_required_and_bounded(
    client: TestClient, database: Database, body: dict[str, str], why: str
) -> None:
    person = _person(database)
    response = _read(client, token(Role.INVESTIGATOR, OWN), person, body)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "reason"]
    assert why in error["msg"]
    assert _reads(database) == []


def test_only_the_answered_number_is_unmasked(client: TestClient, database: Database) -> None:
    person = _person(database)
    # A number typed into the reason is masked in the log.
    response = _read(client, token(Role.INVESTIGATOR, OWN), person, {"reason": f"核对 {NUMBER}"})
    assert response.json()["id_number"] == NUMBER
    [entry] = _reads(database)
    assert entry.after is not None
    assert NUMBER not in entry.after["reason"]
    # The same path answers masked when it refuses (an over-long reason quoting the number).
    long = _read(client, token(Role.INVESTIGATOR, OWN), person, {"reason": NUMBER * 100})
    assert long.status_code == 422
    assert NUMBER not in long.text


@pytest.mark.parametrize(
    ("method", "path", "status", "full"),
    [
        ("POST", "/persons/7/id-number", 200, True),
        ("GET", "/persons/7/id-number", 200, False),
        ("POST", "/persons/7/id-number/x", 200, False),
        ("POST", "/persons/7/id-number", 404, False),
        ("POST", "/tracks/7/death", 200, False),
    ],
)
def test_the_exemption_is_by_method_path_and_success_and_for_the_top_level_field_only(
    method: str, path: str, status: int, full: bool
) -> None:
    import re

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from safetynet.entrypoints.api.masking import MaskIdentityNumbers
    from safetynet.entrypoints.api.routes.persons import ID_NUMBER_PATH

    answer = {"id_number": NUMBER, "note": f"read {NUMBER}", "nested": {"id_number": NUMBER}}

    async def endpoint(_request: Request) -> JSONResponse:
        return JSONResponse(answer, status_code=status)

    inner = Starlette(routes=[Route("/{rest:path}", endpoint, methods=["GET", "POST"])])
    app = MaskIdentityNumbers(inner, disclosure=re.compile(ID_NUMBER_PATH))
    body = TestClient(app).request(method, path).json()
    assert (body["id_number"] == NUMBER) is full
    assert NUMBER not in body["note"]
    assert NUMBER not in body["nested"]["id_number"]
