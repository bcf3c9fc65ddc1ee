"""Bulk import of county household lists: validation, quarantine, idempotency, files, CLI."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from safetynet.audit.model import AuditEvent
from safetynet.db.engine import (
    Database,
    DatabaseUnavailableError,
    create_database,
    head_revision,
    require_current_schema,
)
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.identity import check_character
from safetynet.entrypoints.cli.main import app as cli
from safetynet.errors import InputError
from safetynet.intake import parse_area, parse_month
from safetynet.registry.handlers import ImportHouseholds, import_households
from safetynet.registry.imports import read_table, validate
from safetynet.registry.model import Asset, Household, IncomeItem, Membership, Person
from tests.registry.helpers import (
    ACTOR,
    HEADERS,
    count,
    family,
    id_number,
    person,
    run_import,
    write_csv,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "registry" / "households_sample.csv"
Clock = Callable[[], dt.datetime]


def _bad_check_character() -> str:
    good = id_number("19820202", 22)
    return good[:17] + ("0" if good[17] != "0" else "1")


def _impossible_birth_date() -> str:
    first17 = "11010519820230022"
    return first17 + check_character(first17)


# Each validation kind: the spouse of household H1 gets a good value, the spouse of H2 a bad one.
# (kind, good values, bad values, field named in quarantine, words of the reason)
CASES: list[tuple[str, dict[str, str], dict[str, str], str, str]] = [
    (
        "id_check_character",
        {},
        {"id_number": _bad_check_character()},
        "id_number",
        "check character",
    ),
    ("id_birth_date", {}, {"id_number": _impossible_birth_date()}, "id_number", "not a real date"),
    ("id_length", {}, {"id_number": "11010519820202"}, "id_number", "18 characters"),
    ("region_format", {"region": "110101"}, {"region": "11010"}, "region", "expected 6 digits"),
    ("region_unknown", {"region": "130102"}, {"region": "119999"}, "region", "unknown region code"),
    (
        "birth_date_real",
        {"birth_date": "1982-02-02"},
        {"birth_date": "1982-02-30"},
        "birth_date",
        "not a real date",
    ),
    (
        "birth_date_agrees",
        {"birth_date": "1982/02/02"},
        {"birth_date": "1982-03-02"},
        "birth_date",
        "contradicts the identity number",
    ),
    (
        "income_month",
        {"wage_income": "100", "income_month": "2025-09"},
        {"wage_income": "100", "income_month": "2025-13"},
        "income_month",
        "not a month",
    ),
    (
        "amount_negative",
        {"wage_income": "0", "income_month": "2025-09"},
        {"wage_income": "-5", "income_month": "2025-09"},
        "wage_income",
        "negative",
    ),
    (
        "amount_decimals",
        {"deposits": "1234.56"},
        {"deposits": "12.345"},
        "deposits",
        "more than 2 decimal",
    ),
    ("amount_text", {"deposits": "1,000"}, {"deposits": "abc"}, "deposits", "not an amount"),
    (
        "grade_range",
        {"disability_category": "肢体", "disability_grade": "4"},
        {"disability_category": "肢体", "disability_grade": "5"},
        "disability_grade",
        "outside 0-4",
    ),
    (
        "grade_needs_category",
        {"disability_category": "视力残疾", "disability_grade": "一级"},
        {"disability_category": "无", "disability_grade": "2"},
        "disability_grade",
        "category is none",
    ),
    (
        "self_care_range",
        {"self_care_items_failed": "6"},
        {"self_care_items_failed": "7"},
        "self_care_items_failed",
        "outside 0-6",
    ),
    (
        "relation_vocabulary",
        {"relation": "配偶"},
        {"relation": "邻居"},
        "relation",
        "is not one of",
    ),
    (
        "hukou_vocabulary",
        {"hukou_type": "农村"},
        {"hukou_type": "城里"},
        "hukou_type",
        "is not one of",
    ),
    ("required_field", {"name": "李四"}, {"name": ""}, "name", "is required"),
    (
        "duplicate_in_household",
        {},
        {"id_number": id_number("19800101", 21)},
        "id_number",
        "duplicate identity number",
    ),
]


@pytest.mark.parametrize(
    ("kind", "good", "bad", "field", "reason"), CASES, ids=[c[0] for c in CASES]
)
def test_each_validation_kind_quarantines_the_bad_household_and_keeps_the_good(
    tmp_path: Path, kind: str, good: dict[str, str], bad: dict[str, str], field: str, reason: str
) -> None:
    h1, h2 = family("H1", 11), family("H2", 21)
    h1[1].update(good)
    h2[1].update(bad)
    batch = validate(read_table(write_csv(tmp_path / f"{kind}.csv", h1 + h2)))
    assert [h.household_no for h in batch.households] == ["H1"]
    assert batch.read == 4
    assert batch.quarantined_rows == 2  # the bad row and its household's good row
    lines = {(q.row, q.field) for q in batch.quarantine}
    assert (5, field) in lines, batch.quarantine
    bad_line = next(q for q in batch.quarantine if q.row == 5 and q.field == field)
    assert reason in bad_line.reason
    partner = [q for q in batch.quarantine if q.row == 4]
    assert partner
    assert "household H2 has bad rows (5)" in partner[0].reason


@pytest.mark.parametrize(
    ("relations", "reason"),
    [(("spouse", "child"), "has no head"), (("head", "户主"), "has 2 heads (rows 4, 5)")],
)
def test_a_household_needs_exactly_one_head(
    tmp_path: Path, relations: tuple[str, str], reason: str
) -> None:
    h1, h2 = family("H1", 11), family("H2", 21)
    h2[0]["relation"], h2[1]["relation"] = relations
    batch = validate(read_table(write_csv(tmp_path / "heads.csv", h1 + h2)))
    assert [h.household_no for h in batch.households] == ["H1"]
    assert {(q.row, q.field) for q in batch.quarantine} == {(4, "relation"), (5, "relation")}
    assert all(reason in q.reason for q in batch.quarantine)


def test_a_person_in_two_households_of_the_file_quarantines_both(tmp_path: Path) -> None:
    h1, h2, h3 = family("H1", 11), family("H2", 21), family("H3", 31)
    h2[1]["id_number"] = h1[1]["id_number"]
    batch = validate(read_table(write_csv(tmp_path / "twice.csv", h1 + h2 + h3)))
    assert [h.household_no for h in batch.households] == ["H3"]
    reasons = {q.row: q.reason for q in batch.quarantine if q.field == "id_number"}
    assert "also in household H2 (row 5)" in reasons[3]
    assert "also in household H1 (row 3)" in reasons[5]
    assert batch.quarantined_rows == 4


def test_reasons_never_show_a_full_identity_number(tmp_path: Path) -> None:
    h1 = family("H1", 11)
    h1[1]["birth_date"] = "1990-01-01"
    batch = validate(read_table(write_csv(tmp_path / "mask.csv", h1)))
    assert all(h1[1]["id_number"] not in q.reason for q in batch.quarantine)
    assert any("*" in q.reason for q in batch.quarantine)


def test_wages_need_a_month_from_the_file_or_the_option(tmp_path: Path) -> None:
    rows = family("H1", 11)
    rows[0]["wage_income"] = "2500"
    path = write_csv(tmp_path / "wage.csv", rows)
    without = validate(read_table(path))
    assert {q.field for q in without.quarantine} == {"income_month", "household_no"}
    with_option = validate(read_table(path), month="2025-08")
    assert with_option.quarantine == []
    assert with_option.households[0].members[0].income == {("wage", "2025-08"): 250000}


# -- through the database (SQLite and PostgreSQL) --------------------------------------------


def test_every_validation_kind_in_one_file_on_each_backend(
    database: Database, tmp_path: Path, fixed_clock: Clock
) -> None:
    rows: list[dict[str, str]] = []
    for i, (_, good, bad, _, _) in enumerate(CASES):
        good_family, bad_family = family(f"G{i}", 100 + 4 * i), family(f"B{i}", 102 + 4 * i)
        good_family[1].update(good)
        bad_family[1].update(bad)
        if bad.get("id_number") == id_number("19800101", 21):  # duplicate-in-household case
            bad_family[1]["id_number"] = bad_family[0]["id_number"]
        rows += good_family + bad_family
    report, batch = run_import(database, write_csv(tmp_path / "all.csv", rows), fixed_clock)
    assert report.read == 4 * len(CASES)
    assert report.accepted == 2 * len(CASES)
    assert report.quarantined == 2 * len(CASES)
    assert report.read == report.accepted + report.quarantined
    assert count(database, Household) == len(CASES)
    assert count(database, Person) == 2 * len(CASES)
    for i, (_, _, _, field, reason) in enumerate(CASES):
        bad_row = 2 + 4 * i + 3
        assert any(
            q.row == bad_row and q.field == field and reason in q.reason for q in batch.quarantine
        ), (i, field)


def test_reimporting_the_same_file_changes_nothing(database: Database, fixed_clock: Clock) -> None:
    first, _ = run_import(database, SAMPLE, fixed_clock)
    assert (first.households_created, first.persons_created) == (2, 7)
    assert (first.read, first.accepted, first.quarantined) == (7, 7, 0)
    tables = [Household, Person, Membership, IncomeItem, Asset, AuditEvent]
    before = [count(database, t) for t in tables]
    again, _ = run_import(database, SAMPLE, fixed_clock)
    assert (again.households_unchanged, again.persons_unchanged) == (2, 7)
    assert (again.households_created, again.households_updated, again.persons_updated) == (0, 0, 0)
    assert [count(database, t) for t in tables] == before


def test_changed_rows_update_and_are_audited(
    database: Database, tmp_path: Path, fixed_clock: Clock
) -> None:
    rows = family("H1", 11) + family("H2", 21)
    rows[0].update(wage_income="1000", income_month="2025-09", deposits="500")
    path = write_csv(tmp_path / "v1.csv", rows)
    run_import(database, path, fixed_clock)
    rows[0].update(wage_income="1100.50", deposits="600")
    rows[1]["name"] = "新名字"
    report, _ = run_import(database, write_csv(tmp_path / "v2.csv", rows), fixed_clock)
    assert (report.households_updated, report.households_unchanged) == (1, 1)
    assert (report.persons_updated, report.persons_unchanged) == (2, 2)
    with database.sessions() as session:
        wage = session.scalars(select(IncomeItem)).one()
        assert wage.amount_fen == 110050
        deposits = session.scalars(select(Asset).where(Asset.kind == "deposits")).all()
        assert sorted(a.value_fen for a in deposits) == [60000]
        events = [e.event for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert events[-4:] == ["IncomeCorrected", "PersonUpdated", "AssetUpdated", "HouseholdsImported"]


def test_a_member_of_another_household_in_the_database_is_quarantined(
    database: Database, tmp_path: Path, fixed_clock: Clock
) -> None:
    run_import(database, write_csv(tmp_path / "a.csv", family("H1", 11)), fixed_clock)
    moved = family("H2", 21)
    moved[1]["id_number"] = family("H1", 11)[1]["id_number"]
    report, batch = run_import(database, write_csv(tmp_path / "b.csv", moved), fixed_clock)
    assert (report.accepted, report.quarantined) == (0, 2)
    assert {q.row for q in batch.quarantine} == {2, 3}
    assert all("already a member of household 110105/H1" in q.reason for q in batch.quarantine)
    assert count(database, Household) == 1


def test_an_existing_head_missing_from_the_file_blocks_a_second_head(
    database: Database, tmp_path: Path, fixed_clock: Clock
) -> None:
    run_import(database, write_csv(tmp_path / "a.csv", family("H1", 11)), fixed_clock)
    other_head = [person("H1", "head", id_number=id_number("19900101", 51))]
    report, batch = run_import(database, write_csv(tmp_path / "b.csv", other_head), fixed_clock)
    assert report.quarantined == 1
    assert "already has a head" in batch.quarantine[0].reason


def test_a_failure_while_writing_leaves_no_half_import(
    database: Database, tmp_path: Path, fixed_clock: Clock
) -> None:
    run_import(database, SAMPLE, fixed_clock)
    before = [count(database, t) for t in (Household, Person, AuditEvent)]
    rows = [r for i in range(300) for r in family(f"N{i}", 200 + 2 * i)]

    class BoomError(Exception):
        pass

    class FailAfterFirstChunk:
        def start(self, description: str, total: int) -> None:
            pass

        def advance(self, amount: int = 1) -> None:
            if amount > 1:  # the writer advances by chunks of households
                raise BoomError

    batch = validate(read_table(write_csv(tmp_path / "big.csv", rows)))
    command = ImportHouseholds(batch, ACTOR, dt.date(2025, 9, 1), "big.csv")
    with pytest.raises(BoomError), UnitOfWork(database.sessions) as uow:
        import_households(command, uow, fixed_clock, FailAfterFirstChunk())
    assert [count(database, t) for t in (Household, Person, AuditEvent)] == before


# -- files: encodings, XLSX, columns ---------------------------------------------------------


def test_gbk_csv_is_detected_and_imported(
    database: Database, tmp_path: Path, fixed_clock: Clock
) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    path = tmp_path / "gbk.csv"
    path.write_bytes(text.encode("gbk"))
    assert read_table(path).encoding == "gb18030"
    assert read_table(path, "gbk").encoding == "gbk"
    report, _ = run_import(database, path, fixed_clock)
    assert (report.accepted, report.persons_created) == (7, 7)
    with database.sessions() as session:
        assert session.scalars(select(Person.name).order_by(Person.id)).first() == "张伟"


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(SAMPLE.read_bytes().decode("utf-8").encode("utf-8-sig"))
    assert read_table(path).columns[0] == "household_no"


def test_wrong_or_undecodable_encodings_are_clear_errors(tmp_path: Path) -> None:
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(SAMPLE.read_text(encoding="utf-8").encode("gbk"))
    with pytest.raises(InputError, match=r"is not valid utf-8.*--encoding"):
        read_table(gbk, "utf-8")
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        read_table(gbk, "klingon")
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(SAMPLE.read_text(encoding="utf-8").encode("utf-16"))
    with pytest.raises(InputError, match=r"UTF-16.*--encoding"):
        read_table(utf16)
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x81\x30\xff\xfe\xfd garbage")
    with pytest.raises(InputError, match=r"neither UTF-8 nor GBK/GB18030.*--encoding"):
        read_table(junk)


def _xlsx(path: Path, rows: list[list[Any]], headers: list[str] | None = None) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(
        headers
        or [
            "户编号",
            "姓名",
            "身份证号",
            "与户主关系",
            "户籍地",
            "户籍性质",
            "出生日期",
            "月工资",
            "收入月份",
            "存款",
        ]
    )
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_with_typed_cells_is_imported(
    database: Database, tmp_path: Path, fixed_clock: Clock
) -> None:
    head, spouse = id_number("19800101", 11), id_number("19820202", 22)
    path = _xlsx(
        tmp_path / "list.xlsx",
        [
            [
                "H1",
                "张伟",
                head,
                "户主",
                110105,
                "城镇",
                dt.datetime(1980, 1, 1),
                3200.5,
                "2025-09",
                15000,
            ],
            ["H1", "李娜", spouse, "配偶", "110105", "城镇", None, None, None, 0.5],
        ],
    )
    report, batch = run_import(database, path, fixed_clock)
    assert batch.quarantine == []
    assert (report.accepted, report.households_created) == (2, 1)
    with database.sessions() as session:
        assert session.scalars(select(IncomeItem.amount_fen)).one() == 320050
        assert session.scalars(select(Asset.value_fen)).one() == 1500050
    again, _ = run_import(database, path, fixed_clock)
    assert again.households_unchanged == 1


def test_an_identity_number_typed_as_a_number_in_excel_is_quarantined(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "num.xlsx", [["H1", "张伟", 110105198001010112, "户主", "110105", "城镇"]]
    )
    batch = validate(read_table(path))
    assert batch.quarantine[0].field == "id_number"
    assert "stored as a number" in batch.quarantine[0].reason


def test_a_corrupt_or_truncated_xlsx_is_a_clear_error_and_loses_nothing(
    database: Database, tmp_path: Path, fixed_clock: Clock
) -> None:
    run_import(database, SAMPLE, fixed_clock)
    before = count(database, Person)
    good = _xlsx(
        tmp_path / "good.xlsx",
        [["H9", "王五", id_number("19700101", 91), "户主", "110105", "城镇"]],
    )
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InputError, match=r"truncated\.xlsx: is not a readable XLSX workbook"):
        read_table(truncated)
    not_zip = tmp_path / "text.xlsx"
    not_zip.write_text("household_no,name\n", encoding="utf-8")
    with pytest.raises(InputError, match="corrupt or truncated"):
        read_table(not_zip)
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                target.writestr(item, source.read(item))
    with pytest.raises(InputError, match=r"damaged.xlsx"):
        read_table(damaged)
    assert count(database, Person) == before


def test_unknown_duplicate_or_missing_columns_are_clear_errors(tmp_path: Path) -> None:
    rows = family("H1", 11)
    with pytest.raises(InputError) as info:
        read_table(write_csv(tmp_path / "u.csv", rows, [*HEADERS, "工号"]))
    assert "unknown column '工号'" in str(info.value)
    assert "户编号/household_no" in str(info.value)
    with pytest.raises(InputError, match="did you mean 'id_number'"):
        read_table(write_csv(tmp_path / "typo.csv", rows, ["household_no", "name", "id_numbr"]))
    with pytest.raises(InputError, match="appears twice"):
        read_table(write_csv(tmp_path / "d.csv", rows, [*HEADERS, "姓名"]))
    with pytest.raises(InputError, match=r"required column.*与户主关系/relation"):
        read_table(
            write_csv(
                tmp_path / "m.csv",
                rows,
                ["household_no", "name", "id_number", "region", "hukou_type"],
            )
        )
    (tmp_path / "old.xls").write_bytes(b"x")
    with pytest.raises(InputError, match=r"old \.xls format"):
        read_table(tmp_path / "old.xls")


def test_headers_with_units_full_width_brackets_and_english_aliases(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(
        "户编号,姓名,身份证号,与户主关系,户籍地,户籍性质,月工资（元）,Income Month\n",
        encoding="utf-8",
    )
    assert read_table(path).columns[-2:] == ("wage_income", "income_month")


# -- the command line ------------------------------------------------------------------------


def test_cli_upgrade_import_quarantine_and_verify(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    app = cli
    result = runner.invoke(app, ["db", "upgrade", "--url", url])
    assert result.exit_code == 0, result.output
    assert f"is at revision {head_revision()}" in result.stdout
    rows = family("H1", 11) + family("H2", 21)
    rows[3]["region"] = "999999"
    source = write_csv(tmp_path / "list.csv", rows)
    result = runner.invoke(app, ["import", "households", str(source), "--url", url, "--quiet"])
    assert result.exit_code == 1, result.output  # rows quarantined; the report printed
    assert "read 4 rows: 2 accepted, 2 quarantined" in result.stdout
    assert "households: 1 created, 0 updated, 0 unchanged" in result.stdout
    quarantine = tmp_path / "list.quarantine.csv"
    assert f"quarantine: {quarantine}" in result.stdout
    with quarantine.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["row", "field", "reason", *HEADERS]
    assert [line[:2] for line in lines[1:]] == [["4", "household_no"], ["5", "region"]]
    assert lines[2][3:] == [rows[3].get(h, "") for h in HEADERS]
    result = runner.invoke(app, ["audit", "verify", "--url", url])
    assert result.exit_code == 0, result.output
    assert "chain intact" in result.stdout


def test_cli_errors_are_one_line_with_exit_code_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    app = cli
    source = write_csv(tmp_path / "list.csv", family("H1", 11), [*HEADERS, "工号"])
    result = runner.invoke(app, ["import", "households", str(source), "--url", url])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert "unknown column '工号'" in result.stderr
    good = write_csv(tmp_path / "good.csv", family("H1", 11))
    result = runner.invoke(app, ["import", "households", str(good), "--url", url])
    assert result.exit_code == 2
    assert "run `safetynet db upgrade`" in result.stderr
    result = runner.invoke(app, ["db", "upgrade", "--url", "mysql://x@y/z"])
    assert result.exit_code == 2
    assert "not supported" in result.stderr


def test_require_current_schema_refuses_an_empty_database(tmp_path: Path) -> None:
    db = create_database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(DatabaseUnavailableError, match="has no registry tables"):
            require_current_schema(db)
    finally:
        db.dispose()


# -- Values and sheets as offices type and make them ------------------------------------------


def test_a_decimal_comma_is_quarantined_not_read_as_a_thousands_separator(
    tmp_path: Path,
) -> None:
    rows = [
        person(
            "H1", id_number=id_number("19800101", 11), wage_income="12,50", income_month="2025-09"
        ),
        person(
            "H2",
            id_number=id_number("19800101", 13),
            wage_income="1,200.50",
            income_month="2025-09",
        ),
        person("H3", id_number=id_number("19800101", 15), deposits="１２，０００"),
    ]
    batch = validate(read_table(write_csv(tmp_path / "w.csv", rows)))
    assert [(q.row, q.field) for q in batch.quarantine] == [(2, "wage_income")]
    assert "thousands separator" in batch.quarantine[0].reason
    accepted = {h.household_no: h for h in batch.households}
    assert accepted["H2"].members[0].income == {("wage", "2025-09"): 120050}
    assert accepted["H3"].assets["deposits"].value_fen == 1_200_000


def test_birth_dates_after_the_record_date_or_implausibly_early_are_quarantined(
    tmp_path: Path,
) -> None:
    rows = [
        person("H1", id_number=id_number("20250902", 11)),  # born after the record's date
        person("H2", id_number=id_number("19800101", 13), birth_date="2099-01-01"),
        person("H3", id_number=id_number("18800101", 15)),  # older than common.intake.oldest_age
        person("H4", id_number=id_number("19800101", 17), birth_date="1980-01-01"),
    ]
    batch = validate(read_table(write_csv(tmp_path / "b.csv", rows)), as_of=dt.date(2025, 9, 1))
    reasons = {q.row: (q.field, q.reason) for q in batch.quarantine}
    assert reasons[2][0] == "id_number"
    assert "after 2025-09-01" in reasons[2][1]
    assert reasons[3][0] == "birth_date"
    assert "after the record's date" in reasons[3][1]
    assert reasons[4][0] == "id_number"
    assert "implausible" in reasons[4][1]
    assert [h.household_no for h in batch.households] == ["H4"]


@pytest.mark.parametrize("text", ["2025年9月", "2025-09", "2025/9", "202509", "2025.9"])
def test_a_month_in_the_forms_offices_write_it(text: str) -> None:
    assert parse_month(text, "income_month") == "2025-09"


def test_rural_and_urban_hukou_as_written_on_the_hukou_book(tmp_path: Path) -> None:
    rows = [
        person("H1", id_number=id_number("19800101", 11), hukou_type="非农业户口"),
        person("H2", id_number=id_number("19800101", 13), hukou_type="农业户口"),
    ]
    batch = validate(read_table(write_csv(tmp_path / "k.csv", rows)))
    assert {h.household_no: h.hukou_type for h in batch.households} == {
        "H1": "urban",
        "H2": "rural",
    }


_OFFICE_HEADERS = [
    "序号",
    "户编号",
    "姓名",
    "身份证号",
    "与户主关系",
    "户籍地",
    "户口性质",
    "月工资",
    "备注",
]


def _office_rows() -> list[list[object]]:
    return [
        [
            1,
            "H1",
            "户主",
            id_number("19800101", 11),
            "户主",
            "110105",
            "非农业户口",
            "1,200.50",
            "",
        ],
        [2, "H1", "配偶", id_number("19820202", 12), "配偶", "110105", "非农业户口", "", "无业"],
        [3, "H2", "李四", id_number("19700101", 13), "户主", "110105", "农业户口", "", ""],
    ]


def test_an_office_workbook_with_title_merged_cells_and_numbered_empty_rows(
    tmp_path: Path,
) -> None:
    """Title row merged over the sheet, a header cell merged over two columns' worth of rows,
    户编号 merged down a household's rows, 序号 and 备注, and numbered rows left empty."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["XX街道2025年9月低保家庭花名册"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(_OFFICE_HEADERS))
    sheet.append(["", "", "", "制表单位：XX街道", "", "", "", "", ""])
    sheet.append(_OFFICE_HEADERS)
    for values in _office_rows():
        sheet.append(values)
    # 户编号 H1 typed once and merged down over its two members' rows.
    sheet.cell(5, 2).value = None
    sheet.merge_cells(start_row=4, start_column=2, end_row=5, end_column=2)
    for number in range(4, 9):
        sheet.append([number] + [None] * 8)  # pre-numbered rows nobody filled
    path = tmp_path / "花名册.xlsx"
    workbook.save(path)

    table = read_table(path, None)
    assert table.header_row == 3
    assert table.ignored == ("序号", "备注")
    batch = validate(table, month="2025-09")
    assert batch.quarantine == []
    assert batch.read == 3
    assert {h.household_no: (h.hukou_type, len(h.members)) for h in batch.households} == {
        "H1": ("urban", 2),
        "H2": ("rural", 1),
    }
    assert batch.households[0].members[0].income == {("wage", "2025-09"): 120050}


