"""Query results read as Arrow columns (COPY on PostgreSQL, the driver's cursor on SQLite): the
values the database holds, NULL and the empty text kept apart, whatever the text contains."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from sqlalchemy import text

from safetynet.db.engine import Database
from safetynet.registry.sql_columns import BOOL, DATE, INT, TEXT, read_columns

FACTS = [
    (1, "housing_tenure", "rents", dt.date(2025, 1, 31)),
    (2, "note", 'a "quoted", text\nover two lines', dt.date(2024, 2, 29)),
    (3, "empty", "", dt.date(2025, 9, 30)),
    (4, "percent", "100% of 'it'", dt.date(1999, 12, 31)),
]
QUERY = """
SELECT f.household_id, f.field, f.value, f.valid_from, f.household_id > :limit
FROM household_facts f WHERE f.valid_from <= :end ORDER BY f.household_id
"""
COLUMNS = [("id", INT), ("field", TEXT), ("value", TEXT), ("day", DATE), ("late", BOOL)]


def _households_and_facts(database: Database) -> None:
    now = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)
    with database.engine.begin() as conn:
        for hid, field, value, day in FACTS:
            conn.execute(
                text("INSERT INTO households (id, region_code, household_no, hukou_type, "
                     "created_at, updated_at) VALUES (:id, '110105', :no, 'urban', :now, :now)"),
                {"id": hid, "no": f"H{hid}", "now": now},
            )  # fmt: skip
            conn.execute(
                text("INSERT INTO household_facts (household_id, field, value, valid_from, "
                     "source, recorded_at) VALUES (:id, :field, :value, :day, 'test', :now)"),
                {"id": hid, "field": field, "value": value, "day": day, "now": now},
            )  # fmt: skip


def test_columns_hold_the_values_the_database_holds(database: Database) -> None:
    _households_and_facts(database)
    params = {"end": dt.date(2025, 9, 30), "limit": 2}
    with database.engine.connect() as conn:
        table = read_columns(conn, QUERY, params, COLUMNS)
        none = read_columns(conn, QUERY, {**params, "end": dt.date(1990, 1, 1)}, COLUMNS)
    assert table.schema == pa.schema(COLUMNS)
    assert table.column("id").to_pylist() == [1, 2, 3, 4]
    assert table.column("field").to_pylist() == [f[1] for f in FACTS]
    assert table.column("value").to_pylist() == [f[2] for f in FACTS]  # "" stays "", not NULL
    assert table.column("day").to_pylist() == [f[3] for f in FACTS]
    assert table.column("late").to_pylist() == [False, False, True, True]
    assert none.num_rows == 0
    assert none.schema == pa.schema(COLUMNS)


def test_null_is_read_as_null(database: Database) -> None:
    _households_and_facts(database)
    query = "SELECT h.id, h.statistical_code FROM households h WHERE h.id <= :last ORDER BY h.id"
    with database.engine.connect() as conn:
        table = read_columns(conn, query, {"last": 2}, [("id", INT), ("code", TEXT)])
    assert table.column("code").to_pylist() == [None, None]


def test_a_failing_query_raises_and_leaves_the_connection_usable(database: Database) -> None:
    with database.engine.connect() as conn:
        with pytest.raises(Exception, match="no_such_table"):
            read_columns(conn, "SELECT x FROM no_such_table", {}, [("x", INT)])
        conn.rollback()
        assert read_columns(conn, "SELECT 1", {}, [("one", INT)]).column(0).to_pylist() == [1]
