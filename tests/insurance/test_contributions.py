"""Monthly contribution records: import with validation and quarantine, idempotency, overlaps with
the database, audit, and a pension summary from the recorded history (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction
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
from safetynet.insurance.contribution_imports import (
    ContributionImportReport,
    ImportContributions,
    ValidatedContributions,
    import_contributions,
    load_history,
    read_contributions,
    validate_contributions,
)
from safetynet.insurance.contributions import ContributionRecord
from safetynet.insurance.history import MonthlyContribution, summarize
from tests.registry.helpers import (
    ACTOR,
    cli_registry_with_household,
    count,
    family,
    id_number,
    run_import,
    write_csv,
)

HEAD = id_number("19800101", 11)  # the head of household H1, born January 1980
SPOUSE = id_number("19820202", 12)
UNKNOWN = id_number("19750505", 31)
CHINESE = ["身份证号", "险种", "参保地", "缴费月份", "缴费基数", "单位缴费", "个人缴费"]
AS_OF = dt.date(2025, 9, 15)
W = {"insurance.employee_pension.average_wage_monthly": 800_000}  # 8,000 yuan [I], engine form


def row(
    who: str = HEAD,
    month: str = "2025-01",
    base: str = "10000",
    employer: str = "1600",
    individual: str = "800",
    scheme: str = "职工养老",
    region: str = "110105",
) -> list[str]:
    return [who, scheme, region, month, base, employer, individual]


def write(path: Path, rows: Sequence[Sequence[str]], headers: Sequence[str] = CHINESE) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def load_people(db: Database, tmp_path: Path, clock: Callable[[], Any]) -> None:
    run_import(db, write_csv(tmp_path / "households.csv", family("H1", 11)), clock)


def run(
    db: Database,
    path: Path,
    clock: Callable[[], Any],
    overrides: dict[str, Any] | None = None,
    out_of_clamp: Any = "quarantine",
) -> tuple[ContributionImportReport, ValidatedContributions]:
    batch = validate_contributions(
        read_contributions(path),
        as_of=AS_OF,
        overrides=W if overrides is None else overrides,
        out_of_clamp=out_of_clamp,
    )
    with UnitOfWork(db.sessions) as uow:
        report = import_contributions(ImportContributions(batch, ACTOR, path.name), uow, clock)
    return report, batch


def reasons(batch: ValidatedContributions) -> dict[int, str]:
    return {q.row: f"{q.field}: {q.reason}" for q in batch.quarantine}


def test_rows_are_imported_once_and_the_account_credit_is_derived(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], dt.datetime]
) -> None:
    load_people(database, tmp_path, fixed_clock)
    events_before = count(database, AuditEvent)
    source = write(tmp_path / "c.csv", [row(month=m) for m in ("2025-01", "2025-02", "2025-03")])
    report, batch = run(database, source, fixed_clock)
    assert (report.read, report.accepted, report.quarantined, report.created) == (3, 3, 0, 3)
    assert batch.flagged == []
    with database.sessions() as session:
        records = session.scalars(select(ContributionRecord).order_by(ContributionRecord.month))
        got = [(r.month, r.base_fen, r.individual_fen, r.account_credit_fen) for r in records]
    # account = min(individual 800, 8 % × 10,000 = 800) = 800.00
    assert got == [(m, 1_000_000, 80_000, 80_000) for m in ("2025-01", "2025-02", "2025-03")]
    assert count(database, AuditEvent) == events_before + 1  # one event for the batch
    with database.sessions() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None
        assert event.after is not None
        assert (event.event, event.after["created"]) == ("ContributionsImported", 3)
        assert verify(session) == []

    again, _ = run(database, source, fixed_clock)
    assert (again.created, again.unchanged, again.quarantined) == (0, 3, 0)
    assert count(database, AuditEvent) == events_before + 1  # nothing written, nothing audited
    assert count(database, ContributionRecord) == 3


def test_bad_rows_are_quarantined_with_their_reason(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], dt.datetime]
) -> None:
    load_people(database, tmp_path, fixed_clock)
    rows = [
        row(month="2025-01"),  # 2: good
        row(who=UNKNOWN),  # 3: no such person in the registry
        row(month="2025-13"),  # 4: not a month
        row(month="2025-04", base="10000"),  # 5: overlap with 6 (other base)
        row(month="2025-04", base="12000", employer="1920", individual="960"),  # 6
        row(month="2025-05"),  # 7: fine
        row(month="2025-05"),  # 8: exact repeat of 7
        row(month="1995-12"),  # 9: before the head turned 16 (born 1980-01)
        row(month="2025-10"),  # 10: after the import date
        row(month="2025-06", base="3000", employer="480", individual="240"),  # 11: below floor
        row(month="2025-07", employer="0", individual="0"),  # 12: no contribution
        [*row(month="2025-07", scheme="工伤", employer="50", individual="0"), "10"],  # 13
        row(month="2025-08", base="-5"),  # 14: negative
        row(month="2025-08", scheme="生育"),  # 15: unknown scheme
        row(month="2025-08", base=""),  # 16: base required for the employee pension
        row(
            who=SPOUSE, month="2025-08", scheme="居民养老", base="", employer="0", individual="500"
        ),
    ]
    headers = [*CHINESE, "个人账户记账额"]
    padded = [r + [""] * (len(headers) - len(r)) for r in rows]
    report, batch = run(database, write(tmp_path / "c.csv", padded, headers), fixed_clock)
    why = reasons(batch)
    assert "is not in the registry" in why[3]
    assert why[4].startswith("month: '2025-13' is not a month")
    assert "overlap: rows 5, 6" in why[5]
    assert "overlap: rows 5, 6" in why[6]
    assert "repeats row 7 exactly" in why[8]
    assert "before the person turned 16" in why[9]
    assert "after the import date" in why[10]
    assert why[11].startswith("base: base 3000.00 is outside 4800.00-24000.00")
    assert "records no contribution" in why[12]
    assert "work_injury has no personal account" in why[13]
    assert "negative" in why[14]
    assert why[15].startswith("scheme: '生育' is not one of")
    assert "required for employee_pension" in why[16]
    assert set(why) == {3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16}
    assert (report.read, report.accepted, report.quarantined) == (16, 3, 13)
    assert report.read == report.accepted + report.quarantined
    with database.sessions() as session:
        resident = session.scalars(
            select(ContributionRecord).where(ContributionRecord.scheme == "resident_pension")
        ).one()
        # the residents' pension has no wage base; the account gets the own 500.00
        assert (resident.base_fen, resident.account_credit_fen) == (0, 50_000)


def test_out_of_clamp_bases_can_be_imported_and_flagged(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], dt.datetime]
) -> None:
    load_people(database, tmp_path, fixed_clock)
    source = write(tmp_path / "c.csv", [row(base="30000", employer="4800", individual="2400")])
    report, batch = run(database, source, fixed_clock, out_of_clamp="flag")
    assert (report.created, report.flagged, report.quarantined) == (1, 1, 0)
    assert "outside 4800.00-24000.00" in batch.flagged[0].reason
    assert "imported as recorded" in batch.flagged[0].reason


def test_bases_at_the_clamp_limits_are_accepted(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], dt.datetime]
) -> None:
    load_people(database, tmp_path, fixed_clock)
    rows = [
        row(month="2025-01", base="4800", employer="768", individual="384"),
        row(month="2025-02", base="24000", employer="3840", individual="1920"),
        row(
            month="2025-03", base="4799.01", employer="768", individual="384"
        ),  # < floor: whole yuan
    ]
    report, batch = run(database, write(tmp_path / "c.csv", rows), fixed_clock)
    assert report.created == 2
    assert set(reasons(batch)) == {4}


def test_without_a_local_average_wage_the_base_is_imported_and_flagged_as_unchecked(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], dt.datetime]
) -> None:
    load_people(database, tmp_path, fixed_clock)
    report, batch = run(database, write(tmp_path / "c.csv", [row()]), fixed_clock, overrides={})
    assert (report.created, report.flagged) == (1, 1)
    assert "not checked against the 60-300 % clamp" in batch.flagged[0].reason
    assert "insurance.employee_pension.average_wage_monthly" in batch.flagged[0].reason


def test_a_recorded_month_is_never_overwritten_by_an_import(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], dt.datetime]
) -> None:
    load_people(database, tmp_path, fixed_clock)
    run(database, write(tmp_path / "a.csv", [row(month="2025-01")]), fixed_clock)
    changed = row(month="2025-01", base="12000", employer="1920", individual="960")
    report, batch = run(database, write(tmp_path / "b.csv", [changed]), fixed_clock)
    assert "already recorded with other values (region 110105, base 10000.00" in reasons(batch)[2]
    assert (report.created, report.quarantined) == (0, 1)
    elsewhere = row(month="2025-01", region="310115")
    report, batch = run(database, write(tmp_path / "c.csv", [elsewhere]), fixed_clock)
    assert "already recorded in region 110105" in reasons(batch)[2]
    assert (report.created, report.quarantined) == (0, 1)
    with database.sessions() as session:
        assert [r.base_fen for r in session.scalars(select(ContributionRecord))] == [1_000_000]


def test_english_headers_and_an_unknown_column(tmp_path: Path) -> None:
    english = ["id_number", "scheme", "region", "month", "base", "employer", "individual"]
    table = read_contributions(write(tmp_path / "e.csv", [row(scheme="employee_pension")], english))
    assert table.columns == tuple(english)
    with pytest.raises(InputError, match="unknown column '工号'"):
        read_contributions(write(tmp_path / "x.csv", [[*row(), "x"]], [*CHINESE, "工号"]))
    # A remarks column (备注) is known to carry nothing to import: ignored, and said so.
    remarks = read_contributions(write(tmp_path / "r.csv", [[*row(), "x"]], [*CHINESE, "备注"]))
    assert remarks.sheet is not None
    assert remarks.sheet.ignored == ("备注",)
    with pytest.raises(InputError, match="required column"):
        read_contributions(write(tmp_path / "y.csv", [row()[:6]], CHINESE[:6]))


def test_gbk_files_are_read(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    text = ",".join(CHINESE) + "\n" + ",".join(row()) + "\n"
    path.write_bytes(text.encode("gbk"))
    table = read_contributions(path)
    assert table.encoding == "gb18030"
    assert table.rows[0].cells[1] == "职工养老"


def test_the_pension_summary_comes_from_the_recorded_history(
    database: Database, tmp_path: Path, fixed_clock: Callable[[], dt.datetime]
) -> None:
    load_people(database, tmp_path, fixed_clock)
    rows = [row(month=f"2024-{m:02d}") for m in (1, 2, 3, 6)] + [
        row(month="2025-01", base="12000", employer="1920", individual="960")
    ]
    run(database, write(tmp_path / "c.csv", rows), fixed_clock)
    with UnitOfWork(database.sessions) as uow:
        history = [
            MonthlyContribution(r.month, r.base_fen, r.account_credit_fen, r.region_code)
            for r in load_history(uow, HEAD, "employee_pension")
        ]
    summary = summarize(
        history,
        as_of="2025-06",
        crediting_rate=lambda _y: Decimal("0.0262"),
        current_year_factor=lambda _y: Decimal("0.5415"),
        average_wage=lambda _r, _m: 800_000,
    )
    assert summary.months == 5
    assert summary.gaps == (("2024-04", "2024-05"), ("2024-07", "2024-12"))
    # Ī = (4 × 10,000/8,000 + 12,000/8,000) / 5 = (5 + 1.5) / 5 = 1.3
    assert summary.average_index == Fraction(13, 10)
    # 2024: credits 4 × 800 = 3,200; interest 3,200 × 2.62 % × 0.5415 = 45.39936 → 45.40
    # 2025 (not ended): + 960 → 3,200 + 45.40 + 960 = 4,205.40
    assert summary.account_balance_fen == 420_540


def test_cli_import_and_history(tmp_path: Path) -> None:
    runner = CliRunner()
    app = cli
    url = cli_registry_with_household(runner, tmp_path)
    source = write(
        tmp_path / "c.csv", [row(month="2024-11"), row(month="2025-01"), row(who=UNKNOWN)]
    )
    args = [
        "contributions",
        "import",
        str(source),
        "--url",
        url,
        "--quiet",
        "--as-of",
        "2025-09-15",
    ]
    result = runner.invoke(
        app, [*args, "--set", "insurance.employee_pension.average_wage_monthly=8000"]
    )
    assert result.exit_code == 1, result.output  # a row quarantined; the report printed
    assert "read 3 rows: 2 accepted, 1 quarantined" in result.stdout
    assert "records: 2 created, 0 unchanged (1 persons)" in result.stdout
    assert (tmp_path / "c.quarantine.csv").is_file()
    result = runner.invoke(
        app,
        [
            "contributions",
            "history",
            HEAD,
            "--as-of",
            "2025-06",
            "--url",
            url,
            "--set",
            "insurance.employee_pension.average_wage_monthly=8000",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "employee_pension: 2 months (2024-11..2025-01)" in result.stdout
    assert "gaps: 1 months: 2024-12" in result.stdout
    assert "average contribution index: 1.2500" in result.stdout
    # 2024: 800 × 2.62 % × 0.5415 = 11.35 → 811.35; 2025: + 800 = 1,611.35
    assert "account balance: 1611.35" in result.stdout
