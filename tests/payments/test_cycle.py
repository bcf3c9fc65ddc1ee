"""Accounts, bank file, return file and report end to end on the sample households, through the
CLI: what an operator types and sees."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from safetynet.audit.log import Actor, verify
from safetynet.bootstrap import upgrade
from safetynet.db.engine import Database, create_database
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.entrypoints.cli.main import app
from safetynet.payments.accounts import import_accounts, read_accounts
from safetynet.payments.bankfile import RECORD_LENGTH, export_bank_files
from safetynet.payments.model import BankFile, BankFileItem, PayeeAccount, PaymentInstruction
from safetynet.payments.reconcile import ReconcileReport, reconcile_return_file
from safetynet.payments.report import payment_report
from safetynet.payments.roll import roll_month
from safetynet.registry.handlers import EnrolHousehold, enrol_household

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CLERK = Actor("clerk", "payments_clerk")
NOW = dt.datetime(2025, 9, 2, 9, 0, tzinfo=dt.UTC)


def _clock() -> dt.datetime:
    return NOW


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A database with the two sample households, each enrolled in dibao from January."""
    url = f"sqlite:///{tmp_path / 'cycle.db'}"
    db = create_database(url)
    try:
        upgrade(db)
    finally:
        db.dispose()
    households = EXAMPLES / "registry" / "households_sample.csv"
    result = CliRunner().invoke(
        app, ["import", "households", str(households), "--as-of", "2024-01-01", "--url", url]
    )
    assert result.exit_code == 0, result.output
    db = create_database(url)
    try:
        for region, number, amount in (("110105", "H0001", 80_000), ("130102", "H0002", 120_000)):
            with UnitOfWork(db.sessions) as uow:
                command = EnrolHousehold(
                    region, number, "dibao", dt.date(2025, 1, 1), amount, CLERK
                )
                enrol_household(command, uow, _clock)
    finally:
        db.dispose()
    return url


RETURN_HEADER = "file_id,instruction_id,account,amount_fen,result,booked_on,reason_code,reason_text"


def _reconcile(db: Database, returned: Path, *rows: str) -> ReconcileReport:
    """Write the bank's return file (the header, then ``rows``) and reconcile it."""
    returned.write_text("".join(f"{line}\n" for line in (RETURN_HEADER, *rows)), encoding="utf-8")
    return reconcile_return_file(db, returned, actor=CLERK, clock=_clock)


