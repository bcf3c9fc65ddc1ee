"""Program facts with their source and date: canonical text, validated writes, values in force.

A fact is one declared input field (``policy.population.FIELDS``) of one person or household
that the registry has no column for (``registry.fact_sources``). Rows are appended, never
updated: the value in force on a day is the one with the latest ``valid_from`` on or before it
(ties: the one recorded last). The value is stored as canonical text, the form ``Field.parse``
accepts: money in yuan with two decimals (``12.50``), whole numbers, ``true``/``false``, the
stored code of a choice, ISO dates.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from safetynet.db.bulk import copy_columns
from safetynet.domain.money import MAX_FEN, format_yuan
from safetynet.errors import InputError
from safetynet.policy.population import (
    FIELDS,
    Entity,
    Field,
    Kind,
    declare_all_fields,
    int_to_date,
)
from safetynet.registry.fact_sources import fact_fields
from safetynet.registry.model import HouseholdFact, PersonFact

__all__ = [
    "SUBJECT",
    "canonical_text",
    "copy_facts",
    "fact_field",
    "fact_texts",
    "facts_in_force",
    "parse_fact",
    "parse_values",
    "write_facts",
]

CHUNK = 2_000  # rows per INSERT statement
SUBJECT = {Entity.PERSON: "person_id", Entity.HOUSEHOLD: "household_id"}
_TABLES: dict[Entity, type[PersonFact] | type[HouseholdFact]] = {
    Entity.PERSON: PersonFact,
    Entity.HOUSEHOLD: HouseholdFact,
}


def fact_field(name: str) -> Field:
    """The declared field ``name``, if the facts tables keep it; else an ``InputError``."""
    declare_all_fields()
    if name not in fact_fields():
        reason = (
            "is kept in the registry's own tables, not as a fact"
            if name in FIELDS
            else "is not a declared input field"
        )
        raise InputError(name, reason)
    return FIELDS.get(name)


def canonical_text(f: Field, value: int | bool) -> str:
    """A column value (fen, code, YYYYMMDD, ...) as the canonical text stored."""
    if f.kind is Kind.MONEY:
        return format_yuan(int(value))
    if f.kind is Kind.BOOL:
        return "true" if value else "false"
    if f.kind is Kind.ENUM:
        return f.choices[int(value)]
    if f.kind is Kind.DATE:
        return int_to_date(int(value)).isoformat()
    return str(int(value))


def _json_value(f: Field, text: str, where: str) -> Any:
    """The canonical text as the JSON value ``Field.parse`` takes."""
    if f.kind is Kind.INT:
        try:
            return int(text)
        except ValueError:
            raise InputError(where, f"expected a whole number, got {text!r}") from None
    if f.kind is Kind.BOOL:
        return {"true": True, "false": False}.get(text, text)
    return text


def parse_fact(f: Field, text: str, where: str | None = None) -> int | bool:
    """Canonical text → the column value, checked by the field's own parser."""
    return f.parse(_json_value(f, text, where or f.name), where or f.name)


@functools.lru_cache(maxsize=65_536)
def parse_cached(name: str, text: str) -> int | bool:
    """``parse_fact`` for values read back from the registry (a county repeats few values)."""
    return parse_fact(FIELDS.get(name), text)


# The canonical text of an amount of 0 or more (``format_yuan``) and of a whole number, with at
# most 16 digits before the point / 18 digits: either is read exactly into a 64-bit integer.
_CANONICAL_YUAN = r"^(0|[1-9][0-9]{0,15})\.[0-9]{2}$"
_CANONICAL_INT = r"^(0|-?[1-9][0-9]{0,17})$"


