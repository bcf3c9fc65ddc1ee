"""Payment holds, worked by hand on SQLite and PostgreSQL: a death alert stops the next payment,
a dismissal pays the held months with the next bank file, a confirmed death with the entitlement
ended settles the held month at 0 with nothing paid and nothing to recover.

One dibao household of Pudong (310115), 800.00 yuan (80,000 fen) a month from 2025-01, with a
payee account: August 2025 is rolled and sent to the bank before the deaths feed of September is
compared.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import delete, func, insert, select

from safetynet.audit.log import Actor, verify
from safetynet.audit.model import AuditEvent
from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database
from safetynet.errors import InputError, UnknownNameError
from safetynet.monitoring.alerts import ALERT_SCHEMA, ResolveAlert, StoreCounts, resolve_alert
from safetynet.monitoring.alerts import store_alerts as store
from safetynet.monitoring.alerts_model import Alert
from safetynet.payments.bankfile import BankFileReport, export_bank_files
from safetynet.payments.entitlements import EndEntitlement, end_entitlement
from safetynet.payments.holds import (
    NO_ACCOUNT,
    PlaceHold,
    ReleaseHold,
    list_holds,
    place_hold,
    release_hold,
)
from safetynet.payments.model import (
    PayeeAccount,
    PaymentAdjustment,
    PaymentHold,
    PaymentInstruction,
    PaymentRecovery,
)
from safetynet.payments.report import payment_report
from safetynet.payments.roll import roll_month
from safetynet.registry.model import Enrolment, Household, Person
from tests.cases.helpers import register_household

Clock = Callable[[], dt.datetime]
COUNTY = "310115"
ID_NUMBER = "310115198001010112"
CLERK = Actor("clerk_li", "payments_clerk", COUNTY)
OFFICER = Actor("officer_he", "monitoring_officer", COUNTY)
MONTHLY = 80_000  # 800.00 yuan


def _at(day: dt.date) -> Clock:
    moment = dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=dt.UTC)
    return lambda: moment


def _household(db: Database) -> tuple[int, int]:
    """The household, its one member, a dibao enrolment of 800 yuan and a payee account."""
    register_household(db, "H1", [ID_NUMBER], COUNTY)
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    with db.sessions.begin() as session:
        household = session.scalars(select(Household.id)).one()
        person = session.scalars(select(Person.id)).one()
        session.execute(
            insert(Enrolment),
            [
                {
                    "household_id": household,
                    "program": "dibao",
                    "start_date": dt.date(2025, 1, 1),
                    "end_date": None,
                    "amount_fen": MONTHLY,
                    "status": "active",
                    "version": 1,
                }
            ],
        )
        session.add(
            PayeeAccount(
                household_id=household,
                holder_person_id=person,
                bank_code="102",
                account_number="6212260200001234567",
                valid_from=dt.date(2025, 1, 1),
                created_at=now,
                source="test",
            )
        )
    return household, person


def _death_alert(household: int, person: int, month: str = "2025-09") -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "rule": "death",
                "severity": "critical",
                "county": COUNTY,
                "office": "county_civil_affairs",
                "action": "stop_next_payment",
                "household_id": household,
                "person_id": person,
                "subject": f"person:{person}",
                "month": month,
                "raised_on": dt.date(2025, 10, 9),
                "due_on": dt.date(2025, 10, 13),
                "evidence": json.dumps({"source": "deaths", "event_date": "2025-08-20"}),
            }
        ],
        schema=ALERT_SCHEMA,
    )


def _store(db: Database, alerts: pa.Table) -> StoreCounts:
    with bootstrap(db).unit_of_work() as uow:
        counts = store(uow, alerts, actor=OFFICER, clock=_at(dt.date(2025, 10, 9)))
        uow.commit()
        return counts


def _bank_file(db: Database, month: str, out: Path) -> BankFileReport:
    return export_bank_files(db, month, COUNTY, out, actor=CLERK, clock=_at(dt.date(2025, 10, 10)))


def _instructions(db: Database) -> dict[str, tuple[int, str, int | None]]:
    """month → (amount_fen, status, hold_id)."""
    with db.sessions() as session:
        rows = session.execute(
            select(
                PaymentInstruction.month,
                PaymentInstruction.amount_fen,
                PaymentInstruction.status,
                PaymentInstruction.hold_id,
            )
        ).all()
    return {m: (a, s, h) for m, a, s, h in rows}


def _resolve(db: Database, outcome: str, reason: str = "") -> None:
    with db.sessions() as session:
        alert_id = session.scalars(select(Alert.id)).one()
    with bootstrap(db).unit_of_work() as uow:
        resolve_alert(
            ResolveAlert(
                alert_id=alert_id,
                outcome=outcome,
                reason=reason,
                actor=OFFICER,
                on=dt.date(2025, 10, 11),
            ),
            uow,
            _at(dt.date(2025, 10, 11)),
        )


def _sent_in_august(db: Database, tmp_path: Path) -> None:
    roll_month(db, "2025-08", actor=CLERK, clock=_at(dt.date(2025, 8, 1)))
    august = _bank_file(db, "2025-08", tmp_path)
    assert [(f.count, f.total_fen) for f in august.files] == [(1, MONTHLY)]


def test_a_death_alert_holds_the_next_payment_and_a_dismissal_pays_it(
    database: Database, tmp_path: Path
) -> None:
    household, person = _household(database)
    _sent_in_august(database, tmp_path)

    counts = _store(database, _death_alert(household, person))
    assert counts.holds_placed == 1
    # Running the month again stores no alert and places no second hold.
    assert _store(database, _death_alert(household, person)).holds_placed == 0
    with database.sessions() as session:
        hold = session.scalars(select(PaymentHold)).one()
        assert (hold.household_id, hold.program, hold.from_month) == (household, None, "2025-09")
        # September was not sent yet: the hold stops it (the alert's own month).
        assert hold.alert_id == session.scalars(select(Alert.id)).one()

    september = roll_month(database, "2025-09", actor=CLERK, clock=_at(dt.date(2025, 9, 1)))
    assert (september.created, september.held, september.held_by_hold) == (1, 1, 1)
    with database.sessions() as session:
        held = session.scalars(
            select(PaymentInstruction).where(PaymentInstruction.month == "2025-09")
        ).one()
        assert (held.amount_fen, held.status, held.hold_id) == (MONTHLY, "held", hold.id)
        assert held.held_reason == (
            f"monitoring alert {hold.alert_id} (death, 2025-09): "
            "stop the next payment and start the termination procedure"
        )

    skipped = _bank_file(database, "2025-09", tmp_path / "sep")
    assert (skipped.files, skipped.still_held, skipped.held_by_hold) == ((), 1, 1)
    (row,) = payment_report(database, "2025-09")
    assert (row.payable, row.held_by_hold, row.held, row.awaiting) == (1, 1, 0, 0)
    assert [h.person for h in list_holds(database, COUNTY)] == ["310***********0112"]

    # October is held too; September's held 800 is not "paid" twice nor adjusted.
    october = roll_month(database, "2025-10", actor=CLERK, clock=_at(dt.date(2025, 10, 1)))
    assert (october.held_by_hold, october.adjustments) == (1, 0)

    _resolve(database, "dismissed", "death record belongs to another person")
    assert list_holds(database) == []
    assert _instructions(database) == {
        "2025-08": (MONTHLY, "exported", None),
        "2025-09": (MONTHLY, "pending", None),
        "2025-10": (MONTHLY, "pending", None),
    }
    paid = _bank_file(database, "2025-10", tmp_path / "oct")
    # 800.00 for September + 800.00 for October = 1,600.00 yuan in one file of 2 records.
    assert [(f.count, f.total_fen, f.new) for f in paid.files] == [(2, 160_000, True)]
    with database.sessions() as session:
        events = session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)).all()
        assert events.count("PaymentHoldPlaced") == 1
        assert events.count("PaymentHoldReleased") == 1
        assert events.index("AlertResolved") < events.index("PaymentHoldReleased")
        assert verify(session) == []


def test_a_confirmed_death_with_the_entitlement_ended_settles_the_held_month(
    database: Database, tmp_path: Path
) -> None:
    household, person = _household(database)
    _sent_in_august(database, tmp_path)
    _store(database, _death_alert(household, person))
    roll_month(database, "2025-09", actor=CLERK, clock=_at(dt.date(2025, 9, 1)))

    _resolve(database, "payment_stopped")
    assert len(list_holds(database)) == 1  # confirmed: the hold stands
    # Death on 2025-08-20: August (month of death) is due in full and was paid; nothing after.
    with database.sessions() as session:
        enrolment = session.scalars(select(Enrolment.id)).one()
    end_entitlement(
        database,
        EndEntitlement(enrolment, dt.date(2025, 8, 20), "death (civil registration)", CLERK),
        _at(dt.date(2025, 10, 12)),
    )

    october = roll_month(database, "2025-10", actor=CLERK, clock=_at(dt.date(2025, 10, 13)))
    # September's held 800 is no longer due: it becomes 0, settled; October has nothing due.
    assert (october.settled_held, october.created, october.adjustments) == (1, 0, 0)
    assert _instructions(database) == {
        "2025-08": (MONTHLY, "exported", None),
        "2025-09": (0, "settled", None),
    }
    assert _bank_file(database, "2025-10", tmp_path / "oct").files == ()
    with database.sessions() as session:
        # Had September been paid, the October roll would record an overpayment of 800.00 to
        # recover; held, it was never paid: no adjustment, no recovery.
        assert session.scalar(select(func.count()).select_from(PaymentAdjustment)) == 0
        assert session.scalar(select(func.count()).select_from(PaymentRecovery)) == 0
        assert verify(session) == []
    # Settled (nothing to transfer) and no recovery outstanding: nothing to report for September.
    assert payment_report(database, "2025-09") == []
    # Rolling October again changes nothing.
    again = roll_month(database, "2025-10", actor=CLERK, clock=_at(dt.date(2025, 10, 14)))
    assert (again.settled_held, again.created, again.adjustments) == (0, 0, 0)


def test_a_month_already_sent_is_not_stopped_the_month_after_is(
    database: Database, tmp_path: Path
) -> None:
    household, person = _household(database)
    _sent_in_august(database, tmp_path)
    # The deaths feed of August compared after August's bank file: August cannot be stopped.
    _store(database, _death_alert(household, person, "2025-08"))
    with database.sessions() as session:
        assert session.scalars(select(PaymentHold.from_month)).one() == "2025-09"
    assert _instructions(database)["2025-08"] == (MONTHLY, "exported", None)


def test_a_hold_placed_after_the_roll_stops_the_pending_instruction(
    database: Database, tmp_path: Path
) -> None:
    household, person = _household(database)
    roll_month(database, "2025-09", actor=CLERK, clock=_at(dt.date(2025, 9, 1)))
    assert _instructions(database)["2025-09"][1] == "pending"
    _store(database, _death_alert(household, person))
    with database.sessions() as session:
        hold = session.scalars(select(PaymentHold)).one()
    assert hold.from_month == "2025-09"
    assert _instructions(database)["2025-09"] == (MONTHLY, "held", hold.id)
    assert _bank_file(database, "2025-09", tmp_path).files == ()


def test_holds_by_hand_per_program_and_their_release(database: Database, tmp_path: Path) -> None:
    household, _ = _household(database)
    roll_month(database, "2025-09", actor=CLERK, clock=_at(dt.date(2025, 9, 1)))
    other = place_hold(
        database,
        PlaceHold(
            household_id=household,
            from_month="2025-09",
            reason="tekun review",
            actor=CLERK,
            program="tekun",
        ),
        _at(dt.date(2025, 9, 2)),
    )
    assert _instructions(database)["2025-09"][1] == "pending"  # another program: not held
    first = place_hold(
        database,
        PlaceHold(household_id=household, from_month="2025-09", reason="audit", actor=CLERK),
        _at(dt.date(2025, 9, 2)),
    )
    second = place_hold(
        database,
        PlaceHold(household_id=household, from_month="2025-07", reason="second", actor=CLERK),
        _at(dt.date(2025, 9, 3)),
    )
    assert _instructions(database)["2025-09"] == (MONTHLY, "held", first)
    # Released, the first hold hands the instruction to the second, which still stands.
    assert release_hold(database, ReleaseHold(hold_id=first, reason="ok", actor=CLERK), _at(
        dt.date(2025, 9, 4)
    )) == 0  # fmt: skip
    assert _instructions(database)["2025-09"] == (MONTHLY, "held", second)
    assert release_hold(database, ReleaseHold(hold_id=second, reason="ok", actor=CLERK), _at(
        dt.date(2025, 9, 4)
    )) == 1  # fmt: skip
    assert _instructions(database)["2025-09"] == (MONTHLY, "pending", None)
    assert [h.id for h in list_holds(database)] == [other]
    with pytest.raises(InputError, match="already released"):
        release_hold(
            database, ReleaseHold(hold_id=first, reason="again", actor=CLERK), _at(dt.date.today())
        )
    with pytest.raises(InputError, match="reason"):
        release_hold(database, ReleaseHold(hold_id=other, reason=" ", actor=CLERK), _at(
            dt.date(2025, 9, 5)
        ))  # fmt: skip
    with pytest.raises(UnknownNameError):
        release_hold(
            database, ReleaseHold(hold_id=999, reason="x", actor=CLERK), _at(dt.date(2025, 9, 5))
        )
    with pytest.raises(InputError, match="from_month"):
        place_hold(
            database,
            PlaceHold(household_id=household, from_month="2025-13", reason="x", actor=CLERK),
            _at(dt.date(2025, 9, 5)),
        )
    paid = _bank_file(database, "2025-09", tmp_path)
    assert [(f.count, f.total_fen) for f in paid.files] == [(1, MONTHLY)]


def test_a_released_hold_without_an_account_waits_for_one(database: Database) -> None:
    household, _ = _household(database)
    with database.sessions.begin() as session:
        session.execute(delete(PayeeAccount))
    roll_month(database, "2025-09", actor=CLERK, clock=_at(dt.date(2025, 9, 1)))
    hold = place_hold(
        database,
        PlaceHold(household_id=household, from_month="2025-09", reason="audit", actor=CLERK),
        _at(dt.date(2025, 9, 2)),
    )
    (row,) = payment_report(database, "2025-09")
    assert (row.held_by_hold, row.held) == (1, 0)
    release_hold(database, ReleaseHold(hold_id=hold, reason="ok", actor=CLERK), _at(
        dt.date(2025, 9, 3)
    ))  # fmt: skip
    with database.sessions() as session:
        instruction = session.scalars(select(PaymentInstruction)).one()
        assert (instruction.status, instruction.hold_id, instruction.held_reason) == (
            "held", None, NO_ACCOUNT)  # fmt: skip
    (row,) = payment_report(database, "2025-09")
    assert (row.held_by_hold, row.held) == (0, 1)
