"""Validate a large feed delivery with vector operations, with exactly the row validator's results.

``validate_columns(spec, table, delivered_on=..., known_ids=...)`` checks an Arrow table (a Parquet
delivery of millions of rows) column by column with NumPy and Arrow: identity numbers (length,
digits, birth date, GB 11643 check character), dates and months (real, not after the delivery),
amounts and areas (at most 2 decimals, not negative), vocabularies, region codes and grades. A row
that passes every vector check in its plain written form (``2025-09-01``, ``6500.00``,
``pension_benefit``) is accepted with the values the vector code computed; every other row (a
problem, or merely another spelling such as ``2025/9/1`` or ``养老金``) goes to the row validator
of ``monitoring.feeds``, which accepts it or gives its reasons. So both validators accept the same
rows with the same values and quarantine the others with the same reasons; the vector path only
decides the rows whose plain form it can prove good. Repeats (duplicates and conflicts) are found
by hashing the keys of all accepted rows; only the rows of repeated keys are resolved by the row
validator's rule. Persons not in ``known_ids`` are quarantined as "unknown person", as
``feeds.load_feed`` does against the registry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from safetynet.domain.identity import county_codes
from safetynet.domain.regions import NATION_CODE, default_registry
from safetynet.intake import IntakeLimits, QuarantineLine, RawRow, intake_limits
from safetynet.monitoring.feeds import (
    FIRST_ROW,
    FeedRow,
    FeedSpec,
    FeedTable,
    ValidatedFeed,
    _parse_row,
    feed_texts,
    resolve_repeats,
)
from safetynet.monitoring.records import FEED_RECORD_SCHEMA

__all__ = ["ColumnarFeed", "validate_columns"]

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_MONEY_RE = r"^[0-9]{1,15}(\.[0-9]{1,2})?$"
_DIGIT = ord("0")


@dataclass
class ColumnarFeed:
    """The result of ``validate_columns``: accepted records (FEED_RECORD_SCHEMA, in row order),
    their row numbers, and the quarantine with reasons; ``read = accepted + quarantined``."""

    spec: FeedSpec
    records: pa.Table
    rows: IntArray
    quarantine: list[QuarantineLine]
    read: int
    duplicates: int
    texts: pa.Table  # the cell texts of every row, for quarantine files

    @property
    def accepted(self) -> int:
        return int(self.records.num_rows)

    @property
    def quarantined_rows(self) -> int:
        return len({q.row for q in self.quarantine})

    def to_validated(self, table: FeedTable, delivered_on: dt.date) -> ValidatedFeed:
        """The same result as ``feeds.ValidatedFeed``, to be stored by ``feeds.load_feed``."""
        targets = [f.target for f in self.spec.fields]
        columns = {t: self.records.column(t).to_pylist() for t in targets}
        ids = self.records.column("id_number").to_pylist()
        rows = [
            FeedRow(int(row), ids[i], {t: columns[t][i] for t in targets})
            for i, row in enumerate(self.rows)
        ]
        return ValidatedFeed(
            table,
            delivered_on,
            rows,
            list(self.quarantine),
            self.duplicates,
            _Cells(self.texts),
        )


class _Cells(Mapping[int, tuple[str, ...]]):
    """Row number -> the row's cell texts, read from the text table when asked."""

    def __init__(self, texts: pa.Table) -> None:
        self._texts = texts

    def __getitem__(self, row: int) -> tuple[str, ...]:
        index = row - FIRST_ROW
        if not 0 <= index < self._texts.num_rows:
            raise KeyError(row)
        return tuple(str(v) for v in self._texts.slice(index, 1).to_pylist()[0].values())

    def __iter__(self) -> Iterator[int]:
        return iter(range(FIRST_ROW, FIRST_ROW + self._texts.num_rows))

    def __len__(self) -> int:
        return int(self._texts.num_rows)


