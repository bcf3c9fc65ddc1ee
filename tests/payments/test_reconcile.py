"""Bank return files typed or damaged: every bad cell is a quarantined row, on each backend."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from safetynet.audit.log import Actor
from safetynet.db.engine import Database
from safetynet.payments.model import BankReturn
from safetynet.payments.reconcile import reconcile_return_file

CLERK = Actor("tester", "payments_clerk")
HEADERS = ["file_id", "instruction_id", "account", "amount_fen", "result", "booked_on"]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    return path


def test_ids_and_amounts_beyond_the_columns_are_quarantined_not_crashing(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], dt.datetime]
) -> None:
    account = "6212260200012345678"
    path = _write(
        tmp_path / "return.csv",
        [
            [str(2**31), "1", account, "100", "paid", "2025-09-14"],  # beyond PostgreSQL int4
            ["1", "1²", account, "100", "paid", "2025-09-14"],  # a superscript digit
            ["1", "2", account, str(2**63), "paid", "2025-09-14"],  # beyond bigint fen
            ["1", "3", account, "100", "paid", "2025-13-01"],  # not a date: booked_on, no other
            ["1", "4", account, "100", "paid", "2025-09-14"],  # well formed, unknown
        ],
    )
    report = reconcile_return_file(database, path, actor=CLERK, clock=fixed_clock)
    fields = {q.row: q.field for q in report.quarantine}
    assert fields == {
        2: "file_id",
        3: "instruction_id",
        4: "amount_fen",
        5: "booked_on",
        6: "instruction_id",
    }
    assert report.read == report.paid + report.failed + report.already_reconciled + 5


def test_a_dry_run_checks_everything_and_writes_nothing(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], dt.datetime]
) -> None:
    path = _write(
        tmp_path / "r.csv", [["1", "4", "6212260200012345678", "1", "paid", "2025-09-14"]]
    )
    report = reconcile_return_file(database, path, actor=CLERK, clock=fixed_clock, dry_run=True)
    assert [q.reason for q in report.quarantine] == ["unknown instruction 4"]
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(BankReturn)) == 0
