"""One-off awards recorded once from a case decision, with the emergency advance deducted, and
paid to the household, to a provider or from the township reserve (docs/payments.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from safetynet.audit.model import AuditEvent
from safetynet.db.engine import Database
from safetynet.errors import UnknownNameError
from safetynet.payments.awards import RegisterProvider, list_awards, register_provider
from safetynet.payments.bankfile import export_bank_files
from safetynet.payments.model import OneOffAward, PaymentInstruction, PaymentRecovery
from safetynet.payments.reconcile import reconcile_return_file
from safetynet.payments.report import payment_report
from safetynet.payments.roll import roll_month
from tests.payments.awards_helpers import AT, OFFICER, award, household, publish, return_file

Clock = Callable[[], dt.datetime]
HOSPITAL_ACCOUNT = "6228480000000000123"


def _awards(db: Database) -> list[tuple[int, int, int, int, str]]:
    """(sequence, amount, deducted, payable, payee) of every award, in id order."""
    with db.sessions() as session:
        return [
            (a.sequence, a.amount_fen, a.deducted_fen, a.payable_fen, a.payee)
            for a in session.scalars(select(OneOffAward).order_by(OneOffAward.id))
        ]


def _instructions(db: Database) -> list[tuple[int | None, str, int, str, str | None]]:
    """(award, month, amount, status, account) of every instruction, in id order."""
    with db.sessions() as session:
        return [
            (i.award_id, i.month, i.amount_fen, i.status, i.account)
            for i in session.scalars(select(PaymentInstruction).order_by(PaymentInstruction.id))
        ]


def test_a_decision_published_twice_records_one_award(database: Database) -> None:
    h = household(database)
    publish(database, award(h, 150_000))
    publish(database, award(h, 150_000))
    assert _awards(database) == [(1, 150_000, 0, 150_000, "household")]
    with database.sessions() as session:
        entries = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.event == "OneOffAwardRecorded")
        )
    assert entries == 1


def test_the_final_award_pays_what_the_advance_left(database: Database) -> None:
    # Worked example E3.1 (docs/programs/temporary_assistance.md): 3,000 yuan advance, 6,000
    # yuan awarded in all: the county's decision pays the remaining 3,000.
    h = household(database)
    publish(database, award(h, 300_000, kind="advance", reason="先行救助"))
    publish(database, award(h, 600_000, sequence=2))
    assert _awards(database) == [(1, 300_000, 0, 300_000, "household"), (2, 600_000, 300_000,
                                 300_000, "household")]  # fmt: skip
    roll_month(database, "2025-09")
    assert [(a, amount, s) for a, _, amount, s, _ in _instructions(database)] == [
        (1, 300_000, "pending"),
        (2, 300_000, "pending"),
    ]


def test_an_award_below_the_advance_pays_nothing_and_records_a_recovery(
    database: Database, tmp_path: Path, fixed_clock: Clock
) -> None:
    h = household(database)
    publish(database, award(h, 300_000, kind="advance"))
    publish(database, award(h, 200_000, sequence=2))
    assert _awards(database)[1] == (2, 200_000, 200_000, 0, "household")
    roll_month(database, "2025-09")
    assert [(amount, s) for _, _, amount, s, _ in _instructions(database)] == [
        (300_000, "pending"),
        (0, "settled"),
    ]
    with database.sessions() as session:
        recoveries = session.execute(
            select(PaymentRecovery.program, PaymentRecovery.amount_fen, PaymentRecovery.award_id)
        ).all()
    assert [tuple(r) for r in recoveries] == [("temporary_assistance", 100_000, 2)]
    bank = export_bank_files(
        database, "2025-09", "110105", tmp_path, actor=OFFICER, clock=fixed_clock
    )
    assert [(f.count, f.total_fen) for f in bank.files] == [(1, 300_000)]
    (row,) = payment_report(database, "2025-09", "110105")
    assert (row.program, row.outstanding_recoveries_fen) == ("temporary_assistance", 100_000)


def test_medical_assistance_settled_with_the_hospital_is_paid_to_its_account(
    database: Database, tmp_path: Path, fixed_clock: Clock
) -> None:
    h = household(database)
    with pytest.raises(UnknownNameError, match="provider 'H-0101'"):
        publish(database, award(h, 80_000, program="medical_assistance", payee="provider",
                                provider="H-0101"))  # fmt: skip
    assert _awards(database) == []
    register_provider(
        database,
        RegisterProvider(code="H-0101", name="区人民医院", county="110105", bank_code="103",
                         account_number=HOSPITAL_ACCOUNT, actor=OFFICER),
        lambda: AT,
    )  # fmt: skip
    publish(
        database,
        award(h, 80_000, program="medical_assistance", payee="provider", provider="H-0101"),
        award(h, 20_000, program="medical_assistance", case_id=8),
    )
    roll_month(database, "2025-09")
    bank = export_bank_files(
        database, "2025-09", "110105", tmp_path, actor=OFFICER, clock=fixed_clock
    )
    (written,) = bank.files
    lines = written.path.read_bytes().split(b"\r\n")
    details = [(line[49:61].strip(), line[61:80], int(line[80:95])) for line in lines[1:3]]
    assert details == [(b"103", HOSPITAL_ACCOUNT.encode(), 80_000), (b"102",
                       b"6212260200012345678", 20_000)]  # fmt: skip
    report = reconcile_return_file(
        database, return_file(database, tmp_path / "r.csv", written.file_id), actor=OFFICER,
        clock=fixed_clock,
    )  # fmt: skip
    assert (report.paid, report.failed) == (2, 0)
    assert [r.state for r in list_awards(database)] == ["instruction paid", "instruction paid"]


def test_an_award_without_an_account_is_held_until_one_is_imported(database: Database) -> None:
    h = household(database, account=None)
    publish(database, award(h, 50_000))
    report = roll_month(database, "2025-09")
    assert (report.awards_created, report.awards_held) == (1, 1)
    assert [s for _, _, _, s, _ in _instructions(database)] == ["held"]
