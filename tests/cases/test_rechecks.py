"""Re-checks opened because of a monitoring alert: by resolving the alert ``recheck_started`` or
by ``OpenRecheck``; due within ``common.procedure.monitoring.recheck_limit`` working days, listed
in the office's deadlines, closed by ``RecordRecheck``; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from safetynet.audit.log import verify
from safetynet.audit.model import AuditEvent
from safetynet.bootstrap import bootstrap
from safetynet.cases import commands as c
from safetynet.cases.model import Recheck
from safetynet.cases.views import overdue_and_due_soon
from safetynet.cases.workflow import WorkflowError
from safetynet.db.engine import Database
from safetynet.errors import InputError
from safetynet.monitoring.alerts import ResolveAlert, resolve_alert
from safetynet.monitoring.alerts_model import Alert
from tests.cases.helpers import (
    APPROVER,
    INVESTIGATOR,
    REGION,
    REVIEWER,
    Clock,
    accepted_dibao,
    dibao_household,
    household_id_of,
    open_alert,
    paying_dibao,
    run,
    track,
)

D = dt.date


def _rechecks(db: Database) -> list[Recheck]:
    with db.sessions() as session:
        rows = list(session.scalars(select(Recheck).order_by(Recheck.id)))
        session.expunge_all()
        return rows


def _events(db: Database) -> list[str]:
    with db.sessions() as session:
        return list(session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)))


def test_resolving_an_alert_recheck_started_opens_a_recheck_on_the_paying_track(
    database: Database, fixed_clock: Clock
) -> None:
    tid = paying_dibao(database, fixed_clock)
    alert_id = open_alert(database, household_id_of(database))
    with bootstrap(database).unit_of_work() as uow:
        resolve_alert(
            ResolveAlert(
                alert_id=alert_id, outcome="recheck_started", actor=REVIEWER, on=D(2025, 12, 1)
            ),
            uow,
            fixed_clock,
        )
    (recheck,) = _rechecks(database)
    # 30 working days from Monday 2025-12-01: December has 22 after the 1st, then 2026-01-01..03
    # are the New Year holiday, Sunday 01-04 is worked (23), 01-05..09 (28), 01-12, 01-13 (30).
    assert (recheck.track_id, recheck.alert_id, recheck.due, recheck.status) == (
        tid,
        alert_id,
        D(2026, 1, 13),
        "open",
    )
    assert recheck.reason.startswith(f"monitoring alert {alert_id} (income_crosses_standard")
    with database.sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        assert (alert.status, alert.outcome, alert.track_id) == ("resolved", "recheck_started", tid)
    # The resolution, then (cases following it) the re-check, then (monitoring following that)
    # the alert's link to the track: each change its own entry, in one transaction.
    assert _events(database)[-3:] == ["AlertResolved", "RecheckOpened", "AlertLinkedToTrack"]

    # In the office's list: due soon on Friday 2026-01-09 (2 working days left), overdue after.
    with database.sessions() as session:
        soon = [
            (r.deadline, r.due, r.overdue, r.working_days_left, r.recheck_id)
            for r in overdue_and_due_soon(session, REGION, D(2026, 1, 9))
        ]
        late = [
            (r.deadline, r.overdue, r.working_days_left)
            for r in overdue_and_due_soon(session, REGION, D(2026, 1, 14))
        ]
    assert ("alert_recheck", D(2026, 1, 13), False, 2, recheck.id) in soon
    assert ("alert_recheck", True, -1) in late

    # Recording the re-check closes it; it leaves the list.
    run(
        database,
        fixed_clock,
        c.RecordRecheck(
            actor=INVESTIGATOR,
            on=D(2026, 1, 12),
            track_id=tid,
            frequency="annual",
            findings="the wage feed counted a one-off bonus; income unchanged",
        ),
    )
    (recheck,) = _rechecks(database)
    assert (recheck.status, recheck.closed_on, recheck.closed_by) == (
        "done",
        D(2026, 1, 12),
        "inv_wang",
    )
    with database.sessions() as session:
        rows = overdue_and_due_soon(session, REGION, D(2026, 1, 14))
        assert [r for r in rows if r.deadline == "alert_recheck"] == []
        entry = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "RecheckRecorded")
        ).one()
        assert entry.after is not None
        assert entry.after["rechecks_closed"] == [recheck.id]
        assert verify(session) == []


def test_an_alert_that_asks_for_no_recheck_opens_none(
    database: Database, fixed_clock: Clock
) -> None:
    paying_dibao(database, fixed_clock)
    alert_id = open_alert(database, household_id_of(database), "death", "stop_next_payment")
    with bootstrap(database).unit_of_work() as uow:
        resolve_alert(
            ResolveAlert(
                alert_id=alert_id, outcome="recheck_started", actor=REVIEWER, on=D(2025, 12, 1)
            ),
            uow,
            fixed_clock,
        )
    assert _rechecks(database) == []


def test_open_recheck_resolves_the_alert_in_the_same_transaction(
    database: Database, fixed_clock: Clock
) -> None:
    tid = paying_dibao(database, fixed_clock)
    household = household_id_of(database)
    alert_id = open_alert(database, household, "new_vehicle", "recheck_assets")

    def open_(
        *,
        on: dt.date | None = None,
        alert: int = alert_id,
        reason: str = "an undeclared car",
        due: dt.date | None = None,
    ) -> None:
        cmd = c.OpenRecheck(
            actor=REVIEWER,
            on=on or D(2025, 12, 1),
            track_id=tid,
            alert_id=alert,
            reason=reason,
            due=due,
        )
        run(database, fixed_clock, cmd)

    with pytest.raises(InputError, match="reason"):
        open_(reason=" ")
    with pytest.raises(InputError, match="due: 2026-01-14 is not between 2025-12-01 and the time"):
        open_(due=D(2026, 1, 14))
    with pytest.raises(InputError, match="on: 2025-11-19 is before the alert was raised"):
        open_(on=D(2025, 11, 19))
    with pytest.raises(InputError, match="999 is not an alert about this household"):
        open_(alert=999)
    with database.sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        assert alert.status == "open"  # nothing of the refused attempts was kept
    assert _rechecks(database) == []

    open_(due=D(2025, 12, 19))  # the office sets an earlier date than the 30-day limit
    (recheck,) = _rechecks(database)
    assert (recheck.due, recheck.reason, recheck.opened_by) == (
        D(2025, 12, 19),
        "an undeclared car",
        "town_zhou",
    )
    with database.sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        assert (alert.status, alert.outcome, alert.track_id, alert.resolved_on) == (
            "resolved",
            "recheck_started",
            tid,
            D(2025, 12, 1),
        )
        assert verify(session) == []
    assert _events(database)[-2:] == ["RecheckOpened", "AlertResolved"]
    with pytest.raises(WorkflowError, match=f"alert {alert_id} already opened re-check"):
        open_()

    dismissed = open_alert(database, household, "new_property", "recheck_assets")
    with bootstrap(database).unit_of_work() as uow:
        resolve_alert(
            ResolveAlert(
                alert_id=dismissed,
                outcome="dismissed",
                reason="the flat was sold in 2019",
                actor=REVIEWER,
                on=D(2025, 12, 1),
            ),
            uow,
            fixed_clock,
        )
    with pytest.raises(WorkflowError, match=f"alert {dismissed} was resolved as dismissed"):
        open_(alert=dismissed)


def test_a_recheck_in_the_gradual_exit_period_records_findings_only(
    database: Database, fixed_clock: Clock
) -> None:
    tid = paying_dibao(database, fixed_clock)
    run(
        database,
        fixed_clock,
        c.StartGradualExit(
            actor=APPROVER,
            on=D(2025, 12, 20),
            track_id=tid,
            income_rose_in="2025-12",
            household=dibao_household("6000.00"),
        ),
    )
    alert_id = open_alert(database, household_id_of(database), raised_on=D(2026, 1, 20))
    run(
        database,
        fixed_clock,
        c.OpenRecheck(
            actor=APPROVER,
            on=D(2026, 1, 26),
            track_id=tid,
            alert_id=alert_id,
            reason="income above the standard again",
        ),
    )
    with pytest.raises(WorkflowError, match="gradual-exit period"):
        run(
            database,
            fixed_clock,
            c.RecordRecheck(
                actor=INVESTIGATOR,
                on=D(2026, 2, 2),
                track_id=tid,
                frequency="annual",
                findings="x",
                household=dibao_household("7000.00"),
            ),
        )
    run(
        database,
        fixed_clock,
        c.RecordRecheck(
            actor=INVESTIGATOR,
            on=D(2026, 2, 2),
            track_id=tid,
            frequency="annual",
            findings="the wage is the one the gradual exit was started on",
        ),
    )
    assert [r.status for r in _rechecks(database)] == ["done"]
    assert track(database, tid).status == "gradual_exit"


def test_no_recheck_is_opened_on_a_track_that_is_not_paying(
    database: Database, fixed_clock: Clock
) -> None:
    tid = accepted_dibao(database, fixed_clock)
    alert_id = open_alert(database, household_id_of(database))
    with pytest.raises(WorkflowError, match=r"cannot open a re-check of track \d+ \(dibao"):
        run(
            database,
            fixed_clock,
            c.OpenRecheck(
                actor=REVIEWER, on=D(2025, 12, 1), track_id=tid, alert_id=alert_id, reason="x"
            ),
        )
