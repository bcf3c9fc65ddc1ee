"""The household list checked by column and the new households inserted set-based: the same
households and quarantine as the row validator, the same rows as the row writer, one audit entry
per county (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from safetynet.audit.log import verify
from safetynet.audit.model import AuditEvent
from safetynet.bootstrap import bootstrap
from safetynet.db import bulk
from safetynet.db.engine import Database, create_database
from safetynet.intake import NullProgress
from safetynet.registry import bulk_households
from safetynet.registry.bulk_households import read_frame, validate_frame
from safetynet.registry.handlers import ImportHouseholds, _Writer
from safetynet.registry.imports import read_table, validate
from safetynet.registry.model import Asset, Household, IncomeItem, Membership, Person
from tests.registry.helpers import ACTOR, HEADERS, family, id_number, run_import, write_csv
from tests.registry.test_imports import CASES, SAMPLE

Clock = Callable[[], dt.datetime]
MORE = [*HEADERS, "sex", "has_serious_illness", "statistical_code", "vehicles", "property_area"]


def _messy(tmp_path: Path) -> Path:
    rows: list[dict[str, str]] = []
    for i, (_, good, bad, _, _) in enumerate(CASES):
        good_family, bad_family = family(f"G{i}", 100 + 4 * i), family(f"B{i}", 102 + 4 * i)
        good_family[1].update(good)
        bad_family[1].update(bad)
        if bad.get("id_number") == id_number("19800101", 21):
            bad_family[1]["id_number"] = bad_family[0]["id_number"]
        rows += good_family + bad_family
    head = id_number("19700101", 301)
    rows += [
        # Cells the row reader cleans up: spaces, a lower-case x, full-width letters.
        {**family("Ｘ1", 401)[0], "name": " 王五 ", "sex": "男", "vehicles": "1"},
        {**family("Ｘ1", 401)[1], "id_number": f" {family('X', 402)[1]['id_number'].lower()}"},
        # A wage without a month (quarantined without --month), a sex the number contradicts.
        {**family("W1", 411)[0], "wage_income": "3000"},
        {**family("S1", 421)[0], "sex": "女"},
        # One person in two households of the file; a control character in a name.
        {**family("P1", 431)[0], "id_number": head},
        {**family("P2", 441)[0], "id_number": head},
        {**family("C1", 451)[0], "name": "赵\x07六"},
        {**family("A1", 461)[0], "property_area": "65.50", "statistical_code": "110105001001",
         "has_serious_illness": "是"},
        {**family("A1", 461)[1], "property_area": "12.5"},
    ]  # fmt: skip
    return write_csv(tmp_path / "messy.csv", rows, MORE)


def _shape(batch: Any) -> tuple[Any, ...]:
    return (
        batch.read,
        batch.households,
        [(q.row, q.field, q.reason, tuple(q.cells)) for q in batch.quarantine],
    )


@pytest.mark.parametrize("month", [None, "2025-08"])
def test_checked_by_column_or_row_by_row_the_same_households_and_reasons(
    tmp_path: Path, month: str | None
) -> None:
    path = _messy(tmp_path)
    frame = read_frame(path, None, None)
    assert frame is not None
    by_columns = validate_frame(frame, month=month, as_of=dt.date(2025, 9, 1))
    by_rows = validate(read_table(path), month=month, as_of=dt.date(2025, 9, 1))
    assert _shape(by_columns) == _shape(by_rows)
    assert len(by_rows.households) > len(CASES)
    assert len(by_rows.quarantine) > len(CASES)


def test_the_sample_file_is_left_whole_to_the_row_reader_only_when_it_must_be(
    tmp_path: Path,
) -> None:
    assert read_frame(SAMPLE, None, None) is not None
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(SAMPLE.read_text(encoding="utf-8").encode("gb18030"))
    assert read_frame(gbk, None, None) is None


def _table_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.sessions() as session:
        return {
            "households": sorted(
                session.execute(
                    select(Household.region_code, Household.household_no, Household.hukou_type,
                           Household.statistical_code)
                ).all()
            ),
            "persons": sorted(
                session.execute(
                    select(Person.id_number, Person.name, Person.sex, Person.birth_date,
                           Person.hukou_region_code, Person.hukou_type, Person.labour_capacity,
                           Person.disability_category, Person.disability_grade,
                           Person.has_serious_illness, Person.self_care_items_failed,
                           Person.schooling, Person.employment)
                ).all()
            ),
            "memberships": sorted(
                session.execute(
                    select(Person.id_number, Household.household_no, Membership.relation,
                           Membership.start_date, Membership.end_date)
                    .join(Person, Person.id == Membership.person_id)
                    .join(Household, Household.id == Membership.household_id)
                ).all()
            ),
            "income": sorted(
                session.execute(
                    select(Person.id_number, IncomeItem.kind, IncomeItem.month, IncomeItem.amount_fen)
                    .join(Person, Person.id == IncomeItem.person_id)
                ).all()
            ),
            "assets": sorted(
                session.execute(
                    select(Household.household_no, Asset.kind, Asset.source, Asset.description,
                           Asset.value_fen, Asset.count, Asset.area_dm2)
                    .join(Household, Household.id == Asset.household_id)
                ).all()
            ),
        }  # fmt: skip


def test_new_households_are_written_as_the_row_writer_writes_them_and_audited_per_county(
    database: Database, fixed_clock: Clock
) -> None:
    report, _ = run_import(database, SAMPLE, fixed_clock)  # both households are new
    assert (report.households_created, report.persons_created) == (2, 7)
    bulk = _table_rows(database)
    with database.sessions() as session:
        entries = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.event == "HouseholdsRegisteredInBulk")
            .order_by(AuditEvent.entity_id)
        ).all()
        assert [(e.entity, e.entity_id) for e in entries] == [
            ("region", "110105"),
            ("region", "130102"),
        ]
        after = entries[0].after
        assert after is not None
        assert (after["households"], after["persons"], after["memberships"]) == (1, 4, 4)
        assert (after["income_items"], after["assets"]) == (2, 3)  # securities 0: no row
        assert len(after["rows_sha256"]) == 64
        per_entity = session.scalar(
            select(func.count()).where(AuditEvent.event.in_(["PersonRegistered", "MemberJoined"]))
        )
        assert per_entity == 0
        assert verify(session) == []

    # A file whose households exist goes through the row writer: nothing changes.
    again, _ = run_import(database, SAMPLE, fixed_clock)
    assert (again.households_unchanged, again.persons_unchanged) == (2, 7)
    assert _table_rows(database) == bulk


def test_the_rows_written_are_the_row_writers(
    database: Database, sqlite_template: Path, tmp_path: Path, fixed_clock: Clock
) -> None:
    run_import(database, SAMPLE, fixed_clock)  # new households: the bulk path
    copy = tmp_path / "row-writer.db"
    shutil.copyfile(sqlite_template, copy)
    other = create_database(f"sqlite:///{copy}")
    try:
        batch = validate(read_table(SAMPLE))
        command = ImportHouseholds(batch, ACTOR, dt.date(2025, 9, 1), SAMPLE.name)
        with bootstrap(other).unit_of_work() as uow:
            _Writer(uow, command, fixed_clock(), NullProgress()).run()  # every row by the ORM
            uow.commit()
        assert _table_rows(database) == _table_rows(other)
    finally:
        other.dispose()


def test_an_import_mixing_new_and_registered_households(
    database: Database, tmp_path: Path, fixed_clock: Clock
) -> None:
    first = family("H1", 11)
    run_import(database, write_csv(tmp_path / "a.csv", first), fixed_clock)
    changed = [dict(first[0], name="改名"), first[1], *family("H2", 21)]
    report, batch = run_import(database, write_csv(tmp_path / "b.csv", changed), fixed_clock)
    assert (report.households_created, report.households_updated) == (1, 1)
    assert (report.persons_created, report.persons_updated) == (2, 1)
    with database.sessions() as session:
        names = dict(session.execute(select(Person.id_number, Person.name)).all())
        assert names[first[0]["id_number"]] == "改名"
        updated = session.scalar(select(func.count()).where(AuditEvent.event == "PersonUpdated"))
        assert updated == 1
        assert verify(session) == []
    # A person of a registered household in a new household of the file: the row writer
    # quarantines the new household, as before.
    moved = [dict(first[1], household_no="H3", relation="head")]
    report, batch = run_import(database, write_csv(tmp_path / "c.csv", moved), fixed_clock)
    assert report.households_created == 0
    assert "is already a member of household 110105/H1" in batch.quarantine[0].reason


def test_a_large_import_checks_the_foreign_keys_once_and_leaves_them_in_place(
    database: Database, fixed_clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every import counts as large here: on PostgreSQL the written tables' keys are dropped and
    # added again; the rows go to the database two at a time.
    monkeypatch.setattr(bulk_households, "SET_BASED_FROM", 1)
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 2)
    monkeypatch.setattr(bulk, "BATCH", 2)
    report, _ = run_import(database, SAMPLE, fixed_clock)
    assert (report.households_created, report.persons_created) == (2, 7)
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Membership)) == 7
        assert (session.scalar(select(func.count()).select_from(Asset)) or 0) > 0
        if database.engine.dialect.name == "postgresql":
            keys = session.execute(
                text(
                    "SELECT conrelid::regclass::text, count(*), bool_and(convalidated) "
                    "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(CAST(:t AS regclass[])) "
                    "GROUP BY 1 ORDER BY 1"
                ),
                {"t": list(bulk_households._CHILD_TABLES)},
            ).all()
            assert keys == [
                ("assets", 1, True),
                ("household_facts", 1, True),
                ("households", 1, True),
                ("income_items", 1, True),
                ("memberships", 2, True),
                ("person_facts", 1, True),
                ("persons", 1, True),
            ]
            # The ids were taken from the sequences as one block each: the next id a clerk's
            # insert gets follows the import's, never one of them.
            for table, model in (("persons", Person), ("households", Household)):
                last = session.scalar(text(f"SELECT last_value FROM {table}_id_seq"))
                assert last == session.scalar(select(func.max(model.id)))
                ids = session.scalars(select(model.id)).all()
                assert max(ids) - min(ids) + 1 == len(ids)
        household = session.scalars(select(Household.id)).first()
    # The keys still refuse a membership of no person.
    orphan = Membership(
        person_id=10**9, household_id=household, relation="child", start_date=dt.date(2025, 9, 1)
    )
    with database.sessions() as session:
        session.add(orphan)
        with pytest.raises(IntegrityError):
            session.commit()
