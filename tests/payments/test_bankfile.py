"""The bank file checks every instruction again when it is written (issue 10 item 8): a death, a
suspension, a termination or a payment hold recorded after the roll holds the instruction, with
its reason, instead of sending it; on SQLite and PostgreSQL.

The household of ``tests/payments/test_holds.py``: dibao, 800.00 yuan a month from 2025-01, with
a payee account. August is rolled and sent; September is rolled (pending); then the event is
recorded and September's bank file is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from safetynet.db.engine import Database
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.payments.bankfile import describe_held
from safetynet.payments.entitlements import EndEntitlement, end_entitlement
from safetynet.payments.holds import PlaceHold, place_hold
from safetynet.payments.model import BankFileItem, PaymentInstruction, PaymentRecovery
from safetynet.payments.report import payment_report
from safetynet.payments.roll import roll_month
from safetynet.registry.handlers import ChangeEnrolment, change_enrolment
from tests.payments.test_holds import CLERK, MONTHLY, _at, _bank_file, _household, _sent_in_august


def _change(db: Database, reason: str, status: str, end: dt.date | None = None) -> None:
    with UnitOfWork(db.sessions) as uow:
        command = ChangeEnrolment(1, reason, CLERK, status=status, end=end)
        change_enrolment(command, uow, _at(dt.date(2025, 9, 20)))


def _death(db: Database) -> None:
    end_entitlement(
        db,
        EndEntitlement(1, dt.date(2025, 7, 20), "death reported late", CLERK),
        _at(dt.date(2025, 9, 20)),
    )


def _september(db: Database) -> PaymentInstruction:
    with db.sessions() as session:
        row = session.scalars(
            select(PaymentInstruction).where(PaymentInstruction.month == "2025-09")
        ).one()
        session.expunge(row)
        return row


def _sent_fen(db: Database) -> dict[str, int]:
    """month → fen sent to the bank for it."""
    with db.sessions() as session:
        return dict(
            session.execute(
                select(PaymentInstruction.month, func.sum(BankFileItem.amount_fen))
                .join(BankFileItem, BankFileItem.instruction_id == PaymentInstruction.id)
                .group_by(PaymentInstruction.month)
            ).all()
        )


EVENTS: dict[str, tuple[Callable[[Database], object], str, str]] = {
    "death": (_death, "entitlement ended on 2025-07-20: death reported late", "ended"),
    "suspension": (
        lambda db: _change(db, "income above the line, under review", "suspended"),
        "enrolment suspended: income above the line, under review",
        "suspended",
    ),
    "termination": (
        lambda db: _change(db, "terminated: moved away", "ended", dt.date(2025, 8, 31)),
        "entitlement ended on 2025-08-31: terminated: moved away",
        "ended",
    ),
    "hold": (
        lambda db: place_hold(
            db,
            PlaceHold(household_id=1, from_month="2025-09", reason="death by phone", actor=CLERK),
            _at(dt.date(2025, 9, 20)),
        ),
        "death by phone",
        "payment hold",
    ),
}


@pytest.mark.parametrize("event", list(EVENTS))
def test_an_event_recorded_after_the_roll_holds_the_instruction_at_the_bank_file(
    database: Database, tmp_path: Path, event: str
) -> None:
    record, reason, kind = EVENTS[event]
    _household(database)
    _sent_in_august(database, tmp_path)
    roll_month(database, "2025-09", actor=CLERK, clock=_at(dt.date(2025, 9, 1)))
    assert _september(database).status == "pending"

    record(database)
    report = _bank_file(database, "2025-09", tmp_path / "sep")
    assert report.files == ()  # nothing sent
    held = _september(database)
    assert (held.status, held.held_reason) == ("held", reason)
    assert (report.still_held, report.held_by_kind) == (1, ((kind, 1),))
    assert describe_held(report) == f"1 held: 1 {kind}"
    if event != "hold":
        assert report.stopped == ((held.id, "2025-09", reason),)
    # Writing the bank file again sends nothing either and reports nothing new.
    again = _bank_file(database, "2025-09", tmp_path / "sep")
    assert (again.files, again.stopped, again.still_held) == ((), (), 1)
    assert _sent_fen(database) == {"2025-08": MONTHLY}
    (row,) = payment_report(database, "2025-09")
    counts = {
        "no account": row.held,
        "payment hold": row.held_by_hold,
        "suspended": row.held_suspended,
        "ended": row.held_ended,
    }
    assert counts == {k: int(k == kind) for k in counts}


def test_a_death_after_the_roll_sends_nothing_after_it_and_recovers_only_what_was_paid(
    database: Database, tmp_path: Path
) -> None:
    _household(database)
    _sent_in_august(database, tmp_path)
    roll_month(database, "2025-09", actor=CLERK, clock=_at(dt.date(2025, 9, 1)))
    _death(database)
    _bank_file(database, "2025-09", tmp_path / "sep")
    # October: September was never paid, so it is settled at 0 (nothing to recover for it);
    # August was paid after the death: recovered, in full.
    october = roll_month(database, "2025-10", actor=CLERK, clock=_at(dt.date(2025, 10, 1)))
    assert (october.overpaid_fen, october.settled_held) == (MONTHLY, 1)
    september = _september(database)
    assert (september.amount_fen, september.status, september.held_reason) == (0, "settled", None)
    with database.sessions() as session:
        assert session.scalar(select(func.sum(PaymentRecovery.amount_fen))) == MONTHLY
    assert _bank_file(database, "2025-10", tmp_path / "oct").files == ()
    assert _sent_fen(database) == {"2025-08": MONTHLY}


def test_a_suspension_lifted_before_the_next_bank_file_pays_the_held_month(
    database: Database, tmp_path: Path
) -> None:
    _household(database)
    roll_month(database, "2025-09", actor=CLERK, clock=_at(dt.date(2025, 9, 1)))
    _change(database, "income under review", "suspended")
    assert _bank_file(database, "2025-09", tmp_path).files == ()
    _change(database, "review done: income below the line", "active")
    report = _bank_file(database, "2025-09", tmp_path)
    assert [(f.count, f.total_fen) for f in report.files] == [(1, MONTHLY)]
    assert (report.released_from_hold, report.still_held) == (1, 0)
    assert _september(database).status == "exported"
