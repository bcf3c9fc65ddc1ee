"""A tapered gradual exit goes into the payments entitlement schedule, so the monthly roll pays
each month's amount exactly (and corrects a month paid before the exit was recorded); on SQLite
and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from safetynet.audit.log import verify
from safetynet.bootstrap import bootstrap
from safetynet.cases import commands as c
from safetynet.cases.handlers import handle
from safetynet.db.engine import Database
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.payments.model import EntitlementChange, PaymentAdjustment, PaymentInstruction
from safetynet.payments.roll import roll_month
from safetynet.policy.parameters import (
    DatedValue,
    ParameterTree,
    Provenance,
    Reference,
    default_tree,
)
from safetynet.registry.model import Enrolment
from tests.cases.helpers import (
    APPROVER,
    REGION,
    Clock,
    dibao_household,
    paying_dibao,
    track,
)

D = dt.date
TAPERED = "assistance.dibao.gradual_exit_amount"


def _tapered_tree() -> ParameterTree:
    """The shipped parameters with Pudong choosing a tapered exit [I]."""
    base = default_tree()
    levels = {code: dict(names) for code, names in base.levels.items()}
    levels.setdefault(REGION, {})[TAPERED] = [
        DatedValue(
            D(2021, 7, 1),
            "tapered",
            Provenance.ILLUSTRATIVE,
            (Reference("a county choosing a tapered gradual exit, for the test"),),
        )
    ]
    return ParameterTree(dict(base.specs), levels, dict(base.region_names))


def _roll(db: Database, clock: Clock, *months: str) -> None:
    for month in months:
        roll_month(db, month, clock=clock)


def test_a_tapered_exit_is_paid_month_by_month_then_stops(
    database: Database, fixed_clock: Clock
) -> None:
    tid = paying_dibao(database, fixed_clock)  # 2,550 yuan a month from November 2025
    _roll(database, fixed_clock, "2025-11", "2025-12", "2026-01")
    with bootstrap(database, parameters=_tapered_tree()).unit_of_work() as uow:
        handle(
            c.StartGradualExit(
                actor=APPROVER,
                on=D(2026, 1, 20),  # recorded after January was paid in full
                track_id=tid,
                income_rose_in="2025-12",
                household=dibao_household("6000.00"),  # 6,000 / 3 = 2,000 > 1,650
            ),
            uow,
            fixed_clock,
        )
    # Tapered over the 6 months after the month of the rise: 2,550 × (7 − k) / 7, in fen,
    # rounded down: k = 0 … 6.
    expected = {
        "2025-12": 255000,  # 255000 × 7 / 7
        "2026-01": 218571,  # 1530000 / 7 = 218571.43
        "2026-02": 182142,  # 1275000 / 7 = 182142.86
        "2026-03": 145714,  # 1020000 / 7 = 145714.29
        "2026-04": 109285,  # 765000 / 7 = 109285.71
        "2026-05": 72857,  # 510000 / 7 = 72857.14
        "2026-06": 36428,  # 255000 / 7 = 36428.57
    }
    t = track(database, tid)
    assert {m["month"]: m["amount_fen"] for m in t.gradual_exit_schedule or []} == expected
    assert (t.status, t.gradual_exit_until) == ("gradual_exit", "2026-06")
    with database.sessions() as session:
        enrolment = session.scalars(select(Enrolment)).one()
        assert (enrolment.status, enrolment.end_date, enrolment.amount_fen) == (
            "active",
            D(2026, 6, 30),
            255000,
        )
        # One entry from each month whose amount steps down (December keeps 2,550).
        entries = session.execute(
            select(EntitlementChange.from_month, EntitlementChange.amount_fen).order_by(
                EntitlementChange.id
            )
        ).all()
        assert [tuple(e) for e in entries] == [
            (m, a) for m, a in expected.items() if m != "2025-12"
        ]

    _roll(database, fixed_clock, *(f"2026-{m:02d}" for m in range(2, 9)))
    with database.sessions() as session:
        paid = dict(
            session.execute(
                select(PaymentInstruction.month, PaymentInstruction.amount_fen).order_by(
                    PaymentInstruction.month
                )
            ).all()
        )
        # November to January as paid before the exit was recorded; from February each exit
        # month at its amount; nothing from July.
        assert paid == {"2025-11": 255000} | expected | {"2026-01": 255000}
        # January was paid 2,550 before the exit was recorded: 2,550 − 2,185.71 = 364.29 overpaid,
        # found by the February roll and withheld from later payments.
        adjustments = session.execute(
            select(
                PaymentAdjustment.for_month,
                PaymentAdjustment.roll_month,
                PaymentAdjustment.amount_fen,
            )
        ).all()
        assert [tuple(a) for a in adjustments] == [("2026-01", "2026-02", -36429)]
        withheld = session.scalar(select(func.sum(PaymentInstruction.recovery_fen)))
        assert withheld == 36429
        assert verify(session) == []


def test_a_frozen_exit_adds_nothing_to_the_schedule(database: Database, fixed_clock: Clock) -> None:
    tid = paying_dibao(database, fixed_clock)
    with UnitOfWork(database.sessions) as uow:
        handle(
            c.StartGradualExit(
                actor=APPROVER,
                on=D(2025, 12, 20),
                track_id=tid,
                income_rose_in="2025-12",
                household=dibao_household("6000.00"),
            ),
            uow,
            fixed_clock,
        )
    _roll(database, fixed_clock, *(f"2025-{m}" for m in (11, 12)))
    _roll(database, fixed_clock, *(f"2026-{m:02d}" for m in range(1, 8)))
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(EntitlementChange)) == 0
        paid = session.execute(
            select(PaymentInstruction.month, PaymentInstruction.amount_fen).order_by(
                PaymentInstruction.month
            )
        ).all()
        # Worked example E1.3 (gradual exit of at most 6 months, 民发〔2022〕83号 [M]): 2,550 a month
        # from November through month m+6 (June 2026), then none.
        months = ["2025-11", "2025-12", *(f"2026-{m:02d}" for m in range(1, 7))]
        assert [tuple(p) for p in paid] == [(m, 255000) for m in months]