def validate_columns(
    spec: FeedSpec,
    table: pa.Table,
    *,
    delivered_on: dt.date,
    known_ids: Iterable[str] | pa.Array | pa.ChunkedArray | None = None,
) -> ColumnarFeed:
    """Validate every row of ``table`` (columns named as in a feed file: English names or
    Chinese aliases; values text or typed as ``feeds.arrow_texts`` reads them). Rows are
    numbered from 2, as in a CSV file with its header. With ``known_ids``, rows of other
    persons are quarantined as "unknown person"."""
    texts, columns, numeric = feed_texts(spec, table, "table")
    vectors = _vector_checks(spec, texts, numeric, intake_limits(delivered_on))
    slow_good, quarantine = _slow_rows(spec, texts, columns, numeric, vectors.fast, delivered_on)
    accepted, rows, keys = _in_row_order(spec, vectors, slow_good)

    # Rows are sorted once by identity number; that order finds repeated persons and unknown ones.
    by_person = np.argsort(keys)
    sorted_keys = keys[by_person]
    keep, lines, duplicates = _repeats(spec, texts, accepted, rows, by_person, sorted_keys)
    quarantine.extend(lines)
    if known_ids is not None:
        unknown, lines = _unknown_persons(texts, rows, keep, by_person, sorted_keys, known_ids)
        quarantine.extend(lines)
        keep &= ~unknown

    if not keep.all():
        accepted = accepted.filter(pa.array(keep))
        rows = rows[keep]
    quarantine.sort(key=lambda q: q.row)
    result = ColumnarFeed(spec, accepted, rows, quarantine, texts.num_rows, duplicates, texts)
    assert result.read == result.accepted + result.quarantined_rows
    return result


@dataclass
class _Vectors:
    """The vector checks of every row: which rows are proven good in their plain form, the
    parsed values by target, the identity texts and their integer keys."""

    fast: BoolArray
    values: dict[str, pa.Array]
    id_text: pa.Array
    id_keys: IntArray


def _vector_checks(
    spec: FeedSpec, texts: pa.Table, numeric: frozenset[str], limits: IntakeLimits
) -> _Vectors:
    """Every field's vector check; a row is fast only if every check proves it good."""
    n = texts.num_rows
    fast = np.ones(n, dtype=np.bool_)
    values: dict[str, pa.Array] = {}
    id_text = texts.column("id_number").combine_chunks()
    if "id_number" in numeric:
        fast[:] = False
        id_keys = np.zeros(n, dtype=np.int64)
    else:
        id_ok, id_keys = _identity_keys(id_text)
        fast &= id_ok & _identity_plausible(id_text, limits)
    for feed_field in spec.fields:
        name = feed_field.column.name
        text = texts.column(name).combine_chunks()
        if feed_field.parser == "identity" and name in numeric:
            fast[:] = False
            continue
        ok, value = _check(feed_field.parser, feed_field.choices, text, limits)
        fast &= ok
        values[feed_field.target] = value
    return _Vectors(fast, values, id_text, id_keys)


def _slow_rows(
    spec: FeedSpec,
    texts: pa.Table,
    columns: tuple[str, ...],
    numeric: frozenset[str],
    fast: BoolArray,
    delivered_on: dt.date,
) -> tuple[list[FeedRow], list[QuarantineLine]]:
    """The rows the vector checks cannot prove good, decided by the row validator: the rows
    it accepts, and the quarantine lines of the others."""
    slow = np.flatnonzero(~fast)
    quarantine: list[QuarantineLine] = []
    slow_good: list[FeedRow] = []
    if len(slow):
        cells = _cells(texts, slow)
        for index, row_cells in zip(slow, cells, strict=True):
            raw_row = RawRow(int(index) + FIRST_ROW, row_cells, numeric)
            parsed = _parse_row(
                spec, raw_row, dict(zip(columns, row_cells, strict=True)), delivered_on, columns
            )
            if isinstance(parsed, FeedRow):
                slow_good.append(parsed)
            else:
                quarantine.extend(
                    QuarantineLine(raw_row.number, f, r, raw_row.cells) for f, r in parsed
                )
    return slow_good, quarantine


def _in_row_order(
    spec: FeedSpec, vectors: _Vectors, slow_good: Sequence[FeedRow]
) -> tuple[pa.Table, IntArray, IntArray]:
    """Accepted so far: the fast rows and the rows the row validator accepted, in row order,
    with their row numbers and identity keys."""
    fast_index = np.flatnonzero(vectors.fast)
    accepted = _accepted(spec, vectors.id_text, vectors.values, fast_index, slow_good)
    rows = np.concatenate(
        [fast_index + FIRST_ROW, np.array([r.row for r in slow_good], dtype=np.int64)]
    )
    keys = np.concatenate(
        [vectors.id_keys[fast_index], np.array([_key(r.id_number) for r in slow_good], np.int64)]
    )
    if slow_good:
        order = np.argsort(rows, kind="stable")
        rows = rows[order]
        accepted = accepted.take(pa.array(order))
        keys = keys[order]
    return accepted, rows, keys


