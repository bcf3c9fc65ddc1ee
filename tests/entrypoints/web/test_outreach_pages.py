"""The hotline, leads and service deliveries on the workbench (without a browser): a call about a
person in need opens a lead that a township reviewer visits on time; another county sees none of
it; a delivery is never verified by the person who recorded it; every input has a label and no
form input makes the server answer 500."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient

from safetynet.db.engine import Database
from safetynet.entrypoints.api import Role
from tests.entrypoints.web.conftest import OTHER, csrf_of, username
from tests.entrypoints.web.flows import APPROVER, CLERK, REVIEWER, as_user
from tests.services.test_handlers import plan, setting

STRANGER = username(Role.TOWNSHIP_REVIEWER, OTHER)
PHONE = "13812345678"


def _post(client: TestClient, page: str, action: str, **fields: str) -> object:
    html = client.get(page)
    assert html.status_code == 200, html.text[:300]
    return client.post(action, data={"csrf_token": csrf_of(html.text), **fields})


def _call_about_a_person_in_need(client: TestClient) -> int:
    as_user(client, CLERK)
    response = _post(
        client, "/hotline", "/hotline",
        on="2025-09-22", channel="phone", topic="person_in_need", region="",
        caller_name="王女士", caller_phone=PHONE, summary="楼下独居老人多日未出门",
        subject_name="赵大爷", needs="生活照料, 送餐",
    )  # fmt: skip
    assert response.status_code == 303, response.text[-2000:]  # type: ignore[attr-defined]
    leads = client.get("/leads").text
    found = re.search(r'href="/leads/(\d+)"', leads)
    assert found is not None
    assert "赵大爷" in leads
    return int(found.group(1))


def test_a_call_about_a_person_in_need_becomes_a_lead_visited_on_time(web: TestClient) -> None:
    lead_id = _call_about_a_person_in_need(web)
    bad = _post(
        web, "/hotline", "/hotline",
        topic="consultation", channel="phone", caller_name="李先生", caller_phone="12ab",
        summary="问低保标准",
    )  # fmt: skip
    assert bad.status_code == 422  # type: ignore[attr-defined]
    said = re.search(
        r'<p class="field-error" id="rc-caller_phone-error">([^<]*)</p>\s*<input[^>]*id="rc-caller_phone"[^>]*aria-invalid="true"',
        bad.text,  # type: ignore[attr-defined]
    )
    assert said is not None, bad.text[-4000:]  # type: ignore[attr-defined]
    assert "电话号码有误" in said.group(1)
    assert 'value="李先生"' in bad.text  # type: ignore[attr-defined]  # what was typed is kept
    hotline = web.get("/hotline").text
    assert PHONE not in hotline  # masked
    assert "138****5678" in hotline
    assert f"/leads/{lead_id}" in hotline
    way = web.get(f"/leads/{lead_id}").text
    assert re.search(r"入户核实</td>.*?待办", way, re.S)  # the visit is still pending
    assert 'action="/leads/' not in way  # a clerk neither visits nor closes a lead
    as_user(web, REVIEWER)
    visited = _post(
        web, f"/leads/{lead_id}", f"/leads/{lead_id}/visit",
        on="2025-09-24", visitors="town_zhou, town_wu", findings="独居，行动不便，无人照料",
    )  # fmt: skip
    assert visited.status_code == 303, visited.text[-2000:]  # type: ignore[attr-defined]
    as_user(web, APPROVER)
    en = web.post(
        "/language",
        data={"csrf_token": csrf_of(web.get("/leads").text), "locale": "en", "next": "/leads"},
    )
    assert en.status_code == 303
    page = web.get(f"/leads/{lead_id}").text
    row = re.search(r"Home visit</td>.*?</tr>", page, re.S)
    assert row is not None, page[-3000:]
    assert "2025-09-24" in row.group(0)
    assert ">met<" in row.group(0)
    assert "Visited" in page
    stats = web.get("/hotline/stats").text
    assert "310115" in stats


def test_another_countys_user_finds_neither_the_lead_nor_the_call(web: TestClient) -> None:
    lead_id = _call_about_a_person_in_need(web)
    contact = re.search(r'action="/hotline/(\d+)/answer"', web.get("/hotline").text)
    assert contact is not None
    as_user(web, STRANGER)
    answer = _post(web, "/hotline", f"/hotline/{contact.group(1)}/answer", answer="已转办")
    assert answer.status_code == 404  # type: ignore[attr-defined]
    assert web.get(f"/leads/{lead_id}").status_code == 404
    assert web.get("/leads/999999").status_code == 404  # the same page as a missing one
    assert "赵大爷" not in web.get("/leads").text
    assert "王女士" not in web.get("/hotline").text
    visit = _post(
        web, "/leads", f"/leads/{lead_id}/visit", on="2025-09-24", visitors="x", findings="y"
    )
    assert visit.status_code == 404  # type: ignore[attr-defined]


def test_the_recorder_of_a_delivery_is_refused_on_screen_another_official_verifies_it(
    web: TestClient, database: Database
) -> None:
    setting(database)
    plan_id = plan(database)
    as_user(web, REVIEWER)
    page = web.get("/services").text
    assert "CY-CARE-2025" in page
    delivery_id = int(re.search(r'action="/services/deliveries/(\d+)/deliver"', page).group(1))  # type: ignore[union-attr]
    recorded = _post(
        web, "/services", f"/services/deliveries/{delivery_id}/deliver", units="20",
        on="2025-09-25",
    )  # fmt: skip
    assert recorded.status_code == 303, recorded.text[-2000:]  # type: ignore[attr-defined]
    own = _post(
        web, "/services", f"/services/deliveries/{delivery_id}/verify",
        on="2025-09-25", method="visit", decision="accept",
    )  # fmt: skip
    assert own.status_code == 422  # type: ignore[attr-defined]
    text = own.text  # type: ignore[attr-defined]
    form_at = text.index(f'action="/services/deliveries/{delivery_id}/verify"')
    assert "cannot verify" in text[form_at : form_at + 600]  # beside the form
    as_user(web, APPROVER)
    accepted = _post(
        web, "/services", f"/services/deliveries/{delivery_id}/verify",
        on="2025-09-25", method="signature", decision="accept",
    )  # fmt: skip
    assert accepted.status_code == 303, accepted.text[-2000:]  # type: ignore[attr-defined]
    verified = web.get("/services?status=verified").text
    assert f'id="delivery-{delivery_id}"' in verified
    assert "已核验" in verified
    assert "700.00" in verified  # 20 hours at 35 yuan, spent on the contract
    assert "已核验" in web.get(f"/services/plans/{plan_id}").text
    as_user(web, STRANGER)
    assert web.get(f"/services/plans/{plan_id}").status_code == 404
    stranger = _post(
        web, "/leads", f"/services/deliveries/{delivery_id}/verify",
        method="visit", decision="reject", note="x",
    )  # fmt: skip
    assert stranger.status_code == 404  # type: ignore[attr-defined]
    assert "CY-CARE-2025" not in web.get("/services").text


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.fields.append((str(a.get("name")), str(a.get("id"))))
        if tag == "label" and a.get("for"):
            self.labels.add(str(a["for"]))


def _forms_of(html: str) -> list[tuple[str, list[str]]]:
    """(action, names of its inputs) of every POST form but the header's."""
    found = []
    for action, body in re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>',
                                   html, re.S):  # fmt: skip
        if action not in ("/language", "/sign-out"):
            found.append((action, re.findall(r'name="([a-z_]+)"', body)))
    return found


