"""An API client on the ``database`` fixture, with one user per role in two regions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safetynet.db.engine import Database
from safetynet.entrypoints.api import InMemoryUserDirectory, Role, User, create_app
from tests.cases.helpers import REGION

OWN = REGION  # Shanghai Pudong: the applications are lodged here
OTHER = "110105"  # Beijing Chaoyang
CITY = "310000"  # Shanghai: above Pudong
NEIGHBOUR = "310104"  # Xuhui, next to Pudong


def token(role: Role | str, region: str) -> str:
    return f"tok-{role}-{region}"


def name(role: Role | str, region: str) -> str:
    return f"{role}_{region}"


def _users() -> dict[str, User]:
    users = {
        token(role, region): User(name(role, region), role, region)
        for role in Role
        for region in (OWN, OTHER, CITY, NEIGHBOUR)
    }
    # One person (chen) holding two roles: maker-checker is by person, across roles.
    users["tok-chen-clerk"] = User("chen", Role.INTAKE_CLERK, OWN)
    users["tok-chen-approver"] = User("chen", Role.COUNTY_APPROVER, OWN)
    users["tok-approver-2"] = User("county_sun", Role.COUNTY_APPROVER, OWN)
    return users


def _clock() -> dt.datetime:
    return dt.datetime(2025, 9, 25, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    app = create_app(database, users=InMemoryUserDirectory(_users()), clock=_clock)
    with TestClient(app) as test_client:
        yield test_client


def auth(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def call(
    client: TestClient, tok: str, method: str, path: str, body: Any = None, **params: Any
) -> Any:
    """A request expected to succeed; returns the JSON."""
    response = client.request(method, path, headers=auth(tok), json=body, params=params or None)
    assert response.status_code < 300, (response.status_code, response.text)
    return response.json()


def act(client: TestClient, tok: str, track_id: int, action: str, on: str, **body: Any) -> Any:
    """Read the track (for its version), then take ``action`` on it; returns the response."""
    version = call(client, tok, "GET", f"/tracks/{track_id}")["version"]
    return client.post(
        f"/tracks/{track_id}/{action}",
        headers=auth(tok),
        json={"expected_version": version, "on": on, **body},
    )