def _repeats(
    spec: FeedSpec,
    texts: pa.Table,
    accepted: pa.Table,
    rows: IntArray,
    by_person: IntArray,
    sorted_keys: IntArray,
) -> tuple[BoolArray, list[QuarantineLine], int]:
    """Repeats: only rows whose key occurs more than once are resolved one by one. Gives the
    rows to keep, the quarantine lines of the others and the number of duplicates."""
    keep = np.ones(len(rows), dtype=np.bool_)
    same = sorted_keys[1:] == sorted_keys[:-1]
    repeated = np.zeros(len(rows), dtype=np.bool_)
    repeated[by_person[1:][same]] = True
    repeated[by_person[:-1][same]] = True
    if spec.key and repeated.any():
        candidates = np.flatnonzero(repeated)
        key_targets = [_target(spec, k) for k in spec.key]
        frame = pl.from_arrow(
            accepted.select(["id_number", *key_targets]).take(pa.array(candidates))
        )
        assert isinstance(frame, pl.DataFrame)
        repeated[candidates] = frame.is_duplicated().to_numpy()
    if not repeated.any():
        return keep, [], 0
    targets = [f.target for f in spec.fields]
    where = np.flatnonzero(repeated)
    subset = accepted.select(["id_number", *targets]).take(pa.array(where)).to_pylist()
    records = [
        FeedRow(int(rows[i]), d["id_number"], {t: d[t] for t in targets})
        for i, d in zip(where, subset, strict=True)
    ]
    raw = dict(zip((r.row for r in records), _cells(texts, rows[where] - FIRST_ROW), strict=True))
    kept, lines, duplicates = resolve_repeats(spec, records, raw)
    kept_rows = {r.row for r in kept}
    keep[where] = [int(rows[i]) in kept_rows for i in where]
    return keep, lines, duplicates


def _unknown_persons(
    texts: pa.Table,
    rows: IntArray,
    keep: BoolArray,
    by_person: IntArray,
    sorted_keys: IntArray,
    known_ids: Iterable[str] | pa.Array | pa.ChunkedArray,
) -> tuple[BoolArray, list[QuarantineLine]]:
    """Kept rows of persons not in the registry, by a merge of the sorted keys with the
    sorted known keys, and their quarantine lines."""
    known_sorted = _known_keys(_as_array(known_ids))
    found = np.zeros(len(rows), dtype=np.bool_)
    if len(known_sorted):
        position = np.minimum(np.searchsorted(known_sorted, sorted_keys), len(known_sorted) - 1)
        found[by_person] = known_sorted[position] == sorted_keys
    unknown = keep & ~found
    if not unknown.any():
        return unknown, []
    where = np.flatnonzero(unknown)
    lines = [
        QuarantineLine(int(rows[i]), "id_number", "unknown person", cells)
        for i, cells in zip(where, _cells(texts, rows[where] - FIRST_ROW), strict=True)
    ]
    return unknown, lines


def _key(id_number: str) -> int:
    last = id_number[17]
    return int(id_number[:17]) * 16 + (10 if last == "X" else int(last))


def _target(spec: FeedSpec, column_name: str) -> str:
    return next(f.target for f in spec.fields if f.column.name == column_name)