JUNK = ("", "x" * 5000, "2025-02-30", "-1", "99999999999999999999", "999999", "<b>'\"", "\x00")


def test_every_input_has_a_label_and_no_input_makes_a_500(
    web: TestClient, database: Database
) -> None:
    setting(database)
    plan_id = plan(database)
    lead_id = _call_about_a_person_in_need(web)
    web.post(
        "/hotline/1/answer",
        data={"csrf_token": csrf_of(web.get("/hotline").text), "answer": "已转办"},
    )
    pages = ["/hotline", "/hotline/stats", "/leads", f"/leads/{lead_id}", "/services",
             f"/services/plans/{plan_id}"]  # fmt: skip
    posted = 0
    for user in (CLERK, REVIEWER):
        as_user(web, user)
        for page in pages:
            html = web.get(page)
            assert html.status_code == 200, (user, page, html.text[:300])
            parser = _Inputs()
            parser.feed(html.text)
            unlabelled = [f for f in parser.fields if f[1] not in parser.labels]
            assert unlabelled == [], (page, unlabelled)
            for action, names in _forms_of(html.text):
                for junk in JUNK:
                    data = {name: junk for name in names if name != "csrf_token"}
                    data["csrf_token"] = csrf_of(web.get(page).text)
                    response = web.post(action, data=data)
                    posted += 1
                    assert response.status_code in (303, 404, 422), (
                        action,
                        junk[:20],
                        response.text[-1500:],
                    )
    assert posted > 60
