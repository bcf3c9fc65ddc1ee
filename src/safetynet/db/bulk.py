"""Set-at-a-time statements for the registry's bulk work (the payment roll, loading a caseload,
bulk intake).

On PostgreSQL, thousands of scalar parameters cost more to send and parse than the statement
costs to run, so a list of values travels as one array parameter: ``column = ANY(array)`` for a
membership test, ``INSERT … SELECT * FROM unnest(array, …)`` for many rows. On SQLite the usual
forms are used (``IN (…)``, one cached INSERT executed for all rows).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from itertools import islice
from operator import itemgetter
from typing import Any

import polars as pl
import psycopg
from psycopg import postgres
from psycopg.adapt import Dumper
from sqlalchemy import BigInteger, Integer, any_, bindparam, func, literal, select, text, update
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

__all__ = [
    "CHUNK_ROWS",
    "among",
    "copy_columns",
    "copy_csv",
    "copy_frame",
    "copy_rows",
    "foreign_keys_checked_once",
    "insert_new",
    "read_frame",
    "staged_rows",
    "temp_table",
    "update_rows",
    "without_jit",
]


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def without_jit(session: Session) -> None:
    """On PostgreSQL, no JIT compilation for the rest of the caller's transaction: a batch's
    statements (an index range, a few thousand keys) run in milliseconds, and the planner's cost
    estimate of a LIMIT over a filtered index scan can exceed ``jit_above_cost`` and spend tens
    of milliseconds compiling each one. Elsewhere: nothing."""
    if _postgresql(session):
        session.execute(text("SET LOCAL jit = off"))


def refresh_statistics(session: Session, *models: Any) -> None:
    """On PostgreSQL, the planner's statistics of the tables of ``models`` (models or table
    names) brought up to date
    (``ANALYZE``, a sample of some 30,000 rows whatever the table's size): a table that grew by a
    month of rows since autovacuum last looked at it is otherwise planned as the smaller table it
    was (a bitmap over every row whose one-off award is empty, 0.2–0.3 s a batch). A role that
    does not own the table is told so by a warning and nothing is refreshed. Elsewhere:
    nothing."""
    if _postgresql(session):
        quote = session.get_bind().dialect.identifier_preparer.quote
        for model in models:
            name = model if isinstance(model, str) else model.__table__.name
            session.execute(text(f"ANALYZE {quote(name)}"))


class _IntegerArrayText(str):
    """An array of integers written as PostgreSQL's array text (``{1,2,3}``), sent typed as an
    array of ``int4`` (``_BigintArrayText``: ``int8``), so the server reads it as it reads an
    array parameter: the planner sees the array's values, as with a list."""


class _BigintArrayText(str):
    """``_IntegerArrayText`` of ``int8``."""


class _ArrayTextDumper(Dumper):
    oid = postgres.types["int4"].array_oid

    def dump(self, obj: Any) -> bytes:
        return str(obj).encode("ascii")


class _BigintArrayTextDumper(_ArrayTextDumper):
    oid = postgres.types["int8"].array_oid


psycopg.adapters.register_dumper(_IntegerArrayText, _ArrayTextDumper)
psycopg.adapters.register_dumper(_BigintArrayText, _BigintArrayTextDumper)


def among(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """``column IN values``; on PostgreSQL ``column = ANY(array)``, one parameter. Integers
    travel as the array's text, written by ``str.join`` and sent typed as an integer array: a
    fifth of the time the driver takes to write a list of 2,000 numbers element by element,
    which a batch of the roll does ten times."""
    if _postgresql(session):
        if isinstance(column.type, Integer) and set(map(type, values)) <= {int}:
            kind = _BigintArrayText if isinstance(column.type, BigInteger) else _IntegerArrayText
            array = kind("{" + ",".join(map(str, values)) + "}")
            return column == any_(literal(array, NullType()))
        return column == any_(literal(list(values), postgresql.ARRAY(column.type)))
    return column.in_(values)


def conflict_insert(session: Session, model: Any) -> Any:
    """``INSERT`` into ``model`` in the session's dialect, the one that takes ``ON CONFLICT``
    (``on_conflict_do_nothing``) on both PostgreSQL and SQLite."""
    return postgresql.insert(model) if _postgresql(session) else sqlite.insert(model)


def insert_new(
    session: Session,
    model: Any,
    rows: list[dict[str, Any]],
    key: Sequence[str],
    *returning: Any,
    index_where: str | None = None,
) -> list[Any]:
    """Insert ``rows`` (dicts with the same keys) in the caller's transaction, skipping those
    whose natural ``key`` exists (``index_where``: the predicate of a partial unique index);
    return the ``returning`` columns of the rows that went in. Rows go in in the order given (so
    their ids follow it); on PostgreSQL in one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` from
    the rows sent as arrays, or by ``COPY`` from ``COPY_FROM`` rows on (``staged_rows``)."""
    if not rows:
        return []
    where = None if index_where is None else text(index_where)
    if _postgresql(session):
        table = model.__table__ if hasattr(model, "__table__") else model
        names = list(rows[0])
        source, order = staged_rows(session, table, names, rows)
        statement = (
            postgresql.insert(model)
            .from_select(names, select(*(source.c[n] for n in names)).order_by(*order))
            .on_conflict_do_nothing(index_elements=list(key), index_where=where)
            .returning(*returning)
        )
        return list(session.execute(statement).all())
    statement = (
        sqlite.insert(model)
        .on_conflict_do_nothing(index_elements=list(key), index_where=where)
        .returning(*returning)
    )
    return list(session.execute(statement, rows).all())


def update_rows(session: Session, model: Any, key: str, rows: list[dict[str, Any]]) -> None:
    """Set the columns of ``rows`` (dicts with the same keys, ``key`` among them: the primary
    key) on the rows of ``model`` with that key, in the caller's transaction: one
    ``UPDATE … FROM`` the rows (``staged_rows``) on PostgreSQL, one statement executed for all
    rows on SQLite; never one round trip per row on PostgreSQL."""
    if not rows:
        return
    table = model.__table__ if hasattr(model, "__table__") else model
    names = [n for n in rows[0] if n != key]
    if _postgresql(session):
        source, _ = staged_rows(session, table, [key, *names], rows)
        session.execute(
            update(table)
            .where(table.c[key] == source.c[key])
            .values({n: source.c[n] for n in names})
        )
        return
    session.execute(
        update(table)
        .where(table.c[key] == bindparam("row_key"))
        .values({n: bindparam(f"row_{n}") for n in names}),
        [{"row_key": r[key], **{f"row_{n}": r[n] for n in names}} for r in rows],
    )


COPY_FROM = 500  # rows from which ``staged_rows`` sends rows by COPY rather than as arrays
_ORDINAL = "staged_row"


def staged_rows(
    session: Session, table: Any, names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> tuple[Any, list[Any]]:
    """On PostgreSQL, ``rows`` (their ``names`` columns, typed as in ``table``) as something to
    select from, and the columns that give their order: below ``COPY_FROM`` rows, ``unnest`` of
    one array parameter per column (in order as sent); from there on, a temporary table
    (dropped at commit) filled by ``COPY`` (no Python work per value beyond the CSV text; the
    array parameters' text escaping costs more than the statement)."""
    if len(rows) < COPY_FROM:
        arrays = [literal([r[n] for r in rows], postgresql.ARRAY(table.c[n].type)) for n in names]
        return func.unnest(*arrays).table_valued(*names).render_derived(), []
    name = _quoted(f"staged_{table.name}")
    columns = ", ".join(_quoted(n) for n in names)
    session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    session.execute(
        text(
            f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS "
            f"SELECT 0 AS {_ORDINAL}, {columns} FROM {_quoted(table.name)} LIMIT 0"
        )
    )
    values = itemgetter(*names) if len(names) > 1 else lambda r: (r[names[0]],)
    copy_rows(session, name, [_ORDINAL, *names], ((i, *values(r)) for i, r in enumerate(rows)))
    staged = sa_table(name, sa_column(_ORDINAL), *(sa_column(n) for n in names))
    return staged, [staged.c[_ORDINAL]]


# -- Loading many rows: COPY on PostgreSQL, batched executemany on SQLite -------------------------

BATCH = 20_000  # rows per executemany on SQLite


def batched(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``rows`` in lists of ``size`` (itertools.batched arrives with Python 3.12)."""
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _quoted(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain SQL name: {name!r}")
    return name


def copy_rows(
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    digest: Any = None,
) -> int:
    """Append ``rows`` (tuples in the order of ``columns``) to ``table`` in the caller's
    transaction: ``COPY … FROM STDIN`` on PostgreSQL (psycopg 3), one prepared ``INSERT``
    executed for batches of rows on SQLite. Returns the number of rows written. No conflict
    handling: the caller has made sure the rows are new (a duplicate key fails the transaction).

    With ``digest`` (a ``hashlib`` object), the rows are also hashed as the CSV text sent (``csv``
    module defaults, ``str`` of each value, U+001F for NULL): what an auditor recomputes."""
    names = ", ".join(_quoted(c) for c in columns)
    written = 0
    if _postgresql(session):
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None
        with (
            dbapi.cursor() as cursor,  # type: ignore[attr-defined]
            cursor.copy(
                f"COPY {_quoted(table)} ({names}) FROM STDIN (FORMAT csv, NULL '{_NULL}')"
            ) as copy,
        ):
            for batch in batched(rows, BATCH):
                data = _csv(batch).encode("utf-8")
                if digest is not None:
                    digest.update(data)
                copy.write(data)
                written += len(batch)
        return written
    statement = f"INSERT INTO {_quoted(table)} ({names}) VALUES ({', '.join('?' * len(columns))})"
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for batch in batched(rows, BATCH):
            if digest is not None:
                digest.update(_csv(batch).encode("utf-8"))
            cursor.executemany(statement, _sqlite_values(batch))
            written += len(batch)
    finally:
        cursor.close()
    return written


# NULL in the CSV sent to COPY: a unit separator, which no imported cell can hold (the intake
# quarantines cells with control characters), so every text value, even an empty one, is text.
_NULL = "\x1f"


def _csv(batch: Sequence[Sequence[Any]]) -> str:
    """Rows as CSV for ``COPY … (FORMAT csv, NULL _NULL)``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # Column by column: only the columns holding a None or a date are rewritten, each date
    # formatted once however often it occurs (the csv module would call str() on every one).
    writer.writerows(zip(*(_csv_column(c) for c in zip(*batch, strict=True)), strict=True))
    return buffer.getvalue()


def _csv_column(column: Sequence[Any]) -> Sequence[Any]:
    """A column's values as ``_csv`` writes them (a column holds values of one type)."""
    if isinstance(next((v for v in column if v is not None), None), dt.date):
        shown = {v: _NULL if v is None else str(v) for v in set(column)}
        return [shown[v] for v in column]
    if None in column:
        return [_NULL if v is None else v for v in column]
    return column


def _sqlite_text(value: Any) -> Any:
    """A value as SQLAlchemy stores it in SQLite: dates as ISO text, date-times as
    ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC, no offset), the rest as the driver takes it."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _sqlite_values(batch: list[Sequence[Any]]) -> list[Sequence[Any]]:
    """The batch with its date and date-time columns (told by the first row that has a value
    there) turned into SQLite's text form."""
    width = len(batch[0])
    temporal = [i for i in range(width) if any(isinstance(row[i], dt.date) for row in batch)]
    if not temporal:
        return batch
    out: list[Sequence[Any]] = []
    for row in batch:
        values = list(row)
        for i in temporal:
            values[i] = _sqlite_text(values[i])
        out.append(values)
    return out


def copy_csv(session: Session, table: str, columns: Sequence[str], data: bytes) -> None:
    """Append CSV ``data`` (no header; empty field = NULL) to ``table`` with ``COPY`` on
    PostgreSQL: the fastest way in for millions of rows already formatted by a columnar engine."""
    if not _postgresql(session):
        raise ValueError("copy_csv is for PostgreSQL; use copy_rows on SQLite")
    names = ", ".join(_quoted(c) for c in columns)
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    with (
        dbapi.cursor() as cursor,  # type: ignore[attr-defined]
        cursor.copy(f"COPY {_quoted(table)} ({names}) FROM STDIN (FORMAT csv)") as copy,
    ):
        for start in range(0, len(data), 1 << 20):
            copy.write(data[start : start + (1 << 20)])


def temp_table(session: Session, name: str, columns: Mapping[str, str]) -> str:
    """Create (or empty) a temporary table ``name`` with ``columns`` (name → SQL type) for the
    rest of the caller's transaction (dropped at commit on PostgreSQL). Returns its name."""
    name = _quoted(name)
    spec = ", ".join(f"{_quoted(c)} {t}" for c, t in columns.items())
    session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    suffix = " ON COMMIT DROP" if _postgresql(session) else ""
    session.execute(text(f"CREATE TEMPORARY TABLE {name} ({spec}){suffix}"))
    return name


# -- Columnar loading (Polars) ------------------------------------------------------------------

CHUNK_ROWS = 500_000  # rows formatted and sent at a time: bounds the text held in memory


def copy_frame(
    session: Session, table: str, frame: pl.DataFrame, same: Mapping[str, str] | None = None
) -> int:
    """Append ``frame`` (its column names are the table's) to ``table`` with ``COPY`` on
    PostgreSQL, formatted as CSV by Polars ``CHUNK_ROWS`` rows at a time (a null is ``_NULL``, so
    an empty text stays empty text); ``same``: columns with one value (as text) for every row.
    Returns the number of rows written."""
    if not _postgresql(session):
        raise ValueError("copy_frame is for PostgreSQL; use copy_rows on SQLite")
    constants = [pl.lit(v).alias(k) for k, v in (same or {}).items()]
    names = ", ".join(_quoted(c) for c in [*frame.columns, *(same or {})])
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    with (
        dbapi.cursor() as cursor,  # type: ignore[attr-defined]
        cursor.copy(
            f"COPY {_quoted(table)} ({names}) FROM STDIN (FORMAT csv, NULL '{_NULL}')"
        ) as copy,
    ):
        for part in frame.iter_slices(CHUNK_ROWS):
            text_part = part.with_columns(constants).write_csv(
                include_header=False, null_value=_NULL
            )
            copy.write(text_part.encode("utf-8"))
    return frame.height


def copy_columns(
    session: Session,
    table: str,
    frame: pl.DataFrame,
    same: Mapping[str, Any] | None = None,
    digest: Any = None,
) -> int:
    """Append ``frame`` (its column names are the table's; ``same``: columns with one value for
    every row) to ``table``: ``COPY`` of CSV written by Polars ``CHUNK_ROWS`` rows at a time on
    PostgreSQL (no Python object per row or value), batched ``executemany`` on SQLite. With
    ``digest`` (a ``hashlib`` object) both hash the same CSV text (``_NULL`` for a null, the
    constants as ``str``), which is what PostgreSQL receives. Returns the rows written."""
    fixed = dict(same or {})
    constants = [pl.lit(_NULL if v is None else str(v)).alias(k) for k, v in fixed.items()]
    names = ", ".join(_quoted(c) for c in [*frame.columns, *fixed])
    postgres = _postgresql(session)
    if postgres:
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None
        cursor = dbapi.cursor()
        copy_block = cursor.copy(
            f"COPY {_quoted(table)} ({names}) FROM STDIN (FORMAT csv, NULL '{_NULL}')"
        )
    else:
        cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        marks = ", ".join("?" * (frame.width + len(fixed)))
        statement = f"INSERT INTO {_quoted(table)} ({names}) VALUES ({marks})"
    try:
        if postgres:
            with copy_block as copy:
                for part in frame.iter_slices(CHUNK_ROWS):
                    data = (
                        part.with_columns(constants)
                        .write_csv(include_header=False, null_value=_NULL)
                        .encode("utf-8")
                    )
                    if digest is not None:
                        digest.update(data)
                    copy.write(data)
        else:
            # Dates as SQLite's text by Polars and the constants once, so that the rows need no
            # conversion one by one (unless a column holds date-times).
            extra = tuple(_sqlite_text(v) for v in fixed.values())
            dates = [pl.col(c).dt.to_string("%Y-%m-%d") for c, t in frame.schema.items()
                     if t == pl.Date]  # fmt: skip
            timed = any(isinstance(t, pl.Datetime) for t in frame.schema.values())
            for part in frame.iter_slices(BATCH):
                if digest is not None:
                    digest.update(
                        part.with_columns(constants)
                        .write_csv(include_header=False, null_value=_NULL)
                        .encode("utf-8")
                    )
                rows = part.with_columns(dates).iter_rows()
                batch: list[Sequence[Any]] = (
                    [(*row, *extra) for row in rows] if extra else list(rows)
                )
                cursor.executemany(statement, _sqlite_values(batch) if timed else batch)
    finally:
        cursor.close()
    return frame.height


def read_frame(
    session: Session, query: str, names: Sequence[str], schema: Mapping[str, Any]
) -> pl.DataFrame:
    """The rows of ``query`` (no parameters) as a frame with ``names`` and ``schema``: on
    PostgreSQL through ``COPY (query) TO STDOUT`` (CSV, no Python object per value)."""
    if not _postgresql(session):
        rows = session.execute(text(query)).all()
        return pl.DataFrame(rows, schema=dict(schema), orient="row")
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    data = bytearray()
    with (
        dbapi.cursor() as cursor,  # type: ignore[attr-defined]
        cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv, NULL '{_NULL}')") as copy,
    ):
        for block in copy:
            data += block
    if not data:
        return pl.DataFrame(schema=dict(schema))
    return pl.read_csv(
        bytes(data), has_header=False, new_columns=list(names), schema=dict(schema),
        null_values=_NULL, quote_char='"',
    )  # fmt: skip


@contextmanager
def foreign_keys_checked_once(session: Session, table: str) -> Iterator[None]:
    """On PostgreSQL, for rows appended to ``table`` inside the block: its foreign keys are
    dropped before and added again after (same names and definitions), so each is checked by
    one join over the table instead of one trigger call per row. The caller's transaction holds
    ``ACCESS EXCLUSIVE`` locks on ``table`` and the tables it refers to until it ends; a row
    without its referenced row fails the transaction as before. Elsewhere: nothing changes."""
    if not _postgresql(session):
        yield
        return
    keys = session.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f' ORDER BY conname"
        ),
        {"t": _quoted(table)},
    ).all()
    if keys:
        drops = ", ".join(f'DROP CONSTRAINT "{_quoted(name)}"' for name, _ in keys)
        session.execute(text(f"ALTER TABLE {_quoted(table)} {drops}"))
    yield
    if keys:
        adds = ", ".join(f'ADD CONSTRAINT "{_quoted(name)}" {spec}' for name, spec in keys)
        session.execute(text(f"ALTER TABLE {_quoted(table)} {adds}"))


@contextmanager
def tables_checked_once(session: Session, tables: Sequence[str], when: bool) -> Iterator[None]:
    """``foreign_keys_checked_once`` for each of ``tables`` when ``when`` (a load large enough for
    one validating join per key to cost less than a trigger call per row), else nothing."""
    with ExitStack() as stack:
        if when:
            for table in tables:
                stack.enter_context(foreign_keys_checked_once(session, table))
        yield
