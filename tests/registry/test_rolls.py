"""Importing a program's current roll (保障名册) as enrolments."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from safetynet.audit.model import AuditEvent
from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database
from safetynet.entrypoints.cli.main import app as cli
from safetynet.registry.model import Enrolment, EnrolmentHistory
from safetynet.registry.rolls import ImportRoll, RollImportReport, read_roll, validate_roll
from tests.registry.helpers import (
    ACTOR,
    cli_registry_with_household,
    count,
    family,
    run_import,
    write_csv,
)

Clock = Callable[[], Any]
ROLL_HEADERS = ["户编号", "户籍地", "项目", "月保障金额", "起始日期"]


def _roll(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ROLL_HEADERS)
        writer.writerows(rows)
    return path


def _import(db: Database, path: Path, clock: Clock) -> tuple[RollImportReport, Any]:
    roll = validate_roll(read_roll(path), dt.date(2025, 9, 1))
    bus = bootstrap(db, clock=clock)
    with bus.unit_of_work() as uow:
        report = bus.handle(ImportRoll(roll, ACTOR, path.name), uow)
    return report, roll


def test_a_roll_enrols_registered_households_and_quarantines_the_rest(
    database: Database, fixed_clock: Clock, tmp_path: Path
) -> None:
    households = write_csv(tmp_path / "h.csv", family("H1", 11) + family("H2", 21))
    run_import(database, households, fixed_clock)
    roll = _roll(
        tmp_path / "roll.csv",
        [
            ["H1", "110105", "城乡低保", "1,150.00", "2025-03-01"],  # Chinese title
            ["H2", "110105", "dibao", "800", "2025-09-01"],  # program id
            ["H2", "110105", "低保补贴", "800", "2025-09-01"],  # no such program
            ["H3", "110105", "dibao", "800", "2025-09-01"],  # not in the registry
            ["H1", "110105", "tekun", "-5", "2025-09-01"],  # negative amount
            ["H2", "110105", "tekun", "300", "2025-02-30"],  # not a real date
        ],
    )
    report, validated = _import(database, roll, fixed_clock)
    assert report.enrolled == {"dibao": 2}
    assert report.quarantined == 4
    reasons = {(q.row, q.field): q.reason for q in validated.quarantine}
    assert set(reasons) == {(4, "program"), (5, "household_no"), (6, "amount"), (7, "start_date")}
    assert "not in the registry" in reasons[(5, "household_no")]
    assert "negative" in reasons[(6, "amount")]
    with database.sessions() as session:
        amounts = sorted(session.scalars(select(Enrolment.amount_fen)))
    assert amounts == [80_000, 115_000]
    assert count(database, EnrolmentHistory) == 2


def test_importing_the_roll_again_changes_nothing_and_a_new_amount_is_a_new_version(
    database: Database, fixed_clock: Clock, tmp_path: Path
) -> None:
    run_import(database, write_csv(tmp_path / "h.csv", family("H1", 11)), fixed_clock)
    roll = _roll(tmp_path / "roll.csv", [["H1", "110105", "dibao", "1150", "2025-03-01"]])
    _import(database, roll, fixed_clock)
    audited = count(database, AuditEvent)
    again, _ = _import(database, roll, fixed_clock)
    assert (again.enrolled, again.changed, again.already_present) == ({}, 0, 1)
    assert count(database, AuditEvent) == audited  # nothing written, nothing audited
    raised = _roll(tmp_path / "raised.csv", [["H1", "110105", "dibao", "1200", "2025-03-01"]])
    changed, _ = _import(database, raised, fixed_clock)
    assert changed.changed == 1
    with database.sessions() as session:
        enrolment = session.scalars(select(Enrolment)).one()
        reasons = list(session.scalars(select(EnrolmentHistory.reason)))
    assert (enrolment.amount_fen, enrolment.version) == (120_000, 2)
    assert reasons == ["roll import", "roll import"]


def test_a_household_listed_twice_for_a_program_is_quarantined_twice(tmp_path: Path) -> None:
    roll = _roll(
        tmp_path / "roll.csv",
        [
            ["H1", "110105", "dibao", "1150", "2025-03-01"],
            ["H1", "110105", "低保", "900", "2025-04-01"],
        ],
    )
    validated = validate_roll(read_roll(roll), dt.date(2025, 9, 1))
    assert validated.entries == []
    assert [(q.row, q.field) for q in validated.quarantine] == [
        (2, "household_no"),
        (3, "household_no"),
    ]
    assert "listed for dibao more than once (rows 2, 3)" in validated.quarantine[0].reason


def test_cli_import_roll_writes_the_quarantine_and_exits_1(tmp_path: Path) -> None:
    runner = CliRunner()
    url = cli_registry_with_household(runner, tmp_path)
    roll = _roll(
        tmp_path / "roll.csv",
        [
            ["H1", "110105", "dibao", "1150", "2025-03-01"],
            ["H9", "110105", "dibao", "800", "2025-09-01"],
        ],
    )
    result = runner.invoke(cli, ["import", "roll", str(roll), "--url", url])
    assert result.exit_code == 1, result.output
    assert "enrolled 1 dibao" in result.stdout
    assert "1 quarantined" in result.stdout
    lines = (tmp_path / "roll.quarantine.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[1].startswith("3,household_no,")
