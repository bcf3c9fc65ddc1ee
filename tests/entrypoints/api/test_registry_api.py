"""``/registry`` over HTTP: searches masked and scoped, the household whole, change requests with
maker-checker, and the status codes of refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safetynet.db.engine import Database
from safetynet.entrypoints.api import Role
from safetynet.registry.model import Household
from tests.entrypoints.api.conftest import OTHER, OWN, _clock, auth, call, token
from tests.registry.helpers import id_number, person, run_import, write_csv
from tests.registry.test_changes import COLUMNS

HEAD = id_number("19800101", 11, region=OWN)
SPOUSE = id_number("19820202", 12, region=OWN)
CLERK = token(Role.INTAKE_CLERK, OWN)
APPROVER = token(Role.COUNTY_APPROVER, OWN)


@pytest.fixture
def household(database: Database, tmp_path: Path) -> int:
    rows = [
        person(
            "P1", "head", name="陈伟", id_number=HEAD, region=OWN, address="浦东新区世纪大道1号"
        ),
        person("P1", "spouse", name="林芳", id_number=SPOUSE, region=OWN, address="浦东新区"),
    ]
    rows[0] |= {"wage_income": "1800", "income_month": "2025-08"}
    run_import(database, write_csv(tmp_path / "h.csv", rows, COLUMNS), _clock)
    with database.sessions() as session:
        return session.scalars(select(Household.id)).one()


def _masked(number: str) -> str:
    return number[:3] + "*" * 11 + number[-4:]


def test_search_by_identity_number_answers_masked(client: TestClient, household: int) -> None:
    page = call(client, CLERK, "GET", "/registry/persons", id_number=HEAD)
    assert page["total"] == 1
    [hit] = page["hits"]
    assert (hit["name"], hit["id_number"], hit["household_id"]) == (
        "陈伟",
        _masked(HEAD),
        household,
    )
    assert (
        HEAD
        not in client.get("/registry/persons", headers=auth(CLERK), params={"name": "陈伟"}).text
    )


def test_search_households_by_address_and_region(client: TestClient, household: int) -> None:
    page = call(client, CLERK, "GET", "/registry/households", address="世纪大道")
    assert [h["household_id"] for h in page["hits"]] == [household]
    assert page["hits"][0]["head_id_number"] == _masked(HEAD)
    assert call(client, CLERK, "GET", "/registry/households", region="310000")["total"] == 1
    # A user of another region finds nothing there.
    other = token(Role.INTAKE_CLERK, OTHER)
    assert call(client, other, "GET", "/registry/households", address="世纪大道")["total"] == 0


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"id_number": "310115198001011"}, 422),  # not a valid number
        ({"region": "31"}, 422),
        ({"name": "陈", "limit": 1000}, 422),
        ({"name": "陈", "name_match": "sounds_like"}, 422),
    ],
)
@pytest.mark.usefixtures("household")
def test_bad_searches_are_422(client: TestClient, params: dict[str, str | int], code: int) -> None:
    response = client.get("/registry/persons", headers=auth(CLERK), params=params)
    assert response.status_code == code, response.text


def test_the_household_view_is_masked_and_scoped(client: TestClient, household: int) -> None:
    response = client.get(f"/registry/households/{household}", headers=auth(CLERK))
    assert response.status_code == 200
    view = response.json()
    assert [m["id_number"] for m in view["members"]] == [_masked(HEAD), _masked(SPOUSE)]
    [month] = view["income"]
    assert (month["month"], month["total_fen"]) == ("2025-08", 180_000)
    assert [(i["name"], i["kind"]) for i in month["items"]] == [("陈伟", "wage")]
    assert HEAD not in response.text
    assert SPOUSE not in response.text
    assert any(e["event"] == "HouseholdRegistered" for e in view["history"])
    other = token(Role.COUNTY_APPROVER, OTHER)
    assert client.get(f"/registry/households/{household}", headers=auth(other)).status_code == 404
    assert client.get("/registry/households/999999", headers=auth(CLERK)).status_code == 404


def _request_move_out(client: TestClient, household: int, tok: str = CLERK) -> int:
    body = {
        "kind": "member_moves_out",
        "id_number": SPOUSE,
        "on": "2025-09-01",
        "reason": "迁出 moved",
    }
    response = client.post(
        f"/registry/households/{household}/change-requests", headers=auth(tok), json=body
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "pending"
    assert created["details"]["id_number"] == _masked(SPOUSE)
    return int(created["request_id"])


def test_a_change_request_is_approved_by_a_second_person(
    client: TestClient, household: int
) -> None:
    request = _request_move_out(client, household, "tok-chen-clerk")
    path = f"/registry/change-requests/{request}"
    # The clerk's role does not decide; the same person in an approving role may not either.
    assert client.post(f"{path}/approve", headers=auth(CLERK), json={}).status_code == 403
    same = client.post(f"{path}/approve", headers=auth("tok-chen-approver"), json={})
    assert same.status_code == 409
    assert "maker-checker" in same.json()["detail"]
    approved = client.post(f"{path}/approve", headers=auth(APPROVER), json={"note": "核实"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    view = call(client, CLERK, "GET", f"/registry/households/{household}")
    assert [m["end_date"] for m in view["members"]] == [None, "2025-09-01"]
    assert (
        client.post(f"{path}/approve", headers=auth("tok-approver-2"), json={}).status_code == 409
    )
    pending = call(client, APPROVER, "GET", "/registry/change-requests", status="pending")
    assert pending["total"] == 0


def test_a_rejected_request_changes_nothing(client: TestClient, household: int) -> None:
    request = _request_move_out(client, household)
    path = f"/registry/change-requests/{request}/reject"
    assert client.post(path, headers=auth(APPROVER), json={"reason": "x"}).status_code == 422
    rejected = client.post(path, headers=auth(APPROVER), json={"reason": "无法核实 unverified"})
    assert rejected.json()["status"] == "rejected"
    view = call(client, CLERK, "GET", f"/registry/households/{household}")
    assert [m["end_date"] for m in view["members"]] == [None, None]


def test_a_bank_account_change_shows_only_the_masked_account(
    client: TestClient, household: int
) -> None:
    body = {
        "kind": "bank_account_change",
        "id_number": HEAD,
        "bank_code": "102",
        "account_number": "6222020000001234567",
        "on": "2025-10-01",
        "reason": "换卡 new card",
    }
    response = client.post(
        f"/registry/households/{household}/change-requests", headers=auth(CLERK), json=body
    )
    assert response.status_code == 201, response.text
    assert "6222020000001234567" not in response.text
    assert response.json()["details"]["account_masked"] == "6222***********4567"
    bad = client.post(
        f"/registry/households/{household}/change-requests",
        headers=auth(CLERK),
        json=body | {"bank_code": "999"},
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "bank_code"]


def test_change_requests_outside_the_region_are_not_found(
    client: TestClient, household: int
) -> None:
    request = _request_move_out(client, household)
    other = token(Role.COUNTY_APPROVER, OTHER)
    response = client.post(
        f"/registry/change-requests/{request}/approve", headers=auth(other), json={}
    )
    assert response.status_code == 404
    body = {"kind": "fact_change", "field": "address", "value": "x", "reason": "地址变更"}
    response = client.post(
        f"/registry/households/{household}/change-requests",
        headers=auth(token(Role.INTAKE_CLERK, OTHER)),
        json=body,
    )
    assert response.status_code == 404
    auditor = token(Role.AUDITOR, OWN)
    response = client.post(
        f"/registry/households/{household}/change-requests", headers=auth(auditor), json=body
    )
    assert response.status_code == 403
