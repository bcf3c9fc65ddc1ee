"""Income corrected by an import after payment reaches the entitlement schedule (issue 10 item 8),
worked by hand on SQLite and PostgreSQL.

One person in Pudong (310115), dibao from 2025-08. Shanghai's standard is 1,650.00 yuan a month
(``assistance.dibao.standard_monthly_urban``) and for one person the rules core pays the standard
minus the wage: with a wage of 500.00 yuan in September, 1,150.00 yuan. August and September are
rolled. Then imports correct September's wage; the next roll must carry the difference to the fen.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import insert, select

from safetynet.audit.model import AuditEvent
from safetynet.db.engine import Database
from safetynet.payments.model import (
    EntitlementChange,
    PaymentAdjustment,
    PaymentRecovery,
)
from safetynet.payments.roll import roll_month
from safetynet.registry.model import Enrolment, Household
from tests.payments.helpers import instruction
from tests.registry.helpers import id_number, person, run_import, write_csv

COUNTY = "310115"
NUMBER = id_number(region=COUNTY)


def _clock() -> dt.datetime:
    return dt.datetime(2025, 10, 5, 9, 0, tzinfo=dt.UTC)


def _import(db: Database, tmp_path: Path, wage: str, month: str = "2025-09") -> None:
    row = person("H1", id_number=NUMBER, region=COUNTY, wage_income=wage, income_month=month)
    path = write_csv(tmp_path / f"households-{wage}-{month}.csv", [row])
    report, _ = run_import(db, path, _clock)
    assert report.quarantined == 0


def _enrol_the_household(db: Database, start: dt.date, amount_fen: int) -> int:
    """Enrol the one household in the registry in dibao, active from ``start``; its id."""
    with db.sessions.begin() as session:
        household = session.scalars(select(Household.id)).one()
        session.execute(
            insert(Enrolment),
            [{"household_id": household, "program": "dibao", "start_date": start,
              "end_date": None, "amount_fen": amount_fen, "status": "active", "version": 1}],
        )  # fmt: skip
    return int(household)


def _enrolled(db: Database, tmp_path: Path) -> None:
    _import(db, tmp_path, "500")
    _enrol_the_household(db, dt.date(2025, 8, 1), 115_000)
    roll_month(db, "2025-08")
    roll_month(db, "2025-09")


def _adjustments(db: Database, roll: str) -> dict[str, int]:
    with db.sessions() as session:
        return dict(
            session.execute(
                select(PaymentAdjustment.for_month, PaymentAdjustment.amount_fen).where(
                    PaymentAdjustment.roll_month == roll
                )
            ).all()
        )


def test_income_corrected_after_payment_gives_a_recovery_then_arrears_to_the_fen(
    database: Database, tmp_path: Path
) -> None:
    _enrolled(database, tmp_path)
    assert instruction(database, "2025-09")[:3] == (115_000, 0, 0)

    # September's wage was 600.00, not 500.00: 100.00 yuan less was due for September.
    _import(database, tmp_path, "600")
    october = roll_month(database, "2025-10")
    assert _adjustments(database, "2025-10") == {"2025-09": -10_000}
    assert october.overpaid_fen == 10_000
    with database.sessions() as session:
        assert session.scalars(select(PaymentRecovery.amount_fen)).all() == [10_000]
        reasons = session.scalars(select(EntitlementChange.reason)).all()
    assert reasons == ["income of 2025-09 corrected (households-600-2025-09.csv)"]
    # September's wage stays the latest on record, so October is due 1,050.00 too.
    amount, arrears, offset = instruction(database, "2025-10")[:3]
    assert (amount, arrears) == (105_000, 0)
    assert 0 < offset <= 10_000

    # Corrected again: 300.00. September and October were each paid 1,050.00 and were due
    # 1,350.00: 600.00 yuan of arrears with November.
    _import(database, tmp_path, "300")
    november = roll_month(database, "2025-11")
    assert _adjustments(database, "2025-11") == {"2025-09": 30_000, "2025-10": 30_000}
    assert november.arrears_fen == 60_000
    assert instruction(database, "2025-11")[:2] == (135_000, 60_000)


def test_an_import_that_changes_no_paid_month_changes_no_schedule(
    database: Database, tmp_path: Path
) -> None:
    _enrolled(database, tmp_path)
    _import(database, tmp_path, "500")  # the same wage again: nothing changes
    _import(database, tmp_path, "800", month="2025-12")  # a month not paid yet
    with database.sessions() as session:
        assert session.scalars(select(EntitlementChange.id)).all() == []
    roll_month(database, "2025-10")
    assert _adjustments(database, "2025-10") == {}
    assert instruction(database, "2025-10")[:3] == (115_000, 0, 0)


def test_a_household_the_rules_cannot_evaluate_keeps_its_import_and_the_gap_is_audited(
    database: Database, tmp_path: Path
) -> None:
    """110105 has no dibao standard of its own: the import stands, the audit log says why the
    schedule did not follow."""
    number = id_number(region="110105")
    row = person("H2", id_number=number, wage_income="500", income_month="2025-09")
    report, _ = run_import(database, write_csv(tmp_path / "a.csv", [row]), _clock)
    household = _enrol_the_household(database, dt.date(2025, 9, 1), 90_000)
    roll_month(database, "2025-09")
    row["wage_income"] = "700"
    report, _ = run_import(database, write_csv(tmp_path / "b.csv", [row]), _clock)
    assert report.persons_updated == 1
    with database.sessions() as session:
        gap = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "EntitlementNotFollowed")
        ).one()
        assert session.scalars(select(EntitlementChange.id)).all() == []
    assert gap.entity_id == str(household)
    assert "standard_monthly_urban" in json.dumps(gap.after)
