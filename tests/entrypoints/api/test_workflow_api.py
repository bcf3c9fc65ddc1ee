"""A dibao case through the API, from application to first payment, and a refusal; maker-checker,
optimistic locking and masking, on SQLite and PostgreSQL."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from pypdf import PdfReader

from safetynet.db.engine import Database
from safetynet.entrypoints.api import POLICY, Action, Role
from tests.cases.helpers import example, id_number, register_household
from tests.entrypoints.api.conftest import CITY, OWN, act, auth, call, token
from tests.entrypoints.api.flows import (
    APPROVER,
    CLERK,
    HEAD,
    INVESTIGATOR,
    ok,
    submit_dibao,
    to_notice_closed,
)

# The roles that read applications and tracks (a department reads only the exchange).
READERS = [role for role in Role if Action.READ in POLICY[role]]


def test_dibao_from_application_to_first_payment(client: TestClient, database: Database) -> None:
    app = submit_dibao(client, database, "H1")
    tid = app["tracks"][0]["id"]
    assert (app["region"], app["tracks"][0]["status"]) == (OWN, "submitted")

    t = ok(act(client, CLERK, tid, "accept", "2025-09-26"))  # Friday
    assert t["status"] == "accepted"
    assert t["investigation_start_due"] == "2025-09-30"  # 3 wd; Sunday 09-28 is a working day
    assert t["overall_due"] == "2025-11-13"  # 30 wd over the National Day holiday
    assert t["overall_extended_due"] == "2025-12-04"  # 45 wd

    # The office (and the city above it) see the investigation start falling due.
    for office, tok in ((OWN, CLERK), (CITY, token(Role.TOWNSHIP_REVIEWER, CITY))):
        rows = call(client, tok, "GET", f"/offices/{office}/deadlines", today="2025-09-29")
        assert [(r["track_id"], r["deadline"], r["due"], r["overdue"]) for r in rows] == [
            (tid, "investigation_start", "2025-09-30", False)
        ]
    overdue = call(client, CLERK, "GET", f"/offices/{OWN}/deadlines", today="2025-10-09")
    assert [(r["deadline"], r["overdue"]) for r in overdue] == [("investigation_start", True)]

    t = to_notice_closed(client, tid)
    assert (t["status"], t["county_decision_due"]) == ("notice_closed", "2025-11-11")

    early = act(client, APPROVER, tid, "start-payment", "2025-10-29")
    assert early.status_code == 409
    assert f"track {tid}" in early.json()["detail"]

    t = ok(act(client, APPROVER, tid, "confirm", "2025-10-30"))
    # (1,650 − 2,400 / 3) × 3 = 2,550 yuan a month (Shanghai standard [M], E1.1 household).
    assert (t["status"], t["decided_by"], t["amount_fen"]) == (
        "approved",
        f"{Role.COUNTY_APPROVER}_{OWN}",
        255000,
    )
    assert t["first_payment_month"] == "2025-11"  # the month after approval
    # A decision is recorded once: confirming again, or refusing now, is refused with 409.
    for action, body in (("confirm", {}), ("refuse", {"reasons": ["changed mind"]})):
        again = act(client, "tok-approver-2", tid, action, "2025-10-31", **body)
        assert again.status_code == 409
        assert "already decided (approved) on 2025-10-30" in again.json()["detail"]
    assert ok(client.get(f"/tracks/{tid}", headers=auth(APPROVER)))["amount_fen"] == 255000

    before = act(client, APPROVER, tid, "start-payment", "2025-10-31")
    assert before.status_code == 409  # before the first payment month
    t = ok(act(client, APPROVER, tid, "start-payment", "2025-11-03"))
    assert (t["status"], t["payment_started_on"]) == ("paying", "2025-11-03")


def test_refusal(client: TestClient, database: Database) -> None:
    tid = submit_dibao(client, database, "H2")["tracks"][0]["id"]
    ok(act(client, CLERK, tid, "accept", "2025-09-26"))
    to_notice_closed(client, tid, proposal="refuse")
    no_reasons = act(client, APPROVER, tid, "refuse", "2025-10-30", reasons=[])
    assert no_reasons.status_code == 422
    t = ok(act(client, APPROVER, tid, "refuse", "2025-10-30", reasons=["assets above the limit"]))
    assert (t["status"], t["decision"], t["refusal_reasons"]) == (
        "refused",
        "refused",
        ["assets above the limit"],
    )
    assert t["refusal_notice_due"] == "2025-11-04"  # 3 wd from Thursday 10-30
    assert t["amount_fen"] is None
    again = act(client, APPROVER, tid, "refuse", "2025-10-31", reasons=["again"])
    assert again.status_code == 409
    assert "already decided (refused) on 2025-10-30" in again.json()["detail"]

    notice = client.get(f"/tracks/{tid}/notice", headers=auth(CLERK))
    assert (notice.status_code, notice.headers["content-type"]) == (200, "application/pdf")
    text = "".join(PdfReader(io.BytesIO(notice.content)).pages[0].extract_text().split())
    assert "不予批准通知书" in text
    assert "assetsabovethelimit" in text
    assert "common.procedure" not in text  # the citizen's copy: no parameter ids
    filed = client.get(f"/tracks/{tid}/notice?copy=file", headers=auth(CLERK))
    reader = PdfReader(io.BytesIO(filed.content))
    filed_text = "".join("".join(page.extract_text() for page in reader.pages).split())
    assert "存档联" in filed_text
    assert "common.procedure.appeal.reconsideration_lodge" in filed_text


def test_a_track_without_a_decision_has_no_notice(client: TestClient, database: Database) -> None:
    tid = submit_dibao(client, database, "H3")["tracks"][0]["id"]
    response = client.get(f"/tracks/{tid}/notice", headers=auth(CLERK))
    assert response.status_code == 409
    assert "no decision" in response.json()["detail"]


def test_out_of_order_is_refused_with_the_reason(client: TestClient, database: Database) -> None:
    tid = submit_dibao(client, database, "H1")["tracks"][0]["id"]
    ok(act(client, CLERK, tid, "accept", "2025-09-26"))
    response = act(client, APPROVER, tid, "confirm", "2025-09-29")
    assert response.status_code == 409
    assert response.json()["detail"].startswith(f"cannot confirm track {tid} (dibao, accepted)")


def test_maker_checker_the_person_who_accepted_cannot_confirm(
    client: TestClient, database: Database
) -> None:
    tid = submit_dibao(client, database, "H1")["tracks"][0]["id"]
    ok(act(client, "tok-chen-clerk", tid, "accept", "2025-09-26"))
    to_notice_closed(client, tid)
    # chen accepted as a clerk; acting as a county approver does not make him a second pair of eyes.
    response = act(client, "tok-chen-approver", tid, "confirm", "2025-10-30")
    assert response.status_code == 409
    assert "maker-checker" in response.json()["detail"]
    assert call(client, CLERK, "GET", f"/tracks/{tid}")["status"] == "notice_closed"


def test_a_stale_expected_version_gives_409_and_one_decision(
    client: TestClient, database: Database
) -> None:
    tid = submit_dibao(client, database, "H1")["tracks"][0]["id"]
    ok(act(client, CLERK, tid, "accept", "2025-09-26"))
    seen = to_notice_closed(client, tid)["version"]
    body = {"expected_version": seen, "on": "2025-10-30"}
    first = client.post(f"/tracks/{tid}/confirm", headers=auth(APPROVER), json=body)
    second = client.post(f"/tracks/{tid}/confirm", headers=auth("tok-approver-2"), json=body)
    assert first.status_code == 200, first.text
    assert second.status_code == 409
    assert "changed since you read it" in second.json()["detail"]
    assert call(client, CLERK, "GET", f"/tracks/{tid}")["decided_by"] == f"county_approver_{OWN}"


def test_identity_numbers_masked_in_lists_and_for_roles_that_do_not_need_them(
    client: TestClient, database: Database
) -> None:
    app_id = submit_dibao(client, database, "H1")["id"]
    masked = HEAD[:3] + "*" * 11 + HEAD[-4:]
    for role in READERS:
        tok = token(role, OWN)
        listed = call(client, tok, "GET", "/applications")
        assert [a["id"] for a in listed] == [app_id]
        assert listed[0]["household"]["members"][0]["id_number"] == masked
        assert listed[0]["identity_numbers_masked"] is True
        assert HEAD not in str(listed)
        one = call(client, tok, "GET", f"/applications/{app_id}")
        full = role in (Role.INVESTIGATOR, Role.COUNTY_APPROVER)
        assert one["identity_numbers_masked"] is not full
        assert one["household"]["members"][0]["id_number"] == (HEAD if full else masked)


def test_authentication_is_required(client: TestClient) -> None:
    assert client.get("/applications").status_code == 401
    assert client.get("/applications", headers=auth("not-a-token")).status_code == 401
    assert client.get("/applications", headers=auth(INVESTIGATOR)).status_code == 200


def test_openapi_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/tracks/{track_id}/confirm" in schema["paths"]
    confirm = schema["paths"]["/tracks/{track_id}/confirm"]["post"]
    assert confirm["tags"] == ["tracks"]
    assert "maker-checker" in confirm["description"]
    assert confirm["x-action"] == "confirm"


def test_tekun_township_opinion_limit_on_the_2026_calendar(
    client: TestClient, database: Database
) -> None:
    register_household(database, "H26", [HEAD, id_number("19870601", 4)])
    body = {
        "household_region": OWN,
        "household_no": "H26",
        "region": OWN,
        "household": example("dibao_household.json"),
        "programs": ["tekun"],
        "on": "2026-01-23",
    }
    created = client.post("/applications", headers=auth(CLERK), json=body)
    assert created.status_code == 201, created.text
    tid = created.json()["tracks"][0]["id"]
    t = ok(act(client, CLERK, tid, "accept", "2026-01-26"))  # Monday
    # 15 working days over the 2026 calendar end on Saturday 2026-02-14, an adjusted working day.
    assert t["township_opinion_due"] == "2026-02-14"
