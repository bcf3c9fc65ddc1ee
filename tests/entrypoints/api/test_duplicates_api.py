"""``/registry/duplicates`` over HTTP: the queue masked and scoped, a merge proposed by one person
and approved by another (then followed by every area), a separation rejected and proposed again,
and the refusals (maker-checker, role, state) as 409/403/404/422."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safetynet.db.engine import Database
from safetynet.entrypoints.api import Role
from safetynet.payments.model import PayeeAccount
from safetynet.registry.duplicates_model import PersonMerge
from tests.entrypoints.api.conftest import OTHER, OWN, auth, call, token
from tests.registry.merge_helpers import KEPT_NUMBER, MERGED_NUMBER, Twins, twins

CLERK = token(Role.INTAKE_CLERK, OWN)
APPROVER = token(Role.COUNTY_APPROVER, OWN)


@pytest.fixture
def pair(database: Database) -> Twins:
    return twins(database)


def _masked(number: str) -> str:
    return number[:3] + "*" * 11 + number[-4:]


def test_the_queue_is_masked_and_scoped(client: TestClient, pair: Twins) -> None:
    page = call(client, CLERK, "GET", "/registry/duplicates")
    [hit] = page["hits"]
    assert (hit["pair_id"], hit["status"], hit["proposed_action"]) == (pair.pair, "open", None)
    assert (hit["person"]["masked_id_number"], hit["other"]["masked_id_number"]) == (
        _masked(KEPT_NUMBER),
        _masked(MERGED_NUMBER),
    )
    response = client.get(f"/registry/duplicates/{pair.pair}", headers=auth(CLERK))
    assert response.status_code == 200
    assert KEPT_NUMBER not in response.text
    assert MERGED_NUMBER not in response.text
    other = token(Role.COUNTY_APPROVER, OTHER)
    assert call(client, other, "GET", "/registry/duplicates")["hits"] == []
    assert client.get(f"/registry/duplicates/{pair.pair}", headers=auth(other)).status_code == 404
    assert client.get("/registry/duplicates/999999", headers=auth(CLERK)).status_code == 404
    assert client.get("/registry/duplicates", headers=auth(CLERK),
                      params={"status": "maybe"}).status_code == 422  # fmt: skip


def test_a_merge_is_proposed_by_one_person_and_approved_by_another(
    client: TestClient, database: Database, pair: Twins
) -> None:
    path = f"/registry/duplicates/{pair.pair}"
    bad = client.post(f"{path}/proposal", headers=auth(CLERK),
                      json={"action": "merge", "keep_person_id": 999_999, "reason": "同一人"})  # fmt: skip
    assert bad.status_code == 422, bad.text
    body = {"action": "merge", "keep_person_id": pair.kept, "reason": "同一人 one digit mistyped"}
    proposed = client.post(f"{path}/proposal", headers=auth("tok-chen-clerk"), json=body)
    assert proposed.status_code == 200, proposed.text
    assert (proposed.json()["proposed_action"], proposed.json()["proposed_by"]) == ("merge", "chen")
    again = client.post(f"{path}/proposal", headers=auth(CLERK), json=body)
    assert again.status_code == 409
    # a clerk's role does not decide; the proposer in an approving role may not either
    assert client.post(f"{path}/approve", headers=auth(CLERK), json={}).status_code == 403
    same = client.post(f"{path}/approve", headers=auth("tok-chen-approver"), json={})
    assert same.status_code == 409
    assert "maker-checker" in same.json()["detail"]
    approved = client.post(f"{path}/approve", headers=auth(APPROVER), json={"note": "核实"})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["kept_person_id"]) == ("merged", pair.kept)
    with database.sessions() as session:
        merge = session.get(PersonMerge, pair.merged)
        assert merge is not None
        assert merge.kept_person_id == pair.kept
        holder = session.scalar(
            select(PayeeAccount.holder_person_id).where(PayeeAccount.id == pair.account)
        )
    assert holder == pair.kept  # payments followed the merge
    assert (
        client.post(f"{path}/approve", headers=auth("tok-approver-2"), json={}).status_code == 409
    )


def test_a_rejected_proposal_leaves_the_pair_open_for_another(
    client: TestClient, pair: Twins
) -> None:
    path = f"/registry/duplicates/{pair.pair}"
    assert client.post(f"{path}/reject", headers=auth(APPROVER),
                       json={"reason": "nothing proposed"}).status_code == 409  # fmt: skip
    call(client, CLERK, "POST", f"{path}/proposal", {"action": "separate", "reason": "两个人"})
    rejected = call(client, APPROVER, "POST", f"{path}/reject", {"reason": "出生日期相同，再核实"})
    assert (rejected["status"], rejected["proposed_action"]) == ("open", None)
    call(client, CLERK, "POST", f"{path}/proposal", {"action": "separate", "reason": "核实为两人"})
    separated = call(client, APPROVER, "POST", f"{path}/approve", {"note": ""})
    assert separated["status"] == "separated"
    assert call(client, CLERK, "GET", "/registry/duplicates")["hits"] == []
