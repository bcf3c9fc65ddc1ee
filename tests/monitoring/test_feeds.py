"""Department feeds: each kind's validation (one good and one bad row), duplicates, unknown persons,
wrong schemas, Chinese headers and XLSX, idempotent deliveries and the CLI (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from safetynet.audit.log import verify
from safetynet.audit.model import AuditEvent
from safetynet.db.engine import Database
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.entrypoints.cli.main import app as cli
from safetynet.errors import InputError
from safetynet.monitoring.feeds import (
    AlreadyLoadedError,
    LoadFeed,
    LoadReport,
    ValidatedFeed,
    headers_of,
    load_feed,
    parse_kind,
    read_feed,
    validate_feed,
)
from safetynet.monitoring.model import FeedDelivery, FeedRecord
from tests.registry.helpers import (
    ACTOR,
    cli_registry_with_household,
    count,
    family,
    id_number,
    run_import,
    write_csv,
)

HEAD = id_number("19800101", 11)
SPOUSE = id_number("19820202", 12)
UNKNOWN = id_number("19750505", 31)
CHILD = id_number("20250901", 13)
OTHER = id_number("19850303", 24)  # a spouse from outside the registry
DELIVERED = dt.date(2025, 9, 30)

# kind -> (a good row, a bad row, the field and a fragment of the reason of the bad row)
CASES: dict[str, tuple[list[str], list[str], str, str]] = {
    "deaths": ([HEAD, "2025-09-01"], [SPOUSE, "2025-10-01"], "death_date", "after the delivery"),
    "vehicles": (
        [HEAD, "京A12345", "2024-03-01", "85000.00"],
        [SPOUSE, "京B54321", "2024-03-01", "-1"],
        "value",
        "negative",
    ),
    "real_estate": (
        [HEAD, "110105001001GB00001F0001", "89.50", "2010-05-20"],
        [SPOUSE, "110105001001GB00002F0001", "89.505", "2010-05-20"],
        "area",
        "at most 2 decimals",
    ),
    "business": (
        [HEAD, "91110105MA01ABCD1X", "2023-02-28", "100000"],
        [SPOUSE, "91110105MA01ABCD2X", "2023-02-28", "10万"],
        "capital",
        "not an amount",
    ),
    "wages": ([HEAD, "2025-08", "6500.00"], [SPOUSE, "2025-10", "6500"], "month", "after"),
    "hospital_bills": (
        [HEAD, "2025-07-01", "12000.00", "3500.50"],
        [SPOUSE, "2025-07-01", "12000", "3500.505"],
        "out_of_pocket",
        "more than 2 decimal",
    ),
    "births": (
        [SPOUSE, CHILD, "2025-09-01"],
        [HEAD, CHILD[:-1] + ("1" if CHILD[-1] != "1" else "2"), "2025-09-01"],
        "child_id_number",
        "check character",
    ),
    "marriages": (
        [HEAD, OTHER, "2025-06-01", "结婚"],
        [SPOUSE, OTHER, "2025-06-01", "engaged"],
        "event",
        "is not one of married, divorced",
    ),
    "hukou_moves": (
        [HEAD, "2025-08-15", "510104"],
        [SPOUSE, "2025-08-15", "999999"],
        "to_region",
        "unknown region code 999999",
    ),
    "social_insurance": (
        [HEAD, "2025-08", "pension_contribution", "256.00"],
        [SPOUSE, "2025-08", "pension", "100"],
        "item",
        "is not one of pension_contribution",
    ),
    "bank_deposits": (
        [HEAD, "中国工商银行", "2025-09-01", "15000.00"],
        [SPOUSE, "中国工商银行", "2025-09-01", "1,5000.5.0"],
        "balance",
        "more than one decimal point",
    ),
    "disaster_victims": (
        [HEAD, "DZ-2025-07", "2025-07-20", "房屋损坏", "8000"],
        [SPOUSE, "DZ-2025-07", "2025-07-20", "flood", "8000"],
        "damage",
        "house_destroyed",
    ),
    "unemployment_registration": (
        [HEAD, "2025-05-06", "registered"],
        [SPOUSE, "2025-05-06", "paused"],
        "status",
        "registered, ended",
    ),
    "disability_certificates": (
        [HEAD, "11010519800101111143", "2020-01-02", "肢体", "三级"],
        [SPOUSE, "11010519820202121242", "2020-01-02", "physical", "5"],
        "grade",
        "is not a grade",
    ),
}


def write(path: Path, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def people(db: Database, tmp_path: Path, clock: Callable[[], Any]) -> None:
    run_import(db, write_csv(tmp_path / "households.csv", family("H1", 11)), clock)


def load(
    db: Database, kind: str, path: Path, clock: Callable[[], Any]
) -> tuple[LoadReport, ValidatedFeed]:
    feed = validate_feed(read_feed(parse_kind(kind), path), delivered_on=DELIVERED)
    with UnitOfWork(db.sessions) as uow:
        report = load_feed(LoadFeed(feed, ACTOR), uow, clock)
    return report, feed


def load_rows(
    db: Database, kind: str, path: Path, rows: Sequence[Sequence[str]], clock: Callable[[], Any]
) -> tuple[LoadReport, ValidatedFeed]:
    """Write ``rows`` to the CSV file ``path`` under ``kind``'s headers, then load it."""
    return load(db, kind, write(path, headers_of(parse_kind(kind)), rows), clock)


