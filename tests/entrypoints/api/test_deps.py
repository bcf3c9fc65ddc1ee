"""The user of a request: found on the event loop, refused with 401 or 403 as before."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient

from safetynet.db.engine import Database
from safetynet.entrypoints.api import InMemoryUserDirectory, Role, User, create_app
from safetynet.entrypoints.api.auth import UserDirectory

REGION = "510181"
BODY = {
    "date": "2026-07-01",
    "fallback_parameters": "demo",
    "programs": ["dibao"],
    "households": [{"household_id": "H-1", "region": REGION, "members": [{"relation": "head"}]}],
}


class _Watched:
    """A directory that notes whether each look-up ran on the event loop's thread."""

    def __init__(self, users: UserDirectory) -> None:
        self.users = users
        self.on_loop: list[bool] = []

    def authenticate(self, token: str) -> User | None:
        try:
            asyncio.get_running_loop()
            self.on_loop.append(True)
        except RuntimeError:  # a worker thread has no running loop
            self.on_loop.append(False)
        return self.users.authenticate(token)


def test_the_user_is_found_on_the_event_loop_and_refused_as_before(database: Database) -> None:
    users = _Watched(
        InMemoryUserDirectory(
            {"clerk": User("clerk", Role.INTAKE_CLERK, REGION),
             "auditor": User("auditor", Role.AUDITOR, REGION)}
        )
    )  # fmt: skip
    with TestClient(create_app(database, users=users)) as client:
        ok = client.post("/calculate", json=BODY, headers={"Authorization": "Bearer clerk"})
        assert ok.status_code == 200, ok.text
        assert users.on_loop
        assert all(users.on_loop)

        missing = client.post("/calculate", json=BODY)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        unknown = client.post("/calculate", json=BODY, headers={"Authorization": "Bearer nope"})
        assert unknown.status_code == 401
        auditor = client.post("/calculate", json=BODY, headers={"Authorization": "Bearer auditor"})
        assert auditor.status_code == 403
        assert auditor.json() == {"detail": "the role auditor may not calculate"}
        # A route whose own check is a plain def (a database look-up) still gets its user.
        read = client.get("/tracks/1", headers={"Authorization": "Bearer auditor"})
        assert read.status_code == 404
