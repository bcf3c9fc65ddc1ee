"""Steps of a case through the API, shared by the tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from safetynet.db.engine import Database
from safetynet.entrypoints.api import Role
from tests.cases.helpers import example, id_number, register_household
from tests.entrypoints.api.conftest import OWN, act, call, token

HEAD = "110105198503010032"  # the head of examples/dibao_household.json
CLERK = token(Role.INTAKE_CLERK, OWN)
INVESTIGATOR = token(Role.INVESTIGATOR, OWN)
REVIEWER = token(Role.TOWNSHIP_REVIEWER, OWN)
APPROVER = token(Role.COUNTY_APPROVER, OWN)
TEAM = ["inv_wang", "inv_zhao"]


def application_body(household_no: str, household: Any, **extra: Any) -> dict[str, Any]:
    """The body of a dibao application for a household of the own county."""
    return {
        "household_region": OWN,
        "household_no": household_no,
        "region": OWN,
        "household": household,
        "programs": ["dibao"],
        **extra,
    }


def submit_dibao(
    client: TestClient, db: Database, household_no: str, *, seq: int = 4, clerk: str = CLERK
) -> dict[str, Any]:
    """Register a household and lodge a dibao application for it on 2025-09-25."""
    register_household(
        db, household_no, [HEAD if seq == 4 else id_number(seq=seq), id_number("19870601", seq)]
    )
    body = application_body(household_no, example("dibao_household.json"), on="2025-09-25")
    response = client.post("/applications", headers={"Authorization": f"Bearer {clerk}"}, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def to_notice_closed(client: TestClient, tid: int, *, proposal: str = "approve") -> dict[str, Any]:
    """Investigation on 09-28, notice 09-29 → 10-09, file received by the county on 10-28."""
    ok(act(client, INVESTIGATOR, tid, "start-investigation", "2025-09-28", investigators=TEAM))
    ok(act(client, INVESTIGATOR, tid, "home-visit", "2025-09-28", visitors=TEAM))
    ok(
        act(
            client,
            INVESTIGATOR,
            tid,
            "verification",
            "2025-09-28",
            report={"income_checked": True},
            cross_check_requested_on="2025-09-28",
        )
    )
    ok(
        act(
            client,
            REVIEWER,
            tid,
            "township-opinion",
            "2025-09-28",
            proposal=proposal,
            reasons=["household income checked against the standard"],
        )
    )
    assert (
        ok(act(client, REVIEWER, tid, "post-notice", "2025-09-29"))["notice_ends_on"]
        == "2025-10-09"
    )
    return ok(
        act(client, REVIEWER, tid, "close-notice", "2025-10-09", county_received_on="2025-10-28")
    )


def paying_dibao(client: TestClient, db: Database, household_no: str) -> int:
    """A dibao track approved on 2025-10-30 and paid from 2025-11-03; returns the track id."""
    tid = submit_dibao(client, db, household_no)["tracks"][0]["id"]
    ok(act(client, CLERK, tid, "accept", "2025-09-26"))
    to_notice_closed(client, tid)
    ok(act(client, APPROVER, tid, "confirm", "2025-10-30"))
    ok(act(client, APPROVER, tid, "start-payment", "2025-11-03"))
    return int(tid)


def lodge_appeal(client: TestClient, tid: int, grounds: str) -> Any:
    """Ask on 2025-11-03 for reconsideration of the decision known on 2025-10-31."""
    return act(
        client,
        CLERK,
        tid,
        "appeals",
        "2025-11-03",
        kind="reconsideration",
        decision_known_on="2025-10-31",
        grounds=grounds,
    )


def refused_with_appeal(client: TestClient, db: Database, household_no: str, seq: int) -> int:
    """A dibao track refused on 2025-10-30 and an appeal lodged against it on 2025-11-03; returns
    the appeal id."""
    tid = submit_dibao(client, db, household_no, seq=seq)["tracks"][0]["id"]
    ok(act(client, CLERK, tid, "accept", "2025-09-26"))
    to_notice_closed(client, tid, proposal="refuse")
    ok(act(client, APPROVER, tid, "refuse", "2025-10-30", reasons=["assets above the limit"]))
    response = lodge_appeal(client, tid, "the car is needed for work")
    assert response.status_code == 201, response.text
    appeal_id: int = response.json()["id"]
    return appeal_id


__all__ = [
    "APPROVER",
    "CLERK",
    "HEAD",
    "INVESTIGATOR",
    "REVIEWER",
    "application_body",
    "call",
    "lodge_appeal",
    "ok",
    "paying_dibao",
    "refused_with_appeal",
    "submit_dibao",
    "to_notice_closed",
]
