"""Identity numbers typed into free text, or sent as JSON numbers, are masked in every answer of
the API and on the written notice, for every role; and lodging an application reveals nothing
about households outside the user's region."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader

from safetynet.db.engine import Database
from safetynet.entrypoints.api import POLICY, Action, Role
from safetynet.entrypoints.api.masking import mask_json
from tests.cases.helpers import example, id_number, register_household
from tests.entrypoints.api.conftest import OTHER, OWN, act, auth, token
from tests.entrypoints.api.flows import (
    APPROVER,
    CLERK,
    INVESTIGATOR,
    application_body,
    lodge_appeal,
    ok,
    submit_dibao,
)
from tests.entrypoints.api.flows import to_notice_closed as notice_closed

WITNESS = id_number("19700101", seq=21)  # someone's number typed into the free text
SPACED = f"{WITNESS[:6]} {WITNESS[6:14]} {WITNESS[14:]}"
FULL_WIDTH = WITNESS.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


# The roles that read applications and tracks (a department reads only the exchange).
READERS = [role for role in Role if Action.READ in POLICY[role]]


def _hidden(text: str) -> bool:
    compact = "".join(text.split())
    return all(form not in text for form in (WITNESS, SPACED, FULL_WIDTH)) and (
        WITNESS not in compact
    )


def test_identity_numbers_in_free_text_are_masked_for_every_role_and_on_the_notice(
    client: TestClient, database: Database
) -> None:
    app = submit_dibao(client, database, "H1")
    tid = app["tracks"][0]["id"]
    ok(act(client, CLERK, tid, "accept", "2025-09-26"))
    extended = act(
        client, APPROVER, tid, "extend-limit", "2025-10-20", reason=f"waiting for {SPACED}"
    )
    assert _hidden(ok(extended)["limit_extension_reason"])
    notice_closed(client, tid, proposal="refuse")
    reasons = [f"assets of {WITNESS} counted", f"see {FULL_WIDTH}"]
    refused = ok(act(client, APPROVER, tid, "refuse", "2025-10-30", reasons=reasons))
    assert (
        refused["refusal_reasons"][0] == f"assets of {WITNESS[:3]}{'*' * 11}{WITNESS[-4:]} counted"
    )
    lodged = lodge_appeal(client, tid, f"{WITNESS} is not a member")
    assert lodged.status_code == 201
    appeal_id = lodged.json()["id"]
    for role in READERS:
        headers = auth(token(role, OWN))
        for path in (
            f"/tracks/{tid}",
            f"/applications/{app['id']}",
            "/applications",
            f"/appeals/{appeal_id}",
            f"/tracks/{tid}/appeals",
        ):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, role)
            assert _hidden(response.text), (path, role)
    notice = client.get(f"/tracks/{tid}/notice", headers=auth(INVESTIGATOR))
    assert notice.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(notice.content)).pages)
    assert _hidden(text)
    assert f"{WITNESS[:3]}" in text
    assert WITNESS[-4:] in text


def test_an_identity_number_sent_as_a_json_number_is_masked(
    client: TestClient, database: Database
) -> None:
    register_household(database, "H2", [id_number(seq=4)])
    household: dict[str, Any] = example("dibao_household.json")
    old_style = 110105870601002  # a 15-digit number, sent as a JSON number
    household["members"][1]["id_number"] = old_style
    body = application_body("H2", household)
    lodged = client.post("/applications", headers=auth(CLERK), json=body)
    assert lodged.status_code == 201
    assert str(old_style) not in lodged.text
    assert lodged.json()["household"]["members"][1]["id_number"] == "110********1002"
    path = f"/applications/{lodged.json()['id']}"
    assert str(old_style) not in client.get("/applications", headers=auth(INVESTIGATOR)).text
    # The policy's one exception: a single application read by an investigator.
    assert str(old_style) in client.get(path, headers=auth(INVESTIGATOR)).text
    # An 18-digit one cannot travel exactly as a JSON number: refused, and not echoed in full.
    household["members"][1]["id_number"] = int(WITNESS)
    refused = client.post("/applications", headers=auth(CLERK), json=body)
    assert refused.status_code == 422
    assert WITNESS not in refused.text


def test_mask_json_keeps_the_household_facts_only_where_the_policy_shows_them() -> None:
    number = id_number(seq=4)
    full = {"identity_numbers_masked": False, "household": {"id_number": number}, "x": number}
    masked = mask_json([full, {**full, "identity_numbers_masked": True}])
    assert masked[0]["household"] == {"id_number": number}
    assert number not in str(masked[0]["x"])
    assert number not in str(masked[1])


def test_lodging_reveals_nothing_about_households_outside_the_users_region(
    client: TestClient, database: Database
) -> None:
    register_household(database, "HFAR", [id_number(seq=5)], region=OTHER)
    answers = []
    for household_no in ("HFAR", "HNONE"):  # registered in Beijing; registered nowhere
        body = {
            "household_region": OTHER,
            "household_no": household_no,
            "region": OWN,
            "household": example("dibao_household.json"),
            "programs": ["dibao"],
            "emergency": True,
        }
        response = client.post("/applications", headers=auth(CLERK), json=body)
        detail = response.json()["detail"]
        answers.append((response.status_code, detail[0]["msg"].replace(household_no, "?")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 422
    # The same household is lodged by a user whose region covers it.
    beijing = token(Role.INTAKE_CLERK, OTHER)
    body = {
        "household_region": OTHER,
        "household_no": "HFAR",
        "region": OTHER,
        "household": example("dibao_household.json"),
        "programs": ["dibao"],
    }
    assert client.post("/applications", headers=auth(beijing), json=body).status_code == 201
