"""The price subsidy of a triggered month is awarded by the monthly cycle to every covered
household its rules run finds, and paid once in the roll: never twice after a re-run
(docs/payments.md, "The month's subsidies")."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import func, select
from typer.testing import CliRunner

from safetynet.batch.county_file import write_county_file
from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database
from safetynet.entrypoints.cli.main import app as cli
from safetynet.payments.model import OneOffAward, PaymentInstruction
from safetynet.payments.roll import roll_month
from safetynet.payments.subsidies import AwardMonthSubsidies, subsidy_case
from tests.batch.test_registry_month import COUNTY, MONTH, _enrol, _import
from tests.payments.awards_helpers import AT, OFFICER, household


def _award(db: Database, awards: list[tuple[int, int]]) -> tuple[int, int, int]:
    command = AwardMonthSubsidies(
        program="price_subsidy", month="2025-09", county="110105", awards=awards, actor=OFFICER
    )
    counts = bootstrap(db, clock=lambda: AT).handle(command)
    return counts.recorded, counts.present, counts.outside_registry


def _keys(db: Database) -> list[tuple[str, int, int, str, int]]:
    with db.sessions() as session:
        return [
            (a.program, a.case_id, a.sequence, a.kind, a.payable_fen)
            for a in session.scalars(select(OneOffAward).order_by(OneOffAward.id))
        ]


def _instructions(db: Database) -> list[tuple[int | None, str, int]]:
    with db.sessions() as session:
        return [
            (i.household_id, i.month, i.amount_fen)
            for i in session.scalars(select(PaymentInstruction).order_by(PaymentInstruction.id))
        ]


def test_a_months_subsidy_is_awarded_and_paid_once(database: Database) -> None:
    a, b = household(database, "H1"), household(database, "H2")
    assert _award(database, [(a, 3_500), (b, 7_000), (999_999, 3_500)]) == (2, 0, 1)
    assert _keys(database) == [("price_subsidy", 202509, a, "subsidy", 3_500),
                               ("price_subsidy", 202509, b, "subsidy", 7_000)]  # fmt: skip
    assert _award(database, [(a, 3_500), (b, 7_000)]) == (0, 2, 0)  # the cycle run again
    for month in ("2025-09", "2025-09", "2025-10"):
        roll_month(database, month)
    assert _instructions(database) == [(a, "2025-09", 3_500), (b, "2025-09", 7_000)]
    assert subsidy_case("2025-10") == 202510


def _run_month(db: Database, out: Path) -> str:
    result = CliRunner().invoke(
        cli,
        ["run-month", "--month", MONTH, "--url", db.url, "--out", str(out), "--workers", "1",
         "--fallback-parameters", "demo"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output


def test_the_cycle_awards_every_covered_household_of_a_triggered_month_once(
    database: Database, tmp_path: Path
) -> None:
    # The demo locality's CPI rose 3.6 % (≥ the 3.5 % trigger): the month is triggered, and the
    # four dibao households enrolled are covered.
    written = write_county_file(tmp_path / "county.csv", COUNTY, 200, seed=5, month=MONTH)
    batch = _import(database, written)
    dibao = sorted(h.household_no for h in batch.households)[:4]
    _enrol(database, dibao, "dibao", 98_050)
    out = tmp_path / "results"
    first = _run_month(database, out)
    table = pq.read_table(out / f"month={MONTH}" / f"county={COUNTY}" / "results.parquet")
    found = table.filter(pc.equal(table["program"], "price_subsidy")).to_pydict()
    expected = sorted(zip(found["household_id"], found["amount_fen"], strict=True))
    assert len(expected) >= 4
    with database.sessions() as session:
        awarded = sorted(
            (a.household_id, a.payable_fen)
            for a in session.scalars(select(OneOffAward).where(OneOffAward.kind == "subsidy"))
        )
    assert awarded == expected
    assert f"price_subsidy {MONTH}: {len(expected)} awarded" in first
    second = _run_month(database, out.with_name("again"))
    assert f"price_subsidy {MONTH}: 0 awarded" in second
    with database.sessions() as session:
        paid = session.execute(
            select(PaymentInstruction.household_id, func.sum(PaymentInstruction.amount_fen))
            .where(PaymentInstruction.program == "price_subsidy")
            .group_by(PaymentInstruction.household_id)
            .order_by(PaymentInstruction.household_id)
        ).all()
    assert [(h, int(s)) for h, s in paid] == expected
