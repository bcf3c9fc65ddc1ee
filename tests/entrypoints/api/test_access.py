"""Every role × (own region, other region) × endpoint: a role acts only where the policy lets
it, and nobody sees or touches anything outside their region.

The matrix is generated from the app's routes, so a new endpoint is covered as soon as it exists
(it must declare the action it needs, ``x-action``, for the test to know what to expect).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from safetynet.db.engine import Database
from safetynet.entrypoints.api import POLICY, Action, Role
from safetynet.registry.model import Household, Person
from tests.entrypoints.api.conftest import NEIGHBOUR, OTHER, OWN, act, auth, token
from tests.entrypoints.api.flows import CLERK, HEAD, ok, refused_with_appeal, submit_dibao
from tests.registry.merge_helpers import twins

SENTINEL_HOUSEHOLD = "HSECRET1"
# Staff whose close relative (the head of the sentinel household) is on the register: one in the
# region of the application, one in another province.
OWN_STAFF, FAR_STAFF = "staff_own_secret", "staff_far_secret"


def _routes(client: TestClient) -> list[tuple[str, str, Action]]:
    """Every operation of the app, read from its OpenAPI schema (which FastAPI builds from the
    routers, so it lists every route included in the app)."""
    found = []
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        for method, operation in operations.items():
            assert "x-action" in operation, f"{method} {path} does not declare the action it needs"
            found.append((method.upper(), path, Action(operation["x-action"])))
    return found


def _leaks(text: str, app: dict[str, Any]) -> list[str]:
    secrets = [SENTINEL_HOUSEHOLD, HEAD, HEAD[-4:], app["lodged_on"], app["submitted_by"]]
    return [s for s in secrets if s in text]


def _register(client: TestClient, region: str, staff: str) -> None:
    body = {"staff_name": staff, "staff_role": "clerk", "id_number": HEAD, "relation": "sibling"}
    response = client.post(
        f"/offices/{region}/staff-relatives",
        headers=auth(token(Role.COUNTY_APPROVER, region)),
        json=body,
    )
    assert response.status_code == 201, response.text


def test_no_access_outside_the_users_region(client: TestClient, database: Database) -> None:
    _register(client, OWN, OWN_STAFF)
    _register(client, OTHER, FAR_STAFF)
    app = submit_dibao(client, database, SENTINEL_HOUSEHOLD)
    assert app["relative_flag"]
    tid = app["tracks"][0]["id"]
    ok(act(client, CLERK, tid, "accept", "2025-09-26"))
    appeal_id = refused_with_appeal(client, database, "HAPPEAL", seq=7)
    with database.sessions() as session:
        head = session.scalars(select(Person.id).where(Person.id_number == HEAD)).one()
        household = session.scalars(
            select(Household.id).where(Household.household_no == SENTINEL_HOUSEHOLD)
        ).one()
    change = {"kind": "fact_change", "field": "address", "value": "浦东新区一路1号"}
    change["reason"] = "地址变更 moved"
    created = client.post(
        f"/registry/households/{household}/change-requests", headers=auth(CLERK), json=change
    )
    assert created.status_code == 201, created.text
    call = {
        "on": "2025-09-25",
        "channel": "phone",
        "topic": "person_in_need",
        "region": OWN,
        "caller_name": "邻居",
        "caller_phone": "13812345678",
        "summary": "独居老人无人照料",
        "subject": {"name": "老人", "household_region": OWN, "household_no": SENTINEL_HOUSEHOLD},
    }
    contact = client.post("/outreach/contacts", headers=auth(CLERK), json=call)
    assert contact.status_code == 201, contact.text
    (lead,) = client.get("/outreach/leads", headers=auth(CLERK)).json()
    values = {
        "lead_id": str(lead["id"]),
        "contact_id": str(contact.json()["id"]),
        "application_id": str(app["id"]),
        "track_id": str(tid),
        "region": OWN,
        "appeal_id": str(appeal_id),
        "person_id": str(head),
        "household_id": str(household),
        "request_id": str(created.json()["request_id"]),
        "pair_id": str(twins(database).pair),
    }
    submission = {
        "household_region": OWN,
        "household_no": SENTINEL_HOUSEHOLD,
        "region": OWN,
        "household": app["household"],
        "programs": ["dibao"],
        "on": "2025-09-25",
    }
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/applications"): submission,
        ("POST", "/persons/{person_id}/id-number"): {"reason": "核对完整身份号码"},
        ("POST", "/registry/households/{household_id}/change-requests"): change,
        ("POST", "/registry/change-requests/{request_id}/reject"): {"reason": "无法核实地址"},
        ("POST", "/outreach/contacts"): call,
        ("POST", "/outreach/leads"): {
            "on": "2025-09-25",
            "source": "grid_worker",
            "region": OWN,
            "reported_by": "网格员",
            "subject": {"name": "无名老人"},
            "situation": "露宿",
        },
        ("POST", "/outreach/leads/{lead_id}/visit"): {
            "on": "2025-09-26",
            "visitors": ["town_zhou"],
            "findings": "独居",
        },
        ("POST", "/outreach/leads/{lead_id}/close"): {
            "on": "2025-09-26",
            "outcome": "closed_note",
            "note": "已由子女照料",
        },
        ("POST", "/outreach/contacts/{contact_id}/answer"): {
            "on": "2025-09-25",
            "answer": "已转办",
        },
        ("POST", "/outreach/contacts/{contact_id}/rating"): {"on": "2025-09-25", "rating": 5},
        ("POST", "/exchange/registry/search"): {
            "transaction_id": "t1",
            "search_request": [
                {
                    "reference_id": "1",
                    "search_criteria": {"query": {"type": "id_number", "value": HEAD}},
                    "purpose": "医疗救助资格核对",
                }
            ],
        },
        ("POST", "/registry/duplicates/{pair_id}/proposal"): {
            "action": "separate",
            "reason": "两个人",
        },
        ("POST", "/registry/duplicates/{pair_id}/reject"): {"reason": "再核实"},
        # Nothing recorded and nothing read: any region may be calculated by the roles allowed.
        ("POST", "/calculate"): {
            "date": "2026-07-01",
            "region": OWN,
            "programs": ["dibao"],
            "households": [
                {"members": [{"relation": "head", "birth_date": "1970-01-01", "sex": "male"}]}
            ],
        },
    }
    routes = _routes(client)
    assert len(routes) >= 32
    failures = []
    checked = 0
    for method, template, action in routes:
        path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
        for role in Role:
            for region in (OWN, OTHER):
                body = bodies.get((method, template), {})
                response = client.request(
                    method, path, headers=auth(token(role, region)), json=body
                )
                checked += 1
                status, text = response.status_code, response.text
                where = f"{method} {path} as {role} in {region}: {status} {text[:200]}"
                # The register is read only by the roles allowed to, and only for their region.
                if FAR_STAFF in text or (
                    OWN_STAFF in text and Action.READ_RELATIVES not in POLICY[role]
                ):
                    failures.append(f"register of staff relatives leaks: {where}")
                if action not in POLICY[role]:
                    if status != 403:
                        failures.append(f"expected 403: {where}")
                elif region == OWN:
                    if status in (401, 403, 404):
                        failures.append(f"expected access: {where}")
                elif status in (403, 404):
                    if set(response.json()) != {"detail"} or _leaks(text, app):
                        failures.append(f"refusal leaks data: {where}")
                elif status != 200 or _leaks(text, app):
                    failures.append(f"access outside the region: {where}")
    assert failures == []
    assert checked == len(routes) * len(Role) * 2


def test_a_city_user_sees_the_districts_below_it_and_a_district_user_not_its_neighbours(
    client: TestClient, database: Database
) -> None:
    app_id = submit_dibao(client, database, "H1")["id"]
    city = token(Role.COUNTY_APPROVER, "310000")
    assert client.get(f"/applications/{app_id}", headers=auth(city)).status_code == 200
    neighbour = token(Role.COUNTY_APPROVER, NEIGHBOUR)
    response = client.get(f"/applications/{app_id}", headers=auth(neighbour))
    assert (response.status_code, response.json()) == (
        404,
        {"detail": f"application {app_id} not found"},
    )
    assert client.get("/applications", headers=auth(neighbour)).json() == []


def test_the_role_table_of_docs_api_md_is_the_policy() -> None:
    """docs/api.md shows ``POLICY`` to people: every action is a row, ✓ exactly where allowed."""
    doc = (Path(__file__).parents[3] / "docs" / "api.md").read_text(encoding="utf-8")
    section = doc.split("## Roles and actions (the policy)", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    roles = [Role(cell.strip()) for cell in lines[0].strip("|").split("|")[1:]]
    shown: dict[Action, set[Role]] = {}
    for line in lines[2:]:
        first, *cells = line.strip("|").split("|")
        action = Action(first.split("(")[0].strip())
        assert action not in shown, f"{action} has two rows"
        shown[action] = {role for role, cell in zip(roles, cells, strict=True) if "✓" in cell}
    policy = {action: {role for role in Role if action in POLICY[role]} for action in Action}
    assert shown == policy