def _as_array(ids: Iterable[str] | pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(ids, pa.ChunkedArray):
        return ids.combine_chunks().cast(pa.string())
    if isinstance(ids, pa.Array):
        return ids.cast(pa.string())
    if isinstance(ids, np.ndarray):
        return pa.array(ids.astype(str), pa.string())
    return pa.array(list(ids), pa.string())


def _cells(texts: pa.Table, index: npt.NDArray[Any]) -> list[tuple[str, ...]]:
    picked = texts.take(pa.array(np.asarray(index, dtype=np.int64)))
    columns = [picked.column(i).to_pylist() for i in range(picked.num_columns)]
    return list(zip(*columns, strict=True)) if columns else []


def _accepted(
    spec: FeedSpec,
    id_text: pa.Array,
    values: Mapping[str, pa.Array],
    fast_index: IntArray,
    slow_good: Sequence[FeedRow],
) -> pa.Table:
    """FEED_RECORD_SCHEMA rows: the fast rows, then the rows the row validator accepted."""
    take = pa.array(fast_index)
    n = len(fast_index) + len(slow_good)
    columns: list[pa.Array] = []
    for schema_field in FEED_RECORD_SCHEMA:
        name = schema_field.name
        if name == "kind":
            columns.append(pa.repeat(pa.scalar(spec.kind, pa.string()), n))
            continue
        if name == "id_number":
            parts = [id_text.take(take), pa.array([r.id_number for r in slow_good], pa.string())]
        elif name in values:
            parts = [
                values[name].take(take).cast(schema_field.type),
                pa.array([r.values[name] for r in slow_good], schema_field.type),
            ]
        else:
            columns.append(pa.nulls(n, schema_field.type))
            continue
        columns.append(pa.concat_arrays(parts) if slow_good else parts[0])
    return pa.Table.from_arrays(columns, schema=FEED_RECORD_SCHEMA)


# -- Vector checks: (rows proven good in their plain form, the parsed values) ------------------


def _check(
    parser: str, choices: tuple[str, ...], text: pa.Array, limits: IntakeLimits
) -> tuple[BoolArray, pa.Array]:
    """Rows proven good by vector checks: never more lenient than the row validator (a row
    not proven good here is decided by it)."""
    if parser == "identity":
        return _identity_ok(text) & _identity_plausible(text, limits), text
    if parser == "date":
        return _dates(text, limits)
    if parser == "month":
        return _months(text, limits)
    if parser == "money":
        ok, value = _hundredths(text)
        return ok & (value.to_numpy() <= limits.maximum_fen), value
    if parser == "area":
        return _hundredths(text)
    if parser == "text":
        length = pc.utf8_length(text).to_numpy(zero_copy_only=False)
        return (length > 0) & (length <= 64), text
    if parser == "code":
        return _member(text, pa.array(choices, pa.string())), text
    if parser == "region":
        return _member(text, _region_codes()), text
    if parser == "grade":
        ok = _member(text, pa.array(["1", "2", "3", "4"]))
        grade = pc.if_else(pa.array(ok), text, "0").cast(pa.int8())
        return ok, grade
    raise ValueError(f"unknown parser {parser!r}")


def _member(text: pa.Array, allowed: pa.Array) -> BoolArray:
    result: BoolArray = pc.is_in(text, value_set=allowed).to_numpy(zero_copy_only=False)
    return result


@cache
def _region_codes() -> pa.Array:
    registry = default_registry()
    return pa.array([r.code for r in registry.regions() if r.code != NATION_CODE], pa.string())


def _fixed(text: pa.Array, width: int) -> tuple[IntArray, npt.NDArray[np.uint8]]:
    """The rows whose text is exactly ``width`` bytes, and those bytes as an (m, width) matrix."""
    index, raw, start = _fixed_bytes(text, width)
    matrix = raw[start : start + len(index) * width].reshape(len(index), width)
    return index, matrix


def _fixed_bytes(text: pa.Array, width: int) -> tuple[IntArray, npt.NDArray[np.uint8], int]:
    """The rows whose text is exactly ``width`` bytes, a byte buffer holding those texts one
    after the other, and where the first starts in it."""
    lengths = pc.binary_length(text).to_numpy(zero_copy_only=False)
    every = bool(np.all(lengths == width))
    index = np.arange(len(text), dtype=np.int64) if every else np.flatnonzero(lengths == width)
    picked = text if every else text.take(pa.array(index))
    large = pa.types.is_large_string(picked.type)
    offsets = np.frombuffer(picked.buffers()[1], dtype=np.int64 if large else np.int32)
    data = picked.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    start = int(offsets[picked.offset]) if len(picked) else 0
    return index.astype(np.int64), raw, start


def _digits(matrix: npt.NDArray[np.uint8], columns: slice) -> tuple[IntArray, BoolArray]:
    part = matrix[:, columns] - np.uint8(_DIGIT)  # bytes below "0" wrap round to large values
    ok: BoolArray = np.all(part <= 9, axis=1)
    return part.astype(np.int64), ok


def _number(part: IntArray) -> IntArray:
    value = np.zeros(len(part), dtype=np.int64)
    for k in range(part.shape[1]):
        value = value * 10 + part[:, k]
    return value


def _real_date(year: IntArray, month: IntArray, day: IntArray) -> BoolArray:
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    days = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + (leap & (month == 2))
    ok: BoolArray = month_ok & (day >= 1) & (day <= days) & (year >= 1)
    return ok


def _identity_ok(text: pa.Array) -> BoolArray:
    return _identity_keys(text)[0]


def _identity_plausible(text: pa.Array, limits: IntakeLimits) -> BoolArray:
    """A known county code and a birth date within the intake's window (the checks of
    ``parse_identity_number`` beyond format and check character)."""
    county = pc.utf8_slice_codeunits(text, 0, 6)
    known: BoolArray = pc.is_in(county, value_set=_county_codes()).to_numpy(zero_copy_only=False)
    born = pc.utf8_slice_codeunits(text, 6, 14)
    lowest = limits.earliest_birth.strftime("%Y%m%d")
    highest = limits.as_of.strftime("%Y%m%d")
    # Eight ASCII digits compare as text in date order; other texts fail the format check.
    in_window = pc.and_(
        pc.greater_equal(born, pa.scalar(lowest)), pc.less_equal(born, pa.scalar(highest))
    )
    window: BoolArray = pc.fill_null(in_window, False).to_numpy(zero_copy_only=False)
    return known & window


@cache
def _county_codes() -> pa.Array:
    return pa.array(sorted(county_codes()), pa.string())


def _known_keys(text: pa.Array) -> IntArray:
    """``_identity_keys`` of the registry's numbers, without checking them again: the key of
    each plain 18-character number (its 17 digits and its last character), sorted."""
    index, raw, start = _fixed_bytes(text, 18)
    m = len(index)
    raw = raw[start : start + m * 18]
    good = np.ones(m, dtype=np.bool_)
    words = [_word(raw, m, k) for k in (0, 8)]
    high, low = (_swar(w, good, bases=(10,))[0] for w in words)
    tail = raw.reshape(m, 18)[:, 16:18]
    d16 = tail[:, 0].astype(np.int64) - _DIGIT
    good &= (d16 >= 0) & (d16 <= 9)
    keys = (high * 1_000_000_000 + low * 10 + d16) * 16 + _check_code(tail[:, 1])
    return np.sort(keys[good])


def _check_code(last: npt.NDArray[np.uint8]) -> IntArray:
    """0-9 for a digit, 10 for X, 11 for anything else."""
    code = last.astype(np.int64) - _DIGIT
    return np.where(last == ord("X"), 10, np.where((code >= 0) & (code <= 9), code, 11))


def _word(raw: npt.NDArray[np.uint8], m: int, offset: int) -> npt.NDArray[np.uint64]:
    """Bytes offset..offset+7 of each 18-byte text as one little-endian word."""
    strided = np.ndarray((m,), dtype="<u8", buffer=raw, offset=offset, strides=(18,))
    return np.ascontiguousarray(strided)


def _identity_keys(text: pa.Array) -> tuple[BoolArray, IntArray]:
    """Which rows hold a valid identity number in plain form (18 characters, 17 digits, a real
    birth date from 1850, the right check character), and each such number as an integer
    (its first 17 digits × 16 + its check character, X = 10); 0 elsewhere.

    Eight characters at a time are read as one 64-bit word and reduced with a few multiplies
    and shifts ("SIMD within a register"): once in base 10 for the number, once in base 2 for
    the check sum, whose weights 7, 9, 10, ... 2 are the powers 2^17 ... 2^1 modulo 11.
    """
    ok = np.zeros(len(text), dtype=np.bool_)
    keys = np.zeros(len(text), dtype=np.int64)
    index, raw, start = _fixed_bytes(text, 18)
    m = len(index)
    if not m:
        return ok, keys
    raw = raw[start : start + m * 18]
    words = [np.ndarray((m,), dtype="<u8", buffer=raw, offset=k, strides=(18,)) for k in (0, 8)]
    tail = raw.reshape(m, 18)[:, 16:18]
    good = np.ones(m, dtype=np.bool_)
    high, low = _swar(words[0], good), _swar(words[1], good)
    d16 = tail[:, 0].astype(np.int64) - _DIGIT
    good &= (d16 >= 0) & (d16 <= 9)
    key = high[0] * 1_000_000_000 + low[0] * 10 + d16
    checksum = high[1] * 1024 + low[1] * 4 + d16 * 2
    born = key // 1000 % 100_000_000
    year, month, day = born // 10000, born // 100 % 100, born % 100
    good &= _real_date(year, month, day) & (year >= 1850)
    good &= tail[:, 1] == _ID_CHECK[checksum % 11]
    ok[index] = good
    keys[index] = np.where(good, key * 16 + _check_code(tail[:, 1]), 0)
    return ok, keys


def _swar(
    word: npt.NDArray[np.uint64], good: BoolArray, bases: tuple[int, ...] = (10, 2)
) -> list[IntArray]:
    """Eight ASCII digits in a little-endian word: their value in base 10 and in base 2 (each
    digit times 2^7 ... 2^0). Clears ``good`` where a byte is not a digit."""
    high_nibbles = np.uint64(0xF0F0F0F0F0F0F0F0)
    v = word - np.uint64(0x3030303030303030)
    # A byte is a digit if its high nibble is 3 and, less "0", adding 6 stays below 16.
    good &= (word & high_nibbles) == np.uint64(0x3030303030303030)
    good &= ((v + np.uint64(0x0606060606060606)) & high_nibbles) == 0
    results = []
    scratch = np.empty_like(v)
    for base in bases:
        x = v.copy()
        for shift, mask in ((8, 0x00FF00FF00FF00FF), (16, 0x0000FFFF0000FFFF), (32, 0xFFFFFFFF)):
            np.right_shift(x, np.uint64(shift), out=scratch)
            np.multiply(x, np.uint64(base ** (shift // 8)), out=x)
            np.add(x, scratch, out=x)
            np.bitwise_and(x, np.uint64(mask), out=x)
        results.append(x.view(np.int64))
    return results


def _dates(text: pa.Array, limits: IntakeLimits) -> tuple[BoolArray, pa.Array]:
    """YYYY-MM-DD, a real date, not after the delivery date nor before the plausible window."""
    delivered_on, earliest = limits.as_of, limits.earliest_date
    n = len(text)
    ok = np.zeros(n, dtype=np.bool_)
    days = np.zeros(n, dtype=np.int64)
    index, matrix = _fixed(text, 10)
    if len(index):
        year_d, good = _digits(matrix, slice(0, 4))
        month_d, good_m = _digits(matrix, slice(5, 7))
        day_d, good_d = _digits(matrix, slice(8, 10))
        year, month, day = _number(year_d), _number(month_d), _number(day_d)
        good &= good_m & good_d & (matrix[:, 4] == ord("-")) & (matrix[:, 7] == ord("-"))
        good &= _real_date(year, month, day)
        number = year * 10000 + month * 100 + day
        limit = delivered_on.year * 10000 + delivered_on.month * 100 + delivered_on.day
        good &= number <= limit
        good &= number >= earliest.year * 10000 + earliest.month * 100 + earliest.day
        ok[index] = good
        days[index] = np.where(good, _days_from_civil(year, month, day), 0)
    return ok, pa.array(days.astype(np.int32), pa.int32()).cast(pa.date32())


def _days_from_civil(year: IntArray, month: IntArray, day: IntArray) -> IntArray:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    result: IntArray = era * 146097 + doe - 719468
    return result


def _months(text: pa.Array, limits: IntakeLimits) -> tuple[BoolArray, pa.Array]:
    """YYYY-MM, a real month, not after the delivery month nor before the plausible window."""
    delivered_on, earliest = limits.as_of, limits.earliest_date
    ok = np.zeros(len(text), dtype=np.bool_)
    index, matrix = _fixed(text, 7)
    if len(index):
        year_d, good = _digits(matrix, slice(0, 4))
        month_d, good_m = _digits(matrix, slice(5, 7))
        year, month = _number(year_d), _number(month_d)
        good &= good_m & (matrix[:, 4] == ord("-")) & (month >= 1) & (month <= 12)
        good &= year * 100 + month <= delivered_on.year * 100 + delivered_on.month
        good &= year * 100 + month >= earliest.year * 100 + earliest.month
        ok[index] = good
    return ok, text


def _hundredths(text: pa.Array) -> tuple[BoolArray, pa.Array]:
    """Plain decimals with at most 2 places (yuan or m²), as integer hundredths (fen or dm²)."""
    n = len(text)
    ok = pc.match_substring_regex(text, _MONEY_RE).to_numpy(zero_copy_only=False)
    value = np.zeros(n, dtype=np.int64)
    index = np.flatnonzero(ok)
    if len(index):
        picked = text.take(pa.array(index))
        dot = pc.find_substring(picked, ".").to_numpy(zero_copy_only=False).astype(np.int64)
        length = pc.utf8_length(picked).to_numpy(zero_copy_only=False).astype(np.int64)
        whole = pc.cast(pc.replace_substring(picked, ".", ""), pa.int64()).to_numpy()
        places = np.where(dot < 0, 0, length - dot - 1)
        value[index] = whole * np.array([100, 10, 1], dtype=np.int64)[places]
    return ok, pa.array(value, pa.int64())
