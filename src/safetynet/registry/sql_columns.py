"""Query results as Arrow columns, without a Python object per row where the driver allows.

The registry's snapshot reads millions of rows per county; through SQLAlchemy each row became a
``Row`` and each value a Python object before being put back into arrays (ADR 0028). Here:

- PostgreSQL: ``COPY (query) TO STDOUT (FORMAT csv)`` through psycopg, parsed by Arrow's CSV
  reader (C++, multi-threaded) straight into typed columns. The parameters are bound client-side
  by psycopg (COPY takes no server-side parameters); ``DateStyle`` is set to ISO for the
  transaction so dates read back whatever the server's default.
- SQLite: the driver's own cursor (no ``Row`` objects), its tuples turned into one Arrow array
  per column. SQLite keeps dates as ISO text, cast here to dates.

Both give the same table: the column names and types asked for (``INT``, ``TEXT``, ``DATE``,
``BOOL``), NULL where the database has NULL, the rows in the query's order.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg import ClientCursor, pq
from sqlalchemy import Connection

__all__ = ["BOOL", "DATE", "INT", "TEXT", "read_columns"]

INT = pa.int64()
TEXT = pa.string()
DATE = pa.date32()
BOOL = pa.bool_()

_CHUNK_ROWS = 65_536
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


Columns = Sequence[tuple[str, pa.DataType]]
"""A query's columns in order: each one's name and Arrow type."""


def read_columns(
    conn: Connection,
    query: str,
    params: Mapping[str, Any],
    columns: Columns,
) -> pa.Table:
    """The result of ``query`` (``:name`` parameters; dates as ``datetime.date``) as a table of
    ``columns`` (the query's columns in order: name and type), read in the connection's
    transaction (begun here if none is: the driver is used directly, so SQLAlchemy's own
    ``commit``/``rollback`` must know of it)."""
    if not conn.in_transaction():
        conn.begin()
    if conn.dialect.name == "postgresql":
        return _read_copy(conn, query, params, columns)
    return _read_cursor(conn, query, params, columns)


def _schema(columns: Columns) -> pa.Schema:
    return pa.schema([pa.field(name, kind) for name, kind in columns])


def _read_copy(
    conn: Connection,
    query: str,
    params: Mapping[str, Any],
    columns: Columns,
) -> pa.Table:
    driver: Any = conn.connection.driver_connection
    with driver.cursor() as cursor:
        cursor.execute("SET LOCAL DateStyle = 'ISO'")
    with ClientCursor(driver) as binder:
        bound = binder.mogrify(_PARAMETER.sub(r"%(\1)s", query.replace("%", "%%")), dict(params))
    statement = f"COPY ({bound}) TO STDOUT (FORMAT csv)".encode(driver.info.encoding)
    # libpq directly: the server sends a message per row, and psycopg's own copy iterator costs
    # several microseconds a message in Python (more than the query); this loop about one.
    pgconn = driver.pgconn
    result = pgconn.exec_(statement)
    if result.status != pq.ExecStatus.COPY_OUT:
        raise psycopg.errors.error_from_result(result, encoding=driver.info.encoding)
    received = bytearray()  # appended to as it comes: no object kept per row
    receive = pgconn.get_copy_data
    collecting = gc.isenabled()
    gc.disable()  # a tuple a row, none kept: no cycle to collect
    try:
        while True:
            size, data = receive(0)
            if size < 0:
                break
            received += data
    finally:
        if collecting:
            gc.enable()
    failed = None
    while (result := pgconn.get_result()) is not None:
        if result.status != pq.ExecStatus.COMMAND_OK and failed is None:
            failed = psycopg.errors.error_from_result(result, encoding=driver.info.encoding)
    if failed is not None:
        raise failed
    schema = _schema(columns)
    if not received:
        return schema.empty_table()
    table = pa_csv.read_csv(
        pa.BufferReader(pa.py_buffer(received)),
        read_options=pa_csv.ReadOptions(column_names=schema.names, block_size=16 * 2**20),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types=schema,
            # COPY writes NULL as an empty unquoted field and the empty string as "".
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )
    return table.combine_chunks()


def _read_cursor(
    conn: Connection,
    query: str,
    params: Mapping[str, Any],
    columns: Columns,
) -> pa.Table:
    driver: Any = conn.connection.driver_connection
    bound = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in params.items()}
    # SQLite's own types: dates are ISO text, booleans 0 or 1 (cast once read).
    stored = {DATE: TEXT, BOOL: INT}
    row = pa.struct([pa.field(name, stored.get(kind, kind)) for name, kind in columns])
    parts: list[pa.Array] = []
    cursor = driver.cursor()
    try:
        cursor.execute(query, bound)
        # A chunk of rows at a time, each turned into Arrow in one call (the tuples as structs):
        # the Python objects of one chunk are alive at a time.
        while chunk := cursor.fetchmany(_CHUNK_ROWS):
            parts.append(pa.array(chunk, type=row))
    finally:
        cursor.close()
    schema = _schema(columns)
    if not parts:
        return schema.empty_table()
    table = pa.Table.from_struct_array(pa.chunked_array(parts, type=row)).combine_chunks()
    return table.cast(schema)