def _run(*args: str, status: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == status, result.output
    return result.stdout


def test_sample_cycle_through_the_cli(url: str, tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.csv"
    accounts.write_bytes((EXAMPLES / "payments" / "accounts_sample.csv").read_bytes())
    # Rows were quarantined: exit status 1, the report printed all the same.
    output = _run("payments", "accounts", "import", str(accounts), "--url", url, status=1)
    assert "read 8: imported 2, already recorded 0, quarantined 6" in output
    assert "row 4, holder_id_number: 130***********0139 is not a member of household" in output
    assert "row 5, household_no: unknown household 110105/H0009" in output
    assert "row 6, account_number: 6210********0123 has characters other than digits" in output
    assert "row 7, bank_code: bank category 999 is not in the list" in output
    assert "row 8, valid_from: household 130102/H0002 has 2 accounts from 2025-06-01" in output
    assert "row 9, valid_from" in output
    quarantine = (tmp_path / "accounts.quarantine.csv").read_text(encoding="utf-8-sig")
    assert "6212260200099998888" not in quarantine  # account numbers are masked there too
    assert "6212***********8888" in quarantine
    assert "6212260200012345678" not in output
    # The same file again imports nothing twice.
    output = _run("payments", "accounts", "import", str(accounts), "--url", url, status=1)
    assert "read 8: imported 0, already recorded 2, quarantined 6" in output

    output = _run("payments", "roll", "--month", "2025-09", "--url", url)
    assert "2 eligible: 2 created, 0 already present" in output

    out_dir = tmp_path / "bank"
    output = _run(
        "payments", "bank-file", "--month", "2025-09", "--county", "110105", "--out", str(out_dir),
        "--url", url,
    )  # fmt: skip
    assert "(file 1, new): 1 records, 800.00 yuan" in output
    assert "6212260200012345678" not in output
    path = out_dir / "SN110105202509001.txt"
    first = path.read_bytes()
    lines = first.split(b"\r\n")
    assert [len(line) for line in lines] == [RECORD_LENGTH] * 3 + [0]
    assert lines[0].startswith(
        b"H01" + b"0000000001" + b"110105202509" + b"001" + b"00000001" + b"000000000080000"
    )
    assert lines[1][:25] == b"D000001000000000001202509"
    assert b"6212260200012345678" in lines[1]
    assert lines[1][80:95] == b"000000000080000"
    checksum = hashlib.sha256(lines[0] + b"\r\n" + lines[1] + b"\r\n").hexdigest().encode()
    assert lines[2][:24] == b"T00000001000000000080000"
    assert lines[2][24:88] == checksum
    # Generating again writes the same bytes and no new batch.
    output = _run(
        "payments", "bank-file", "--month", "2025-09", "--county", "110105", "--out", str(out_dir),
        "--url", url,
    )  # fmt: skip
    assert "rewritten, unchanged" in output
    assert path.read_bytes() == first
    _run(
        "payments", "bank-file", "--month", "2025-09", "--county", "130102", "--out", str(out_dir),
        "--url", url,
    )  # fmt: skip

    returned = tmp_path / "return.csv"
    returned.write_bytes((EXAMPLES / "payments" / "return_sample.csv").read_bytes())
    output = _run("payments", "reconcile", str(returned), "--url", url, status=1)
    # Row 3 is for instruction 2, which went out in file 2 (county 130102), not file 1.
    assert "read 4: paid 1, failed 0, already reconciled 0, quarantined 3" in output
    assert "row 3, instruction_id: instruction 2 was not exported in bank file 1" in output
    assert "row 4, instruction_id: unknown instruction 99" in output
    assert "row 5, instruction_id: instruction 1 was not exported in bank file 2" in output
    output = _run("payments", "reconcile", str(returned), "--url", url, status=1)
    assert "read 4: paid 0, failed 0, already reconciled 1, quarantined 3" in output

    output = _run("payments", "report", "--month", "2025-09", "--url", url)
    assert (
        "110105 dibao (on time = booked by 2025-09-10): payable 1 (800.00 yuan); paid on time 1, "
        "paid late 0 (800.00 yuan); failed 0; held by a payment hold 0; "
        "held without an account 0; held, enrolment suspended 0; held, entitlement ended 0; "
        "held, payee died 0; awaiting the bank 0; recoveries outstanding 0.00 yuan"
    ) in output
    assert "130102 dibao (on time = booked by 2025-09-10): payable 1 (1200.00 yuan); " in output
    assert "awaiting the bank 1;" in output


def test_failed_payment_is_retried_in_the_next_file_and_late_payment_is_late(
    url: str, tmp_path: Path
) -> None:
    db = create_database(url)
    try:
        roll_month(db, "2025-09", clock=_clock)  # no accounts yet: both held
        rows = payment_report(db, "2025-09")
        assert [(r.county, r.payable, r.held) for r in rows] == [("110105", 1, 1), ("130102", 1, 1)]
        report = export_bank_files(db, "2025-09", "130102", tmp_path, actor=CLERK, clock=_clock)
        assert (report.files, report.still_held) == ((), 1)
        batch = read_accounts(EXAMPLES / "payments" / "accounts_sample.csv")
        import_accounts(db, batch, actor=CLERK, clock=_clock)
        report = export_bank_files(db, "2025-09", "130102", tmp_path, actor=CLERK, clock=_clock)
        assert report.released_from_hold == 1
        assert [(f.file_id, f.count, f.total_fen) for f in report.files] == [(1, 1, 120_000)]
        returned = tmp_path / "r1.csv"
        result = _reconcile(
            db,
            returned,
            "1,2,6210985000000000123,120000,failed,,A03,账户已销户",
            "1,2,6210985000000000123,120000,failed,,A03,账户已销户",
        )
        assert (result.failed, result.quarantined) == (0, 2)  # a duplicated row applies nothing
        result = _reconcile(
            db,
            returned,
            "1,2,6210985000000000123,120001,failed,,A03,x",
            "1,2,6210985000000000999,120000,failed,,A03,x",
        )
        reasons = [q.reason for q in result.quarantine]
        assert reasons[0] == "instruction 2 of file 1 appears 2 times (rows 2, 3); none was applied"
        result = _reconcile(db, returned, "1,2,6210985000000000123,120001,failed,,A03,x")
        assert [q.reason for q in result.quarantine] == ["120001 fen, but the file sent 120000"]
        result = _reconcile(db, returned, "1,2,6210985000000000123,120000,failed,,A03,账户已销户")
        assert result.failed == 1
        rows = payment_report(db, "2025-09", "130102")
        assert (rows[0].failed, rows[0].held) == (1, 0)
        # The next bank file sends the same instruction again: no second instruction.
        report = export_bank_files(db, "2025-09", "130102", tmp_path, actor=CLERK, clock=_clock)
        assert [(f.file_id, f.sequence, f.new) for f in report.files] == [
            (1, 1, False),
            (2, 2, True),
        ]
        result = _reconcile(db, returned, "2,2,6210985000000000123,120000,paid,2025-09-15,,")
        assert result.paid == 1
        rows = payment_report(db, "2025-09", "130102")
        # Paid on the 15th, after the 10th [I: payments.timeliness.paid_by_day]: late.
        assert (rows[0].deadline, rows[0].paid_on_time, rows[0].paid_late) == (
            dt.date(2025, 9, 10),
            0,
            1,
        )
        assert (rows[0].payable_fen, rows[0].paid_fen) == (120_000, 120_000)
        with db.sessions() as session:
            assert session.scalar(select(func.count()).select_from(PaymentInstruction)) == 2
            assert session.scalar(select(func.count()).select_from(BankFileItem)) == 2
            assert session.scalar(select(func.count()).select_from(BankFile)) == 2
            assert verify(session) == []
    finally:
        db.dispose()


def test_holds_through_the_cli(url: str, tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.csv"
    accounts.write_bytes((EXAMPLES / "payments" / "accounts_sample.csv").read_bytes())
    _run("payments", "accounts", "import", str(accounts), "--url", url, status=1)
    _run("payments", "roll", "--month", "2025-09", "--url", url)
    output = _run(
        "payments", "hold", "--household", "1", "--from-month", "2025-09",
        "--reason", "death reported by phone", "--url", url,
    )  # fmt: skip
    assert "hold 1: household 1, all programs from 2025-09" in output
    output = _run("payments", "holds", "--county", "110105", "--url", url)
    # The household head's identity number, masked; never in full.
    assert "hold 1: 110105 household H0001 (id 1), person 110***********0112; " in output
    assert "all programs from 2025-09; 1 instruction(s) held; manual" in output
    assert "110105198001010112" not in output
    assert "no payment hold stands" in _run("payments", "holds", "--county", "130102", "--url", url)
    output = _run("payments", "bank-file", "--month", "2025-09", "--county", "110105",
                  "--out", str(tmp_path / "bank"), "--url", url)  # fmt: skip
    assert "no payable instructions for 110105 up to 2025-09" in output
    assert "still 1 held: 1 payment hold" in output
    output = _run("payments", "report", "--month", "2025-09", "--county", "110105", "--url", url)
    assert (
        "held by a payment hold 1; held without an account 0; held, enrolment suspended 0; "
        in output
    )
    output = _run("payments", "release", "1", "--reason", "not confirmed", "--url", url)
    assert "hold 1 released: 1 instruction(s) payable again (next bank file)" in output
    output = _run("payments", "bank-file", "--month", "2025-09", "--county", "110105",
                  "--out", str(tmp_path / "bank"), "--url", url)  # fmt: skip
    assert "1 records, 800.00 yuan" in output
    result = CliRunner().invoke(app, ["payments", "release", "1", "--reason", "x", "--url", url])
    assert result.exit_code != 0
    assert "already released" in result.output


def test_a_dry_run_of_the_account_import_writes_nothing(url: str, tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.csv"
    title = "XX区2025年社保卡账户清单\n"  # a title row above the header, as offices add
    sample = (EXAMPLES / "payments" / "accounts_sample.csv").read_text(encoding="utf-8")
    accounts.write_text(title + sample, encoding="utf-8")
    output = _run("payments", "accounts", "import", str(accounts), "--url", url, "--dry-run",
                  status=1)  # fmt: skip
    assert "accounts.csv: header on row 2 (rows 1-1 above it ignored)" in output
    assert "read 8: imported 2, already recorded 0, quarantined 6" in output
    assert "row 5, household_no: unknown household 110105/H0009" not in output  # rows moved
    assert "row 6, household_no: unknown household 110105/H0009" in output
    assert "dry run: nothing was written" in output
    assert not (tmp_path / "accounts.quarantine.csv").exists()
    db = create_database(url)
    try:
        with db.sessions() as session:
            assert session.scalar(select(func.count()).select_from(PayeeAccount)) == 0
    finally:
        db.dispose()