def reasons(feed: ValidatedFeed) -> dict[int, str]:
    return {q.row: f"{q.field}: {q.reason}" for q in feed.quarantine}


@pytest.mark.parametrize("kind", list(CASES))
def test_each_kind_accepts_a_good_row_and_quarantines_a_bad_one(
    kind: str, database: Database, tmp_path: Path, fixed_clock: Callable[[], Any]
) -> None:
    people(database, tmp_path, fixed_clock)
    good, bad, field, reason = CASES[kind]
    report, feed = load_rows(database, kind, tmp_path / f"{kind}.csv", [good, bad], fixed_clock)
    assert (report.read, report.accepted, report.quarantined, report.duplicates) == (2, 1, 1, 0)
    assert list(reasons(feed)) == [3]
    assert reasons(feed)[3].startswith(f"{field}: ")
    assert reason in reasons(feed)[3]
    with database.sessions() as session:
        records = session.scalars(select(FeedRecord)).all()
        assert [(r.kind, r.row_number) for r in records] == [(kind, 2)]
        delivery = session.scalars(select(FeedDelivery)).one()
        assert (delivery.kind, delivery.read_count, delivery.accepted_count) == (kind, 2, 1)
        assert delivery.delivered_on == DELIVERED


def test_typed_columns_hold_the_values(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], Any]
) -> None:
    people(database, tmp_path, fixed_clock)
    load_rows(
        database, "hospital-bills", tmp_path / "h.csv", [CASES["hospital_bills"][0]], fixed_clock
    )
    load_rows(database, "real-estate", tmp_path / "r.csv", [CASES["real_estate"][0]], fixed_clock)
    with database.sessions() as session:
        bill, estate = session.scalars(select(FeedRecord).order_by(FeedRecord.id)).all()
    assert (bill.event_date, bill.amount_fen, bill.second_amount_fen) == (
        dt.date(2025, 7, 1),
        1_200_000,
        350_050,
    )
    assert (estate.reference, estate.area_dm2) == ("110105001001GB00001F0001", 8950)


def test_bad_identity_number_is_quarantined_and_masked(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], Any]
) -> None:
    people(database, tmp_path, fixed_clock)
    wrong = HEAD[:-1] + ("0" if HEAD[-1] != "0" else "1")
    path = write(tmp_path / "d.csv", ["id_number", "death_date"], [[wrong, "2025-09-01"]])
    report, feed = load(database, "deaths", path, fixed_clock)
    assert (report.accepted, report.quarantined) == (0, 1)
    reason = reasons(feed)[2]
    assert reason.startswith("id_number: ")
    assert wrong not in reason


