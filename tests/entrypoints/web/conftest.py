"""The workbench on the ``database`` fixture: staff accounts of each role in two counties, and a
signed-in client per account (through the sign-in page, with its CSRF token)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safetynet.accounts.commands import AddStaffAccount
from safetynet.audit.log import Actor
from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database
from safetynet.entrypoints.api import InMemoryUserDirectory, Role, create_app
from tests.cases.helpers import REGION

OWN = REGION  # Shanghai Pudong
OTHER = "110105"  # Beijing Chaoyang
PASSWORD = "correct horse battery"
ADMIN = Actor("admin", "administrator", None)


def username(role: Role | str, region: str) -> str:
    return f"{role}_{region}"


class Clock:
    """A clock the test moves (session expiry, lock-out)."""

    def __init__(self) -> None:
        self.now = dt.datetime(2025, 9, 25, 2, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def add_account(db: Database, clock: Callable[[], dt.datetime], user: str) -> None:
    """The account ``ROLE_REGION`` (password ``PASSWORD``), unless it exists."""
    from safetynet.accounts.views import accounts

    with db.sessions() as session:
        if any(row[0] == user for row in accounts(session)):
            return
    role, region = user.rsplit("_", 1)
    bootstrap(db, clock=clock).handle(
        AddStaffAccount(
            actor=ADMIN,
            username=user,
            display_name=f"{role}-{region}",
            role=role,
            region=region,
            password=PASSWORD,
        )
    )


@pytest.fixture
def web(database: Database, clock: Clock) -> Iterator[TestClient]:
    app = create_app(database, users=InMemoryUserDirectory({}), clock=clock)
    with TestClient(app, follow_redirects=False) as client:
        yield client


CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html[:500]
    return found.group(1)


def sign_in(client: TestClient, user: str, password: str = PASSWORD) -> Any:
    """Sign in as ``ROLE_REGION`` through the sign-in page (the account is opened if needed)."""
    service = client.app.state.service  # type: ignore[attr-defined]
    add_account(service.db, service.clock, user)
    page = client.get("/sign-in")
    return client.post(
        "/sign-in",
        data={"csrf_token": csrf_of(page.text), "username": user, "password": password},
    )
