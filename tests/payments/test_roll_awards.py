"""The roll pays each one-off award once: a temporary assistance approval is paid by the next
roll and never again, after a re-run, a crash or a later month (issue 12 acceptance)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from safetynet.cases import commands as c
from safetynet.db.engine import Database
from safetynet.payments.awards import list_awards
from safetynet.payments.bankfile import export_bank_files
from safetynet.payments.model import OneOffAward, PaymentHold, PaymentInstruction, PaymentRun
from safetynet.payments.reconcile import reconcile_return_file
from safetynet.payments.roll import roll_month
from safetynet.payments.roll_awards import DueAward, plan_awards
from tests.cases.helpers import (
    APPROVER,
    CLERK,
    INVESTIGATOR,
    REVIEWER,
    example,
    run,
    submit,
    track,
)
from tests.payments.awards_helpers import OFFICER, award, household, publish, return_file

Clock = Callable[[], dt.datetime]
D = dt.date


def _per_award(db: Database) -> dict[int, int]:
    """How many instructions each award has."""
    with db.sessions() as session:
        return {
            a or 0: n
            for a, n in session.execute(
                select(PaymentInstruction.award_id, func.count())
                .where(PaymentInstruction.award_id.is_not(None))
                .group_by(PaymentInstruction.award_id)
            )
        }


def _emergency_case(db: Database, clock: Clock) -> int:
    """Emergency temporary assistance lodged in 310115 for a household of 110105 (its account
    imported), 1,000.00 yuan advance through the bank on 2025-12-01, then investigated and
    verified. Returns the track id."""
    household(db, "E1", region="110105")
    _, (tid,) = submit(db, clock, example("temporary_assistance.json"), "E1", D(2025, 12, 1),
                       None, emergency=True, household_region="110105")  # fmt: skip
    run(db, clock, c.AcceptApplication(actor=CLERK, on=D(2025, 12, 1), application_id=1))
    run(db, clock, c.StartPayment(actor=REVIEWER, on=D(2025, 12, 1), track_id=tid,
                                  advance_amount_fen=100_000))  # fmt: skip
    run(db, clock, c.StartInvestigation(actor=INVESTIGATOR, on=D(2025, 12, 2), track_id=tid,
                                        investigators=("inv_wang", "inv_zhao")))  # fmt: skip
    run(db, clock, c.RecordHomeVisit(actor=INVESTIGATOR, on=D(2025, 12, 2), track_id=tid,
                                     visitors=("inv_wang",)))  # fmt: skip
    run(db, clock, c.AttachVerificationReport(actor=INVESTIGATOR, on=D(2025, 12, 3), track_id=tid,
                                              report={"event": "fire"},
                                              cross_check_requested_on=D(2025, 12, 3)))  # fmt: skip
    return tid


def test_a_temporary_assistance_approval_is_paid_once_in_the_next_roll_and_never_again(
    database: Database, fixed_clock: Clock, tmp_path: Path
) -> None:
    tid = _emergency_case(database, fixed_clock)
    first = roll_month(database, "2025-12")
    assert (first.awards_created, first.awards_fen) == (1, 100_000)  # the advance
    run(database, fixed_clock, c.ConfirmTrack(
        actor=APPROVER, on=D(2025, 12, 4), track_id=tid,
        overrides={"assistance.temporary_assistance.township_advance_limit": 3000}))  # fmt: skip
    total = track(database, tid).amount_fen
    assert total is not None
    assert total > 100_000
    second = roll_month(database, "2025-12")
    assert (second.awards_created, second.awards_fen) == (1, total - 100_000)
    assert roll_month(database, "2025-12").awards_created == 0  # a re-run
    bank = export_bank_files(database, "2025-12", "110105", tmp_path, actor=OFFICER,
                             clock=fixed_clock)  # fmt: skip
    (written,) = bank.files
    assert (written.count, written.total_fen) == (2, total)  # advance + remainder = the award
    paid = reconcile_return_file(database, return_file(database, tmp_path / "r.csv",
                                 written.file_id, "2025-12-05"), actor=OFFICER,
                                 clock=fixed_clock)  # fmt: skip
    assert paid.paid == 2
    for month in ("2025-12", "2026-01", "2026-02"):
        assert roll_month(database, month).awards_created == 0
    assert _per_award(database) == {1: 1, 2: 1}
    assert [r.state for r in list_awards(database)] == ["instruction paid"] * 2
    again = export_bank_files(database, "2026-01", "110105", tmp_path, actor=OFFICER,
                              clock=fixed_clock)  # fmt: skip
    assert again.files == ()


def test_a_roll_that_crashes_between_batches_pays_each_award_once_when_rolled_again(
    database: Database,
) -> None:
    households = [household(database, f"H{i}", account=f"62122602000123456{i:02d}")
                  for i in range(5)]  # fmt: skip
    publish(database, *(award(h, 10_000 * (i + 1), case_id=100 + i)
                        for i, h in enumerate(households)))  # fmt: skip
    ticks = 0

    def crashing_clock() -> dt.datetime:
        # the process dies when the third batch of awards asks the time (its transaction is
        # rolled back; the first two committed)
        nonlocal ticks
        ticks += 1
        if ticks == 4:  # 1: the run's start; 2, 3: two award batches
            raise KeyboardInterrupt("killed")
        return dt.datetime(2025, 9, 20, tzinfo=dt.UTC)

    with pytest.raises(KeyboardInterrupt):
        roll_month(database, "2025-09", batch_size=2, clock=crashing_clock)
    assert sorted(_per_award(database)) == [1, 2, 3, 4]
    resumed = roll_month(database, "2025-09", batch_size=2)
    assert resumed.awards_created == 1
    assert resumed.interrupted_runs != ()
    assert roll_month(database, "2025-10", batch_size=2).awards_created == 0
    assert _per_award(database) == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
    with database.sessions() as session:
        amounts = session.execute(
            select(
                OneOffAward.payable_fen, PaymentInstruction.amount_fen, PaymentInstruction.month
            ).join(PaymentInstruction, PaymentInstruction.award_id == OneOffAward.id)
        ).all()
        statuses = session.scalars(select(PaymentRun.status).order_by(PaymentRun.id)).all()
    assert all(a == b and m == "2025-09" for a, b, m in amounts)
    assert statuses == ["interrupted", "finished", "finished"]


def test_an_award_due_later_waits_for_the_roll_of_its_month(database: Database) -> None:
    h = household(database)
    publish(database, award(h, 40_000, due_on=D(2025, 10, 3)))
    assert roll_month(database, "2025-09").awards_created == 0
    assert roll_month(database, "2025-10").awards_created == 1


def test_a_standing_payment_hold_keeps_an_award_held() -> None:
    hold = PaymentHold(id=3, household_id=1, program=None, from_month="2025-09",
                       reason="deaths feed: payee died", released_at=None)  # fmt: skip
    due = [DueAward(1, 1, "disaster_assistance", 50_000, "household", None),
           DueAward(2, 2, "disaster_assistance", 0, "household", None)]  # fmt: skip
    rows = plan_awards("2025-09", due, {}, {}, {1: [hold]})
    assert [(r["status"], r["hold_id"], r["held_reason"]) for r in rows] == [
        ("held", 3, "deaths feed: payee died"),
        ("settled", None, None),
    ]
