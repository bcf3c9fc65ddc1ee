"""Households' complaints on the workbench (without a browser): a complaint a citizen lodges on
their phone reaches the township's page with its age in working days, the reviewer answers it
and the citizen reads the answer; a second answer and an empty one are refused beside the field
with what was typed kept; another county neither sees the complaint nor answers it; a role
without the action is refused. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from safetynet.cases.model import Complaint
from safetynet.db.engine import Database
from safetynet.entrypoints.api import Role
from safetynet.registry.model import Person
from tests.cases.helpers import HEAD, register_household
from tests.entrypoints.web.conftest import OTHER, OWN, Clock, csrf_of, username
from tests.entrypoints.web.flows import APPROVER, CLERK, REVIEWER, as_user
from tests.entrypoints.web.test_citizen import citizen_sign_in

STRANGER = username(Role.TOWNSHIP_REVIEWER, OTHER)
AUDITOR = username(Role.AUDITOR, OWN)
TEXT = "窗口工作人员让我跑了三趟"


def _post(client: TestClient, page: str, action: str, **fields: str) -> Any:
    html = client.get(page)
    assert html.status_code == 200, html.text[:300]
    return client.post(action, data={"csrf_token": csrf_of(html.text), **fields})


def _lodged(web: TestClient, database: Database) -> int:
    """The citizen of household H1 (Pudong) lodges a complaint on 2025-09-25."""
    register_household(database, "H1", [HEAD])
    with database.sessions.begin() as session:
        person = session.execute(select(Person).where(Person.id_number == HEAD)).scalar_one()
        person.phone = "13812345678"
    web.cookies.clear()
    citizen_sign_in(web)
    lodged = _post(web, "/citizen/complaints", "/citizen/complaints", track_id="", text=TEXT)
    assert lodged.status_code == 200, lodged.text[-2000:]
    assert "办理单位将于2025-10-09前答复。" in lodged.text  # the citizen is told by when
    with database.sessions() as session:
        return int(session.execute(select(Complaint.id)).scalar_one())


def _beside(html: str, field: str) -> str:
    """The error said beside the input ``field`` (which is marked invalid)."""
    said = re.search(
        rf'<p class="field-error" id="{field}-error">([^<]*)</p>\s*<(?:input|textarea)[^>]*'
        rf'id="{field}"[^>]*aria-invalid="true"',
        html,
    )
    assert said is not None, html[-4000:]
    return said.group(1)


def test_a_citizens_complaint_is_answered_by_the_township_and_read_by_the_citizen(
    web: TestClient, database: Database, clock: Clock
) -> None:
    complaint = _lodged(web, database)
    clock.now = dt.datetime(2025, 9, 30, 2, 0, tzinfo=dt.UTC)
    as_user(web, REVIEWER)
    page = web.get("/complaints")
    assert page.status_code == 200
    assert 'href="/complaints"' in page.text  # in the navigation
    row = re.search(rf'<tr id="complaint-{complaint}">.*?</tr>', page.text, re.S)
    assert row is not None, page.text[-3000:]
    assert TEXT in row.group(0)
    assert ">H1</a>" in row.group(0)
    assert "110***********0032" in row.group(0)  # who lodged it, masked
    assert HEAD not in page.text
    # 26, 28 (a Sunday worked in lieu of the National Day holiday), 29 and 30 September.
    assert "已等待4个工作日" in row.group(0)
    assert "答复期限：2025-10-09" in row.group(0)  # five working days, across National Day

    action = f"/complaints/{complaint}/answer"
    empty = _post(web, "/complaints", action, on="2025-09-30", answer="  ")
    assert empty.status_code == 422
    assert "必填" in _beside(empty.text, f"answer-{complaint}-answer")
    assert 'value="2025-09-30"' in empty.text

    answered = _post(
        web, "/complaints", action, on="2025-09-30", answer="已约谈窗口负责人，一次办结"
    )
    assert (answered.status_code, answered.headers["location"]) == (
        303,
        f"/complaints?done=answer#complaint-{complaint}",
    )
    done = web.get(answered.headers["location"]).text
    assert "答复已登记" in done
    assert "已约谈窗口负责人，一次办结" in done
    assert "4个工作日内答复" in done
    assert f'action="{action}"' not in done

    again = _post(web, "/complaints", action, on="2025-09-30", answer="再次答复")
    assert again.status_code == 422
    assert "已于2025-09-30答复" in _beside(again.text, f"answer-{complaint}-answer")
    assert "再次答复</textarea>" in again.text  # what was typed is kept

    web.cookies.clear()
    citizen_sign_in(web)
    mine = web.get("/citizen/complaints").text
    assert "已约谈窗口负责人，一次办结" in mine
    assert "已答复" in mine


def test_another_county_neither_sees_nor_answers_the_complaint(
    web: TestClient, database: Database
) -> None:
    complaint = _lodged(web, database)
    as_user(web, STRANGER)
    page = web.get("/complaints")
    assert page.status_code == 200
    assert TEXT not in page.text
    for target in (complaint, 0, 999_999, 2**31, 10**20):
        answer = _post(web, "/complaints", f"/complaints/{target}/answer", answer="已处理")
        assert answer.status_code == 404, target
    as_user(web, APPROVER)  # the county answers too
    en = _post(web, "/complaints", "/language", locale="en", next="/complaints")
    assert en.status_code == 303
    page = web.get("/complaints")
    assert "waiting 0 working days" in page.text
    assert f'action="/complaints/{complaint}/answer"' in page.text


def test_a_role_without_the_action_is_refused(web: TestClient, database: Database) -> None:
    complaint = _lodged(web, database)
    as_user(web, CLERK)
    assert web.get("/complaints").status_code == 403
    assert 'href="/complaints"' not in web.get("/").text
    as_user(web, AUDITOR)  # supervision reads the complaints and answers none
    page = web.get("/complaints")
    assert page.status_code == 200
    assert TEXT in page.text
    assert 'action="/complaints/' not in page.text
    refused = _post(web, "/complaints", f"/complaints/{complaint}/answer", answer="已处理")
    assert refused.status_code == 403
    with database.sessions() as session:
        assert session.execute(select(Complaint.status)).scalar_one() == "lodged"


def test_every_input_has_a_label_and_no_input_makes_a_500(
    web: TestClient, database: Database
) -> None:
    complaint = _lodged(web, database)
    as_user(web, REVIEWER)
    html = web.get("/complaints").text
    inputs = re.findall(r'<(?:input|textarea)(?![^>]*type="hidden")[^>]*id="([^"]+)"', html)
    labels = set(re.findall(r'<label for="([^"]+)"', html))
    assert inputs
    assert [i for i in inputs if i not in labels] == []
    junk = ("", "x" * 5000, "2025-02-30", "-1", "99999999999999999999", "<b>'\"", "\x00")
    for value in junk:
        response = _post(
            web, "/complaints", f"/complaints/{complaint}/answer", on=value, answer=value
        )
        assert response.status_code == 422, (value[:20], response.text[-1500:])