def test_dates_must_be_real(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], Any]
) -> None:
    people(database, tmp_path, fixed_clock)
    path = write(tmp_path / "d.csv", ["id_number", "death_date"], [[HEAD, "2025-02-30"]])
    _, feed = load(database, "deaths", path, fixed_clock)
    assert "not a real date" in reasons(feed)[2]


def test_unknown_person_is_quarantined(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], Any]
) -> None:
    people(database, tmp_path, fixed_clock)
    path = write(
        tmp_path / "w.csv",
        ["id_number", "month", "gross_wage"],
        [[HEAD, "2025-08", "100"], [UNKNOWN, "2025-08", "100"]],
    )
    report, feed = load(database, "wages", path, fixed_clock)
    assert (report.read, report.accepted, report.quarantined) == (2, 1, 1)
    assert reasons(feed) == {3: "id_number: unknown person"}


def test_duplicates_are_counted_once_and_conflicts_load_nothing(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], Any]
) -> None:
    people(database, tmp_path, fixed_clock)
    rows = [
        [HEAD, "2025-08", "100"],
        [HEAD, "2025-08", "100.00"],  # the same values: a duplicate of row 2
        [SPOUSE, "2025-08", "100"],
        [SPOUSE, "2025-08", "200"],  # the same month with another wage: a conflict
    ]
    path = write(tmp_path / "w.csv", ["id_number", "month", "gross_wage"], rows)
    report, feed = load(database, "wages", path, fixed_clock)
    assert (report.read, report.accepted, report.quarantined, report.duplicates) == (4, 1, 3, 1)
    assert reasons(feed)[3] == "row: duplicate of row 2"
    assert "conflict" in reasons(feed)[4]
    assert "conflict" in reasons(feed)[5]
    assert count(database, FeedRecord) == 1


def test_same_file_twice_is_refused_and_writes_nothing(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], Any]
) -> None:
    people(database, tmp_path, fixed_clock)
    path = write(tmp_path / "d.csv", ["id_number", "death_date"], [[HEAD, "2025-09-01"]])
    first, _ = load(database, "deaths", path, fixed_clock)
    audits = count(database, AuditEvent)
    with pytest.raises(AlreadyLoadedError, match=f"already loaded as delivery {first.delivery_id}"):
        load(database, "deaths", path, fixed_clock)
    assert count(database, FeedDelivery) == 1
    assert count(database, FeedRecord) == 1
    assert count(database, AuditEvent) == audits
    with database.sessions() as session:
        assert verify(session) == []
        entry = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert entry is not None
        assert entry.event == "FeedDelivered"
        assert HEAD not in str(entry.after)


@pytest.mark.parametrize(
    ("headers", "named"),
    [
        (["id_number"], "death_date"),
        (["id_number", "death_date", "cause"], "cause"),
    ],
)
def test_wrong_schema_names_the_column(tmp_path: Path, headers: list[str], named: str) -> None:
    path = write(tmp_path / "d.csv", headers, [[HEAD, "2025-09-01", "x"][: len(headers)]])
    with pytest.raises(InputError) as caught:
        read_feed(parse_kind("deaths"), path)
    message = str(caught.value)
    assert named in message
    assert "\n" not in message


def test_unknown_kind() -> None:
    with pytest.raises(InputError, match="not a feed kind"):
        parse_kind("weather")


def test_chinese_headers_and_xlsx(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], Any]
) -> None:
    import openpyxl

    people(database, tmp_path, fixed_clock)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(headers_of(parse_kind("vehicles"), "zh")))
    sheet.append(CASES["vehicles"][0])
    path = tmp_path / "vehicles.xlsx"
    workbook.save(path)
    report, _ = load(database, "vehicles", path, fixed_clock)
    assert (report.read, report.accepted) == (1, 1)
    with database.sessions() as session:
        record = session.scalars(select(FeedRecord)).one()
    assert (record.reference, record.amount_fen) == ("京A12345", 8_500_000)


