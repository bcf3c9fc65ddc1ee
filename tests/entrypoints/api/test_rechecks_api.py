"""Through the API: a re-check opened because of a monitoring alert (``POST
/tracks/{id}/rechecks``), in the office's deadlines, closed by the recorded re-check; and an
accepted job offer restarting the count of refusals in a row; on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient

from safetynet.db.engine import Database
from safetynet.entrypoints.api import Role
from tests.cases.helpers import household_id_of, open_alert
from tests.entrypoints.api.conftest import OTHER, OWN, act, call, token
from tests.entrypoints.api.flows import (
    APPROVER,
    CLERK,
    HEAD,
    INVESTIGATOR,
    REVIEWER,
    ok,
    paying_dibao,
)


def test_a_recheck_opened_from_an_alert_is_due_listed_and_closed(
    client: TestClient, database: Database
) -> None:
    tid = paying_dibao(client, database, "H1")
    alert_id = open_alert(database, household_id_of(database, "H1"))
    body = {"alert_id": alert_id, "reason": "wage feed above the standard"}
    # Roles that may not open a re-check: 403; another region's reviewer: 404.
    assert act(client, CLERK, tid, "rechecks", "2025-12-01", **body).status_code == 403
    assert (
        client.post(
            f"/tracks/{tid}/rechecks",
            headers={"Authorization": f"Bearer {token(Role.TOWNSHIP_REVIEWER, OTHER)}"},
            json={"expected_version": 1, "on": "2025-12-01", **body},
        ).status_code
        == 404
    )
    unknown = act(client, REVIEWER, tid, "rechecks", "2025-12-01", alert_id=999, reason="x")
    assert (unknown.status_code, unknown.json()) == (
        422,
        {
            "detail": [
                {
                    "loc": ["body", "alert_id"],
                    "msg": "999 is not an alert about this household",
                    "type": "value_error",
                }
            ]
        },
    )

    t = ok(act(client, REVIEWER, tid, "rechecks", "2025-12-01", **body))
    (recheck,) = t["rechecks"]
    # 30 working days from Monday 2025-12-01 (New Year 2026-01-01..03 off, Sunday 01-04 worked).
    assert (recheck["alert_id"], recheck["due"], recheck["status"], recheck["opened_by"]) == (
        alert_id,
        "2026-01-13",
        "open",
        f"{Role.TOWNSHIP_REVIEWER}_{OWN}",
    )
    assert {"deadline": "alert_recheck", "due": "2026-01-13", "provisional": False} in t[
        "pending_deadlines"
    ]
    again = act(client, REVIEWER, tid, "rechecks", "2025-12-02", **body)
    assert again.status_code == 409
    assert f"alert {alert_id} already opened re-check {recheck['id']}" in again.json()["detail"]

    rows = call(client, APPROVER, "GET", f"/offices/{OWN}/deadlines", today="2026-01-09")
    assert [
        (r["deadline"], r["due"], r["overdue"], r["working_days_left"], r["recheck_id"])
        for r in rows
        if r["track_id"] == tid
    ] == [("alert_recheck", "2026-01-13", False, 2, recheck["id"])]

    t = ok(
        act(
            client,
            INVESTIGATOR,
            tid,
            "recheck",
            "2026-01-12",
            frequency="annual",
            findings="a one-off bonus; income unchanged",
        )
    )
    assert [(r["status"], r["closed_on"]) for r in t["rechecks"]] == [("done", "2026-01-12")]
    assert not [d for d in t["pending_deadlines"] if d["deadline"] == "alert_recheck"]
    assert call(client, APPROVER, "GET", f"/offices/{OWN}/deadlines", today="2026-01-14") == []


def test_an_accepted_job_offer_restarts_the_count_of_refusals(
    client: TestClient, database: Database
) -> None:
    tid = paying_dibao(client, database, "H2")
    for day in ("2025-12-01", "2025-12-08"):
        ok(act(client, INVESTIGATOR, tid, "job-refusals", day, id_number=HEAD, offer="cashier"))
    assert (
        act(
            client, CLERK, tid, "job-acceptances", "2025-12-10", id_number=HEAD, offer="x"
        ).status_code
        == 403
    )
    response = act(
        client, INVESTIGATOR, tid, "job-acceptances", "2025-12-10", id_number=HEAD, offer="cook"
    )
    t = ok(response)
    assert HEAD not in response.text
    assert [(a["accepted_on"], a["id_number"][-4:]) for a in t["job_acceptances"]] == [
        ("2025-12-10", HEAD[-4:])
    ]
    t = ok(act(client, REVIEWER, tid, "job-refusals", "2025-12-15", id_number=HEAD, offer="guard"))
    # The third refusal in all is the first in a row: the amount stays 2,550 yuan.
    assert [r["count"] for r in t["job_refusals"]] == [1, 2, 1]
    assert t["amount_fen"] == 255000
