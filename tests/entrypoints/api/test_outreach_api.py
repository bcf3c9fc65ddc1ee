"""``/outreach``: the hotline and active discovery over the API, scoped to the user's region."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from safetynet.db.engine import Database
from safetynet.entrypoints.api import Role
from tests.cases.helpers import register_household
from tests.entrypoints.api.conftest import NEIGHBOUR, OWN, auth, token
from tests.entrypoints.api.flows import HEAD

CALL: dict[str, Any] = {
    "on": "2025-09-22",
    "channel": "phone",
    "topic": "person_in_need",
    "region": OWN,
    "caller_name": "邻居张女士",
    "caller_phone": "13812345678",
    "summary": "独居老人无人照料",
    "subject": {"name": "王桂华", "household_region": OWN, "household_no": "T1"},
    "needs": ["elderly_living_alone"],
}


def test_a_call_becomes_a_lead_visited_by_the_township_and_seen_only_in_its_region(
    client: TestClient, database: Database
) -> None:
    register_household(database, "T1", [HEAD])
    clerk = auth(token(Role.INTAKE_CLERK, OWN))
    created = client.post("/outreach/contacts", headers=clerk, json=CALL)
    assert created.status_code == 201, created.text
    (lead,) = client.get("/outreach/leads", headers=clerk).json()
    assert (lead["source"], lead["visit_due"]) == ("hotline", "2025-09-25")
    visit = {"on": "2025-09-24", "visitors": ["town_zhou"], "findings": "独居，需照料"}
    reviewer = auth(token(Role.TOWNSHIP_REVIEWER, OWN))
    answer = client.post(f"/outreach/leads/{lead['id']}/visit", headers=reviewer, json=visit)
    assert answer.status_code == 200, answer.text
    steps = client.get(f"/outreach/leads/{lead['id']}", headers=reviewer).json()
    assert [(s["step"], s["state"]) for s in steps] == [
        ("hotline.answer", "overdue"),  # the API's clock says 25 September; due the 23rd
        ("lead.visit", "met"),
        ("lead.outcome", "pending"),
    ]
    neighbour = auth(token(Role.TOWNSHIP_REVIEWER, NEIGHBOUR))
    assert client.get(f"/outreach/leads/{lead['id']}", headers=neighbour).status_code == 404
    assert client.get("/outreach/leads", headers=neighbour).json() == []
    again = client.post(f"/outreach/leads/{lead['id']}/visit", headers=neighbour, json=visit)
    assert again.status_code == 404
    elsewhere = client.post("/outreach/contacts", headers=auth(token(Role.INTAKE_CLERK, NEIGHBOUR)),
                            json=CALL)  # fmt: skip
    assert elsewhere.status_code == 403
    (office,) = client.get("/outreach/stats", headers=clerk).json()
    assert (office["calls"], office["overdue"], office["leads"]) == (1, 1, 1)


def test_a_bad_call_is_a_422_naming_the_field(client: TestClient) -> None:
    clerk = auth(token(Role.INTAKE_CLERK, OWN))
    answer = client.post("/outreach/contacts", headers=clerk, json=CALL | {"caller_phone": "abcde"})
    assert answer.status_code == 422
    assert "caller_phone" in answer.text
    missing = client.post("/outreach/contacts", headers=clerk, json=CALL | {"subject": None})
    assert missing.status_code == 422
    assert "subject" in missing.text
