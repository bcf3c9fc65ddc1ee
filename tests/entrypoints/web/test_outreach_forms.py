"""The hotline, lead and delivery forms read into commands: a value that cannot be read is
refused naming its field; a region outside the user's is refused; long lists come in pages."""

from __future__ import annotations

import datetime as dt

import pytest

from safetynet.audit.log import Actor
from safetynet.entrypoints.web import outreach_forms as forms
from safetynet.errors import InputError

CLERK = Actor("clerk_li", "intake_clerk", "310115")
TODAY = dt.date(2025, 9, 25)
CALL = {"channel": "phone", "topic": "consultation", "caller_name": "李先生",
        "caller_phone": "13812345678", "summary": "问低保标准"}  # fmt: skip


def test_a_call_without_a_date_or_region_is_taken_today_in_the_users_region() -> None:
    command = forms.record_contact(CALL, CLERK, TODAY, "310115")
    assert (command.on, command.region, command.subject) == (TODAY, "310115", None)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"on": "2025-02-30"}, "on"),
        ({"on": "9999-12-31"}, "on"),
        ({"region": "110105"}, "region"),  # Beijing, outside Pudong
        ({"region": "31011"}, "region"),
        ({"caller_name": "王" * 61}, "caller_name"),
        ({"summary": "a\x00b"}, "summary"),
        ({"summary": " "}, "summary"),
        (
            {"subject_name": "赵大爷", "household_no": "H1", "household_region": "110105"},
            "household_region",
        ),
        ({"needs": ",".join(["x"] * 11)}, "needs"),
    ],
)
def test_a_value_that_cannot_be_read_names_its_field(changes: dict[str, str], field: str) -> None:
    with pytest.raises(InputError) as refused:
        forms.record_contact({**CALL, **changes}, CLERK, TODAY, "310115")
    assert refused.value.field == field


def test_a_rating_units_and_a_verification_are_read_or_refused_by_field() -> None:
    with pytest.raises(InputError, match="1 to 5") as refused:
        forms.rate_contact({"rating": "6"}, CLERK, TODAY, 1)
    assert refused.value.field == "rating"
    with pytest.raises(InputError) as units:
        forms.record_delivery({"units": "-1"}, CLERK, TODAY, 1)
    assert units.value.field == "units"
    with pytest.raises(InputError) as decision:
        forms.verify_delivery({"method": "visit", "decision": "maybe"}, CLERK, TODAY, 1)
    assert decision.value.field == "decision"
    verify = forms.verify_delivery({"method": "visit", "decision": "reject", "note": "未到岗"},
                                   CLERK, TODAY, 7)  # fmt: skip
    assert (verify.delivery_id, verify.accepted, verify.note) == (7, False, "未到岗")
    visit = forms.visit_lead(
        {"visitors": "town_zhou，town_wu", "findings": "独居"}, CLERK, TODAY, 3
    )
    assert visit.visitors == ("town_zhou", "town_wu")


def test_long_lists_come_in_pages_of_a_hundred() -> None:
    rows = list(range(250))
    assert forms.page_of(rows, {}) == (rows[:100], 0, True)
    assert forms.page_of(rows, {"page": "2"}) == (rows[200:], 2, False)
    assert forms.page_of(rows, {"page": "-1"})[1] == 0
    assert forms.page_of(rows, {"page": "9" * 30}) == (rows[:100], 0, True)
    assert forms.page_of(rows, {"page": "7"}) == ([], 7, False)
