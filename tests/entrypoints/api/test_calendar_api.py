"""Deadlines counted across a year with no official calendar yet, as the API shows them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from safetynet.cases.calendar_years import AddCalendarYear, add_calendar_year
from safetynet.db.calendar_years import forget_sync
from safetynet.db.engine import Database
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.calendar import install_added_years, parse_official_year
from tests.cases.test_calendar_years import ADMIN, calendar_2027
from tests.entrypoints.api.conftest import OWN, act, call
from tests.entrypoints.api.flows import CLERK, ok, submit_dibao


@pytest.fixture(autouse=True)
def _calendar_of_this_process() -> Iterator[None]:
    yield
    install_added_years([])
    forget_sync()


def test_an_application_accepted_on_5_december_2026_gets_provisional_deadlines(
    client: TestClient, database: Database
) -> None:
    tid = submit_dibao(client, database, "H1")["tracks"][0]["id"]
    track = ok(act(client, CLERK, tid, "accept", "2026-12-05"))  # answered 422 before
    assert track["status"] == "accepted"
    assert track["provisional_dates"] == ["overall_due", "overall_extended_due"]
    pending = {d["deadline"]: (d["due"], d["provisional"]) for d in track["pending_deadlines"]}
    assert pending == {
        "investigation_start": ("2026-12-09", False),
        "overall": ("2027-01-18", True),
    }
    queue = call(client, CLERK, "GET", f"/offices/{OWN}/deadlines", today="2027-01-14")
    assert [(r["deadline"], r["due"], r["provisional"]) for r in queue] == [
        ("investigation_start", "2026-12-09", False),
        ("overall", "2027-01-18", True),
    ]

    with UnitOfWork(database.sessions) as uow:
        add_calendar_year(uow, AddCalendarYear(ADMIN, parse_official_year(calendar_2027())))
    track = call(client, CLERK, "GET", f"/tracks/{tid}")
    assert track["provisional_dates"] == []
    assert track["overall_extended_due"] == "2027-02-08"
    assert all(not d["provisional"] for d in track["pending_deadlines"])