def test_cli_load_prints_counts_and_refuses_a_second_load(tmp_path: Path) -> None:
    runner = CliRunner()
    app = cli
    url = cli_registry_with_household(runner, tmp_path)
    good, bad, _, _ = CASES["vehicles"]
    path = write(tmp_path / "v.csv", headers_of(parse_kind("vehicles")), [good, bad, good])
    args = ["feeds", "load", "vehicles", str(path), "--delivered", "2025-09-30", "--url", url]
    result = runner.invoke(app, [*args, "--dry-run"])
    assert result.exit_code == 1, result.output  # rows would be quarantined
    assert "dry run (vehicles): read 3 rows: 1 accepted, 2 quarantined" in result.stdout
    assert "nothing was written" in result.stdout
    assert not (tmp_path / "v.quarantine.csv").exists()
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output  # some rows quarantined, report printed
    assert "read 3 rows: 1 accepted, 2 quarantined (of which 1 duplicates)" in result.stdout
    assert "京A12345" not in result.output
    assert HEAD not in result.output
    assert (tmp_path / "v.quarantine.csv").is_file()
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "already loaded as delivery 1" in result.output


def test_new_kinds_fill_region_code_and_grade(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], Any]
) -> None:
    people(database, tmp_path, fixed_clock)
    for kind in ("marriages", "hukou_moves", "disability_certificates", "births"):
        load_rows(database, kind, tmp_path / f"{kind}.csv", [CASES[kind][0]], fixed_clock)
    with database.sessions() as session:
        records = {r.kind: r for r in session.scalars(select(FeedRecord))}
    marriage = records["marriages"]
    assert (marriage.reference, marriage.event_date, marriage.code) == (
        OTHER,
        dt.date(2025, 6, 1),
        "married",  # 结婚
    )
    assert records["hukou_moves"].region_code == "510104"
    certificate = records["disability_certificates"]
    assert (certificate.reference, certificate.code, certificate.grade) == (
        "11010519800101111143",
        "physical",  # 肢体
        3,  # 三级
    )
    assert (records["births"].reference, records["births"].event_date) == (
        CHILD,
        dt.date(2025, 9, 1),
    )


def test_a_second_identity_number_is_masked_in_reasons(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], Any]
) -> None:
    people(database, tmp_path, fixed_clock)
    _, bad, _, _ = CASES["births"]
    _, feed = load_rows(database, "births", tmp_path / "b.csv", [bad], fixed_clock)
    reason = reasons(feed)[2]
    assert reason.startswith("child_id_number: check character")
    assert bad[1] not in reason
    assert bad[1][:3] + "*" in reason


def test_parquet_with_chinese_names_and_typed_columns(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], Any]
) -> None:
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    people(database, tmp_path, fixed_clock)
    table = pa.table(
        {
            "身份证号": [HEAD, SPOUSE, UNKNOWN],
            "入院日期": pa.array([dt.date(2025, 7, 1), dt.date(2025, 10, 2), dt.date(2025, 7, 1)]),
            "政策范围内费用": pa.array(
                [decimal.Decimal("12000.00"), decimal.Decimal("10.00"), decimal.Decimal("1.00")],
                pa.decimal128(12, 2),
            ),
            "个人自付": ["3500.50", "1", "0"],
        }
    )
    path = tmp_path / "bills.parquet"
    pq.write_table(table, path)
    report, feed = load(database, "hospital_bills", path, fixed_clock)
    assert (report.read, report.accepted, report.quarantined) == (3, 1, 2)
    assert reasons(feed) == {
        3: "admission_date: 2025-10-02 is after the delivery date (2025-09-30)",
        4: "id_number: unknown person",
    }
    with database.sessions() as session:
        record = session.scalars(select(FeedRecord)).one()
    assert (record.event_date, record.amount_fen, record.second_amount_fen) == (
        dt.date(2025, 7, 1),
        1_200_000,
        350_050,
    )


