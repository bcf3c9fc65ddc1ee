"""Importing payee accounts through the bulk path, on SQLite and PostgreSQL: the same rows
quarantined for the same reasons, nothing stored twice, one audit entry naming what was written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from safetynet.audit.model import AuditEvent
from safetynet.db.engine import Database
from safetynet.payments.accounts import import_accounts, read_accounts
from safetynet.payments.model import PayeeAccount
from tests.payments.helpers import planned_rows
from tests.registry.helpers import run_import

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = dt.datetime(2025, 9, 2, 9, 0, tzinfo=dt.UTC)


def _clock() -> dt.datetime:
    return NOW


def _registry(db: Database, tmp_path: Path) -> Path:
    """The two sample households in the registry, members from 2024-01-01; the account file."""
    households = tmp_path / "households.csv"
    households.write_bytes((EXAMPLES / "registry" / "households_sample.csv").read_bytes())
    run_import(db, households, _clock)
    accounts = tmp_path / "accounts.csv"
    accounts.write_bytes((EXAMPLES / "payments" / "accounts_sample.csv").read_bytes())
    return accounts


def _import(
    db: Database, path: Path, dry_run: bool = False
) -> tuple[object, list[tuple[int, str, str]]]:
    from safetynet.audit.log import Actor

    batch = read_accounts(path)
    report = import_accounts(
        db, batch, actor=Actor("clerk", "payments_clerk"), clock=_clock, dry_run=dry_run
    )
    return report, [(q.row, q.field, q.reason) for q in report.quarantine]


def test_the_sample_file_quarantines_the_same_rows_for_the_same_reasons(
    database: Database, tmp_path: Path
) -> None:
    accounts = _registry(database, tmp_path)
    report, lines = _import(database, accounts)
    assert (report.read, report.imported, report.already_recorded) == (8, 2, 0)  # type: ignore[attr-defined]
    masked_holder = "130***********0139"
    assert lines == [
        (4, "holder_id_number",
         f"{masked_holder} is not a member of household 110105/H0001 while the account is valid"),
        (5, "household_no", "unknown household 110105/H0009"),
        (6, "account_number", "6210********0123 has characters other than digits"),
        (7, "bank_code", "bank category 999 is not in the list of card-issuing banks"),
        (8, "valid_from",
         "household 130102/H0002 has 2 accounts from 2025-06-01 in this file (rows 8, 9)"),
        (9, "valid_from",
         "household 130102/H0002 has 2 accounts from 2025-06-01 in this file (rows 8, 9)"),
    ]  # fmt: skip
    with database.sessions() as session:
        stored = session.scalars(select(PayeeAccount).order_by(PayeeAccount.id)).all()
        assert [(a.bank_code, a.account_number, a.valid_from) for a in stored] == [
            ("102100099996", "6212260200012345678", dt.date(2025, 1, 1)),
            ("403", "6210985000000000123", dt.date(2025, 1, 1)),
        ]
        assert stored[0].created_at.replace(tzinfo=dt.UTC) == NOW
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "payee_accounts_imported")
        ).one()
        assert audit.after is not None
        assert audit.after["imported"] == 2
        assert len(audit.after["rows_sha256"]) == 64

    # Again: nothing twice, the same quarantine; the digest says nothing new was written.
    again, lines_again = _import(database, accounts)
    assert (again.imported, again.already_recorded) == (0, 2)  # type: ignore[attr-defined]
    assert lines_again == lines


def test_a_different_account_from_a_recorded_day_is_refused_and_a_dry_run_writes_nothing(
    database: Database, tmp_path: Path
) -> None:
    accounts = _registry(database, tmp_path)
    first = tmp_path / "first.csv"
    first.write_text("\n".join(accounts.read_text(encoding="utf-8").splitlines()[:2]) + "\n")
    _import(database, first)
    changed = tmp_path / "changed.csv"
    header, row = first.read_text().splitlines()
    changed.write_text(f"{header}\n{row.replace('6212260200012345678', '6212260200012349999')}\n")
    report, lines = _import(database, changed, dry_run=True)
    assert lines == [
        (2, "valid_from",
         "household 110105/H0001 already has account 6212***********5678 from 2025-01-01; "
         "a different account needs a different valid_from"),
    ]  # fmt: skip
    with database.sessions() as session:
        assert len(session.scalars(select(PayeeAccount)).all()) == 1
    # A dry run of a new account checks everything and leaves nothing behind.
    later = tmp_path / "later.csv"
    later.write_text(f"{header}\n{row.replace('2025-01-01', '2025-07-01')}\n")
    report, lines = _import(database, later, dry_run=True)
    assert report.imported == 1  # type: ignore[attr-defined]
    assert lines == []
    with database.sessions() as session:
        assert len(session.scalars(select(PayeeAccount)).all()) == 1


def test_read_as_columns_or_row_by_row_the_same_rows_are_accepted_and_refused(
    tmp_path: Path,
) -> None:
    sample = (EXAMPLES / "payments" / "accounts_sample.csv").read_text(encoding="utf-8")
    holder = "110105198001010112"
    extra = [
        f" 110105 , H0003 ,{holder.lower()} ,张伟,102,6212 2602 0001 2345 678,2025/1/1,",
        f"110105,H0004,{holder},张\x07伟,102,6212260200012345678,2025-01-01,",
        f"110105,H0005,{holder},张伟,102,6212260200012345678,2025-05-01,2025-04-30",
        f"999999,H0006,{holder},张伟,102,6212260200012345678,2025-01-01,",
        f"110105,H0007,{holder[:17]}3,张伟,102,6212260200012345678,2025-01-01,",
        "110105,H0008,110105800101011,张伟,102,6212260200012345678,2025-01-01,",
        ",,,,,,,",
        f"110105,,{holder},张伟,102,6212260200012345678,2025-01-01,   ",
        f"110105,H0010,{holder},张伟,102,6212260200012345678,1800-01-01,",
        f"110105,H0011,{holder},张伟,102,6212260200012345678,2025-02-01,2025-12-31",
    ]
    text = sample + "\n".join(extra) + "\n"
    plain = tmp_path / "plain.csv"
    plain.write_text(text, encoding="utf-8")
    gbk = tmp_path / "gbk.csv"  # not UTF-8: read row by row
    gbk.write_bytes(text.encode("gb18030"))
    by_columns, by_rows = read_accounts(plain), read_accounts(gbk)
    assert by_columns.sheet is not None
    assert by_columns.sheet.encoding == "utf-8"
    assert by_rows.sheet is not None
    assert by_rows.sheet.encoding == "gb18030"
    assert by_columns.read == by_rows.read == 17
    assert by_columns.rows == by_rows.rows
    assert [(q.row, q.field, q.reason, q.cells) for q in by_columns.quarantine] == [
        (q.row, q.field, q.reason, q.cells) for q in by_rows.quarantine
    ]
    assert {q.row for q in by_columns.quarantine} >= {11, 12, 13, 14, 17, 18}
    assert 10 in {r.row for r in by_columns.rows}  # spaces, a lower-case x, 2025/1/1: accepted


def test_the_planner_knows_the_imported_accounts(database: Database, tmp_path: Path) -> None:
    """The roll and the bank files look accounts up by household; planned as the empty table it
    was before the import, a county's lookup read every account in the registry (1 s a county
    at 10 M persons, where autovacuum is off or has not come by yet; ADR 0035)."""
    accounts = _registry(database, tmp_path)
    _import(database, accounts)
    if database.dialect != "postgresql":
        return
    assert planned_rows(database, "payee_accounts") == 2