def test_the_same_sheet_saved_as_csv_and_an_explicit_header_row(tmp_path: Path) -> None:
    lines = [
        ["XX街道2025年9月低保家庭花名册", "", "", "", "", "", "", "", ""],
        _OFFICE_HEADERS,
        *[[str(c) for c in r] for r in _office_rows()],
        ["4", "", "", "", "", "", "", "", ""],
        ["", "", "", "", "", "", "", "", ""],
    ]
    path = tmp_path / "花名册.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(lines)
    table = read_table(path)
    assert (table.header_row, table.ignored, len(table.rows)) == (2, ("序号", "备注"), 3)
    assert read_table(path, header_row=2).rows == table.rows
    with pytest.raises(InputError, match="unknown column"):
        read_table(path, header_row=1)  # the title is not a header
    with pytest.raises(InputError, match="--header-row"):
        read_table(path, header_row=99)


def test_a_nul_byte_after_the_first_4_kib_quarantines_its_row(tmp_path: Path) -> None:
    rows = [person(f"H{i}", id_number=id_number("19800101", 11 + 2 * i)) for i in range(100)]
    rows[-1]["name"] = "张\x00三"
    path = write_csv(tmp_path / "nul.csv", rows)
    assert path.read_bytes().index(b"\x00") > 4096
    batch = validate(read_table(path))
    assert [(q.row, q.field) for q in batch.quarantine] == [(101, "name")]
    assert "control character (U+0000)" in batch.quarantine[0].reason
    assert len(batch.households) == 99


