"""The inputs that made the API answer 500 (ids beyond the database's integers, a huge offset or
alert id, an amount of 1e308, a NUL byte, megabytes of text) are refused with 422 naming the
field, on both backends."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safetynet.db.engine import Database
from tests.cases.helpers import example
from tests.entrypoints.api.conftest import OWN, auth
from tests.entrypoints.api.flows import (
    APPROVER,
    CLERK,
    HEAD,
    REVIEWER,
    application_body,
    submit_dibao,
)


def _fields(response: Any) -> list[str]:
    """The field each 422 names (``loc`` after body/path/query), in the declared error shape."""
    assert response.status_code == 422, response.text
    return [".".join(map(str, error["loc"][1:])) for error in response.json()["detail"]]


@pytest.mark.parametrize("big", [2**31, 2**63, 10**30])
def test_ids_beyond_the_database_integers_are_refused(
    client: TestClient, database: Database, big: int
) -> None:
    tid = submit_dibao(client, database, "H1")["tracks"][0]["id"]
    for path in (f"/tracks/{big}", f"/applications/{big}", f"/appeals/{big}"):
        assert _fields(client.get(path, headers=auth(APPROVER)))[-1].endswith("_id")
    post = client.post(
        f"/tracks/{big}/confirm", headers=auth(APPROVER), json={"expected_version": 1}
    )
    assert _fields(post) == ["track_id"]
    body = {"expected_version": big, "alert_id": big, "reason": "x"}
    opened = client.post(f"/tracks/{tid}/rechecks", headers=auth(REVIEWER), json=body)
    assert sorted(_fields(opened)) == ["alert_id", "expected_version"]
    page = client.get("/applications", headers=auth(CLERK), params={"offset": big})
    assert _fields(page) == ["offset"]


def _apply_with_head_wage(client: TestClient, database: Database, wage: object) -> Any:
    """Lodge a dibao application for a new household whose head earns ``wage`` (as sent)."""
    from tests.cases.helpers import register_household

    register_household(database, "H9", [HEAD])
    household = copy.deepcopy(example("dibao_household.json"))
    household["members"][0]["wage_income"] = wage
    body = application_body("H9", household)
    return client.post("/applications", headers=auth(CLERK), json=body)


@pytest.mark.parametrize("amount", ["1e308", "NaN", "Infinity", "-1e400", "1e999999999", 1e308])
def test_amounts_that_are_not_finite_or_beyond_64_bit_fen_are_refused(
    client: TestClient, database: Database, amount: object
) -> None:
    response = _apply_with_head_wage(client, database, amount)
    assert _fields(response) == ["household"]
    assert "household.members[0].wage_income" in response.text
    assert "64-bit fen" in response.text


@pytest.mark.parametrize("amount", ["100000000000.01", 100_000_000_001, "-100,000,000,000.01"])
def test_amounts_above_the_intake_maximum_are_refused_naming_field_and_limit(
    client: TestClient, database: Database, amount: object
) -> None:
    response = _apply_with_head_wage(client, database, amount)
    assert _fields(response) == ["household"]
    assert "household.members[0].wage_income" in response.text
    assert "100,000,000,000.00 yuan" in response.text
    assert "common.intake.maximum_amount in force on 2025-09-25 in 310115" in response.text


def test_an_amount_finer_than_a_fen_is_refused_not_rounded_to_zero(
    client: TestClient, database: Database
) -> None:
    response = _apply_with_head_wage(client, database, "1e-999999999")
    assert _fields(response) == ["household"]
    assert "more than 2 decimal places" in response.text


def test_every_household_of_a_request_with_a_wrong_amount_is_named() -> None:
    """Amounts are checked once per distinct text and remembered: a wrong one repeated in many
    households (or requests) is refused each time, naming its own place; a right one passes."""
    from fastapi.exceptions import RequestValidationError

    from safetynet.entrypoints.api.bounds import check_household_facts

    household = copy.deepcopy(example("dibao_household.json"))
    for i in range(3):
        household["members"][0]["wage_income"] = "0.001"
        with pytest.raises(RequestValidationError) as refused:
            check_household_facts(household, ("body", "households", i))
        error = refused.value.errors()[0]
        assert error["loc"] == ("body", "households", i)
        assert "household.members[0].wage_income: '0.001' has more than 2" in error["msg"]
        household["members"][0]["wage_income"] = "850.00"
        check_household_facts(household, ("body", "households", i))
    household["members"][0]["wage_income"] = "9" * 60 + ".00"  # too long to remember: checked
    with pytest.raises(RequestValidationError, match="64-bit fen"):
        check_household_facts(household, ("body", "households", 0))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda h: h["members"][1].update(name="Li\x07Na"),
         "household.members[1].name: contains the control or invalid character U+0007"),
        (lambda h: h["members"][0].update(note="x" * 4_001),
         "household.members[0].note: longer than 4000 characters"),
        (lambda h: h.update({"k" * 101: True}), "household: a key is too long"),
        (lambda h: h["members"][0].update(flags=[None] * 2_001), "more than 2000 values"),
        (lambda h: h["members"][0].update(flags=[True, False, None] * 700),
         "more than 2000 values"),
        (lambda h: h["members"][0].update(x={"a": {"b": {"c": {"d": {"e": {"f": True}}}}}}),
         "household.members[0].x.a.b.c.d.e.f: nested more than 8 levels"),
        (lambda h: h["members"][0].update(x={"a": {"b": {"c": {"d": {"e": {"f": "t"}}}}}}),
         "household.members[0].x.a.b.c.d.e.f: nested more than 8 levels"),
        (lambda h: h["members"][0].update(grade=2**60),
         "household.members[0].grade: 1152921504606846976 is out of range"),
    ],
)  # fmt: skip
def test_household_facts_are_bounded_value_by_value_naming_the_place(
    change: Any, message: str
) -> None:
    """Texts, truth values and nulls inside a household are counted and checked in place (most
    of a body of 10,000 households); every bound still names where it breaks."""
    from fastapi.exceptions import RequestValidationError

    from safetynet.entrypoints.api.bounds import check_household_facts

    household = copy.deepcopy(example("dibao_household.json"))
    check_household_facts(household, ("body", "households", 4))
    near = copy.deepcopy(household)  # at the limits: 8 levels, 2,000 values in all
    near["members"][0]["x"] = {"a": {"b": {"c": {"d": {"e": True, "t": "ok"}}}}}
    near["members"][0]["flags"] = [True, None] * 970
    check_household_facts(near, ("body", "households", 4))
    change(household)
    with pytest.raises(RequestValidationError) as refused:
        check_household_facts(household, ("body", "households", 4))
    error = refused.value.errors()[0]
    assert error["loc"] == ("body", "households", 4)
    assert message in error["msg"]


def test_a_float_nan_or_huge_advance_is_refused(client: TestClient, database: Database) -> None:
    tid = submit_dibao(client, database, "H1")["tracks"][0]["id"]
    for advance in ("NaN", "1e308", str(2**63)):
        response = client.post(
            f"/tracks/{tid}/start-payment",
            headers={**auth(APPROVER), "Content-Type": "application/json"},
            content=f'{{"expected_version": 1, "advance_amount_fen": {advance}}}',
        )
        assert _fields(response) == ["advance_amount_fen"], advance


@pytest.mark.parametrize(
    ("text", "why"),
    [("assets\x00hidden", "U+0000"), ("a\x1bb", "U+001B"), ("x" * 2_000_000, "at most 4000")],
)
def test_text_with_control_characters_or_megabytes_is_refused(
    client: TestClient, database: Database, text: str, why: str
) -> None:
    tid = submit_dibao(client, database, "H1")["tracks"][0]["id"]
    body = {"expected_version": 1, "reasons": [text]}
    response = client.post(f"/tracks/{tid}/refuse", headers=auth(APPROVER), json=body)
    assert _fields(response) == ["reasons.0"]
    assert why in response.text
    assert len(response.content) < 10_000  # the 2 MB are not echoed back


def test_a_lone_surrogate_and_a_region_that_is_not_a_code_are_refused(
    client: TestClient, database: Database
) -> None:
    tid = submit_dibao(client, database, "H1")["tracks"][0]["id"]
    raw = json.dumps({"expected_version": 1, "reason": "moved \ud800"})
    response = client.post(
        f"/tracks/{tid}/suspend",
        headers={**auth(APPROVER), "Content-Type": "application/json"},
        content=raw,
    )
    assert _fields(response) == ["reason"]
    assert _fields(client.get("/offices/31011%00/deadlines", headers=auth(CLERK))) == ["region"]


def test_dates_beyond_the_supported_range_are_refused(
    client: TestClient, database: Database
) -> None:
    tid = submit_dibao(client, database, "H1")["tracks"][0]["id"]
    # 9999-12-31 overflowed the appeal's time limits and the deadline look-ahead (500).
    body = {
        "expected_version": 1,
        "kind": "reconsideration",
        "decision_known_on": "9999-12-31",
        "grounds": "g",
    }
    appeal = client.post(f"/tracks/{tid}/appeals", headers=auth(APPROVER), json=body)
    assert _fields(appeal) == ["decision_known_on"]
    deadlines = client.get(
        f"/offices/{OWN}/deadlines", headers=auth(CLERK), params={"today": "9999-12-31"}
    )
    assert _fields(deadlines) == ["today"]
    early = client.post(
        f"/tracks/{tid}/accept",
        headers=auth(CLERK),
        json={"expected_version": 1, "on": "0001-01-01"},
    )
    assert _fields(early) == ["on"]
