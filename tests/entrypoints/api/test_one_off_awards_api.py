"""An emergency advance and the decision after it, through the API: the advance from a township
reserve that has none is refused with the reason and nothing changes; once the county has topped
it up the township pays at once, and the decision's award deducts the advance (docs/payments.md,
"One-off awards")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safetynet.audit.log import Actor
from safetynet.db.engine import Database
from safetynet.entrypoints.api import InMemoryUserDirectory, create_app
from safetynet.payments.awards import list_awards
from safetynet.payments.reserve import TopUpReserve, reserve_balances, top_up_reserve
from safetynet.policy.parameters import (
    DatedValue,
    ParameterTree,
    Provenance,
    Reference,
    default_tree,
)
from tests.cases.helpers import example, id_number, register_household
from tests.entrypoints.api.conftest import OWN, _clock, _users, act, auth, call
from tests.entrypoints.api.flows import APPROVER, CLERK, INVESTIGATOR, TEAM, ok

LIMIT = "assistance.temporary_assistance.township_advance_limit"


@pytest.fixture
def with_limit(database: Database) -> Iterator[TestClient]:
    """The API with an illustrative township advance limit of 3,000 yuan in Pudong (OWN)."""
    base = default_tree()
    levels = {code: dict(names) for code, names in base.levels.items()}
    levels.setdefault(OWN, {})[LIMIT] = [
        DatedValue(dt.date(2025, 1, 1), 300_000, Provenance.ILLUSTRATIVE, (Reference("test"),))
    ]
    tree = ParameterTree(dict(base.specs), levels, dict(base.region_names))
    app = create_app(database, users=InMemoryUserDirectory(_users()), clock=_clock, parameters=tree)
    with TestClient(app) as test_client:
        yield test_client


def _emergency(client: TestClient, db: Database) -> int:
    register_household(db, "E1", [id_number("19700501", 9)])
    body: dict[str, Any] = {
        "household_region": OWN,
        "household_no": "E1",
        "region": OWN,
        "household": example("temporary_assistance.json"),
        "emergency": True,
        "on": "2025-12-01",
    }
    response = client.post("/applications", headers=auth(CLERK), json=body)
    assert response.status_code == 201, response.text
    (tid,) = [t["id"] for t in response.json()["tracks"] if t["program"] == "temporary_assistance"]
    ok(act(client, CLERK, tid, "accept", "2025-12-01"))
    return int(tid)


def test_an_advance_from_the_township_reserve_once_topped_up_then_the_decision(
    with_limit: TestClient, database: Database
) -> None:
    client = with_limit
    tid = _emergency(client, database)
    refused = act(client, APPROVER, tid, "start-payment", "2025-12-01",
                  advance_amount_fen=100_000, paid_to="township_reserve",
                  township=f"{OWN}001")  # fmt: skip
    assert refused.status_code in (409, 422), refused.text
    assert "has no reserve" in refused.text
    assert call(client, APPROVER, "GET", f"/tracks/{tid}")["status"] == "accepted"
    assert list_awards(database) == []
    county = Actor("county_chen", "county_approver", OWN)
    top_up = TopUpReserve(township=f"{OWN}001", amount_fen=500_000, reason="Q4", actor=county)
    top_up_reserve(database, top_up, _clock)
    ok(act(client, APPROVER, tid, "start-payment", "2025-12-01", advance_amount_fen=100_000,
           paid_to="township_reserve", township=f"{OWN}001"))  # fmt: skip
    assert reserve_balances(database)[0].balance_fen == 400_000
    ok(act(client, INVESTIGATOR, tid, "start-investigation", "2025-12-02", investigators=TEAM))
    ok(act(client, INVESTIGATOR, tid, "home-visit", "2025-12-02", visitors=TEAM))
    ok(act(client, INVESTIGATOR, tid, "verification", "2025-12-03",
           report={"event": "fire"}, cross_check_requested_on="2025-12-03"))  # fmt: skip
    ok(act(client, APPROVER, tid, "confirm", "2025-12-04"))
    awards = list_awards(database)
    assert [(a.kind, a.amount_fen - a.deducted_fen == a.payable_fen) for a in awards] == [
        ("advance", True),
        ("award", True),
    ]
    assert awards[1].deducted_fen == 100_000
    assert [a.state for a in awards] == ["paid from the township reserve", "awaiting the roll"]
