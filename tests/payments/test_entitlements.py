"""Retroactive changes, worked by hand: arrears for a standard raised after the fact, an
overpayment and its recovery for a death reported late, offsets capped by the parameter."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from safetynet.audit.log import Actor, verify
from safetynet.audit.model import AuditEvent
from safetynet.db.engine import Database
from safetynet.errors import InputError, UnknownNameError
from safetynet.payments.entitlements import (
    ChangeEntitlement,
    EndEntitlement,
    ScheduleEntry,
    change_entitlement,
    end_entitlement,
    monthly_due,
    next_month,
    schedule,
)
from safetynet.payments.model import PaymentAdjustment, PaymentInstruction, PaymentRecovery
from safetynet.payments.roll import roll_month
from safetynet.registry.model import Enrolment, EnrolmentHistory
from tests.payments.helpers import Spec, instruction, seed

D = dt.date
CLERK = Actor("clerk", "payments_clerk", "110105")


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=dt.UTC)


def _adjustments(db: Database) -> list[tuple[str, str, int]]:
    with db.sessions() as session:
        rows = session.execute(
            select(
                PaymentAdjustment.for_month,
                PaymentAdjustment.roll_month,
                PaymentAdjustment.amount_fen,
            ).order_by(PaymentAdjustment.roll_month, PaymentAdjustment.for_month)
        ).all()
    return [(f, r, a) for f, r, a in rows]


def test_monthly_due_reads_the_schedule_as_known_now() -> None:
    start, entries = D(2025, 1, 1), [ScheduleEntry(1, "2025-01", 85_000)]
    assert monthly_due("2024-12", start, None, 80_000, []) == 0  # before the start
    assert monthly_due("2025-01", start, None, 80_000, []) == 80_000  # the enrolment's amount
    assert monthly_due("2025-02", start, None, 80_000, entries) == 85_000
    # the same month corrected twice: the later record wins; a later month's entry does not apply
    later = [*entries, ScheduleEntry(3, "2025-01", 86_000), ScheduleEntry(2, "2025-06", 90_000)]
    assert monthly_due("2025-05", start, None, 80_000, later) == 86_000
    assert monthly_due("2025-06", start, None, 80_000, later) == 90_000
    # the month of the end is due in full, the month after it is not
    assert monthly_due("2025-04", start, D(2025, 4, 20), 80_000, entries) == 85_000
    assert monthly_due("2025-05", start, D(2025, 4, 20), 80_000, entries) == 0
    assert next_month("2025-12") == "2026-01"


def test_raise_recorded_late_pays_arrears_and_a_late_death_is_recovered(
    database: Database,
) -> None:
    seed(database, [Spec(amount_fen=80_000, start=D(2025, 1, 1))])
    # January and February are rolled at 800 yuan.
    for month in ("2025-01", "2025-02"):
        roll_month(database, month, clock=lambda: _at(D(2025, 1, 1)))
    assert instruction(database, "2025-02") == (80_000, 0, 0, "held")

    # On 2025-03-10 the standard is raised to 850 yuan, in force from January.
    change_entitlement(
        database,
        ChangeEntitlement(1, "2025-01", 85_000, "standard raised from 2025-01", CLERK),
        clock=lambda: _at(D(2025, 3, 10)),
    )
    report = roll_month(database, "2025-03")
    # March pays 850 + arrears (850 - 800) x 2 = 100 yuan: 950 yuan, to the fen.
    assert instruction(database, "2025-03") == (85_000, 10_000, 0, "held")
    assert (report.adjustments, report.arrears_fen, report.overpaid_fen) == (2, 10_000, 0)
    assert _adjustments(database) == [("2025-01", "2025-03", 5_000), ("2025-02", "2025-03", 5_000)]
    # Rolling March again, and rolling April, finds nothing more to adjust.
    assert roll_month(database, "2025-03").adjustments == 0
    for month in ("2025-04", "2025-05", "2025-06"):
        assert roll_month(database, month).adjustments == 0
        assert instruction(database, month) == (85_000, 0, 0, "held")

    # Death on 2025-04-20, reported on 2025-06-05, after the June roll.
    end_entitlement(
        database,
        EndEntitlement(1, D(2025, 4, 20), "death (civil registration)", CLERK),
        clock=lambda: _at(D(2025, 6, 5)),
    )
    report = roll_month(database, "2025-07")
    # April, the month of death, stays paid in full; May and June are overpaid: 850 x 2 = 1,700.
    assert (report.eligible, report.created, report.adjustments) == (0, 0, 2)
    assert report.overpaid_fen == 170_000
    assert _adjustments(database)[2:] == [
        ("2025-05", "2025-07", -85_000),
        ("2025-06", "2025-07", -85_000),
    ]
    with database.sessions() as session:
        recoveries = session.scalars(select(PaymentRecovery.amount_fen)).all()
        assert sorted(recoveries) == [85_000, 85_000]
        assert session.scalar(select(func.count()).select_from(PaymentInstruction)) == 6
        enrolment = session.get_one(Enrolment, 1)
        assert (enrolment.status, enrolment.end_date, enrolment.version) == (
            "ended",
            D(2025, 4, 20),
            2,
        )
        history = session.scalars(
            select(EnrolmentHistory.reason).where(EnrolmentHistory.enrolment_id == 1)
        ).all()
        assert history == ["death (civil registration)"]
        events = session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)).all()
        assert "EntitlementChanged" in events
        assert "EntitlementEnded" in events
        assert verify(session) == []
    # Rolling July again and August changes nothing: never a second adjustment.
    assert roll_month(database, "2025-07").adjustments == 0
    assert roll_month(database, "2025-08").adjustments == 0
    assert len(_adjustments(database)) == 4
    assert [e.kind for e in schedule(database, 1)] == ["amount", "end"]


def test_overpayment_is_offset_at_most_a_share_of_each_payment(database: Database) -> None:
    seed(database, [Spec(amount_fen=80_000, start=D(2025, 1, 1))])
    for month in ("2025-02", "2025-03"):
        roll_month(database, month)
    # Lowered to 700 yuan from February, recorded in April: Feb and Mar overpaid 100 each.
    change_entitlement(
        database,
        ChangeEntitlement(1, "2025-02", 70_000, "income reassessed", CLERK),
        clock=lambda: _at(D(2025, 4, 2)),
    )
    roll_month(database, "2025-04")
    # Outstanding 200 yuan; at most 20 % [I] of 700 = 140 yuan is withheld: 700 - 140 = 560.
    assert instruction(database, "2025-04") == (70_000, 0, 14_000, "held")
    roll_month(database, "2025-05")
    # The remaining 200 - 140 = 60 yuan: 700 - 60 = 640 is paid.
    assert instruction(database, "2025-05") == (70_000, 0, 6_000, "held")
    roll_month(database, "2025-06")
    assert instruction(database, "2025-06") == (70_000, 0, 0, "held")
    # A rerun of May keeps the same offset (nothing is withheld twice).
    roll_month(database, "2025-05")
    assert instruction(database, "2025-05") == (70_000, 0, 6_000, "held")


def test_suspended_months_and_unrolled_months_are_not_arrears(database: Database) -> None:
    seed(database, [Spec(amount_fen=80_000, start=D(2025, 1, 1))])
    roll_month(database, "2025-01")
    roll_month(database, "2025-03")  # February was never rolled: no arrears for it
    assert _adjustments(database) == []
    roll_month(database, "2025-02")  # rolled late, it is paid once, by its own instruction
    assert instruction(database, "2025-02") == (80_000, 0, 0, "held")
    assert roll_month(database, "2025-04").adjustments == 0


def test_entitlement_commands_refuse_bad_input(database: Database) -> None:
    seed(database, [Spec(start=D(2025, 3, 1))])
    now = lambda: _at(D(2025, 3, 10))  # noqa: E731 - a one-line fake clock
    with pytest.raises(InputError, match="before the enrolment starts"):
        change_entitlement(database, ChangeEntitlement(1, "2025-01", 1, "x", CLERK), now)
    with pytest.raises(InputError, match="negative"):
        change_entitlement(database, ChangeEntitlement(1, "2025-03", -1, "x", CLERK), now)
    with pytest.raises(InputError, match="reason"):
        change_entitlement(database, ChangeEntitlement(1, "2025-03", 1, " ", CLERK), now)
    with pytest.raises(InputError, match="not a month"):
        change_entitlement(database, ChangeEntitlement(1, "2025-3", 1, "x", CLERK), now)
    with pytest.raises(UnknownNameError):
        end_entitlement(database, EndEntitlement(9, D(2025, 4, 1), "x", CLERK), now)
    with pytest.raises(InputError, match="before the enrolment starts"):
        end_entitlement(database, EndEntitlement(1, D(2025, 2, 1), "death", CLERK), now)
    end_entitlement(database, EndEntitlement(1, D(2025, 4, 1), "death", CLERK), now)
    with pytest.raises(InputError, match="already ended"):
        end_entitlement(database, EndEntitlement(1, D(2025, 4, 1), "death", CLERK), now)
    with pytest.raises(InputError, match="after the enrolment ended"):
        change_entitlement(database, ChangeEntitlement(1, "2025-05", 1, "x", CLERK), now)
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 1
