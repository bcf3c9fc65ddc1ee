"""Set-at-a-time writes (``db.bulk``): rows sent as arrays and rows sent by COPY give the same
result, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
    text,
)

from safetynet.db import bulk
from safetynet.db.bulk import insert_new, update_rows
from safetynet.db.engine import Database

METADATA = MetaData()
SCRATCH = Table(
    "bulk_scratch",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("household_id", Integer, nullable=False),
    Column("month", String(7), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("note", Text),
    Column("due_on", Date),
    Column("created_at", DateTime(timezone=True)),
    Column("award_id", Integer),
    Index(
        "uq_bulk_scratch_key",
        "household_id",
        "month",
        unique=True,
        sqlite_where=text("award_id IS NULL"),
        postgresql_where=text("award_id IS NULL"),
    ),
)
NOW = dt.datetime(2025, 9, 1, 8, 0, tzinfo=dt.UTC)
NOTES = [None, "", "plain", 'a "quoted", comma', "line\nbreak", "中文"]


@pytest.fixture
def scratch(database: Database) -> Iterator[Database]:
    METADATA.create_all(database.engine)
    try:
        yield database
    finally:
        METADATA.drop_all(database.engine)


def _rows(households: range) -> list[dict[str, Any]]:
    return [
        {
            "household_id": h,
            "month": "2025-09",
            "amount_fen": 1_000 * h,
            "note": NOTES[h % len(NOTES)],
            "due_on": None if h % 3 == 0 else dt.date(2025, 9, h % 28 + 1),
            "created_at": NOW,
        }
        for h in households
    ]


def _stored(db: Database) -> list[Any]:
    with db.sessions() as session:
        rows = session.execute(select(SCRATCH).order_by(SCRATCH.c.id)).all()
    return [tuple(r) for r in rows]


def _insert(db: Database, rows: list[dict[str, Any]]) -> list[Any]:
    with db.sessions.begin() as session:
        made = insert_new(
            session,
            SCRATCH,
            rows,
            ("household_id", "month"),
            SCRATCH.c.id,
            SCRATCH.c.household_id,
            index_where="award_id IS NULL",
        )
    return [tuple(r) for r in made]


@pytest.mark.parametrize("copy_from", [1, 10**9], ids=["copy", "arrays"])
def test_insert_new_skips_existing_keys_and_keeps_the_order_given(
    scratch: Database, monkeypatch: pytest.MonkeyPatch, copy_from: int
) -> None:
    monkeypatch.setattr(bulk, "COPY_FROM", copy_from)
    first = _insert(scratch, _rows(range(1, 301)))
    assert [h for _, h in first] == list(range(1, 301))
    assert [i for i, _ in first] == sorted(i for i, _ in first)  # ids follow the order given
    # again, with 300 new ones among them in descending order: only those go in, in that order
    again = _insert(scratch, list(reversed(_rows(range(1, 601)))))
    assert [h for _, h in again] == list(range(600, 300, -1))
    stored = _stored(scratch)
    assert len(stored) == 600
    by_household = {row[1]: row for row in stored}
    assert by_household[7][4] == NOTES[7 % len(NOTES)]  # a quoted note with a comma
    assert by_household[6][4] is None  # NULL stays NULL, "" stays ""
    assert by_household[13][4] == ""
    assert by_household[9][5] is None
    assert by_household[10][5] == dt.date(2025, 9, 11)
    assert by_household[600][6] is not None


def test_insert_by_copy_and_by_arrays_store_the_same_rows(
    scratch: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = []
    for copy_from in (1, 10**9):
        monkeypatch.setattr(bulk, "COPY_FROM", copy_from)
        _insert(scratch, _rows(range(1, 51)))
        results.append([row[1:] for row in _stored(scratch)])
        with scratch.sessions.begin() as session:
            session.execute(SCRATCH.delete())
    assert results[0] == results[1]


@pytest.mark.parametrize("copy_from", [1, 10**9], ids=["copy", "arrays"])
def test_update_rows_sets_each_rows_columns(
    scratch: Database, monkeypatch: pytest.MonkeyPatch, copy_from: int
) -> None:
    monkeypatch.setattr(bulk, "COPY_FROM", copy_from)
    made = _insert(scratch, _rows(range(1, 21)))
    changes = [
        {"id": i, "amount_fen": 7 * h, "note": None if h % 2 else f'n{h}, "x"'}
        for i, h in made
        if h % 4 == 0
    ]
    with scratch.sessions.begin() as session:
        update_rows(session, SCRATCH, "id", changes)
        update_rows(session, SCRATCH, "id", [])  # nothing to do
    stored = {row[1]: row for row in _stored(scratch)}
    for h in range(1, 21):
        if h % 4 == 0:
            assert stored[h][3] == 7 * h
            assert stored[h][4] == f'n{h}, "x"'
        else:
            assert stored[h][3] == 1_000 * h
            assert stored[h][4] == NOTES[h % len(NOTES)]
