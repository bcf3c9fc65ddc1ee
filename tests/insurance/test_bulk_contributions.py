"""The bulk path of the contribution import (columns and COPY) against the row path: the same rows
accepted, quarantined and flagged for the same reasons, the same records written (SQLite and
PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from safetynet.audit.model import AuditEvent
from safetynet.db import bulk
from safetynet.db.engine import Database
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.insurance import bulk_contributions
from safetynet.insurance.bulk_contributions import (
    ImportBulkContributions,
    import_bulk_contributions,
    read_bulk_contributions,
    validate_bulk_contributions,
)
from safetynet.insurance.contribution_imports import read_contributions, validate_contributions
from safetynet.insurance.contributions import ContributionRecord
from tests.insurance.test_contributions import (
    AS_OF,
    CHINESE,
    HEAD,
    SPOUSE,
    UNKNOWN,
    W,
    load_people,
    row,
    run,
    write,
)
from tests.registry.helpers import ACTOR

HEADERS = [*CHINESE, "个人账户记账额", "姓名"]


def _messy_rows() -> list[list[str]]:
    rows = [
        row(month="2025-01"),  # 2: good
        row(who=UNKNOWN),  # 3: no such person in the registry
        row(month="2025-13"),  # 4: not a month
        row(month="2025-04", base="10000"),  # 5: overlap with 6 (other base)
        row(month="2025-04", base="12000", employer="1920", individual="960"),  # 6
        row(month="2025-05"),  # 7: fine
        row(month="2025-05"),  # 8: exact repeat of 7
        row(month="1995-12"),  # 9: before the head turned 16
        row(month="2025-10"),  # 10: after the import date
        row(month="2025-06", base="3000", employer="480", individual="240"),  # 11: below floor
        row(month="2025-07", employer="0", individual="0"),  # 12: no contribution
        [*row(month="2025-07", scheme="工伤", employer="50", individual="0"), "10"],  # 13
        row(month="2025-08", base="-5"),  # 14: negative
        row(month="2025-08", scheme="生育"),  # 15: unknown scheme
        row(month="2025-08", base=""),  # 16: base required for the employee pension
        row(who=SPOUSE, month="2025-08", scheme="居民养老", base="", employer="0", individual="500"),
        # Cells the row reader cleans up or reads in other forms: the row validator decides them.
        row(who=f" {HEAD.lower()} ", month="2024/3"),  # 18: spaces, lower-case x, other month form
        row(month="2024-04", base="１０，０００", employer="1,600"),  # 19: full-width, separators
        row(who=HEAD[:17] + ("1" if HEAD[17] != "1" else "2"), month="2024-05"),  # 20: check char
        row(month="2024-06", region="999999"),  # 21: unknown region
        [*row(month="2024-07"), "", "张\x07三"],  # 22: a control character in the name
        row(month="2024-08", employer="1600.001"),  # 23: more than 2 decimals
        row(who="", month="2024-09"),  # 24: no identity number
        [*row(month="2024-10", scheme="职工医保"), "300"],  # 25: medical, credit given
        row(month="2024-11", scheme="employee_medical", base="30000", employer="1", individual="1"),
        ["", "", "", "", "", "", "", ""],  # 27: an empty row (skipped, counted by neither path)
        row(who=SPOUSE, month="2024-12", scheme="失业", base="9000", employer="90", individual="45"),
    ]  # fmt: skip
    return [r + [""] * (len(HEADERS) - len(r)) for r in rows]


def _lines(lines: Any) -> list[tuple[int, str, str, tuple[str, ...]]]:
    return [(q.row, q.field, q.reason, tuple(q.cells)) for q in lines]


@pytest.mark.parametrize("overrides", [W, {}], ids=["clamp", "no-average-wage"])
@pytest.mark.parametrize("out_of_clamp", ["quarantine", "flag"])
def test_validation_gives_the_row_validators_answer_for_every_row(
    tmp_path: Path, overrides: dict[str, Any], out_of_clamp: Any
) -> None:
    path = write(tmp_path / "c.csv", _messy_rows(), HEADERS)
    frame = read_bulk_contributions(path)
    assert frame is not None
    checks: dict[str, Any] = {"as_of": AS_OF, "overrides": overrides, "out_of_clamp": out_of_clamp}
    bulk = validate_bulk_contributions(frame, **checks)
    rows = validate_contributions(read_contributions(path), **checks)
    assert _lines(bulk.quarantine) == _lines(rows.quarantine)
    assert _lines(bulk.flagged) == _lines(rows.flagged)
    assert bulk.read == rows.read
    assert bulk.rows.rows() == [
        (r.row, r.id_number, r.scheme, r.month, *r.values) for r in rows.rows
    ]
    assert len(rows.quarantine) > 10  # the file exercises the quarantine


def test_files_the_bulk_reader_leaves_to_the_row_reader(tmp_path: Path) -> None:
    titled = tmp_path / "titled.csv"
    titled.write_text("某某县2025年缴费明细\n" + write(tmp_path / "x.csv", [row()]).read_text())
    assert read_bulk_contributions(titled) is None  # a title above the header
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(write(tmp_path / "y.csv", [row()]).read_text().encode("gb18030"))
    assert read_bulk_contributions(gbk) is None  # not UTF-8
    ragged = write(tmp_path / "r.csv", [[*row(), "", "", "extra"]], HEADERS)
    assert read_bulk_contributions(ragged) is None  # more cells than the header


def _bulk(db: Database, path: Path, clock: Callable[[], Any]) -> Any:
    frame = read_bulk_contributions(path)
    assert frame is not None
    batch = validate_bulk_contributions(frame, as_of=AS_OF, overrides=W)
    with UnitOfWork(db.sessions) as uow:
        report = import_bulk_contributions(
            ImportBulkContributions(batch, ACTOR, path.name), uow, clock
        )
    return report, batch


def _records(db: Database) -> list[tuple[Any, ...]]:
    with db.sessions() as session:
        records = session.scalars(select(ContributionRecord).order_by(ContributionRecord.id))
        return [
            (r.person_id, r.scheme, r.region_code, r.month, r.base_fen, r.employer_fen,
             r.individual_fen, r.account_credit_fen)
            for r in records
        ]  # fmt: skip


def test_the_bulk_import_writes_what_the_row_import_writes_and_nothing_twice(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], dt.datetime]
) -> None:
    load_people(database, tmp_path, fixed_clock)
    path = write(tmp_path / "c.csv", _messy_rows(), HEADERS)
    report, batch = _bulk(database, path, fixed_clock)
    written = _records(database)
    assert report.created == len(written) == report.accepted
    why = {q.row: f"{q.field}: {q.reason}" for q in batch.quarantine}
    assert (
        why[3]
        == f"id_number: {UNKNOWN[:3]}***********{UNKNOWN[-4:]} is not in the registry: import the person's household first"
    )
    assert "overlap: rows 5, 6" in why[5]
    assert 2 not in why
    assert report.quarantined == len(why)
    with database.sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "ContributionsImported")
        ).one()
        assert event.after is not None
        assert event.after["created"] == report.created
        assert len(event.after["rows_sha256"]) == 64

    # The row path finds every record already there, and refuses the same rows.
    again, rows_batch = run(database, path, fixed_clock)
    assert (again.created, again.unchanged) == (0, report.created)
    assert _lines(rows_batch.quarantine) == _lines(batch.quarantine)
    # The bulk path again: nothing twice, no second audit entry.
    third, third_batch = _bulk(database, path, fixed_clock)
    assert (third.created, third.unchanged, third.persons) == (0, report.created, report.persons)
    assert _lines(third_batch.quarantine) == _lines(batch.quarantine)
    assert _records(database) == written


def test_a_month_recorded_with_other_values_is_refused_by_the_bulk_import(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], dt.datetime]
) -> None:
    load_people(database, tmp_path, fixed_clock)
    _bulk(database, write(tmp_path / "a.csv", [row(month="2025-01")]), fixed_clock)
    changed = row(month="2025-01", base="12000", employer="1920", individual="960")
    report, batch = _bulk(database, write(tmp_path / "b.csv", [changed]), fixed_clock)
    assert (report.created, report.quarantined) == (0, 1)
    assert batch.quarantine[0].reason.startswith(
        "overlap: employee_pension for 2025-01 is already recorded with other values "
        "(region 110105, base 10000.00"
    )
    elsewhere = row(month="2025-01", region="310115")
    report, batch = _bulk(database, write(tmp_path / "c.csv", [elsewhere]), fixed_clock)
    assert "already recorded in region 110105" in batch.quarantine[0].reason


def test_a_large_import_checks_the_foreign_keys_once_and_leaves_them_in_place(
    database: Database,
    tmp_path: Path,
    fixed_clock: Callable[[], dt.datetime],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every import counts as large here: on PostgreSQL the keys are dropped and added again;
    # the file is checked and sent to the database a few rows at a time.
    monkeypatch.setattr(bulk_contributions, "SET_BASED_FROM", 1)
    monkeypatch.setattr(bulk_contributions, "CHUNK_ROWS", 4)
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 3)
    load_people(database, tmp_path, fixed_clock)
    path = write(tmp_path / "c.csv", _messy_rows(), HEADERS)
    report, batch = _bulk(database, path, fixed_clock)
    assert report.created == len(_records(database)) > 5
    rows = validate_contributions(read_contributions(path), as_of=AS_OF, overrides=W)
    assert _lines(batch.flagged) == _lines(rows.flagged)
    assert {q.row for q in batch.quarantine} == {q.row for q in rows.quarantine} | {3}
    with database.sessions() as session:
        person = session.scalars(select(ContributionRecord.person_id)).first()
        record = {"person_id": person, "region_code": "110105"}
        if database.engine.dialect.name == "postgresql":
            keys = session.execute(
                text(
                    "SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f' "
                    "AND conrelid = 'contribution_records'::regclass ORDER BY conname"
                )
            ).all()
            assert keys == [
                ("fk_contribution_records_person_id_persons", True),
                ("fk_contribution_records_region_code_regions", True),
            ]
    # The keys still refuse a record of no person and of no region.
    for wrong in ({"person_id": 10**9}, {"region_code": "999998"}):
        with database.sessions() as session:
            session.add(
                ContributionRecord(
                    **(record | wrong),
                    scheme="employee_pension",
                    month="2020-01",
                    base_fen=0,
                    employer_fen=1,
                    individual_fen=0,
                    account_credit_fen=0,
                    recorded_at=fixed_clock(),
                )
            )
            with pytest.raises(IntegrityError):
                session.flush()