def test_parquet_identity_numbers_stored_as_numbers_are_refused(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], Any]
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    people(database, tmp_path, fixed_clock)
    path = tmp_path / "deaths.parquet"
    pq.write_table(pa.table({"id_number": [int(HEAD)], "death_date": ["2025-09-01"]}), path)
    report, feed = load(database, "deaths", path, fixed_clock)
    assert (report.read, report.quarantined) == (1, 1)
    assert "stored as a number" in reasons(feed)[2]


def test_cli_loads_a_parquet_file(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    runner = CliRunner()
    url = cli_registry_with_household(runner, tmp_path)
    good, bad, _, _ = CASES["vehicles"]
    columns = list(zip(good, bad, good, strict=True))
    path = tmp_path / "v.parquet"
    pq.write_table(
        pa.table(
            dict(zip(headers_of(parse_kind("vehicles"), "zh"), map(list, columns), strict=True))
        ),
        path,
    )
    args = ["feeds", "load", "vehicles", str(path), "--delivered", "2025-09-30", "--url", url]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1, result.output  # rows quarantined
    assert "read 3 rows: 1 accepted, 2 quarantined (of which 1 duplicates)" in result.stdout
    assert (tmp_path / "v.quarantine.csv").is_file()


def test_the_reasons_survive_a_death_between_the_commit_and_the_quarantine_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reasons are stored with the rows: if writing the file fails after the commit, the
    reload is refused (already loaded) but `feeds quarantine` writes the same file again."""
    import safetynet.entrypoints.cli._common as common

    runner = CliRunner()
    url = cli_registry_with_household(runner, tmp_path)
    good, bad, field, reason = CASES["vehicles"]
    path = write(tmp_path / "v.csv", headers_of(parse_kind("vehicles")), [good, bad])
    args = ["feeds", "load", "vehicles", str(path), "--delivered", "2025-09-30", "--url", url]

    def dies(*_: object, **__: object) -> None:
        raise KeyboardInterrupt  # the process is stopped after its commit

    with monkeypatch.context() as patched:
        patched.setattr(common, "write_quarantine", dies)
        result = runner.invoke(cli, args)
    assert result.exit_code == 130  # interrupted
    assert not (tmp_path / "v.quarantine.csv").exists()
    again = runner.invoke(cli, args)
    assert again.exit_code == 2
    assert "safetynet feeds quarantine 1" in again.stderr
    target = tmp_path / "again.csv"
    exported = runner.invoke(cli, ["feeds", "quarantine", "1", "--out", str(target), "--url", url])
    assert exported.exit_code == 0, exported.output
    with target.open(encoding="utf-8-sig") as handle:
        lines = list(csv.reader(handle))
    assert lines[0][:3] == ["row", "field", "reason"]
    assert [(r[0], r[1]) for r in lines[1:]] == [("3", field)]
    assert reason in lines[1][2]
    assert lines[1][3:] == bad


def test_a_delivery_with_a_title_row_and_numbered_lines_is_read(tmp_path: Path) -> None:
    spec = parse_kind("vehicles")
    headers = ["序号", *headers_of(spec, "zh"), "备注"]
    good = CASES["vehicles"][0]
    path = tmp_path / "v.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["XX县公安局交管大队2025年9月机动车登记信息"])
        writer.writerow(headers)
        writer.writerow(["1", *good, "新登记"])
        writer.writerow(["2", *[""] * len(good), ""])  # a numbered line nobody filled
    table = read_feed(spec, path)
    assert table.sheet is not None
    assert (table.sheet.header_row, table.sheet.ignored) == (2, ("序号", "备注"))
    feed = validate_feed(table, delivered_on=dt.date(2025, 9, 30))
    assert (feed.read, len(feed.rows), feed.quarantine) == (1, 1, [])
