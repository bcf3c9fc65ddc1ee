"""Service assistance: a tekun person who cannot care for herself gets a plan of cash and care;
the provider's verified deliveries are paid once by the roll, an undelivered or rejected month is
not paid, the recorder never verifies, and a contract's budget is never overspent."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from safetynet.audit.log import Actor
from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database
from safetynet.errors import InputError
from safetynet.payments.awards import RegisterProvider, register_provider
from safetynet.payments.model import PaymentInstruction
from safetynet.payments.roll import roll_month
from safetynet.services import commands as c
from safetynet.services.model import AssistancePlan, ServiceDelivery
from tests.payments.awards_helpers import AT, OFFICER, household

ROOT = Path(__file__).resolve().parents[2]
REGION = "310115"
PROVIDER = Actor("sw_zhang", "provider", REGION)
TOWNSHIP = Actor("town_zhou", "township_reviewer", REGION)
# Shanghai Pudong's tekun care standard is not in the shipped parameters: the county gives it.
CARE = {"assistance.tekun.care_standard_monthly": {"fully_lost": 50000, "partially_lost": 25000,
                                                   "capable": 6000}}  # fmt: skip
Clock = Callable[[], dt.datetime]


def handle(db: Database, cmd: object) -> Any:
    return bootstrap(db, clock=lambda: AT).handle(cmd)


def elder() -> dict[str, Any]:
    facts: dict[str, Any] = json.loads((ROOT / "examples" / "tekun.json").read_text("utf-8"))
    facts["region"] = REGION
    return facts


def setting(db: Database, budget_fen: int = 1_000_000) -> int:
    """Household H1 (tekun, self-care fully lost), the provider and its care contract at 35
    yuan an hour; returns the household's id."""
    h = household(db, region=REGION)
    register_provider(db, RegisterProvider(code="SW-01", name="阳光社工服务中心", county=REGION,
                                           bank_code="103", account_number="6228480000000000999",
                                           actor=OFFICER), lambda: AT)  # fmt: skip
    handle(db, c.AddServiceContract(actor=OFFICER, code="CY-CARE-2025", service="tekun_care",
                                    region=REGION, provider_code="SW-01",
                                    provider_name="阳光社工服务中心", unit_price_fen=3_500,
                                    budget_fen=budget_fen, starts_on=dt.date(2025, 1, 1),
                                    ends_on=dt.date(2025, 12, 31)))  # fmt: skip
    return h


def plan(db: Database) -> int:
    return int(handle(db, c.MakeAssistancePlan(
        actor=TOWNSHIP, on=dt.date(2025, 9, 1), household_region=REGION, household_no="H1",
        household=elder(), first_month="2025-09", last_month="2025-10", fallbacks=CARE,
    )))  # fmt: skip


def deliveries(db: Database) -> list[ServiceDelivery]:
    with db.sessions() as session:
        return list(session.scalars(select(ServiceDelivery).order_by(ServiceDelivery.id)))


def instructions(db: Database) -> list[tuple[str, int, str | None]]:
    with db.sessions() as session:
        rows = session.scalars(select(PaymentInstruction).order_by(PaymentInstruction.id))
        return [(i.month, i.amount_fen, i.account) for i in rows]


def test_a_tekun_person_gets_cash_and_care_and_the_provider_is_paid_once_for_what_was_verified(
    database: Database,
) -> None:
    setting(database)
    plan_id = plan(database)
    with database.sessions() as session:
        made = session.get(AssistancePlan, plan_id)
        assert made is not None
        cash, services = made.cash, made.services
    assert "tekun" in [line["program"] for line in cash]
    offered = {s["service"]: s["contract"] for s in services}
    # Care is offered (the county has a contract); visits and meals are needed but not offered.
    assert offered == {
        "tekun_care": "CY-CARE-2025",
        "elderly_visits": None,
        "meal_assistance": None,
    }
    care = next(s for s in services if s["service"] == "tekun_care")
    assert (care["units_per_month"], care["unit"]) == (60, "hour")
    september, october = deliveries(database)
    assert [(d.month, d.planned_units, d.status) for d in (september, october)] == [
        ("2025-09", 60, "planned"),
        ("2025-10", 60, "planned"),
    ]
    handle(database, c.RecordDelivery(actor=PROVIDER, delivery_id=september.id, units=58,
                                      on=dt.date(2025, 9, 28)))  # fmt: skip
    handle(database, c.VerifyDelivery(actor=TOWNSHIP, delivery_id=september.id,
                                      on=dt.date(2025, 9, 29), method="visit", accepted=True))  # fmt: skip
    for month in ("2025-09", "2025-10", "2025-10"):
        roll_month(database, month)
    # 58 hours at 35 yuan: 2,030 yuan to the provider's account, once; October, never
    # delivered, is not paid.
    assert instructions(database) == [("2025-09", 203_000, "6228480000000000999")]
    assert [d.status for d in deliveries(database)] == ["verified", "planned"]


def test_the_recorder_never_verifies_a_rejected_month_is_not_paid_and_the_budget_holds(
    database: Database,
) -> None:
    setting(database, budget_fen=300_000)  # 3,000 yuan: less than two full months
    plan(database)
    september, october = deliveries(database)
    for delivery, on in ((september, dt.date(2025, 9, 28)), (october, dt.date(2025, 10, 28))):
        handle(database, c.RecordDelivery(actor=PROVIDER, delivery_id=delivery.id, units=60,
                                          on=on))  # fmt: skip
    with pytest.raises(InputError, match="cannot verify"):
        handle(database, c.VerifyDelivery(actor=PROVIDER, delivery_id=september.id,
                                          on=dt.date(2025, 9, 29), method="signature",
                                          accepted=True))  # fmt: skip
    handle(database, c.VerifyDelivery(actor=TOWNSHIP, delivery_id=september.id,
                                      on=dt.date(2025, 9, 29), method="visit", accepted=True))  # fmt: skip
    with pytest.raises(InputError, match="overspent"):
        handle(database, c.VerifyDelivery(actor=TOWNSHIP, delivery_id=october.id,
                                          on=dt.date(2025, 10, 29), method="visit",
                                          accepted=True))  # fmt: skip
    handle(database, c.VerifyDelivery(actor=TOWNSHIP, delivery_id=october.id,
                                      on=dt.date(2025, 10, 29), method="visit", accepted=False,
                                      note="回访时老人说十月只来过两次"))  # fmt: skip
    roll_month(database, "2025-10")
    assert instructions(database) == [("2025-10", 210_000, "6228480000000000999")]
    assert [d.status for d in deliveries(database)] == ["verified", "rejected"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"service": "massage"}, "service"),
        ({"unit_price_fen": 0}, "unit_price"),
        ({"ends_on": dt.date(2024, 1, 1)}, "ends_on"),
        ({"region": "999999"}, "region"),
    ],
)
def test_a_bad_contract_names_its_field(
    database: Database, changes: dict[str, Any], field: str
) -> None:
    values: dict[str, Any] = {
        "actor": OFFICER, "code": "X", "service": "tekun_care", "region": REGION,
        "provider_code": "SW-01", "provider_name": "阳光", "unit_price_fen": 3_500,
        "budget_fen": 100_000, "starts_on": dt.date(2025, 1, 1), "ends_on": dt.date(2025, 12, 31),
    }  # fmt: skip
    with pytest.raises(Exception, match=field):
        handle(database, c.AddServiceContract(**(values | changes)))
