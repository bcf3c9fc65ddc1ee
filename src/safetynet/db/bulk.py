"""Set-at-a-time statements for the registry's bulk work (the payment roll, loading a caseload).

On PostgreSQL, thousands of scalar parameters cost more to send and parse than the statement
costs to run, so a list of values travels as one array parameter: ``column = ANY(array)`` for a
membership test, ``INSERT … SELECT * FROM unnest(array, …)`` for many rows. On SQLite the usual
forms are used (``IN (…)``, one cached INSERT executed for all rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import any_, func, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

__all__ = ["among", "insert_new"]


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def among(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """``column IN values``; on PostgreSQL ``column = ANY(array)``, one parameter."""
    if _postgresql(session):
        return column == any_(literal(list(values), postgresql.ARRAY(column.type)))
    return column.in_(values)


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
    return the ``returning`` columns of the rows that went in."""
    if not rows:
        return []
    where = None if index_where is None else text(index_where)
    if _postgresql(session):
        table = model.__table__ if hasattr(model, "__table__") else model
        names = list(rows[0])
        arrays = [literal([r[n] for r in rows], postgresql.ARRAY(table.c[n].type)) for n in names]
        unnested = func.unnest(*arrays).table_valued(*names).render_derived()
        statement = (
            postgresql.insert(model)
            .from_select(names, select(*(unnested.c[n] for n in names)))
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
