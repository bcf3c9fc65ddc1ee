"""Staff sign-in: sessions, CSRF, lock-out, expiry, and the role check of every page."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select

from safetynet.audit.model import AuditEvent
from safetynet.db.engine import Database
from safetynet.entrypoints.api import Role
from tests.entrypoints.web.conftest import OWN, Clock, csrf_of, sign_in, username


def test_a_page_sends_an_anonymous_person_to_the_sign_in_page(web: TestClient) -> None:
    response = web.get("/")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?next=/")
    page = web.get("/sign-in")
    assert page.status_code == 200
    assert "登录" in page.text
    assert 'lang="zh-CN"' in page.text


def test_signing_in_opens_the_work_queue_and_is_audited(
    web: TestClient, database: Database
) -> None:
    response = sign_in(web, username(Role.INTAKE_CLERK, OWN))
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    home = web.get("/")
    assert home.status_code == 200
    assert "待办事项" in home.text
    assert "已超期" in home.text
    with database.sessions() as session:
        events = session.scalars(select(AuditEvent.event)).all()
    assert "SignedIn" in events
    assert "StaffAccountAdded" in events


def test_a_post_without_the_csrf_token_is_refused(web: TestClient) -> None:
    web.get("/sign-in")
    response = web.post(
        "/sign-in", data={"username": username(Role.INTAKE_CLERK, OWN), "password": "x"}
    )
    assert response.status_code == 400
    assert "session" not in str(web.cookies)


def test_five_wrong_passwords_lock_the_account_for_thirty_minutes(
    web: TestClient, clock: Clock
) -> None:
    user = username(Role.COUNTY_APPROVER, OWN)
    for _ in range(5):
        assert sign_in(web, user, "wrong password!").status_code == 401
    locked = sign_in(web, user)
    assert locked.status_code == 401
    assert "锁定" in locked.text
    clock.now += dt.timedelta(minutes=31)
    assert sign_in(web, user).status_code == 303


def test_a_session_expires_after_its_lifetime(web: TestClient, clock: Clock) -> None:
    sign_in(web, username(Role.INTAKE_CLERK, OWN))
    assert web.get("/").status_code == 200
    clock.now += dt.timedelta(minutes=481)
    assert web.get("/").status_code == 303


def test_signing_out_ends_the_session(web: TestClient) -> None:
    sign_in(web, username(Role.INTAKE_CLERK, OWN))
    token = web.cookies.get("sn_session")
    home = web.get("/")
    assert web.post("/sign-out", data={"csrf_token": csrf_of(home.text)}).status_code == 303
    web.cookies.set("sn_session", token or "")
    assert web.get("/").status_code == 303


def test_english_is_chosen_per_user(web: TestClient) -> None:
    sign_in(web, username(Role.INTAKE_CLERK, OWN))
    home = web.get("/")
    web.post("/language", data={"csrf_token": csrf_of(home.text), "locale": "en", "next": "/"})
    assert "Work queue" in web.get("/").text
    web.cookies.clear()
    sign_in(web, username(Role.INTAKE_CLERK, OWN))
    assert 'lang="en"' in web.get("/").text  # remembered on the account


def test_the_api_documentation_is_served_without_a_cdn(web: TestClient) -> None:
    page = web.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assert "/api-docs-assets/swagger-ui-bundle.js" in page.text
    assert web.get("/api-docs-assets/swagger-ui-bundle.js").status_code == 200
    assert web.get("/redoc").status_code == 404
