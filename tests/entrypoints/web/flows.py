"""A dibao case through the workbench's pages (HTTP, no browser): shared by the tests."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from safetynet.db.engine import Database
from safetynet.entrypoints.api import Role
from tests.cases.helpers import id_number, register_household
from tests.entrypoints.web.conftest import OWN, csrf_of, sign_in, username

HEAD = "110105198503010032"
CLERK = username(Role.INTAKE_CLERK, OWN)
INVESTIGATOR = username(Role.INVESTIGATOR, OWN)
REVIEWER = username(Role.TOWNSHIP_REVIEWER, OWN)
APPROVER = username(Role.COUNTY_APPROVER, OWN)


def as_user(client: TestClient, user: str) -> None:
    client.cookies.clear()
    response = sign_in(client, user)
    assert response.status_code == 303, response.text[:300]


def household(db: Database, household_no: str, seq: int = 4) -> None:
    register_household(
        db, household_no, [HEAD if seq == 4 else id_number(seq=seq), id_number("19870601", seq)]
    )


def intake(client: TestClient, household_id: int, wage: str = "2400") -> Any:
    """Screen and submit a dibao application for the household; returns the redirect."""
    form_page = client.get(f"/households/{household_id}/intake")
    assert form_page.status_code == 200, form_page.text[:300]
    data = {
        "csrf_token": csrf_of(form_page.text),
        "hukou_type": "urban",
        "financial_assets": "8000",
        "vehicles": "0",
        "homes": "1",
        "m0_wage_income": wage,
        "m0_is_employed": "on",
        "m1_wage_income": "0",
    }
    screened = client.post(f"/households/{household_id}/intake", data={**data, "action": "screen"})
    assert screened.status_code == 200, screened.text[:2000]
    return client.post(
        f"/households/{household_id}/intake",
        data={**data, "action": "submit", "program_dibao": "on"},
    ), screened


def step(client: TestClient, track_id: int, name: str, **fields: str) -> Any:
    page = client.get(f"/cases/tracks/{track_id}")
    assert page.status_code == 200, page.text[:300]
    version = re.search(r'name="version" value="(\d+)"', page.text)
    data = {"csrf_token": csrf_of(page.text), **fields}
    if version:
        data["version"] = version.group(1)
    return client.post(f"/cases/tracks/{track_id}/{name}", data=data)


def ok(response: Any) -> Any:
    assert response.status_code == 303, response.text[-3000:]
    return response


def paid_dibao(client: TestClient, track_id: int) -> None:
    """Accept (as the signed-in clerk), investigate, review, post and close the notice, approve on
    2025-10-30 and start payment on 2025-11-03."""
    ok(step(client, track_id, "accept", on="2025-09-26"))
    as_user(client, INVESTIGATOR)
    team = "inv_wang, inv_zhao"
    ok(step(client, track_id, "start-investigation", on="2025-09-28", team=team))
    ok(step(client, track_id, "home-visit", on="2025-09-28", team=team))
    ok(step(client, track_id, "verification", on="2025-09-28"))
    as_user(client, REVIEWER)
    ok(step(client, track_id, "township-opinion", on="2025-09-28", proposal="approve", reasons="x"))
    ok(step(client, track_id, "post-notice", on="2025-09-29"))
    ok(step(client, track_id, "close-notice", on="2025-10-09", county_received_on="2025-10-28"))
    as_user(client, APPROVER)
    ok(step(client, track_id, "confirm", on="2025-10-30"))
    ok(step(client, track_id, "start-payment", on="2025-11-03"))