def parse_values(f: Field, texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """``parse_fact`` of every text of a column read back from the registry: the column values.

    Each distinct text is parsed once. Amounts and whole numbers have many distinct values: those
    in canonical form (what ``write_facts`` stores) within the field's bounds are converted in
    Arrow, exactly as the parser reads them; any other goes to the parser, which gives the same
    value or raises the error it raises elsewhere."""
    if isinstance(texts, pa.ChunkedArray):  # one dictionary for the whole column
        texts = texts.combine_chunks()
    encoded = pc.dictionary_encode(texts)
    distinct = encoded.dictionary.cast(pa.string())
    parsed = np.zeros(len(distinct), dtype=f.dtype())
    slow = np.ones(len(distinct), dtype=bool)
    if f.kind in (Kind.MONEY, Kind.INT) and len(distinct):
        canonical = pc.match_substring_regex(
            distinct, _CANONICAL_YUAN if f.kind is Kind.MONEY else _CANONICAL_INT
        ).to_numpy(zero_copy_only=False)
        canonical &= ~pc.is_null(distinct).to_numpy(zero_copy_only=False)
        ready = distinct.filter(pa.array(canonical))
        if f.kind is Kind.MONEY:
            yuan = pc.utf8_slice_codeunits(ready, 0, -3).cast(pa.int64())
            fen = pc.utf8_slice_codeunits(ready, -2).cast(pa.int64())
            value = yuan.to_numpy() * 100 + fen.to_numpy()
        else:
            value = ready.cast(pa.int64()).to_numpy()
        low = -MAX_FEN - 1 if f.minimum is None else f.minimum
        high = MAX_FEN if f.maximum is None else f.maximum
        inside = (value >= low) & (value <= high)
        where = np.flatnonzero(canonical)[inside]
        parsed[where] = value[inside]
        slow[where] = False
    texts_left = distinct.filter(pa.array(slow)).to_pylist()
    parsed[slow] = [parse_cached(f.name, text) for text in texts_left]
    indices = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    values: np.ndarray = parsed[indices]
    return values


def write_facts(
    session: Session, rows: Iterable[Mapping[str, Any]], *, recorded_at: dt.datetime
) -> int:
    """Append facts; each row is a plain dict: ``person_id`` or ``household_id``, ``field`` (a
    declared field kept as a fact), ``value`` (text ``Field.parse`` accepts), ``valid_from``
    (a date) and ``source`` (``import:<file>``, ``assessment``, ``case:<id>``).

    Every value is checked by its field's parser and stored in canonical form; a bad row raises
    ``InputError`` naming the field and nothing of the call is written. Returns the rows
    written. The caller audits (the import audits facts with their household)."""
    batches: dict[Entity, list[dict[str, Any]]] = {Entity.PERSON: [], Entity.HOUSEHOLD: []}
    for row in rows:
        f = fact_field(str(row["field"]))
        subject = SUBJECT[f.entity]
        if row.get(subject) is None:
            raise InputError(f.name, f"is a {f.entity} fact and needs {subject}")
        value = canonical_text(f, parse_fact(f, str(row["value"])))
        if not isinstance(row["valid_from"], dt.date):
            raise InputError(f"{f.name}.valid_from", f"{row['valid_from']!r} is not a date")
        batches[f.entity].append(
            {subject: int(row[subject]), "field": f.name, "value": value,
             "valid_from": row["valid_from"], "source": str(row["source"])[:200],
             "recorded_at": row.get("recorded_at", recorded_at)}
        )  # fmt: skip
    for entity, batch in batches.items():
        for start in range(0, len(batch), CHUNK):
            session.execute(insert(_TABLES[entity]), batch[start : start + CHUNK])
    return sum(len(b) for b in batches.values())


def fact_texts(f: Field, values: np.ndarray) -> pl.Series:
    """The text ``write_facts`` stores for each column value of ``f`` (``canonical_text``,
    checked by the field's parser), worked out once per distinct value."""
    distinct, at = np.unique(values, return_inverse=True)
    if f.kind is Kind.MONEY:
        # Amounts have many distinct values. The parser reads an amount's canonical text back
        # as the amount itself (``yuan_to_fen`` of ``format_yuan``), so of its checks only the
        # field's bounds can refuse one: the values outside them go to the parser, which raises
        # the error ``write_facts`` raises; the text of the others is formed directly.
        low = -MAX_FEN if f.minimum is None else f.minimum
        high = MAX_FEN if f.maximum is None else f.maximum
        for value in distinct[(distinct < low) | (distinct > high)].tolist():
            parse_fact(f, canonical_text(f, value))
        texts = [
            f"{v // 100}.{v % 100:02d}" if v >= 0 else canonical_text(f, v)
            for v in distinct.tolist()
        ]
    else:
        texts = [canonical_text(f, parse_fact(f, canonical_text(f, v))) for v in distinct.tolist()]
    return pl.Series(texts, dtype=pl.Utf8).gather(at.reshape(-1).astype(np.int64))


def copy_facts(
    session: Session,
    entity: Entity,
    frame: pl.DataFrame,
    *,
    valid_from: dt.date,
    source: str,
    recorded_at: dt.datetime,
) -> int:
    """Append many facts of ``entity`` given as columns: the subject's id (``SUBJECT``),
    ``field`` (a declared field kept as a fact) and ``value`` (canonical text, ``fact_texts``),
    all valid from ``valid_from``: the rows ``write_facts`` writes for them, in their order, with
    COPY on PostgreSQL (``db.bulk.copy_columns``). Returns the rows written."""
    for name in frame.get_column("field").unique().to_list():
        if fact_field(name).entity is not entity:
            raise InputError(name, f"is not a {entity} fact")
    if frame.get_column(SUBJECT[entity]).null_count() or frame.get_column("value").null_count():
        raise InputError(SUBJECT[entity], "a fact needs its subject and value")
    table = _TABLES[entity].__tablename__
    fixed = {"valid_from": valid_from, "source": source[:200], "recorded_at": recorded_at}
    return copy_columns(session, table, frame.select(SUBJECT[entity], "field", "value"), fixed)


def facts_in_force(
    session: Session, entity: Entity, ids: Sequence[int], on: dt.date | None = None
) -> dict[tuple[int, str], str]:
    """(subject id, field) → the canonical text in force on ``on`` (None: the latest), for a
    bounded set of subjects (an import chunk)."""
    model = _TABLES[entity]
    subject = getattr(model, SUBJECT[entity])
    found: dict[tuple[int, str], str] = {}
    for start in range(0, len(ids), CHUNK):
        query = select(subject, model.field, model.value).where(
            subject.in_(ids[start : start + CHUNK])
        )
        if on is not None:
            query = query.where(model.valid_from <= on)
        query = query.order_by(model.valid_from, model.id)
        for subject_id, name, value in session.execute(query):
            found[(subject_id, name)] = value  # the last in order is in force
    return found
