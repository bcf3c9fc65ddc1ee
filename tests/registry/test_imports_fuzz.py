"""Generated files through every reader of the intake kit: no exception escapes, every row is
accepted or quarantined with a field and a reason, and the counts add up.

Each file is a valid header and rows made from a good row of the reader with some cells
replaced by values a fuzzer found crashing (a superscript digit, 2^63 fen, an id of 2^31, a NUL
byte, far-off dates), by values people type (12,50, full-width digits), or by random text; some
files put a NUL byte after the first 4 KiB. Bounded so the suite stays fast.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from tempfile import TemporaryDirectory

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safetynet.insurance.contribution_imports import (
    read_contributions,
    validate_contributions,
)
from safetynet.intake import QuarantineLine
from safetynet.monitoring.columnar import validate_columns
from safetynet.monitoring.feeds import (
    FEEDS,
    headers_of,
    parse_kind,
    read_feed,
    validate_feed,
)
from safetynet.payments.accounts import read_accounts
from safetynet.payments.reconcile import read_return_file
from safetynet.registry.imports import read_table, validate
from tests.registry.helpers import HEADERS, id_number

AS_OF = dt.date(2025, 9, 30)
NASTY = [
    "²",
    "11010519491231002²",
    "1101051949123100²X",
    "1²",
    "12,50",
    "1,2,3",
    "1.2.3",
    "１２，０００．５０",
    str(2**63),
    "92233720368547758.08",
    "9" * 30,
    str(2**31),
    "-1",
    "1e5",
    "\x00",
    "a\x00b",
    "2099-01-01",
    "1970-01-01",
    "1800-01-01",
    "2025-02-30",
    "2025年9月",
    "202509",
    "",
    " ",
    "\u3000",
    "NaN",
    "Infinity",
    "=1+1",
    "X" * 300,
]
cell = st.one_of(st.sampled_from(NASTY), st.text(max_size=12))
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def files(draw: st.DrawFn, good: Callable[[int], list[str]]) -> tuple[list[list[str]], bool]:
    """Rows made from good rows with some cells replaced; and whether to pad the file so that
    a NUL byte falls after its first 4 KiB."""
    count = draw(st.integers(min_value=1, max_value=8))
    rows = []
    for i in range(count):
        row = good(i)
        for index in draw(st.lists(st.integers(0, len(row) - 1), max_size=3)):
            row[index] = draw(cell)
        rows.append(row)
    return rows, draw(st.booleans())


def write(path: Path, headers: Sequence[str], rows: list[list[str]], pad: bool) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    if pad:
        # Good-looking rows first, so a later NUL is beyond the 4 KiB sniffed for binary files.
        filler = [""] * len(headers)
        writer.writerows([filler] * (4200 // max(1, len(headers))))
        rows = [*rows, [*rows[0][:-1], "x\x00y"]]
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def check(quarantine: Sequence[QuarantineLine], read: int, accepted: int) -> None:
    for line in quarantine:
        assert line.field
        assert line.reason
    assert read == accepted + len({q.row for q in quarantine})


def _household_row(i: int) -> list[str]:
    values = {
        "household_no": f"H{i}",
        "name": "张三",
        "id_number": id_number("19800101", 11 + 2 * i),
        "relation": "户主",
        "region": "110105",
        "hukou_type": "非农业户口",
        "birth_date": "1980-01-01",
        "disability_category": "无",
        "disability_grade": "",
        "self_care_items_failed": "0",
        "wage_income": "1,200.50",
        "income_month": "2025-09",
        "deposits": "12000",
    }
    return [values[h] for h in HEADERS]


@SETTINGS
@given(files(_household_row))
def test_household_lists(generated: tuple[list[list[str]], bool]) -> None:
    rows, pad = generated
    with TemporaryDirectory() as folder:
        path = write(Path(folder) / "h.csv", HEADERS, rows, pad)
        batch = validate(read_table(path), as_of=AS_OF)
    accepted = sum(len(h.members) for h in batch.households)
    check(batch.quarantine, batch.read, accepted)


CONTRIBUTION_HEADERS = [
    "身份证号",
    "险种",
    "参保地",
    "缴费月份",
    "缴费基数",
    "单位缴费",
    "个人缴费",
]


def _contribution_row(i: int) -> list[str]:
    return [
        id_number("19800101", 11 + 2 * i),
        "职工养老",
        "110105",
        "2025-01",
        "10000",
        "1600",
        "800",
    ]


@SETTINGS
@given(files(_contribution_row))
def test_contribution_files(generated: tuple[list[list[str]], bool]) -> None:
    rows, pad = generated
    with TemporaryDirectory() as folder:
        path = write(Path(folder) / "c.csv", CONTRIBUTION_HEADERS, rows, pad)
        batch = validate_contributions(
            read_contributions(path),
            as_of=AS_OF,
            overrides={"insurance.employee_pension.average_wage_monthly": 800_000},
        )
    check(batch.quarantine, batch.read, len(batch.rows))


ACCOUNT_HEADERS = [
    "行政区划代码",
    "户编号",
    "持卡人身份证号",
    "开户行行号",
    "社保卡银行账号",
    "启用日期",
    "停用日期",
]


def _account_row(i: int) -> list[str]:
    return [
        "110105",
        f"H{i}",
        id_number("19800101", 11 + 2 * i),
        "102100099996",
        f"62122602000123456{i:02d}",
        "2025-01-01",
        "",
    ]


@SETTINGS
@given(files(_account_row))
def test_payee_account_files(generated: tuple[list[list[str]], bool]) -> None:
    rows, pad = generated
    with TemporaryDirectory() as folder:
        path = write(Path(folder) / "a.csv", ACCOUNT_HEADERS, rows, pad)
        batch = read_accounts(path, as_of=AS_OF)
    check(batch.quarantine, batch.read, len(batch.rows))


RETURN_HEADERS = ["file_id", "instruction_id", "account", "amount_fen", "result", "booked_on"]


def _return_row(i: int) -> list[str]:
    return ["1", str(i + 1), "6212260200012345678", "85905", "paid", "2025-09-30"]


@SETTINGS
@given(files(_return_row))
def test_bank_return_files(generated: tuple[list[list[str]], bool]) -> None:
    rows, pad = generated
    with TemporaryDirectory() as folder:
        path = write(Path(folder) / "r.csv", RETURN_HEADERS, rows, pad)
        sheet, parsed, quarantine = read_return_file(path, as_of=AS_OF)
    check(quarantine, len(sheet.rows), len(parsed))
    for row in parsed:
        assert 0 < row.file_id < 2**31
        assert 0 < row.instruction_id < 2**31
        assert 0 <= row.amount_fen < 2**63


FEED_GOOD = {
    "vehicles": lambda i: [
        id_number("19800101", 11 + 2 * i),
        f"京A1234{i}",
        "2024-03-01",
        "85000.00",
    ],
    "bank_deposits": lambda i: [
        id_number("19800101", 11 + 2 * i),
        "中国工商银行",
        "2025-09-01",
        "15000.00",
    ],
    "wages": lambda i: [id_number("19800101", 11 + 2 * i), "2025-08", "4,500.00"],
    "deaths": lambda i: [id_number("19800101", 11 + 2 * i), "2025-09-01"],
}


@SETTINGS
@given(st.sampled_from(sorted(FEED_GOOD)), st.data())
def test_feed_files(kind: str, data: st.DataObject) -> None:
    spec = parse_kind(kind)
    headers = headers_of(spec)
    rows, pad = data.draw(files(FEED_GOOD[kind]))
    rows = [r[: len(headers)] + [""] * (len(headers) - len(r)) for r in rows]
    with TemporaryDirectory() as folder:
        path = write(Path(folder) / "f.csv", headers, rows, pad)
        feed = validate_feed(read_feed(spec, path), delivered_on=AS_OF)
    check(feed.quarantine, feed.read, len(feed.rows))


@SETTINGS
@given(st.sampled_from(sorted(FEED_GOOD)), st.data())
def test_parquet_feeds(kind: str, data: st.DataObject) -> None:
    """A Parquet feed through the vector validator (the monthly run's path): a bad cell is a
    quarantined row, never a failed file or month."""
    spec = FEEDS[parse_kind(kind).kind]
    headers = headers_of(spec)
    rows, _ = data.draw(files(FEED_GOOD[kind]))
    rows = [r[: len(headers)] + [""] * (len(headers) - len(r)) for r in rows]
    table = pa.table(
        {h: pa.array([r[i] for r in rows], pa.string()) for i, h in enumerate(headers)}
    )
    with TemporaryDirectory() as folder:
        path = Path(folder) / "f.parquet"
        pq.write_table(table, path)
        result = validate_columns(spec, pq.read_table(path), delivered_on=AS_OF)
    check(result.quarantine, result.read, result.accepted)
    amounts = result.records.column("amount_fen").to_pylist()
    assert all(a is None or 0 <= a < 2**63 for a in amounts)


# -- Every date field is reported under its own name -----------------------------------------


def _quarantined_fields(reader: str, headers: Sequence[str], row: list[str]) -> list[str]:
    with TemporaryDirectory() as folder:
        path = write(Path(folder) / "d.csv", headers, [row], False)
        if reader == "households":
            lines = validate(read_table(path), as_of=AS_OF).quarantine
        elif reader == "contributions":
            lines = validate_contributions(read_contributions(path), as_of=AS_OF).quarantine
        elif reader == "accounts":
            lines = read_accounts(path, as_of=AS_OF).quarantine
        elif reader == "returns":
            lines = read_return_file(path, as_of=AS_OF)[2]
        else:
            spec = parse_kind(reader)
            lines = validate_feed(read_feed(spec, path), delivered_on=AS_OF).quarantine
    return [f"{q.field}: {q.reason}" for q in lines]


def _date_fields() -> list[tuple[str, Sequence[str], list[str], int, str]]:
    """(reader, headers, good row, index of the date cell, its field) for every date and month
    field of every reader."""
    from tests.monitoring.test_feeds import CASES

    cases: list[tuple[str, Sequence[str], list[str], int, str]] = [
        ("households", HEADERS, _household_row(0), HEADERS.index("birth_date"), "birth_date"),
        ("households", HEADERS, _household_row(0), HEADERS.index("income_month"), "income_month"),
        ("contributions", CONTRIBUTION_HEADERS, _contribution_row(0), 3, "month"),
        ("accounts", ACCOUNT_HEADERS, _account_row(0), 5, "valid_from"),
        ("accounts", ACCOUNT_HEADERS, _account_row(0), 6, "valid_to"),
        ("returns", RETURN_HEADERS, _return_row(0), 5, "booked_on"),
    ]
    for kind, (good, _, _, _) in sorted(CASES.items()):
        spec = parse_kind(kind)
        headers = list(headers_of(spec))
        for feed_field in spec.fields:
            if feed_field.parser in ("date", "month"):
                name = feed_field.column.name
                cases.append((kind, headers, list(good), headers.index(name), name))
    return cases


@pytest.mark.parametrize(
    ("reader", "headers", "good", "index", "field"),
    _date_fields(),
    ids=[f"{c[0]}-{c[4]}" for c in _date_fields()],
)
def test_each_date_field_is_reported_under_its_own_name(
    reader: str, headers: Sequence[str], good: list[str], index: int, field: str
) -> None:
    month = field in ("income_month", "month")
    bad = {
        "2025-02-30" if not month else "2025-13": "not a",
        "2099-01-01" if not month else "2099-01": "after",
        "1970-01-01" if not month else "1970-01": "early",
    }
    if (
        reader == "households" and field == "birth_date"
    ):  # a birth date's window is the oldest plausible age
        bad = {"2025-02-30": "not a", "2099-01-01": "after", "1850-01-01": "implausible"}
    for text, reason in bad.items():
        row = list(good)
        row[index] = text
        fields = _quarantined_fields(reader, headers, row)
        assert any(f.startswith(f"{field}: ") and reason in f for f in fields), (text, fields)
