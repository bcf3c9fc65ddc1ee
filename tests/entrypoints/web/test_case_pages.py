"""A dibao case through the pages (without a browser): intake, review, notice, approval, payment;
maker-checker on screen; a clerk of another county sees nothing of it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from safetynet.db.engine import Database
from safetynet.entrypoints.api import Role
from safetynet.registry.model import Household
from tests.entrypoints.web.conftest import OTHER, csrf_of, username
from tests.entrypoints.web.flows import (
    APPROVER,
    CLERK,
    HEAD,
    INVESTIGATOR,
    REVIEWER,
    as_user,
    household,
    intake,
    ok,
    step,
)


def _household_id(db: Database, household_no: str) -> int:
    with db.sessions() as session:
        found = session.scalar(select(Household.id).where(Household.household_no == household_no))
    assert found is not None
    return found


def test_a_dibao_case_from_intake_to_payment(web: TestClient, database: Database) -> None:
    household(database, "W1")
    hid = _household_id(database, "W1")
    as_user(web, CLERK)
    search = web.get("/households")
    found = web.post("/households", data={"q": HEAD, "csrf_token": csrf_of(search.text)})
    assert found.status_code == 200
    assert f"/households/{hid}" in found.text
    assert HEAD not in found.text  # masked
    submitted, screened = intake(web, hid)
    assert "最低生活保障" in screened.text
    ok(submitted)
    app_page = web.get(submitted.headers["location"])
    track_id = int(re.search(r'href="/cases/tracks/(\d+)"', app_page.text).group(1))  # type: ignore[union-attr]
    ok(step(web, track_id, "accept", on="2025-09-26"))
    as_user(web, INVESTIGATOR)
    team = "inv_wang, inv_zhao"
    ok(step(web, track_id, "start-investigation", on="2025-09-28", team=team))
    ok(step(web, track_id, "home-visit", on="2025-09-28", team=team))
    ok(step(web, track_id, "verification", on="2025-09-28", **{"v:financial_assets": "9000"}))
    page = web.get(f"/cases/tracks/{track_id}")
    assert 'class="diff"' in page.text  # 8000 declared, 9000 found
    as_user(web, REVIEWER)
    ok(
        step(
            web,
            track_id,
            "township-opinion",
            on="2025-09-28",
            proposal="approve",
            reasons="收入低于标准",
        )
    )
    ok(step(web, track_id, "post-notice", on="2025-09-29"))
    ok(step(web, track_id, "close-notice", on="2025-10-09", county_received_on="2025-10-28"))
    as_user(web, APPROVER)
    ok(step(web, track_id, "confirm", on="2025-10-30"))
    ok(step(web, track_id, "start-payment", on="2025-11-03"))
    page = web.get(f"/cases/tracks/{track_id}")
    assert "发放中" in page.text
    pdf = web.get(f"/cases/tracks/{track_id}/notice.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")

    as_user(web, username(Role.INTAKE_CLERK, OTHER))
    assert web.get(f"/cases/tracks/{track_id}").status_code == 404
    assert web.get(f"/households/{hid}").status_code == 404
    assert web.get(f"/cases/tracks/{track_id}/notice.pdf").status_code == 404
    assert f"/cases/tracks/{track_id}" not in web.get("/cases").text
