"""Charity linkage: a hardship above the county's temporary-assistance limit, stated by the rules
core, is referred with consent and answered; a service the county does not offer is referred
from the plan; no consent or no gap, no referral; the figures per kind add up."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database
from safetynet.errors import InputError
from safetynet.services import commands as c
from safetynet.services.charity import charity_stats
from tests.payments.awards_helpers import AT, OFFICER, household
from tests.services.test_handlers import CARE, REGION, TOWNSHIP, elder

ROOT = Path(__file__).resolve().parents[2]
ON = dt.date(2025, 9, 1)


def handle(db: Database, cmd: object) -> Any:
    return bootstrap(db, clock=lambda: AT).handle(cmd)


def hardship() -> dict[str, Any]:
    """An emergency whose assessed hardship, 50,000 yuan, is above Pudong's cap for two persons
    (19,800 yuan: 6 × the dibao standard of 1,650 × 2): 30,200 yuan are left."""
    facts: dict[str, Any] = json.loads(
        (ROOT / "examples" / "temporary_assistance.json").read_text("utf-8")
    )
    facts["region"] = REGION
    facts["temporary_assistance_need"] = "50000.00"
    return facts


def charity(db: Database) -> None:
    handle(db, c.RegisterCharity(actor=OFFICER, code="PD-CF", name="浦东新区慈善基金会",
                                 credit_code="53310000MJ4893217N", region=REGION,
                                 fields=("hardship_above_limit", "service_not_offered")))  # fmt: skip


def refer(**changes: Any) -> c.ReferToCharity:
    values: dict[str, Any] = {
        "actor": TOWNSHIP, "on": ON, "household_region": REGION, "household_no": "H1",
        "kind": "hardship_above_limit", "organisation": "PD-CF", "consent": True,
        "consent_by": "李强（户主）", "household": hardship(),
    }  # fmt: skip
    return c.ReferToCharity(**(values | changes))


def test_a_hardship_above_the_limit_is_referred_with_consent_and_its_answer_counted(
    database: Database,
) -> None:
    household(database, region=REGION)
    charity(database)
    referral = handle(database, refer())
    handle(database, c.RecordCharityAnswer(actor=TOWNSHIP, referral_id=referral,
                                           on=dt.date(2025, 9, 15), outcome="partly_met",
                                           given_fen=2_000_000, given="助医助困金"))  # fmt: skip
    with database.sessions() as session:
        (row,) = charity_stats(session, within="310000")
    assert row.to_json() == {
        "kind": "hardship_above_limit", "referred": 1, "met": 0, "partly_met": 1,
        "declined": 0, "waiting": 0, "need": "30200.00", "given": "20000.00",
        "organisations": 1,
    }  # fmt: skip
    with pytest.raises(InputError, match="already answered"):
        handle(database, c.RecordCharityAnswer(actor=TOWNSHIP, referral_id=referral, on=ON,
                                               outcome="met", given_fen=1, given="x"))  # fmt: skip


def test_no_consent_no_gap_or_a_kind_the_organisation_does_not_take_is_refused(
    database: Database,
) -> None:
    household(database, region=REGION)
    charity(database)
    with pytest.raises(InputError, match="consent"):
        handle(database, refer(consent=False))
    small = hardship() | {"temporary_assistance_need": "3000.00"}
    with pytest.raises(InputError, match="no hardship_above_limit"):
        handle(database, refer(household=small))
    with pytest.raises(InputError, match="does not take"):
        handle(database, refer(kind="medical_gap"))
    with database.sessions() as session:
        assert charity_stats(session, within=REGION) == []


def test_a_service_the_county_does_not_offer_is_referred_from_the_plan(database: Database) -> None:
    household(database, region=REGION)
    charity(database)
    plan_id = handle(database, c.MakeAssistancePlan(
        actor=TOWNSHIP, on=ON, household_region=REGION, household_no="H1", household=elder(),
        first_month="2025-09", last_month="2025-09", fallbacks=CARE,
    ))  # fmt: skip
    handle(database, refer(kind="service_not_offered", plan_id=plan_id, service="meal_assistance",
                           household=None))  # fmt: skip
    # She needs no rehabilitation: there is nothing of that kind to refer.
    with pytest.raises(InputError, match="no 'disabled_child_rehabilitation' need left"):
        handle(database, refer(kind="service_not_offered", plan_id=plan_id,
                               service="disabled_child_rehabilitation",
                               household=None))  # fmt: skip
