"""The largest amount the API accepts is the dated parameter the imports use
(``common.intake.maximum_amount``), in force on the request's date where the case is lodged:
overriding it for a region changes what the API accepts there, and nowhere else."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safetynet.db.engine import Database
from safetynet.entrypoints.api import InMemoryUserDirectory, create_app
from safetynet.entrypoints.api.bounds import AMOUNT_FEN_MAX
from safetynet.policy.parameters import (
    DatedValue,
    ParameterTree,
    Provenance,
    Reference,
    default_tree,
)
from tests.cases.helpers import example, register_household
from tests.entrypoints.api.conftest import OWN, _clock, _users, auth
from tests.entrypoints.api.flows import APPROVER, CLERK

MAXIMUM = "common.intake.maximum_amount"


def _tree_with_pudong_maximum(yuan: int, start: dt.date) -> ParameterTree:
    """The shipped parameters with Pudong (OWN) lowering the maximum to ``yuan`` from ``start``."""
    base = default_tree()
    levels = {code: dict(names) for code, names in base.levels.items()}
    levels.setdefault(OWN, {})[MAXIMUM] = [
        # A loaded tree holds money in fen (the YAML file says yuan).
        DatedValue(start, yuan * 100, Provenance.ILLUSTRATIVE, (Reference("a test override"),))
    ]
    return ParameterTree(dict(base.specs), levels, dict(base.region_names))


@pytest.fixture
def lowered(database: Database) -> Iterator[TestClient]:
    tree = _tree_with_pudong_maximum(50_000, dt.date(2025, 9, 1))
    app = create_app(database, users=InMemoryUserDirectory(_users()), clock=_clock, parameters=tree)
    with TestClient(app) as test_client:
        yield test_client


def _lodging(household_no: str, wage: object, on: str = "2025-09-25") -> dict[str, Any]:
    household = copy.deepcopy(example("dibao_household.json"))
    household["members"][0]["wage_income"] = wage
    return {
        "household_region": OWN,
        "household_no": household_no,
        "region": OWN,
        "household": household,
        "programs": ["dibao"],
        "on": on,
    }


def test_a_region_lowering_the_maximum_refuses_what_the_national_value_accepts(
    lowered: TestClient, client: TestClient, database: Database
) -> None:
    register_household(database, "H1", ["110105198503010032"])
    above = lowered.post("/applications", headers=auth(CLERK), json=_lodging("H1", "50000.01"))
    assert above.status_code == 422, above.text
    [error] = above.json()["detail"]
    assert error["loc"] == ["body", "household"]
    assert "household.members[0].wage_income" in error["msg"]
    assert "50,000.00 yuan" in error["msg"]
    assert f"{MAXIMUM} in force on 2025-09-25 in {OWN}" in error["msg"]
    # The same value with the shipped parameters (100,000,000,000 yuan) is accepted.
    accepted = client.post("/applications", headers=auth(CLERK), json=_lodging("H1", "50000.01"))
    assert accepted.status_code == 201, accepted.text
    # At the maximum, and before the override was in force, it is accepted too.
    register_household(database, "H2", ["110105199003070025"])
    at = lowered.post("/applications", headers=auth(CLERK), json=_lodging("H2", "50000.00"))
    assert at.status_code == 201, at.text
    before = _lodging("H1", "50000.01", on="2025-08-29")
    assert lowered.post("/applications", headers=auth(CLERK), json=before).status_code == 201


def test_an_advance_above_the_maximum_in_force_is_refused_naming_the_field(
    lowered: TestClient, database: Database
) -> None:
    register_household(database, "H1", ["110105198503010032"])
    lodged = lowered.post("/applications", headers=auth(CLERK), json=_lodging("H1", "2400"))
    assert lodged.status_code == 201, lodged.text
    tid = lodged.json()["tracks"][0]["id"]
    body = {"expected_version": 1, "advance_amount_fen": 5_000_001}
    response = lowered.post(f"/tracks/{tid}/start-payment", headers=auth(APPROVER), json=body)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "advance_amount_fen"]
    assert "5000001 fen is above the maximum of 50,000.00 yuan" in error["msg"]
    # Within the maximum the amount is not what stops it (the track is not approved yet: 409).
    body["advance_amount_fen"] = 5_000_000
    within = lowered.post(f"/tracks/{tid}/start-payment", headers=auth(APPROVER), json=body)
    assert within.status_code == 409, within.text


def test_the_schema_states_only_the_technical_limit_and_names_the_parameter(
    client: TestClient,
) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["PaymentBody"]
    advance = schema["properties"]["advance_amount_fen"]["anyOf"][0]
    assert advance["maximum"] == AMOUNT_FEN_MAX < 2**63  # written exactly, within a bigint
    assert MAXIMUM in advance["description"]
