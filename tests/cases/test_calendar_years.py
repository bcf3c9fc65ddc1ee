"""Adding a year's official calendar recomputes, and audits, every deadline that was provisional."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from safetynet.audit.log import Actor, verify
from safetynet.audit.model import AuditEvent
from safetynet.cases import commands as c
from safetynet.cases.calendar_years import (
    AddCalendarYear,
    RecomputeProvisional,
    add_calendar_year,
    recompute_provisional_deadlines,
)
from safetynet.cases.model import Appeal, Recheck, Track
from safetynet.cases.notices import notice_data, render_notice
from safetynet.cases.views import overdue_and_due_soon
from safetynet.db.calendar_years import forget_sync
from safetynet.db.engine import Database
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.calendar import install_added_years, parse_official_year
from safetynet.domain.workdays import add_working_days
from safetynet.errors import InputError
from tests.cases.helpers import (
    APPROVER,
    CLERK,
    HEAD,
    REVIEWER,
    Clock,
    dibao_household,
    id_number,
    investigate_and_propose,
    register_household,
    run,
    submit,
    track,
)

D = dt.date
ADMIN = Actor("admin_he", "administrator")
TODAY = D(2026, 12, 5)  # the day the defect was found: deadlines reach into 2027


def calendar_2027(**changes: Any) -> dict[str, Any]:
    """A 2027 notice as a test makes it up (not the real one): 1-3 January and Monday 4 January
    off, Saturday 9 January worked."""
    doc: dict[str, Any] = {
        "year": 2027,
        "references": [
            {
                "title": "国务院办公厅关于2027年部分节假日安排的通知",
                "number": "国办发明电〔2026〕99号",
                "date": "2026-12-10",
            }
        ],
        "holidays": [{"date": f"2027-01-0{d}", "name": "元旦"} for d in (1, 2, 3, 4)],
        "working_days": [{"date": "2027-01-09", "name": "元旦"}],
    }
    doc.update(changes)
    return doc


@pytest.fixture(autouse=True)
def _calendar_of_this_process() -> Iterator[None]:
    yield
    install_added_years([])
    forget_sync()


def accepted_today(database: Database, clock: Clock) -> int:
    register_household(database, "H1", [HEAD, id_number("19870601", 4)])
    app_id, (tid,) = submit(database, clock, dibao_household(), "H1", D(2026, 12, 4), ("dibao",))
    run(database, clock, c.AcceptApplication(actor=CLERK, on=TODAY, application_id=app_id))
    return tid


def add_2027(database: Database, doc: dict[str, Any] | None = None) -> Any:
    with UnitOfWork(database.sessions) as uow:
        return add_calendar_year(
            uow, AddCalendarYear(ADMIN, parse_official_year(doc or calendar_2027()))
        )


def test_an_application_accepted_today_gets_provisional_deadlines(
    database: Database, fixed_clock: Clock
) -> None:
    tid = accepted_today(database, fixed_clock)
    t = track(database, tid)
    # 3 working days in December 2026 (official); 30 and 45 reach into the provisional 2027:
    # 19 working days in December, 1 January off, the 30th on 18 January; 春节 除夕 to 初三
    # (5 to 8 February) off, the 45th on 10 February.
    assert t.investigation_start_due == D(2026, 12, 9)
    assert t.overall_due == D(2027, 1, 18)
    assert t.overall_extended_due == D(2027, 2, 10)
    assert set(t.provisional_deadlines or {}) == {"overall_due", "overall_extended_due"}
    with database.sessions() as session:
        rows = overdue_and_due_soon(session, "310000", D(2027, 1, 14))
    assert [(r.deadline, r.due, r.provisional) for r in rows] == [
        ("investigation_start", D(2026, 12, 9), False),  # overdue by then
        ("overall", D(2027, 1, 18), True),
    ]


def test_adding_2027_recomputes_the_provisional_deadlines_with_an_audit_entry_each(
    database: Database, fixed_clock: Clock
) -> None:
    tid = accepted_today(database, fixed_clock)
    result = add_2027(database)
    assert (result.year, result.recomputed, result.moved, result.still_provisional) == (
        2027,
        2,
        1,
        0,
    )
    t = track(database, tid)
    # Monday 4 January off and Saturday 9 January worked cancel out for the 30 days; the made-up
    # notice gives no 春节 days, so the 45th working day comes two working days earlier.
    assert t.provisional_deadlines is None
    assert t.overall_due == D(2027, 1, 18)
    assert t.overall_extended_due == D(2027, 2, 8)
    with database.sessions() as session:
        entries = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "DeadlineRecomputed")
        ).all()
        assert [(e.entity, e.before, e.after) for e in entries] == [
            (
                "case_tracks",
                {"overall_due": "2027-01-18", "provisional": True},
                {"overall_due": "2027-01-18", "provisional": False},
            ),
            (
                "case_tracks",
                {"overall_extended_due": "2027-02-10", "provisional": True},
                {"overall_extended_due": "2027-02-08", "provisional": False},
            ),
        ]
        assert verify(session) == []


def test_a_deadline_in_a_later_year_stays_provisional_after_adding_2027(
    database: Database, fixed_clock: Clock
) -> None:
    tid = accepted_today(database, fixed_clock)
    investigate_and_propose(database, fixed_clock, tid, D(2026, 12, 7), proposal="refuse")
    run(database, fixed_clock, c.PostPublicNotice(actor=REVIEWER, on=D(2026, 12, 8), track_id=tid))
    run(
        database, fixed_clock, c.ClosePublicNotice(actor=REVIEWER, on=D(2026, 12, 15), track_id=tid)
    )
    run(
        database,
        fixed_clock,
        c.RefuseTrack(actor=APPROVER, on=D(2027, 12, 29), track_id=tid, reasons=("deposits",)),
    )
    t = track(database, tid)
    assert t.refusal_notice_due == D(2028, 1, 3)  # 30, 31 December and, after 1 January, the 3rd
    assert "refusal_notice_due" in (t.provisional_deadlines or {})
    with database.sessions() as session:
        data = notice_data(session, tid)
    assert data.refusal_notice_due_provisional
    text = re.sub(
        r"\s+",
        "",
        "".join(p.extract_text() for p in PdfReader(io.BytesIO(render_notice(data))).pages),
    )
    assert "2028年1月3日前（3个工作日内）（暂定：2028年节假日安排公布后重新计算）" in text
    result = add_2027(database)
    t = track(database, tid)
    assert "refusal_notice_due" in (t.provisional_deadlines or {})  # 2028 has no notice yet
    assert result.still_provisional == 1


def test_a_year_is_added_once_and_never_over_a_shipped_one(database: Database) -> None:
    add_2027(database)
    with pytest.raises(InputError, match="2027 already has its official calendar"):
        add_2027(database)
    with pytest.raises(InputError, match="2026 already has its official calendar"):
        add_2027(
            database,
            calendar_2027(
                year=2026, holidays=[{"date": "2026-01-01", "name": "元旦"}], working_days=[]
            ),
        )


def test_a_deadline_written_while_the_year_was_added_is_corrected_by_recompute(
    database: Database, fixed_clock: Clock
) -> None:
    tid = accepted_today(database, fixed_clock)
    add_2027(database)
    # As if the acceptance had been computed, before the year was added, by another process and
    # committed after it: the track keeps a provisional mark for 2027.
    with database.sessions.begin() as session:
        row = session.get(Track, tid)
        assert row is not None
        row.overall_extended_due = D(2027, 2, 10)
        row.provisional_deadlines = {
            "overall_extended_due": {"start": "2026-12-05", "days": 45, "kind": "working"}
        }
    with UnitOfWork(database.sessions) as uow:
        assert recompute_provisional_deadlines(uow, RecomputeProvisional(ADMIN)) == (1, 1, 0)
    t = track(database, tid)
    assert (t.overall_extended_due, t.provisional_deadlines) == (D(2027, 2, 8), None)


def test_another_process_sees_an_added_year_on_its_next_unit_of_work(
    database: Database, fixed_clock: Clock
) -> None:
    add_2027(database)
    install_added_years([])  # as if this were the API server, started before the year was added
    forget_sync()
    tid = accepted_today(database, fixed_clock)
    t = track(database, tid)
    assert t.provisional_deadlines is None
    assert t.overall_extended_due == D(2027, 2, 8)


def test_an_extended_limit_keeps_its_provisional_mark(
    database: Database, fixed_clock: Clock
) -> None:
    tid = accepted_today(database, fixed_clock)
    run(
        database,
        fixed_clock,
        c.ExtendTimeLimit(actor=APPROVER, on=D(2027, 1, 11), track_id=tid, reason="洪灾"),
    )
    t = track(database, tid)
    assert t.overall_due == D(2027, 2, 10)
    assert set(t.provisional_deadlines or {}) == {"overall_due", "overall_extended_due"}
    add_2027(database)
    assert track(database, tid).overall_due == D(2027, 2, 8)


def test_every_date_column_of_rechecks_and_appeals_is_marked_when_set() -> None:
    provisional = add_working_days(D(2026, 12, 25), 10)
    recheck = Recheck(due=provisional)
    appeal = Appeal(lodge_due=D(2026, 12, 30), decision_due=provisional)
    assert recheck.provisional_deadlines == {
        "due": {"start": "2026-12-25", "days": 10, "kind": "working"}
    }
    assert set(appeal.provisional_deadlines or {}) == {"decision_due"}
    appeal.decision_due = add_working_days(D(2026, 12, 1), 3)  # official: the mark goes
    assert appeal.provisional_deadlines is None
