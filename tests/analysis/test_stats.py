"""Statistics of a month: the registry's caseload and the ledger's instructions by region and
program, rolled up to city and province — the payment report's numbers, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path

import openpyxl
from sqlalchemy import insert
from typer.testing import CliRunner

from safetynet.analysis.stats import month_statistics, statistics_tables
from safetynet.db.engine import Database
from safetynet.entrypoints.cli.main import app
from safetynet.payments.report import payment_report
from safetynet.payments.roll import roll_month
from safetynet.registry.model import Household, Membership, Person
from tests.payments.helpers import NOW, Spec, seed

CHAOYANG, HAIDIAN, XUHUI = "110105", "110108", "310104"
SPECS = [
    Spec("dibao", region=CHAOYANG, amount_fen=80_000),
    Spec("dibao", region=CHAOYANG, amount_fen=50_000),
    Spec("tekun", region=CHAOYANG, amount_fen=120_000),
    Spec("dibao", region=HAIDIAN, amount_fen=70_000),
    Spec("dibao", region=HAIDIAN, amount_fen=60_000, status="suspended"),  # not paid, not counted
    Spec("dibao", region=XUHUI, amount_fen=90_000, end=dt.date(2025, 8, 31)),  # ends in August
]
MEMBERS = [2, 1, 1, 3, 2, 1]  # persons of each household


def _population(db: Database) -> None:
    seed(db, SPECS)
    persons, memberships = [], []
    pid = 0
    for household, n in enumerate(MEMBERS, start=1):
        for _ in range(n):
            pid += 1
            persons.append({"id": pid, "id_number": f"11010519800101{pid:04d}", "name": f"P{pid}",
                            "sex": "female", "birth_date": dt.date(1980, 1, 1),
                            "hukou_region_code": CHAOYANG, "hukou_type": "urban",
                            "created_at": NOW, "updated_at": NOW})  # fmt: skip
            memberships.append({"person_id": pid, "household_id": household, "relation": "head",
                                "start_date": dt.date(2020, 1, 1), "end_date": None})  # fmt: skip
    with db.sessions.begin() as session:
        session.execute(insert(Household), [  # a registered household with no enrolment
            {"id": 99, "region_code": CHAOYANG, "household_no": "H99", "hukou_type": "urban",
             "created_at": NOW, "updated_at": NOW}])  # fmt: skip
        persons.append({**persons[0], "id": 99, "id_number": "110105198001019999"})
        memberships.append({**memberships[0], "person_id": 99, "household_id": 99})
        session.execute(insert(Person), persons)
        session.execute(insert(Membership), memberships)
    for month in ("2025-08", "2025-09"):
        roll_month(db, month)


def test_county_figures_are_the_payment_reports(database: Database) -> None:
    _population(database)
    stats = month_statistics(database, "2025-09")
    report = payment_report(database, "2025-09")
    assert report
    for row in report:
        c = stats.counts[(row.county, row.program)]
        assert (c.payable, c.payable_fen, c.paid_fen) == (
            row.payable,
            row.payable_fen,
            row.paid_fen,
        )
    chaoyang = stats.counts[(CHAOYANG, "dibao")]
    assert (chaoyang.enrolled_households, chaoyang.enrolled_persons) == (2, 3)
    assert chaoyang.enrolled_amount_fen == 130_000
    assert (XUHUI, "dibao") not in stats.counts  # ended in August: nothing in September
    tables = {t.key: t for t in statistics_tables(database, "2025-09", trend=1)}
    rows = {(r["region"], r["program"]): r for r in tables["statistics"].as_dicts()}
    # Chaoyang registers 2 + 1 + 1 + 1 = 5 persons; 3 of them in dibao households.
    assert rows[(CHAOYANG, "dibao")]["coverage"] == Fraction(3, 5)
    trend = tables["trend"].as_dicts()
    assert {r["month"] for r in trend} == {"2025-08", "2025-09"}
    august = {(r["region"], r["program"]): r for r in trend if r["month"] == "2025-08"}
    assert august[(XUHUI, "dibao")]["payable"] == 1  # still enrolled in August


def test_rolled_up_to_the_province_and_over_programs(database: Database) -> None:
    _population(database)
    report = payment_report(database, "2025-09")
    beijing = [r for r in report if r.county in (CHAOYANG, HAIDIAN) and r.program == "dibao"]
    stats = month_statistics(database, "2025-09", level="province")
    c = stats.counts[("110000", "dibao")]
    assert c.payable == sum(r.payable for r in beijing) == 3  # Chaoyang 2, Haidian 1
    assert c.payable_fen == sum(r.payable_fen for r in beijing)
    assert c.enrolled_persons == 2 + 1 + 3
    by_program = month_statistics(database, "2025-09", by=["program"])
    assert by_program.counts[("total", "dibao")].payable == sum(
        r.payable for r in report if r.program == "dibao")  # fmt: skip


def test_the_command_writes_the_workbook(database: Database, tmp_path: Path) -> None:
    _population(database)
    target = tmp_path / "stats.xlsx"
    result = CliRunner().invoke(app, ["stats", "--month", "2025-09", "--level", "city",
                                      "--xlsx", str(target), "--url", str(database.engine.url.render_as_string(hide_password=False))])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(target, read_only=True).sheetnames == ["statistics", "trend"]
    bad = CliRunner().invoke(app, ["stats", "--month", "2025-09", "--level", "town",
                                   "--url", str(database.engine.url.render_as_string(hide_password=False))])  # fmt: skip
    assert bad.exit_code == 2
    assert "--level" in bad.stderr
