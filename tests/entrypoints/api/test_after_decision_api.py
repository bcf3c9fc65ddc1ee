"""Through the API: appeals, re-checks, death, suspension, termination, time-limit extension,
gradual exit, refused job offers and the staff-relatives register; on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import datetime as dt

from fastapi.testclient import TestClient

import tests.cases.helpers as core
from safetynet.cases import commands as c
from safetynet.db.engine import Database
from safetynet.entrypoints.api import Role
from tests.cases.helpers import (
    Clock,
    example,
    id_number,
    investigate_and_propose,
    register_household,
    run,
    submit,
)
from tests.entrypoints.api.conftest import OTHER, OWN, act, auth, call, token
from tests.entrypoints.api.flows import (
    APPROVER,
    CLERK,
    HEAD,
    INVESTIGATOR,
    REVIEWER,
    ok,
    paying_dibao,
    refused_with_appeal,
    submit_dibao,
)

AUDITOR = token(Role.AUDITOR, OWN)
SPOUSE = id_number("19870601", 4)


def test_an_appeal_decided_in_the_applicants_favour_reopens_the_track(
    client: TestClient, database: Database
) -> None:
    appeal_id = refused_with_appeal(client, database, "H1", seq=4)
    appeal = call(client, CLERK, "GET", f"/appeals/{appeal_id}")
    tid = appeal["track_id"]
    assert (appeal["status"], appeal["lodge_due"], appeal["decision_due"]) == (
        "lodged",
        "2025-12-30",  # 60 days from 2025-10-31
        # 60 days from 2025-11-03 is Friday 2026-01-02, a New Year holiday: rolled to Sunday
        # 2026-01-04, an adjusted working day.
        "2026-01-04",
    )
    assert [a["id"] for a in call(client, REVIEWER, "GET", f"/tracks/{tid}/appeals")] == [appeal_id]
    body = {
        "expected_version": appeal["version"],
        "outcome": "revoked",
        "reasons": ["the car is needed for work"],
        "reopen_at": "decision",
        "on": "2025-12-01",
    }
    # Whoever may not decide appeals gets 403, whatever the body.
    assert (
        client.post(f"/appeals/{appeal_id}/decide", headers=auth(CLERK), json=body).status_code
        == 403
    )
    stale = client.post(
        f"/appeals/{appeal_id}/decide",
        headers=auth(APPROVER),
        json=body | {"expected_version": appeal["version"] + 1},
    )
    assert stale.status_code == 409
    assert "changed since you read it" in stale.json()["detail"]
    decided = client.post(f"/appeals/{appeal_id}/decide", headers=auth(APPROVER), json=body)
    assert decided.status_code == 200, decided.text
    assert (decided.json()["outcome"], decided.json()["reopened_at"]) == ("revoked", "decision")
    again = client.post(
        f"/appeals/{appeal_id}/decide",
        headers=auth(APPROVER),
        json=body | {"expected_version": decided.json()["version"]},
    )
    assert again.status_code == 409
    assert "already decided (revoked) on 2025-12-01" in again.json()["detail"]
    t = call(client, APPROVER, "GET", f"/tracks/{tid}")
    # 10 working days from Monday 2025-12-01.
    assert (t["status"], t["decision"], t["county_decision_due"]) == (
        "notice_closed",
        None,
        "2025-12-15",
    )
    other = client.get(f"/appeals/{appeal_id}", headers=auth(token(Role.COUNTY_APPROVER, OTHER)))
    assert (other.status_code, other.json()) == (404, {"detail": f"appeal {appeal_id} not found"})


def test_rechecks_death_suspension_and_termination(client: TestClient, database: Database) -> None:
    tid = paying_dibao(client, database, "H2")
    t = ok(act(client, REVIEWER, tid, "schedule-recheck", "2025-11-03", frequency="annual"))
    assert t["recheck_due"] == "2026-11-03"
    response = act(client, CLERK, tid, "death", "2025-11-30", id_number=HEAD)
    t = ok(response)
    assert (t["recheck_due"], t["recheck_reason"]) == ("2026-02-28", "death")
    assert HEAD not in response.text
    # The same death reported again (another day, the other door) is refused, not applied twice:
    # the re-check stays due three months after the first report.
    again = act(client, APPROVER, tid, "death", "2025-12-15", id_number=HEAD)
    assert again.status_code == 409
    assert "already recorded (died on 2025-11-30" in again.json()["detail"]
    assert HEAD not in again.text
    assert ok(client.get(f"/tracks/{tid}", headers=auth(APPROVER)))["recheck_due"] == "2026-02-28"
    household = copy.deepcopy(example("dibao_household.json"))
    household["members"][0]["wage_income"] = "3000.00"
    t = ok(
        act(
            client,
            INVESTIGATOR,
            tid,
            "recheck",
            "2026-02-10",
            frequency="half_yearly",
            findings="the head earns 3,000 now",
            household=household,
        )
    )
    # (1,650 − 3,000 / 3) × 3 = 1,950 yuan a month from March.
    assert (t["amount_fen"], t["recheck_due"], t["last_recheck_on"]) == (
        195000,
        "2026-08-10",
        "2026-02-10",
    )
    t = ok(act(client, APPROVER, tid, "suspend", "2026-03-02", reason="did not attend re-check"))
    assert (t["status"], t["suspended_on"]) == ("suspended", "2026-03-02")
    again = act(client, APPROVER, tid, "suspend", "2026-03-03", reason="again")
    assert again.status_code == 409
    assert "already suspended on 2026-03-02" in again.json()["detail"]
    t = ok(act(client, APPROVER, tid, "terminate", "2026-03-20", reason="moved abroad"))
    assert (t["status"], t["terminated_on"]) == ("terminated", "2026-03-20")
    late = act(client, APPROVER, tid, "terminate", "2026-03-21", reason="again")
    assert (late.status_code, "already ended on 2026-03-20" in late.json()["detail"]) == (409, True)


def test_tekun_termination_waits_for_its_seven_day_notice(
    client: TestClient, database: Database, fixed_clock: Clock
) -> None:
    # Up to payment through the handlers: the tekun care standard is local, given as an override.
    register_household(database, "T1", [id_number("19530301", 6)])
    _, (tid,) = submit(
        database, fixed_clock, example("tekun.json"), "T1", dt.date(2026, 1, 23), ("tekun",)
    )
    run(
        database,
        fixed_clock,
        c.AcceptApplication(actor=core.CLERK, on=dt.date(2026, 1, 26), application_id=1),
    )
    investigate_and_propose(database, fixed_clock, tid, dt.date(2026, 2, 2))
    for cmd in (
        c.PostPublicNotice(actor=core.REVIEWER, on=dt.date(2026, 2, 3), track_id=tid),
        c.ClosePublicNotice(actor=core.REVIEWER, on=dt.date(2026, 2, 12), track_id=tid),
        c.RecordHomeVisit(
            actor=core.APPROVER_2,
            on=dt.date(2026, 2, 13),
            track_id=tid,
            visitors=("county_sun",),
            level="county",
        ),
        c.ConfirmTrack(
            actor=core.APPROVER,
            on=dt.date(2026, 2, 13),
            track_id=tid,
            overrides={
                "assistance.tekun.care_standard_monthly": {
                    "fully_lost": 50000,
                    "partially_lost": 25000,
                    "capable": 6000,
                }
            },
        ),
        c.StartPayment(actor=core.APPROVER, on=dt.date(2026, 3, 2), track_id=tid),
    ):
        run(database, fixed_clock, cmd)

    early = act(client, APPROVER, tid, "terminate", "2026-04-01", reason="supporter found")
    assert early.status_code == 409
    assert "post it first" in early.json()["detail"]
    t = ok(act(client, REVIEWER, tid, "post-notice", "2026-04-01", purpose="termination"))
    assert (t["status"], t["notice_ends_on"]) == ("termination_notice", "2026-04-08")
    before_end = act(client, APPROVER, tid, "terminate", "2026-04-07", reason="supporter found")
    assert before_end.status_code == 409
    assert "the termination notice ends on 2026-04-08" in before_end.json()["detail"]
    t = ok(act(client, APPROVER, tid, "terminate", "2026-04-08", reason="supporter found"))
    assert (t["status"], t["terminated_on"]) == ("terminated", "2026-04-08")


def test_extension_gradual_exit_and_job_refusals(client: TestClient, database: Database) -> None:
    tid = submit_dibao(client, database, "H3", seq=5)["tracks"][0]["id"]
    ok(act(client, CLERK, tid, "accept", "2025-09-26"))
    assert act(client, CLERK, tid, "extend-limit", "2025-11-03", reason="x").status_code == 403
    t = ok(act(client, APPROVER, tid, "extend-limit", "2025-11-03", reason="bank replies late"))
    assert (t["overall_due"], t["limit_extension_reason"]) == ("2025-12-04", "bank replies late")
    twice = act(client, APPROVER, tid, "extend-limit", "2025-11-04", reason="again")
    assert twice.status_code == 409
    assert "only once" in twice.json()["detail"]

    paying = paying_dibao(client, database, "H4")
    for day in ("2025-12-01", "2025-12-08"):
        ok(act(client, INVESTIGATOR, paying, "job-refusals", day, id_number=HEAD, offer="cashier"))
    response = act(
        client, INVESTIGATOR, paying, "job-refusals", "2025-12-15", id_number=HEAD, offer="cook"
    )
    t = ok(response)
    assert HEAD not in response.text
    assert [(r["count"], r["id_number"][-4:]) for r in t["job_refusals"]] == [
        (1, HEAD[-4:]),
        (2, HEAD[-4:]),
        (3, HEAD[-4:]),
    ]
    # 2,550 − 2,550 / 3 = 1,700 yuan a month from January 2026.
    assert t["amount_fen"] == 170000

    household = copy.deepcopy(example("dibao_household.json"))
    household["members"][0]["wage_income"] = "6000.00"
    household["members"][0]["refused_job_offers"] = 3
    t = ok(
        act(
            client,
            APPROVER,
            paying,
            "gradual-exit",
            "2026-01-10",
            income_rose_in="2026-01",
            household=household,
        )
    )
    assert (t["status"], t["gradual_exit_until"]) == ("gradual_exit", "2026-07")
    assert {m["amount_fen"] for m in t["gradual_exit_schedule"]} == {170000}
    rows = call(client, APPROVER, "GET", f"/offices/{OWN}/deadlines", today="2026-07-29")
    assert [(r["deadline"], r["due"]) for r in rows if r["track_id"] == paying] == [
        ("gradual_exit_end", "2026-07-31")
    ]


def test_the_staff_relatives_register_and_report(client: TestClient, database: Database) -> None:
    body = {
        "staff_name": "town_zhou",
        "staff_role": "township_reviewer",
        "id_number": SPOUSE,
        "relation": "sibling",
        "on": "2025-09-01",
    }
    path = f"/offices/{OWN}/staff-relatives"
    assert client.post(path, headers=auth(CLERK), json=body).status_code == 403
    other = token(Role.COUNTY_APPROVER, OTHER)
    assert client.post(path, headers=auth(other), json=body).status_code == 404
    response = client.post(path, headers=auth(APPROVER), json=body)
    assert response.status_code == 201, response.text
    assert SPOUSE not in response.text
    entry = response.json()
    assert (entry["staff"], entry["staff_region"], entry["id_number"][-4:]) == (
        "town_zhou",
        OWN,
        SPOUSE[-4:],
    )
    duplicate = client.post(path, headers=auth(APPROVER), json=body)
    assert duplicate.status_code == 422
    listed = client.get(path, headers=auth(AUDITOR))
    assert SPOUSE not in listed.text
    assert [r["relation"] for r in listed.json()] == ["sibling"]

    app = submit_dibao(client, database, "H5")  # the household includes SPOUSE
    assert app["relative_flag"]
    report = client.get(f"/offices/{OWN}/relative-applications", headers=auth(AUDITOR))
    assert report.status_code == 200
    assert SPOUSE not in report.text
    assert [(r["application_id"], r["matches"][0]["staff"]) for r in report.json()] == [
        (app["id"], "town_zhou")
    ]
    assert (
        client.get(f"/offices/{OWN}/relative-applications", headers=auth(CLERK)).status_code == 403
    )
