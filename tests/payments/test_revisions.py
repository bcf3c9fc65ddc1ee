"""A one-off award follows its decision when an appeal changes it: a rise is paid once, a refusal
before payment withdraws the award, a fall after payment is recovered (docs/payments.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from safetynet.cases import commands as c
from safetynet.cases.events import BenefitWithdrawn
from safetynet.db.engine import Database
from safetynet.payments.awards import list_awards
from safetynet.payments.bankfile import export_bank_files
from safetynet.payments.model import OneOffAward, PaymentInstruction, PaymentRecovery
from safetynet.payments.reconcile import reconcile_return_file
from safetynet.payments.report import payment_report
from safetynet.payments.roll import roll_month
from tests.cases.helpers import APPROVER, APPROVER_2, CLERK, run, track
from tests.payments.awards_helpers import AT, OFFICER, award, household, publish, return_file
from tests.payments.test_roll_awards import _emergency_case

Clock = Callable[[], dt.datetime]
D = dt.date
LATER = AT + dt.timedelta(days=30)


def _refused(household_id: int, case_id: int = 7) -> BenefitWithdrawn:
    return BenefitWithdrawn(
        program="temporary_assistance",
        case_id=case_id,
        household_id=household_id,
        due_on=dt.date(2025, 10, 10),
        reason="track 7 refused on 2025-10-10 after reconsideration",
        actor=OFFICER,
        occurred_at=LATER,
    )


def _paid(db: Database, tmp_path: Path, month: str, clock: Clock) -> None:
    """Roll ``month``, send the bank file and reconcile it paid."""
    roll_month(db, month)
    bank = export_bank_files(db, month, "110105", tmp_path, actor=OFFICER, clock=clock)
    for written in bank.files:
        path = return_file(db, tmp_path / f"r-{written.file_id}.csv", written.file_id)
        reconcile_return_file(db, path, actor=OFFICER, clock=clock)


def _instructions(db: Database) -> list[tuple[int, str, int, str]]:
    """(the award's sequence in its case, month, amount, status) of every instruction."""
    with db.sessions() as session:
        return [
            (sequence, i.month, i.amount_fen, i.status)
            for i, sequence in session.execute(
                select(PaymentInstruction, OneOffAward.sequence)
                .join(OneOffAward, OneOffAward.id == PaymentInstruction.award_id)
                .order_by(PaymentInstruction.id)
            )
        ]


def _recoveries(db: Database) -> list[int]:
    with db.sessions() as session:
        return list(session.scalars(select(PaymentRecovery.amount_fen)))


def test_a_rise_after_payment_pays_the_difference_once(
    database: Database, tmp_path: Path, fixed_clock: Clock
) -> None:
    h = household(database)
    publish(database, award(h, 150_000))
    _paid(database, tmp_path, "2025-09", fixed_clock)
    # the reconsideration sends the case back; the county decides 2,000 yuan instead of 1,500
    publish(database, award(h, 200_000, due_on=dt.date(2025, 10, 10), occurred_at=LATER))
    publish(database, award(h, 200_000, due_on=dt.date(2025, 10, 10), occurred_at=LATER))
    for month in ("2025-10", "2025-10", "2025-11"):
        roll_month(database, month)
    assert _instructions(database) == [(1, "2025-09", 150_000, "paid"),
                                       (2, "2025-10", 50_000, "pending")]  # fmt: skip
    with database.sessions() as session:
        kinds = session.execute(
            select(OneOffAward.kind, OneOffAward.sequence, OneOffAward.payable_fen).order_by(
                OneOffAward.id
            )
        ).all()
    assert [tuple(k) for k in kinds] == [("award", 1, 150_000), ("revision", 2, 50_000)]
    assert _recoveries(database) == []


def test_a_refusal_before_payment_withdraws_the_award_and_nothing_is_paid(
    database: Database, tmp_path: Path, fixed_clock: Clock
) -> None:
    h = household(database)
    publish(database, award(h, 150_000))
    roll_month(database, "2025-09")  # instructed, not yet in a bank file
    publish(database, _refused(h))
    bank = export_bank_files(
        database, "2025-09", "110105", tmp_path, actor=OFFICER, clock=fixed_clock
    )
    assert sum(f.count for f in bank.files) == 0
    roll_month(database, "2025-10")
    assert _instructions(database) == [(1, "2025-09", 150_000, "cancelled")]
    assert [r.payable for r in payment_report(database, "2025-09", "110105")] in ([], [0])
    assert [r.state for r in list_awards(database)] == [
        "withdrawn (the decision changed before payment)"
    ]
    # refused before the roll reached it: never instructed at all
    h2 = household(database, "H2")
    publish(database, award(h2, 90_000, case_id=8))
    publish(database, _refused(h2, case_id=8))
    roll_month(database, "2025-10")
    assert len(_instructions(database)) == 1
    assert _recoveries(database) == []


def test_a_refusal_after_payment_records_a_recovery(
    database: Database, tmp_path: Path, fixed_clock: Clock
) -> None:
    h = household(database)
    publish(database, award(h, 150_000))
    _paid(database, tmp_path, "2025-09", fixed_clock)
    publish(database, _refused(h))
    publish(database, _refused(h))  # published twice: one recovery
    assert _recoveries(database) == [150_000]
    roll_month(database, "2025-10")
    (row,) = payment_report(database, "2025-10", "110105")
    assert (row.program, row.outstanding_recoveries_fen) == ("temporary_assistance", 150_000)


def test_a_lower_decision_before_payment_pays_only_the_new_amount_after_the_advance(
    database: Database,
) -> None:
    h = household(database)
    publish(database, award(h, 100_000, kind="advance"))
    publish(database, award(h, 600_000, sequence=2))
    publish(database, award(h, 400_000, sequence=2, occurred_at=LATER))
    roll_month(database, "2025-09")
    roll_month(database, "2025-10")
    # advance 1,000 paid; the first decision (5,000 more) withdrawn; the new one pays 3,000 more
    assert sorted((a, amount, s) for a, _, amount, s in _instructions(database)) == [
        (1, 100_000, "pending"),
        (3, 300_000, "pending"),
    ]
    assert _recoveries(database) == []


def test_an_appeal_that_ends_in_a_refusal_after_payment_recovers_the_whole_award(
    database: Database, tmp_path: Path, fixed_clock: Clock
) -> None:
    # Through the case workflow: the emergency case's advance and award are paid, then a
    # reconsideration sends the track back to the county, which refuses it: the case publishes
    # BenefitWithdrawn and payments records the recovery of everything paid (advance included).
    tid = _emergency_case(database, fixed_clock)
    run(database, fixed_clock, c.ConfirmTrack(
        actor=APPROVER, on=D(2025, 12, 4), track_id=tid,
        overrides={"assistance.temporary_assistance.township_advance_limit": 3000}))  # fmt: skip
    total = track(database, tid).amount_fen
    assert total is not None
    _paid(database, tmp_path, "2025-12", fixed_clock)
    appeal = run(database, fixed_clock, c.LodgeAppeal(
        actor=CLERK, on=D(2025, 12, 10), track_id=tid, kind="reconsideration",
        decision_known_on=D(2025, 12, 5), grounds="the fire was not in the household's home"))  # fmt: skip
    run(database, fixed_clock, c.DecideAppeal(
        actor=APPROVER_2, on=D(2025, 12, 20), appeal_id=appeal.entity_id, outcome="revoked",
        reasons=("the facts were wrong",), reopen_at="decision"))  # fmt: skip
    run(database, fixed_clock, c.RefuseTrack(
        actor=APPROVER, on=D(2025, 12, 22), track_id=tid, reasons=("no fire at the home",)))  # fmt: skip
    assert _recoveries(database) == [total]
    assert roll_month(database, "2026-01").awards_created == 1  # the revision of 0: settled
    assert [s for _, _, _, s in _instructions(database)] == ["paid", "paid", "settled"]