def test_cli_exit_status_says_whether_every_row_was_accepted(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert runner.invoke(cli, ["db", "upgrade", "--url", url]).exit_code == 0
    args = ["import", "households", "--url", url, "--quiet", "--as-of", "2025-09-01"]
    bad = family("H2", 21)
    bad[0]["wage_income"], bad[0]["income_month"] = "12,50", "2025-09"
    mixed = write_csv(tmp_path / "mixed.csv", family("H1", 11) + bad)

    dry = runner.invoke(cli, [*args, str(mixed), "--dry-run"])
    assert dry.exit_code == 1, dry.output
    assert "read 4 rows: 2 accepted, 2 quarantined" in dry.stdout
    assert "row 4, wage_income: '12,50': a thousands separator" in dry.stdout
    assert "dry run: nothing was written" in dry.stdout
    assert not (tmp_path / "mixed.quarantine.csv").exists()
    database = create_database(url)
    try:
        assert count(database, Person) == 0
    finally:
        database.dispose()

    result = runner.invoke(cli, [*args, str(mixed)])
    assert result.exit_code == 1, result.output  # some rows quarantined, report printed
    assert "read 4 rows: 2 accepted, 2 quarantined" in result.stdout
    assert (tmp_path / "mixed.quarantine.csv").is_file()

    clean = write_csv(tmp_path / "clean.csv", family("H3", 31))
    assert runner.invoke(cli, [*args, str(clean)]).exit_code == 0
    missing = runner.invoke(cli, [*args, str(tmp_path / "missing.csv")])
    assert missing.exit_code == 2
    assert "no such file" in missing.stderr


@pytest.mark.parametrize(("text", "dm2"), [("85.5", 8550), ("1,250.5", 125050), ("８５．５", 8550)])
def test_an_area_as_typed(text: str, dm2: int) -> None:
    assert parse_area(text) == dm2


@pytest.mark.parametrize(
    ("text", "reason"),
    [("12,50", "thousands separator"), ("1e3", "not an area"), ("9" * 25, "too large")],
)
def test_an_area_with_a_decimal_comma_or_out_of_range_is_refused(text: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason) as caught:
        parse_area(text)
    assert caught.value.field == "property_area"


def test_a_quarantine_reason_that_quotes_an_identity_number_is_written_masked(
    tmp_path: Path,
) -> None:
    from safetynet.intake import QuarantineLine, write_quarantine

    number = "110105198503010032"
    path = tmp_path / "q.csv"
    line = QuarantineLine(2, "note", f"mentions {number}", ("H1", number))
    write_quarantine([line], ["household_no", "id_number"], path)
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[1][:3] == ["2", "note", "mentions 110***********0032"]
    assert rows[1][3:] == ["H1", number]  # the row as it was, to correct and import again
