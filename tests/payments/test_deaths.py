"""A death known by another door than ``payments end`` stops the bank file (issue 10 item 8): the
deaths feed and the case workflow's RecordDeath, on SQLite and PostgreSQL.

Feed door: the one-person household of ``tests/payments/test_holds.py`` (dibao, 800.00 yuan a
month, the member holds the account); August is sent, September rolled, then the deaths feed is
loaded and September's bank file written. Case door: the two-person household of
``tests.cases.helpers.paying_dibao`` (paid from November 2025), the head holding the account.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from safetynet.audit.model import AuditEvent
from safetynet.cases import commands as c
from safetynet.db.engine import Database
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.monitoring.feeds import (
    LoadFeed,
    headers_of,
    load_feed,
    parse_kind,
    read_feed,
    validate_feed,
)
from safetynet.payments.bankfile import describe_held, export_bank_files
from safetynet.payments.entitlements import EndEntitlement, end_entitlement
from safetynet.payments.holds import NO_ACCOUNT, ReleaseHold, release_hold
from safetynet.payments.model import (
    PayeeAccount,
    PaymentHold,
    PaymentInstruction,
    PaymentRecovery,
)
from safetynet.payments.report import payment_report
from safetynet.payments.roll import roll_month
from safetynet.registry.model import Household, Person
from tests.cases import helpers as cases
from tests.payments.test_holds import (
    CLERK,
    ID_NUMBER,
    MONTHLY,
    OFFICER,
    _at,
    _bank_file,
    _death_alert,
    _household,
    _resolve,
    _sent_in_august,
    _store,
)


def _deaths_feed(db: Database, tmp_path: Path, number: str, died_on: str) -> int:
    """Load a deaths feed reporting ``number`` dead on ``died_on``; returns the delivery id."""
    path = tmp_path / f"deaths-{died_on}.csv"
    path.write_text(
        ",".join(headers_of(parse_kind("deaths"))) + f"\n{number},{died_on}\n", encoding="utf-8"
    )
    feed = validate_feed(read_feed(parse_kind("deaths"), path), delivered_on=dt.date(2025, 9, 20))
    with UnitOfWork(db.sessions) as uow:
        report = load_feed(LoadFeed(feed, OFFICER), uow, _at(dt.date(2025, 9, 20)))
    assert report.accepted == 1
    return report.delivery_id


def _instruction(db: Database, month: str) -> PaymentInstruction:
    with db.sessions() as session:
        row = session.scalars(
            select(PaymentInstruction).where(PaymentInstruction.month == month)
        ).one()
        session.expunge(row)
        return row


def _last_bank_file_audit(db: Database) -> dict[str, object]:
    with db.sessions() as session:
        entry = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.command == "payments bank-file")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert entry is not None
        after = entry.after if isinstance(entry.after, dict) else json.loads(str(entry.after))
        assert isinstance(after, dict)
        return after


def test_a_death_in_the_feed_after_the_roll_holds_the_payees_month_until_the_report_is_dismissed(
    database: Database, tmp_path: Path
) -> None:
    household, person = _household(database)
    _sent_in_august(database, tmp_path)
    roll_month(database, "2025-09", actor=CLERK, clock=_at(dt.date(2025, 9, 1)))
    assert _instruction(database, "2025-09").status == "pending"

    delivery = _deaths_feed(database, tmp_path, ID_NUMBER, "2025-07-15")
    report = _bank_file(database, "2025-09", tmp_path / "sep")
    assert report.files == ()  # nothing sent for the household
    reason = f"payee died on 2025-07-15 (deaths feed delivery {delivery})"
    held = _instruction(database, "2025-09")
    assert (held.status, held.held_reason) == ("held", reason)
    assert report.stopped == ((held.id, "2025-09", reason),)
    assert describe_held(report) == "1 held: 1 payee died"
    assert _last_bank_file_audit(database)["no_longer_standing"] == [
        {"instruction": held.id, "month": "2025-09", "reason": reason}
    ]
    (row,) = payment_report(database, "2025-09")
    assert (row.held_died, row.held_ended, row.held, row.awaiting) == (1, 0, 0, 0)
    again = _bank_file(database, "2025-09", tmp_path / "sep")
    assert (again.files, again.stopped, again.held_by_kind) == ((), (), (("payee died", 1),))

    # The monitoring run raises a death alert from the delivery (its payment hold takes the
    # instruction over); the officer finds the report belongs to someone else and dismisses it:
    # the hold is released, the death no longer counts, and September is sent.
    _store(database, _death_alert(household, person))
    assert _bank_file(database, "2025-09", tmp_path / "sep").held_by_kind == (("payment hold", 1),)
    _resolve(database, "dismissed", "death record belongs to another person")
    paid = _bank_file(database, "2025-09", tmp_path / "sep2")
    assert [(f.count, f.total_fen) for f in paid.files] == [(1, MONTHLY)]
    assert (paid.stopped, paid.still_held) == ((), 0)
    assert _instruction(database, "2025-09").status == "exported"


def test_only_a_dismissal_sets_the_feed_death_aside(database: Database, tmp_path: Path) -> None:
    household, person = _household(database)
    roll_month(database, "2025-09", actor=CLERK, clock=_at(dt.date(2025, 9, 1)))
    _deaths_feed(database, tmp_path, ID_NUMBER, "2025-08-31")
    _store(database, _death_alert(household, person))
    _resolve(database, "payment_stopped")
    # A clerk releases the alert's payment hold by hand: the death still stands.
    with database.sessions() as session:
        hold_id = session.scalars(select(PaymentHold.id)).one()
    release_hold(
        database,
        ReleaseHold(hold_id=hold_id, reason="paperwork", actor=CLERK),
        _at(dt.date(2025, 10, 10)),
    )
    report = _bank_file(database, "2025-09", tmp_path)
    assert (report.files, report.held_by_kind) == ((), (("payee died", 1),))
    assert _instruction(database, "2025-09").held_reason == (
        "payee died on 2025-08-31 (deaths feed delivery 1)"
    )


def test_a_death_after_the_first_day_of_the_month_does_not_hold_that_month(
    database: Database, tmp_path: Path
) -> None:
    _household(database)
    roll_month(database, "2025-09", actor=CLERK, clock=_at(dt.date(2025, 9, 1)))
    _deaths_feed(database, tmp_path, ID_NUMBER, "2025-09-02")
    report = _bank_file(database, "2025-09", tmp_path)
    assert [(f.count, f.total_fen) for f in report.files] == [(1, MONTHLY)]
    assert (report.stopped, report.still_held) == ((), 0)


def _paying_household_with_account(db: Database, clock: cases.Clock) -> int:
    """The case household, paid from November 2025, the head holding the account; returns the
    track."""
    tid = cases.paying_dibao(db, clock)
    with db.sessions.begin() as session:
        household = session.scalars(select(Household.id)).one()
        head = session.scalars(select(Person.id).where(Person.id_number == cases.HEAD)).one()
        session.add(
            PayeeAccount(
                household_id=household,
                holder_person_id=head,
                bank_code="102",
                account_number="6212260200001234567",
                valid_from=dt.date(2025, 11, 1),
                created_at=dt.datetime(2025, 11, 1, tzinfo=dt.UTC),
                source="test",
            )
        )
    roll_month(db, "2025-12", actor=CLERK, clock=_at(dt.date(2025, 12, 1)))
    assert _instruction(db, "2025-12").status == "pending"
    return tid


def _record_death(db: Database, clock: cases.Clock, tid: int, number: str) -> None:
    cases.run(
        db,
        clock,
        c.RecordDeath(actor=cases.CLERK, on=dt.date(2025, 11, 20), track_id=tid, id_number=number),
    )


def test_a_death_recorded_on_the_case_holds_the_payees_month(
    database: Database, tmp_path: Path, fixed_clock: cases.Clock
) -> None:
    tid = _paying_household_with_account(database, fixed_clock)
    _record_death(database, fixed_clock, tid, cases.HEAD)
    report = export_bank_files(
        database, "2025-12", cases.REGION, tmp_path, actor=CLERK, clock=_at(dt.date(2025, 12, 5))
    )
    assert report.files == ()
    held = _instruction(database, "2025-12")
    assert (held.status, held.held_reason) == ("held", "payee died on 2025-11-20 (case record)")
    assert report.held_by_kind == (("payee died", 1),)


def test_the_death_of_another_member_of_a_larger_household_is_for_its_recheck(
    database: Database, tmp_path: Path, fixed_clock: cases.Clock
) -> None:
    tid = _paying_household_with_account(database, fixed_clock)
    _record_death(database, fixed_clock, tid, cases.id_number("19870601", 4))
    assert cases.track(database, tid).recheck_reason == "death"  # the case schedules it
    report = export_bank_files(
        database, "2025-12", cases.REGION, tmp_path, actor=CLERK, clock=_at(dt.date(2025, 12, 5))
    )
    assert [f.count for f in report.files] == [1]
    assert report.still_held == 0


@pytest.mark.parametrize("spouse_account", [True, False])
def test_a_living_members_account_valid_in_the_month_is_paid_instead_of_the_dead_payees(
    database: Database, tmp_path: Path, fixed_clock: cases.Clock, spouse_account: bool
) -> None:
    tid = _paying_household_with_account(database, fixed_clock)
    _record_death(database, fixed_clock, tid, cases.HEAD)
    if spouse_account:
        with database.sessions.begin() as session:
            spouse = session.scalars(
                select(Person.id).where(Person.id_number == cases.id_number("19870601", 4))
            ).one()
            session.add(
                PayeeAccount(
                    household_id=session.scalars(select(Household.id)).one(),
                    holder_person_id=spouse,
                    bank_code="105",
                    account_number="6217000010001234",
                    valid_from=dt.date(2025, 12, 1),
                    created_at=dt.datetime(2025, 12, 2, tzinfo=dt.UTC),
                    source="test",
                )
            )
    report = export_bank_files(
        database, "2025-12", cases.REGION, tmp_path, actor=CLERK, clock=_at(dt.date(2025, 12, 5))
    )
    december = _instruction(database, "2025-12")
    if spouse_account:
        assert [f.count for f in report.files] == [1]
        assert (december.status, december.account) == ("exported", "6217000010001234")
        assert (tmp_path / "SN310115202512001.txt").read_bytes().count(b"6217000010001234") == 1
    else:
        assert (report.files, december.status) == ((), "held")


def test_a_month_held_for_a_death_and_then_ended_is_settled_never_recovered(
    database: Database, tmp_path: Path
) -> None:
    _household(database)
    _sent_in_august(database, tmp_path)
    roll_month(database, "2025-09", actor=CLERK, clock=_at(dt.date(2025, 9, 1)))
    _deaths_feed(database, tmp_path, ID_NUMBER, "2025-07-15")
    assert _bank_file(database, "2025-09", tmp_path / "sep").files == ()
    # The clerk ends the entitlement at the death; October's roll comes before any bank file.
    end_entitlement(
        database,
        EndEntitlement(1, dt.date(2025, 7, 15), "death (deaths feed)", CLERK),
        _at(dt.date(2025, 9, 25)),
    )
    october = roll_month(database, "2025-10", actor=CLERK, clock=_at(dt.date(2025, 10, 1)))
    # August was sent after the death: recovered. September was never sent: settled at 0.
    assert october.overpaid_fen == MONTHLY
    september = _instruction(database, "2025-09")
    assert (september.amount_fen, september.status) == (0, "settled")
    with database.sessions() as session:
        assert session.scalar(select(func.sum(PaymentRecovery.amount_fen))) == MONTHLY
    assert _bank_file(database, "2025-10", tmp_path / "oct").files == ()


def test_a_one_person_household_whose_member_died_is_held_for_the_death_not_for_an_account(
    database: Database, tmp_path: Path
) -> None:
    _household(database)
    with database.sessions.begin() as session:
        session.execute(delete(PayeeAccount))
    roll_month(database, "2025-09", actor=CLERK, clock=_at(dt.date(2025, 9, 1)))
    assert _instruction(database, "2025-09").held_reason == NO_ACCOUNT
    delivery = _deaths_feed(database, tmp_path, ID_NUMBER, "2025-09-01")  # the first day counts
    report = _bank_file(database, "2025-09", tmp_path)
    reason = f"payee died on 2025-09-01 (deaths feed delivery {delivery})"
    assert _instruction(database, "2025-09").held_reason == reason
    assert report.held_by_kind == (("payee died", 1),)
