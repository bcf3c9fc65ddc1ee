"""The areas react to each other only through the bus (``bootstrap.event_handlers``), in the
publisher's transaction: opening a re-check resolves its alert, resolving an alert
``recheck_started`` opens the re-check, a stored alert that stops the next payment places its
hold; and a follower that fails undoes the whole command. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest
from sqlalchemy import func, select

from safetynet.audit.log import verify
from safetynet.audit.model import AuditEvent
from safetynet.bootstrap import bootstrap, command_handlers, event_handlers
from safetynet.cases import commands as c
from safetynet.cases.events import RecheckOpened
from safetynet.cases.model import Recheck
from safetynet.db.engine import Database
from safetynet.db.messagebus import MessageBus
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.monitoring.alerts import ALERT_SCHEMA, ResolveAlert, resolve_alert, store_alerts
from safetynet.monitoring.alerts_model import Alert
from safetynet.payments.model import PaymentHold
from tests.cases.helpers import REVIEWER, Clock, household_id_of, open_alert, paying_dibao

D = dt.date


def _alert(db: Database, alert_id: int) -> tuple[str, str | None, int | None]:
    with db.sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        return alert.status, alert.outcome, alert.track_id


def _rechecks(db: Database) -> list[tuple[int, int | None]]:
    with db.sessions() as session:
        return [(r.track_id, r.alert_id) for r in session.scalars(select(Recheck))]


def _audit_entries(db: Database) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def _open_recheck(alert_id: int, track_id: int) -> c.OpenRecheck:
    return c.OpenRecheck(
        actor=REVIEWER, on=D(2025, 12, 1), track_id=track_id, alert_id=alert_id, reason="a car"
    )


def test_the_reaction_chain_through_the_bus(database: Database, fixed_clock: Clock) -> None:
    tid = paying_dibao(database, fixed_clock)
    household = household_id_of(database)
    bus = bootstrap(database, clock=fixed_clock)

    # Opening a re-check (cases) resolves its alert recheck_started on the track (monitoring).
    car = open_alert(database, household, "new_vehicle", "recheck_assets")
    bus.handle(_open_recheck(car, tid))
    assert _alert(database, car) == ("resolved", "recheck_started", tid)

    # Resolving an alert recheck_started (monitoring) opens the re-check (cases), which links
    # the alert to the track (monitoring again).
    wage = open_alert(database, household)
    with bus.unit_of_work() as uow:
        resolve_alert(
            ResolveAlert(
                alert_id=wage, outcome="recheck_started", actor=REVIEWER, on=D(2025, 12, 1)
            ),
            uow,
            fixed_clock,
        )
    assert _rechecks(database) == [(tid, car), (tid, wage)]
    assert _alert(database, wage) == ("resolved", "recheck_started", tid)

    # A stored alert that stops the next payment (monitoring) places its hold (payments).
    base = {"county": "310115", "household_id": household, "month": "2025-12",
            "raised_on": D(2025, 12, 5), "due_on": D(2025, 12, 19),
            "evidence": json.dumps({"source": "test"})}  # fmt: skip
    rows = [{**base, "rule": "death", "severity": "critical", "office": "county_civil_affairs",
             "action": "stop_next_payment", "person_id": None,
             "subject": f"household:{household}"}]  # fmt: skip
    with bus.unit_of_work() as uow:
        counts = store_alerts(
            uow, pa.Table.from_pylist(rows, schema=ALERT_SCHEMA), actor=REVIEWER, clock=fixed_clock
        )
        uow.commit()
    assert counts.holds_placed == 1
    with database.sessions() as session:
        death = session.scalars(select(Alert.id).where(Alert.rule == "death")).one()
        hold = session.scalars(select(PaymentHold)).one()
        assert (hold.household_id, hold.alert_id, hold.from_month) == (household, death, "2025-12")
        assert verify(session) == []

    # Outside the bus (a plain unit of work) nothing reacts: the alert alone is resolved.
    other = open_alert(database, household, "new_property", "recheck_assets")
    with UnitOfWork(database.sessions) as uow:
        resolve_alert(
            ResolveAlert(
                alert_id=other, outcome="recheck_started", actor=REVIEWER, on=D(2025, 12, 1)
            ),
            uow,
            fixed_clock,
        )
    assert _alert(database, other) == ("resolved", "recheck_started", None)
    assert len(_rechecks(database)) == 2


def test_a_failing_reaction_rolls_the_command_back(database: Database, fixed_clock: Clock) -> None:
    tid = paying_dibao(database, fixed_clock)
    car = open_alert(database, household_id_of(database), "new_vehicle", "recheck_assets")
    before = _audit_entries(database)

    def fails(_event: RecheckOpened, _uow: UnitOfWork) -> None:
        raise RuntimeError("a follower failed")

    handlers = dict(event_handlers())
    handlers[RecheckOpened] = (*handlers[RecheckOpened], fails)  # after monitoring resolved it
    bus = MessageBus(
        database.sessions, command_handlers=command_handlers(fixed_clock), event_handlers=handlers
    )
    with pytest.raises(RuntimeError, match="a follower failed"):
        bus.handle(_open_recheck(car, tid))
    # Neither the re-check nor the alert's resolution nor their audit entries were kept.
    assert _rechecks(database) == []
    assert _alert(database, car) == ("open", None, None)
    assert _audit_entries(database) == before
