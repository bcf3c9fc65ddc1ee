"""Verification from the registry: the snapshot read back, the report per household (stored once
per date), and the monthly monitoring run (idempotent), on SQLite and PostgreSQL.

Household V1 of 310115: A (head, wage 1,000 declared for 2025-09) and B; dibao 1,000 a month.
With the illustrative standard S = 1,000 [I]: declared income 1,000 < 2 × 1,000, dibao
(2,000 − 1,000) = 1,000 a month. The wage feed finds 3,000 in August and September: 3,000 ≥ 2,000,
no dibao.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from safetynet.audit.log import Actor, verify
from safetynet.audit.model import AuditEvent
from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database
from safetynet.domain.identity import mask_identity_number
from safetynet.errors import UnknownNameError
from safetynet.monitoring.alerts_model import Alert, VerificationReport
from safetynet.monitoring.model import FeedDelivery, FeedRecord
from safetynet.monitoring.verification import (
    KINDS,
    load_county,
    monitor_month,
    store_reports,
    verify_household,
)
from safetynet.registry.model import Asset, Enrolment, Household, IncomeItem, Person
from tests.cases.helpers import register_household
from tests.monitoring.helpers import FALLBACKS, OVERRIDES, A, B

Clock = Callable[[], dt.datetime]
MONTH = dt.date(2025, 9, 1)
RAISED = dt.date(2025, 10, 9)


def _setup(db: Database, clock: Clock, *, tekun_too: bool = False) -> int:
    register_household(db, "V1", [A, B])
    with db.sessions.begin() as session:
        household = session.scalars(select(Household)).one()
        head = session.scalars(select(Person).where(Person.id_number == A)).one()
        session.add_all(
            [
                IncomeItem(person_id=head.id, kind="wage", month="2025-08", amount_fen=90_000),
                IncomeItem(person_id=head.id, kind="wage", month="2025-09", amount_fen=100_000),
                IncomeItem(person_id=head.id, kind="wage", month="2025-10", amount_fen=999_999),
                Asset(household_id=household.id, kind="deposits", source="import",
                      value_fen=1_000_000, description=""),
                Asset(household_id=household.id, kind="securities", source="import",
                      value_fen=500_000, description=""),
            ]
        )  # fmt: skip
        for program in ("dibao", "tekun") if tekun_too else ("dibao",):
            session.add(
                Enrolment(
                    household_id=household.id,
                    program=program,
                    start_date=dt.date(2025, 1, 1),
                    amount_fen=100_000,
                    status="active",
                    version=1,
                )
            )
        delivery = FeedDelivery(kind="wages", file_name="wages.csv", sha256="0" * 64,
                                delivered_on=dt.date(2025, 10, 5), loaded_at=clock(),
                                read_count=2, accepted_count=2, quarantined_count=0,
                                duplicate_count=0)  # fmt: skip
        session.add(delivery)
        session.flush()
        for row, month in enumerate(("2025-08", "2025-09"), start=1):
            session.add(
                FeedRecord(
                    delivery_id=delivery.id,
                    row_number=row,
                    kind="wages",
                    person_id=head.id,
                    month=month,
                    amount_fen=300_000,
                )
            )
        return household.id


def test_the_registry_snapshot(database: Database, fixed_clock: Clock) -> None:
    household_id = _setup(database, fixed_clock)
    with database.sessions() as session:
        data, records = load_county(session, "310115", MONTH)
    pop = data.population
    assert list(data.household_id) == [household_id]
    assert data.id_number is not None
    assert list(data.id_number) == [A, B]
    # the latest wage on record up to September (not October's)
    assert list(pop.p("wage_income")) == [100_000, 0]
    assert list(pop.h("financial_assets")) == [1_500_000]  # deposits + securities
    assert list(pop.h("is_dibao_recipient")) == [True]
    assert records.num_rows == 2
    assert records.column("month").to_pylist() == ["2025-08", "2025-09"]


def test_verify_household_report_and_storage(database: Database, fixed_clock: Clock) -> None:
    household_id = _setup(database, fixed_clock)
    report = verify_household(
        database, household_id, dt.date(2025, 9, 30), overrides=OVERRIDES, fallbacks=FALLBACKS,
        clock=fixed_clock,
    )  # fmt: skip
    assert report["household_id"] == household_id
    assert [s["kind"] for s in report["sources"]] == list(KINDS)
    assert {s["kind"]: s["records"] for s in report["sources"]}["wages"] == 2
    assert report["differences"] == [
        {
            "person": mask_identity_number(A),
            "person_id": report["differences"][0]["person_id"],
            "source": "wages",
            "item": "wage_income",
            "unit": "fen/month",
            "declared": 100_000,
            "found": 300_000,
            "event_date": None,
            "reference": None,
            "code": None,
            "amount_fen": None,
        }
    ]
    dibao = next(e for e in report["effects"] if e["program"] == "dibao")
    assert dibao == {
        "program": "dibao",
        "declared": {"eligible": True, "amount_fen": 100_000},
        "found": {"eligible": False, "amount_fen": 0},
        "changed": True,
    }
    assert report["changes_eligibility"] is True
    assert A not in str(report)
    again = verify_household(
        database, household_id, dt.date(2025, 9, 30), overrides=OVERRIDES, fallbacks=FALLBACKS,
        clock=fixed_clock,
    )  # fmt: skip
    assert again["verification_report_id"] == report["verification_report_id"]
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(VerificationReport)) == 1
        stored = session.get(VerificationReport, report["verification_report_id"])
        assert stored is not None
        assert (stored.differences, stored.changes_eligibility) == (1, True)
        events = session.scalars(select(AuditEvent.event)).all()
        assert events.count("VerificationReportsStored") == 2
        assert verify(session) == []


def test_a_later_verification_of_the_same_date_is_kept_beside_the_earlier(
    database: Database, fixed_clock: Clock
) -> None:
    """Reports are never overwritten: the report an amount was decided on stays readable."""
    household_id = _setup(database, fixed_clock)
    on = dt.date(2025, 9, 30)
    first = verify_household(
        database, household_id, on, overrides=OVERRIDES, fallbacks=FALLBACKS, clock=fixed_clock
    )
    changed = {**first, "differences": [], "changes_eligibility": False}
    with database.sessions() as session:
        [second_id] = store_reports(
            session, [changed], on, actor=Actor("monitor", "system"), clock=fixed_clock
        )
        session.commit()
    assert second_id != first["verification_report_id"]
    with database.sessions() as session:
        rows = session.scalars(
            select(VerificationReport).order_by(VerificationReport.version)
        ).all()
        assert [(r.id, r.version, r.differences) for r in rows] == [
            (first["verification_report_id"], 1, 1),
            (second_id, 2, 0),
        ]
        assert rows[0].report["differences"] == first["differences"]
        entry = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert entry is not None
        assert entry.after is not None
        assert entry.after["new_versions"] == 1


def test_an_unknown_household_is_named(database: Database) -> None:
    with pytest.raises(UnknownNameError, match="999"):
        verify_household(database, 999, dt.date(2025, 9, 30))


def test_the_monthly_run_is_idempotent(database: Database, fixed_clock: Clock) -> None:
    _setup(database, fixed_clock)
    first = monitor_month(
        database, MONTH, raised_on=RAISED, overrides=OVERRIDES, fallbacks=FALLBACKS,
        clock=fixed_clock, unit_of_work=bootstrap(database).unit_of_work,
    )  # fmt: skip
    assert first.counties == ["310115"]
    assert (first.households, first.persons, first.records, first.differences) == (1, 2, 2, 1)
    assert first.found == [("310115", "income_crosses_standard", 1)]
    assert first.stored.rows() == [("310115", "income_crosses_standard", 1)]
    second = monitor_month(
        database, MONTH, raised_on=RAISED, overrides=OVERRIDES, fallbacks=FALLBACKS,
        clock=fixed_clock, unit_of_work=bootstrap(database).unit_of_work,
    )  # fmt: skip
    assert second.found == first.found
    assert (second.stored.rows(), second.stored.repeated) == ([], 1)
    with database.sessions() as session:
        alert = session.scalars(select(Alert)).one()
        assert (alert.rule, alert.due_on, alert.status) == (
            "income_crosses_standard", dt.date(2025, 10, 22), "open")  # fmt: skip
        assert alert.evidence["direction"] == "above"
        assert session.scalar(select(func.count()).select_from(VerificationReport)) == 1


def test_two_exclusive_programs_from_the_registry(database: Database, fixed_clock: Clock) -> None:
    _setup(database, fixed_clock, tekun_too=True)
    run = monitor_month(
        database, MONTH, raised_on=RAISED, overrides=OVERRIDES, fallbacks=FALLBACKS,
        clock=fixed_clock, unit_of_work=bootstrap(database).unit_of_work,
    )  # fmt: skip
    # dibao household whose members are enrolled in tekun too: one supervision alert per member
    assert ("310115", "duplicate_payment", 2) in run.found
    with database.sessions() as session:
        rules = session.scalars(select(Alert.rule).where(Alert.rule == "duplicate_payment")).all()
        assert len(rules) == 2


def test_event_feeds_through_the_registry(database: Database, fixed_clock: Clock) -> None:
    """Deaths, hukou moves and disability certificates read back from ``feed_records`` (their
    region, code and grade columns) give the same differences as the columnar path."""
    household_id = _setup(database, fixed_clock)
    with database.sessions.begin() as session:
        spouse = session.scalars(select(Person).where(Person.id_number == B)).one()
        head = session.scalars(select(Person).where(Person.id_number == A)).one()
        rows = [
            FeedRecord(kind="hukou_moves", person_id=head.id, event_date=dt.date(2025, 9, 5),
                       region_code="110105"),
            FeedRecord(kind="disability_certificates", person_id=spouse.id, reference="C-1",
                       event_date=dt.date(2025, 9, 2), code="visual", grade=1),
            FeedRecord(kind="deaths", person_id=spouse.id, event_date=dt.date(2025, 9, 20)),
            # after the month: not read for 2025-09
            FeedRecord(kind="deaths", person_id=head.id, event_date=dt.date(2025, 10, 2)),
        ]  # fmt: skip
        for i, (kind, row) in enumerate((r.kind, r) for r in rows):
            delivery = FeedDelivery(kind=kind, file_name=f"{kind}{i}.csv", sha256=f"{i + 1:064d}",
                                    delivered_on=dt.date(2025, 10, 5), loaded_at=fixed_clock(),
                                    read_count=1, accepted_count=1, quarantined_count=0,
                                    duplicate_count=0)  # fmt: skip
            session.add(delivery)
            session.flush()
            row.delivery_id, row.row_number = delivery.id, 2
            session.add(row)
    report = verify_household(
        database, household_id, dt.date(2025, 9, 30), overrides=OVERRIDES, fallbacks=FALLBACKS,
        clock=fixed_clock,
    )  # fmt: skip
    got = {(d["source"], d["item"], d["declared"], d["found"], d["code"])
           for d in report["differences"]}  # fmt: skip
    assert got == {
        ("wages", "wage_income", 100_000, 300_000, None),
        ("hukou_moves", "hukou_region", 310115, 110105, "110105"),
        ("disability_certificates", "disability_grade", 0, 1, "visual"),
        ("deaths", "alive", 1, 0, None),
    }
    # B died: A alone with the found wage of 3,000 ≥ 1,000: still no dibao
    dibao = next(e for e in report["effects"] if e["program"] == "dibao")
    assert dibao["found"] == {"eligible": False, "amount_fen": 0}
    assert report["dibao_tests"]["found_members"] == 1
