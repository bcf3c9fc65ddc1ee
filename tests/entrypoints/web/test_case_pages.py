"""A dibao case through the pages (without a browser): intake, review, notice, approval, payment;
maker-checker on screen; a clerk of another county sees nothing of it."""

from __future__ import annotations

import io
import re

import openpyxl
from fastapi.testclient import TestClient
from sqlalchemy import select

from safetynet.accounts.commands import AddStaffAccount
from safetynet.audit.log import Actor
from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database
from safetynet.entrypoints.api import Role
from safetynet.payments.roll import roll_month
from safetynet.registry.model import Household
from tests.entrypoints.web.conftest import ADMIN, OTHER, OWN, PASSWORD, csrf_of, username
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
    paid_dibao,
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
    queue = web.get("/").text
    assert "待受理 1" in queue
    assert f"/cases/tracks/{track_id}" in queue  # waiting to be accepted: no clock yet
    ok(step(web, track_id, "accept", on="2025-09-26"))
    assert "待受理 0" in web.get("/").text
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


def test_the_auditor_and_the_analyst_see_the_paid_case(web: TestClient, database: Database) -> None:
    household(database, "W2")
    hid = _household_id(database, "W2")
    as_user(web, CLERK)
    submitted, _ = intake(web, hid)
    app_page = web.get(submitted.headers["location"])
    track_id = int(re.search(r'href="/cases/tracks/(\d+)"', app_page.text).group(1))  # type: ignore[union-attr]
    paid_dibao(web, track_id)
    roll_month(database, "2025-11", None, actor=Actor("payroll", "payments_officer", OWN))

    as_user(web, username(Role.AUDITOR, OWN))
    trail = web.get(f"/supervision/tracks/{track_id}")
    assert trail.status_code == 200
    for event in ("ApplicationSubmitted", "TrackConfirmed", "PaymentStarted"):
        assert event in trail.text
    assert HEAD not in trail.text
    home = web.get("/supervision")
    verified = web.post("/supervision/verify", data={"csrf_token": csrf_of(home.text)})
    assert "完整" in verified.text

    as_user(web, username(Role.ANALYST, OWN))
    assert web.get(f"/cases/tracks/{track_id}").status_code == 403  # figures, never a case
    stats = web.get("/statistics")
    assert stats.status_code == 200
    assert "<svg" in stats.text
    assert "2025-11" in stats.text
    row = re.search(
        r"<td>2025-11</td><td class=\"num\">(\d+)</td><td class=\"num\">([\d,.]+)</td>", stats.text
    )
    assert row is not None
    assert row.group(1) == "1"
    book = openpyxl.load_workbook(io.BytesIO(web.get("/statistics.xlsx").content))
    sheet = book.active
    assert sheet is not None
    cells = [[c.value for c in r] for r in sheet.iter_rows(min_row=4)]
    assert [r[3:6] for r in cells] == [["2025-11", 1, float(row.group(2).replace(",", ""))]]


def test_maker_checker_holds_across_one_persons_accounts_on_screen(
    web: TestClient, database: Database
) -> None:
    bus = bootstrap(database)
    for role in (Role.INTAKE_CLERK, Role.COUNTY_APPROVER, Role.INVESTIGATOR):
        bus.handle(
            AddStaffAccount(
                actor=ADMIN, username=f"chen.{role.value}", display_name="陈", role=role.value,
                region=OWN, password=PASSWORD, person="chen",
            )
        )  # fmt: skip
    household(database, "W3")
    as_user(web, "chen.intake_clerk")
    submitted, _ = intake(web, _household_id(database, "W3"))
    app_page = web.get(submitted.headers["location"])
    track_id = int(re.search(r'href="/cases/tracks/(\d+)"', app_page.text).group(1))  # type: ignore[union-attr]
    ok(step(web, track_id, "accept", on="2025-09-26"))
    as_user(web, "chen.investigator")
    team = "chen, inv_zhao"
    ok(step(web, track_id, "start-investigation", on="2025-09-28", team=team))
    ok(step(web, track_id, "home-visit", on="2025-09-28", team=team))
    ok(step(web, track_id, "verification", on="2025-09-28"))
    as_user(web, REVIEWER)
    ok(step(web, track_id, "township-opinion", on="2025-09-28", proposal="approve", reasons="x"))
    ok(step(web, track_id, "post-notice", on="2025-09-29"))
    ok(step(web, track_id, "close-notice", on="2025-10-09"))
    as_user(web, "chen.county_approver")
    page = web.get(f"/cases/tracks/{track_id}")
    assert "审核与审批分离" in page.text
    assert 'action="/cases/tracks/' + str(track_id) + '/confirm"' not in page.text
    refused = step(web, track_id, "confirm", on="2025-10-10")
    assert refused.status_code == 422
    assert "maker-checker" in refused.text, refused.text[refused.text.find("<main") :][:1500]


def test_no_form_input_makes_the_server_fail(database: Database, clock: object) -> None:
    """Every step's form, empty or with nonsense, is answered with a page naming the problem
    (or a refusal), never a server error."""
    from safetynet.entrypoints.api import InMemoryUserDirectory, create_app
    from safetynet.entrypoints.web.steps import STEPS

    app = create_app(database, users=InMemoryUserDirectory({}), clock=clock)  # type: ignore[arg-type]
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as web:
        household(database, "W9")
        as_user(web, CLERK)
        submitted, _ = intake(web, _household_id(database, "W9"))
        app_page = web.get(submitted.headers["location"])
        track_id = int(re.search(r'href="/cases/tracks/(\d+)"', app_page.text).group(1))  # type: ignore[union-attr]
        as_user(web, APPROVER)
        token = csrf_of(web.get("/").text)
        nonsense = {"on": "2025-02-30", "version": "x", "team": "", "proposal": "maybe",
                    "kind": "duel", "decision_known_on": "yesterday", "reasons": "",
                    "county_received_on": "💥", "frequency": "hourly"}  # fmt: skip
        for name in STEPS:
            for data in ({}, nonsense):
                response = web.post(
                    f"/cases/tracks/{track_id}/{name}", data={"csrf_token": token, **data}
                )
                assert response.status_code in (303, 403, 422), (name, response.status_code)
        for path in ("/cases/tracks/99999", "/cases/99999", "/households/99999", "/cases?page=-3"):
            assert web.get(path).status_code in (200, 404), path
        assert web.get("/cases/tracks/abc").status_code == 422
