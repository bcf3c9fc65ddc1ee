"""What a citizen reads of their household's benefits: each benefit with its amount and why, and
the next payment (month, the day it is due by, amount) in plain Chinese; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from safetynet.db.engine import Database
from safetynet.payments.citizen_view import household_benefits
from safetynet.policy.parameters import default_tree
from safetynet.registry.model import Household
from tests.cases.helpers import Clock, id_number, paying_dibao, register_household


def _household(db: Database, number: str) -> int:
    with db.sessions() as session:
        return int(
            session.execute(
                select(Household.id).where(Household.household_no == number)
            ).scalar_one()
        )


def test_benefits_and_the_next_payment(database: Database, fixed_clock: Clock) -> None:
    paying_dibao(database, fixed_clock)  # household H1: 2,550 yuan a month from November 2025
    register_household(database, "H9", [id_number("19600101", 5)])
    mine, other = _household(database, "H1"), _household(database, "H9")
    with database.sessions() as session:
        seen = household_benefits(session, mine, dt.date(2025, 10, 20), default_tree())
        later = household_benefits(session, mine, dt.date(2025, 12, 15), default_tree())
        none = household_benefits(session, other, dt.date(2025, 10, 20), default_tree())
    (benefit,) = seen.benefits
    assert (benefit.program, benefit.status_zh, benefit.amount_yuan) == (
        "dibao",
        "正在发放",
        "2550.00",
    )
    assert (
        benefit.why_zh
        == "你户经审批享受最低生活保障，自2025年11月起每月2550.00元，按月发放到你户的银行账户。"
    )
    assert seen.next_payment is not None
    # The first month of the enrolment, payable by the 10th (payments.timeliness.paid_by_day).
    assert (seen.next_payment.month, seen.next_payment.by_date) == (
        "2025-11",
        dt.date(2025, 11, 10),
    )
    assert seen.next_payment.said_zh == "下一次发放：2025年11月的2550.00元，预计11月10日前到账。"
    assert later.next_payment is not None
    assert later.next_payment.month == "2025-12"  # nothing paid yet: the current month
    # Another household's page shows nothing of H1.
    assert none.benefits == ()
    assert none.next_payment is None
