"""The vector validator accepts exactly the rows the row validator accepts, with the same values,
and quarantines the others with the same reasons, for every kind and every sort of bad row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from safetynet.domain.identity import check_character
from safetynet.monitoring.columnar import validate_columns
from safetynet.monitoring.feeds import (
    FEEDS,
    FeedSpec,
    ValidatedFeed,
    headers_of,
    parse_kind,
    read_feed,
    reject_unknown,
    validate_feed,
)
from safetynet.monitoring.records import FEED_RECORD_SCHEMA

DELIVERED = dt.date(2025, 9, 30)


def ident(seq: int, born: str = "19800101") -> str:
    first17 = f"110105{born}{seq:03d}"
    return first17 + check_character(first17)


GOOD = {
    "identity": ident(900, "20250101"),
    "date": "2025-09-01",
    "month": "2025-08",
    "money": "6500.00",
    "area": "89.50",
    "text": "REF-1",
    "region": "510104",
    "grade": "3",
}
BAD_ID = ident(901)[:-1] + ("0" if ident(901)[-1] != "0" else "1")
VARIANTS = {
    "identity": [
        BAD_ID,
        ident(902)[:17],
        ident(903).lower(),
        " " + ident(904),
        "110105800101905",  # an old 15-digit number
        "110105198002300011",  # no such birth date
        "11010518000101001X",
        "",
    ],
    "date": [
        "2025/9/1",
        "2025年9月1日",
        "2025-02-30",
        "2025-10-01",
        "0000-01-01",
        "2024-02-29",
        "2025-09-30",
        "2025-9-01",
        "",
    ],
    "month": ["2025-09", "2025/8", "202508", "2025-13", "2025-10", "2025-00", "25-08", ""],
    "money": ["6500", "1,000", "12.345", "-1", "abc", "0.5", "1e3", "", "007.10", "5."],
    "area": ["89.505", "0", "-3", "100", "1,234.5", ""],
    "text": ["x" * 65, "x" * 64, "京A12345", ""],
    "region": ["999999", "000000", "51010", "110000", " 510104", ""],
    "grade": ["三级", "5", "4级", "0", "", "1.0"],
    "code": ["nonsense", "", "UPPER"],
}


def rows_for(spec: FeedSpec) -> list[list[str]]:
    """A good row, then each field in turn replaced by every variant, then repeats."""
    good = [ident(1)] + [
        (f.choices[0] if f.parser == "code" else GOOD[f.parser]) for f in spec.fields
    ]
    rows = [good]
    seq = 2
    for column in range(len(good)):
        parser = "identity" if column == 0 else spec.fields[column - 1].parser
        variants = list(VARIANTS[parser])
        if parser == "code":
            field = spec.fields[column - 1]
            variants += [field.choices[-1], field.choices[0].upper(), *list(field.synonyms)[:2]]
        for variant in variants:
            row = list(good)
            row[column] = variant
            if column != 0:
                row[0] = ident(seq)  # another person, so that no key repeats by accident
            seq += 1
            rows.append(row)
    rows.append(list(good))  # a duplicate of the first row
    changed = list(rows[1])
    changed[-1] = "2" if spec.fields[-1].parser == "grade" else changed[-1]
    rows.append(changed)  # the same as row 3, or a conflict with it
    other = list(good)
    other[0] = ident(2, "19750505")  # not in the registry
    rows.append(other)
    return rows


def both(tmp_path: Path, spec: FeedSpec, rows: list[list[str]], zh: bool) -> None:
    names = list(headers_of(spec, "zh" if zh else "en"))
    path = tmp_path / f"{spec.kind}.parquet"
    pq.write_table(pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)}), path)
    known = {r[0] for r in rows if r[0] != ident(2, "19750505")}

    by_row = validate_feed(read_feed(spec, path), delivered_on=DELIVERED)
    reject_unknown(by_row, known.__contains__)
    by_column = validate_columns(spec, pq.read_table(path), delivered_on=DELIVERED, known_ids=known)

    assert by_column.records.schema == FEED_RECORD_SCHEMA
    assert by_column.read == by_row.read == len(rows)
    assert by_column.quarantine == by_row.quarantine
    assert by_column.duplicates == by_row.duplicates
    validated = by_column.to_validated(read_feed(spec, path), DELIVERED)
    assert [(r.row, r.id_number, dict(r.values)) for r in validated.rows] == [
        (r.row, r.id_number, dict(r.values)) for r in by_row.rows
    ]
    assert by_row.quarantine, "the file plants bad rows"
    assert by_row.rows, "and good ones"
    assert_records_match(by_column.records, by_row)


def assert_records_match(records: pa.Table, by_row: ValidatedFeed) -> None:
    """Targets a kind does not fill are null."""
    filled = {f.target for f in by_row.table.spec.fields} | {"kind", "id_number"}
    for name in FEED_RECORD_SCHEMA.names:
        if name not in filled:
            assert records.column(name).null_count == records.num_rows


@pytest.mark.parametrize("kind", list(FEEDS))
def test_both_validators_agree_on_every_kind_of_bad_row(kind: str, tmp_path: Path) -> None:
    spec = parse_kind(kind)
    both(tmp_path, spec, rows_for(spec), zh=kind in ("wages", "births"))


def test_wages_in_detail(tmp_path: Path) -> None:
    spec = parse_kind("wages")
    head, spouse = ident(11), ident(12)
    rows = [
        [head, "2025-08", "6500.00"],
        [head, "2025-08", "6500"],  # the same wage written otherwise: a duplicate
        [spouse, "2025-08", "100"],
        [spouse, "2025-08", "200"],  # a conflict with row 4
        [ident(13), "2025/7", "1,200.5"],  # other spellings, accepted by the row validator
        [BAD_ID, "2025-08", "1"],
    ]
    names = headers_of(spec)
    path = tmp_path / "w.parquet"
    pq.write_table(pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)}), path)
    result = validate_columns(spec, pq.read_table(path), delivered_on=DELIVERED)
    assert result.rows.tolist() == [2, 6]
    assert result.records.column("amount_fen").to_pylist() == [650_000, 120_050]
    assert result.records.column("month").to_pylist() == ["2025-08", "2025-07"]
    assert [(q.row, q.field) for q in result.quarantine] == [
        (3, "row"),
        (4, "row"),
        (5, "row"),
        (7, "id_number"),
    ]
    assert result.quarantine[0].reason == "duplicate of row 2"
    assert result.duplicates == 1
    assert BAD_ID not in result.quarantine[-1].reason


def test_typed_columns() -> None:
    import decimal

    spec = parse_kind("hospital_bills")
    table = pa.table(
        {
            "id_number": [ident(11), ident(12)],
            "admission_date": pa.array([dt.date(2025, 7, 1), dt.date(2025, 10, 1)]),
            "in_policy_cost": pa.array(
                [decimal.Decimal("12000.00"), decimal.Decimal("1.00")], pa.decimal128(12, 2)
            ),
            "out_of_pocket": pa.array([3500, 1], pa.int64()),
        }
    )
    result = validate_columns(spec, table, delivered_on=DELIVERED)
    assert result.records.select(["event_date", "amount_fen", "second_amount_fen"]).to_pylist() == [
        {"event_date": dt.date(2025, 7, 1), "amount_fen": 1_200_000, "second_amount_fen": 350_000}
    ]
    assert [q.reason for q in result.quarantine] == [
        "2025-10-01 is after the delivery date (2025-09-30)"
    ]
