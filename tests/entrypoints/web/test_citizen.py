"""The citizen's pages through the web application (TestClient): signing in with a code, the
household's page, applying, following the case, appealing, asking for a change; a citizen sees
only their own household. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safetynet.audit.model import AuditEvent
from safetynet.bootstrap import bootstrap
from safetynet.cases import commands as c
from safetynet.cases.model import Complaint
from safetynet.db.engine import Database
from safetynet.payments.model import PayeeAccount
from safetynet.registry.change_model import ChangeRequest
from safetynet.registry.changes import ApproveChange
from safetynet.registry.model import Person
from tests.cases.helpers import (
    APPROVER,
    HEAD,
    REVIEWER,
    accepted_dibao,
    example,
    id_number,
    register_household,
    run,
    submit,
    to_county,
)
from tests.entrypoints.web.conftest import Clock, csrf_of

OTHER = id_number("19700101", 7)
PHONE = "13812345678"


def _phones(db: Database) -> None:
    with db.sessions.begin() as session:
        for number, phone in ((HEAD, PHONE), (OTHER, "13900000000")):
            person = session.execute(select(Person).where(Person.id_number == number)).scalar_one()
            person.phone = phone


def citizen_sign_in(web: TestClient, number: str = HEAD) -> None:
    page = web.get("/citizen/sign-in")
    assert page.status_code == 200
    sent = web.post("/citizen/code", data={"csrf_token": csrf_of(page.text), "id_number": number})
    assert sent.status_code == 200, sent.text
    assert "138****5678" in sent.text
    code = re.search(r"验证码为(\d{6})", sent.text)
    assert code is not None, sent.text
    done = web.post(
        "/citizen/sign-in",
        data={"csrf_token": csrf_of(sent.text), "id_number": number, "code": code.group(1)},
    )
    assert (done.status_code, done.headers["location"]) == (303, "/citizen")


def test_a_citizen_signs_in_applies_and_follows_the_case(
    web: TestClient, database: Database, clock: Clock
) -> None:
    register_household(database, "H1", [HEAD, id_number("19870601", 4)])
    register_household(database, "H2", [OTHER])
    _phones(database)
    # Another household's case, decided: the citizen of H1 must see nothing of it.
    _, (theirs,) = submit(
        database, clock, example("dibao_household.json"), "H2", dt.date(2025, 9, 25), ("dibao",)
    )
    assert web.get("/citizen").headers["location"] == "/citizen/sign-in"

    citizen_sign_in(web)
    home = web.get("/citizen")
    assert home.status_code == 200
    assert "成员0，您好" in home.text
    assert "暂无申请" in home.text
    assert HEAD not in home.text

    form = web.get("/citizen/apply")
    assert 'for="wage_' in form.text
    refused = web.post(
        "/citizen/apply",
        data={"csrf_token": csrf_of(form.text), "programs[]": "dibao", "financial_assets": "100"},
    )
    assert refused.status_code == 400
    assert "请确认所填信息真实" in refused.text
    person_ids = re.findall(r'name="wage_(\d+)"', form.text)
    data = {"csrf_token": csrf_of(form.text), "programs[]": "dibao", "promise": "yes"}
    data |= {f"wage_{pid}": "800" for pid in person_ids} | {"financial_assets": "2000"}
    applied = web.post("/citizen/apply", data=data)
    assert applied.status_code == 303, applied.text
    mine = applied.headers["location"]
    case = web.get(mine)
    assert "最低生活保障" in case.text
    assert "已提交，等待受理" in case.text
    assert "提交申请" in case.text

    # Only the own household: another household's case and notice are not found.
    for path in (
        f"/citizen/cases/{theirs}",
        f"/citizen/cases/{theirs}/notice",
        "/citizen/cases/999",
    ):
        answer = web.get(path)
        assert answer.status_code == 404, path
        assert "未找到" in answer.text
    assert "最低生活保障" not in web.get(f"/citizen/cases/{theirs}").text
    appeal = web.post(
        f"/citizen/cases/{theirs}/appeal",
        data={"csrf_token": csrf_of(case.text), "kind": "reconsideration", "grounds": "x"},
    )
    assert appeal.status_code == 404


def test_a_citizen_appeals_and_reads_the_notice(
    web: TestClient, database: Database, clock: Clock
) -> None:
    tid = accepted_dibao(database, clock)  # household H1, head HEAD
    to_county(database, clock, tid, "refuse")
    run(
        database,
        clock,
        c.RefuseTrack(
            actor=APPROVER, on=dt.date(2025, 10, 10), track_id=tid, reasons=("存款超标",)
        ),
    )
    with database.sessions.begin() as session:
        session.execute(select(Person).where(Person.id_number == HEAD)).scalar_one().phone = PHONE
    clock.now = dt.datetime(2025, 10, 15, 2, 0, tzinfo=dt.UTC)
    citizen_sign_in(web)
    case = web.get(f"/citizen/cases/{tid}")
    assert "不予批准：存款超标" in case.text
    assert "浦民救〔2025〕1号" in case.text
    assert "申请行政复议" in case.text
    pdf = web.get(f"/citizen/cases/{tid}/notice")
    assert pdf.headers["content-type"] == "application/pdf"
    lodged = web.post(
        f"/citizen/cases/{tid}/appeal",
        data={
            "csrf_token": csrf_of(case.text),
            "kind": "reconsideration",
            "decision_known_on": "2025-10-14",
            "grounds": "存款是为孩子治病借的",
        },
    )
    assert lodged.status_code == 200, lodged.text
    assert "复议或诉讼申请已提交" in lodged.text
    assert "2025年10月15日申请行政复议（处理中）" in lodged.text


def test_a_citizen_asks_to_change_the_bank_account_a_clerk_approves(
    web: TestClient, database: Database, clock: Clock
) -> None:
    register_household(database, "H1", [HEAD])
    register_household(database, "H2", [OTHER])
    _phones(database)
    citizen_sign_in(web)
    page = web.get("/citizen/changes")
    bad = web.post(
        "/citizen/changes",
        data={"csrf_token": csrf_of(page.text), "kind": "phone", "phone": "123"},
    )
    assert bad.status_code == 400
    assert "11位数字" in bad.text
    asked = web.post(
        "/citizen/changes",
        data={
            "csrf_token": csrf_of(page.text),
            "kind": "bank_account",
            "bank_code": "102",
            "account_number": "6222021001123456789",
        },
    )
    assert asked.status_code == 200, asked.text
    assert "审核通过后生效" in asked.text
    with database.sessions() as session:
        request = session.execute(select(ChangeRequest)).scalar_one()
    assert (request.kind, request.status, request.requested_role) == (
        "bank_account_change",
        "pending",
        "citizen",
    )
    # Signing out ends the session.
    home = web.get("/citizen")
    web.post("/citizen/sign-out", data={"csrf_token": csrf_of(home.text)})
    assert web.get("/citizen").status_code == 303
    # The township reviewer approves it (maker-checker): the account is the household's now.
    bootstrap(database, clock=clock).handle(ApproveChange(request_id=request.id, actor=REVIEWER))
    with database.sessions() as session:
        account = session.execute(select(PayeeAccount.account_number)).scalar_one()
    assert account == "6222021001123456789"


def test_a_citizen_lodges_a_complaint_about_their_own_case_only(
    web: TestClient, database: Database, clock: Clock
) -> None:
    register_household(database, "H1", [HEAD])
    register_household(database, "H2", [OTHER])
    _phones(database)
    _, (theirs,) = submit(
        database, clock, example("dibao_household.json"), "H2", dt.date(2025, 9, 25), ("dibao",)
    )
    citizen_sign_in(web)
    page = web.get("/citizen/complaints")
    empty = web.post("/citizen/complaints", data={"csrf_token": csrf_of(page.text), "text": " "})
    assert empty.status_code == 400
    assert "请写明投诉的内容" in empty.text
    # Naming another household's track: refused as unknown, nothing recorded.
    foreign = web.post(
        "/citizen/complaints",
        data={"csrf_token": csrf_of(page.text), "track_id": str(theirs), "text": "x"},
    )
    assert foreign.status_code == 400
    lodged = web.post(
        "/citizen/complaints",
        data={"csrf_token": csrf_of(page.text), "track_id": "", "text": "工作人员态度不好"},
    )
    assert lodged.status_code == 200
    assert "已收到你的投诉" in lodged.text
    assert "工作人员态度不好" in lodged.text
    with database.sessions() as session:
        rows = session.execute(select(Complaint.text, Complaint.status)).all()
        assert [tuple(r) for r in rows] == [("工作人员态度不好", "lodged")]
        event = session.execute(
            select(AuditEvent.event, AuditEvent.role).where(AuditEvent.entity == "complaint")
        ).one()
        assert tuple(event) == ("ComplaintLodged", "citizen")


def test_code_requests_are_limited_per_client(
    web: TestClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFETYNET_SIGN_IN_REQUESTS_PER_CLIENT_HOUR", "2")
    register_household(database, "H1", [HEAD])
    page = web.get("/citizen/sign-in")
    answers = [
        web.post(
            "/citizen/code",
            data={"csrf_token": csrf_of(page.text), "id_number": id_number("19700101", n)},
        ).status_code
        for n in (11, 13, 15)
    ]
    assert answers == [400, 400, 429]  # not registered with a phone, then limited
