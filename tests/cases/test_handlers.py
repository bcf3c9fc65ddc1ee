"""The case workflow end to end through its handlers, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from safetynet.audit.log import verify
from safetynet.audit.model import AuditEvent
from safetynet.cases import commands as c
from safetynet.cases.handlers import confirm_track
from safetynet.cases.model import Application, Objection, Track
from safetynet.cases.views import overdue_and_due_soon, relatives_report
from safetynet.cases.workflow import ConcurrentUpdateError, WorkflowError
from safetynet.db.engine import Database
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.errors import InputError
from safetynet.registry.model import Enrolment
from tests.cases.helpers import (
    APPROVER,
    APPROVER_2,
    CLERK,
    HEAD,
    INVESTIGATOR,
    REGION,
    REVIEWER,
    Clock,
    accepted_dibao,
    example,
    id_number,
    investigate_and_propose,
    register_household,
    run,
    submit,
    track,
)

D = dt.date
TEKUN_CARE = {
    "assistance.tekun.care_standard_monthly": {
        "fully_lost": 50000,
        "partially_lost": 25000,
        "capable": 6000,
    }
}


def test_dibao_from_submission_to_first_payment_month(
    database: Database, fixed_clock: Clock
) -> None:
    tid = accepted_dibao(database, fixed_clock)
    t = track(database, tid)
    assert (t.status, t.department, t.accepted_by) == ("accepted", "civil_affairs", "clerk_li")
    assert t.investigation_start_due == D(2025, 9, 30)  # 3 wd, counting adjusted Sunday 09-28
    assert t.overall_due == D(2025, 11, 13)  # 30 wd
    assert t.overall_extended_due == D(2025, 12, 4)  # 45 wd

    investigate_and_propose(database, fixed_clock, tid, D(2025, 9, 28))
    t = track(database, tid)
    assert t.status == "township_opinion"
    assert t.cross_check_start_due == D(2025, 10, 9)  # 3 wd after 09-28, over the holiday

    run(database, fixed_clock, c.PostPublicNotice(actor=REVIEWER, on=D(2025, 9, 29), track_id=tid))
    assert track(database, tid).notice_ends_on == D(2025, 10, 9)  # 10-06 is a holiday: rolled

    with pytest.raises(WorkflowError) as refused:
        run(database, fixed_clock, c.ConfirmTrack(actor=APPROVER, on=D(2025, 10, 8), track_id=tid))
    assert str(refused.value) == (
        f"cannot confirm track {tid} (dibao, notice_posted): the public notice ends on 2025-10-09 "
        "and must be closed first"
    )
    with pytest.raises(WorkflowError, match="the public notice ends on 2025-10-09"):
        run(
            database,
            fixed_clock,
            c.ClosePublicNotice(actor=REVIEWER, on=D(2025, 10, 8), track_id=tid),
        )

    run(
        database,
        fixed_clock,
        c.ClosePublicNotice(
            actor=REVIEWER, on=D(2025, 10, 9), track_id=tid, county_received_on=D(2025, 10, 28)
        ),
    )
    assert track(database, tid).county_decision_due == D(2025, 11, 11)  # 10 wd from 10-28

    run(database, fixed_clock, c.ConfirmTrack(actor=APPROVER, on=D(2025, 10, 30), track_id=tid))
    t = track(database, tid)
    # (1,650 − 2,400 / 3) × 3 = 2,550 yuan a month (Shanghai standard [M], E1.1 household).
    assert (t.status, t.decision, t.decided_by, t.amount_fen) == (
        "approved",
        "approved",
        "county_chen",
        255000,
    )
    assert t.first_payment_month == "2025-11"
    assert t.explanation is not None
    assert t.explanation["amount"] == "2550.00"
    assert any("parameters" in step for step in t.explanation["explanation"])

    with UnitOfWork(database.sessions) as uow:
        enrolment = uow.session.scalars(select(Enrolment)).one()
        assert (enrolment.program, enrolment.start_date, enrolment.amount_fen) == (
            "dibao",
            D(2025, 11, 1),
            255000,
        )

    with pytest.raises(WorkflowError, match="payment starts in 2025-11, the month after approval"):
        run(database, fixed_clock, c.StartPayment(actor=APPROVER, on=D(2025, 10, 31), track_id=tid))
    run(database, fixed_clock, c.StartPayment(actor=APPROVER, on=D(2025, 11, 3), track_id=tid))
    assert track(database, tid).status == "paying"

    with database.sessions() as session:
        assert verify(session) == []
        events = list(session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)))
    assert events == [
        "ApplicationSubmitted",
        "ApplicationAccepted",
        "InvestigationStarted",
        "HomeVisitRecorded",
        "VerificationReportAttached",
        "TownshipOpinionGiven",
        "PublicNoticePosted",
        "PublicNoticeClosed",
        "TrackConfirmed",
        "HouseholdEnrolled",
        "PaymentStarted",
    ]


def test_devolved_confirmation_has_a_20_working_day_limit(
    database: Database, fixed_clock: Clock
) -> None:
    tid = accepted_dibao(database, fixed_clock, devolved=True)
    t = track(database, tid)
    assert (t.devolved, t.overall_due, t.overall_extended_due) == (True, D(2025, 10, 30), None)


def test_refusal_records_reasons_and_the_three_day_notice(
    database: Database, fixed_clock: Clock
) -> None:
    tid = accepted_dibao(database, fixed_clock)
    investigate_and_propose(database, fixed_clock, tid, D(2025, 9, 28), proposal="refuse")
    run(database, fixed_clock, c.PostPublicNotice(actor=REVIEWER, on=D(2025, 9, 29), track_id=tid))
    run(database, fixed_clock, c.ClosePublicNotice(actor=REVIEWER, on=D(2025, 10, 9), track_id=tid))
    with pytest.raises(InputError, match="reasons"):
        run(
            database,
            fixed_clock,
            c.RefuseTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=tid, reasons=(" ",)),
        )
    run(
        database,
        fixed_clock,
        c.RefuseTrack(
            actor=APPROVER, on=D(2025, 10, 10), track_id=tid, reasons=("deposits exceed the limit",)
        ),
    )
    t = track(database, tid)
    assert (t.status, t.refusal_reasons) == ("refused", ["deposits exceed the limit"])
    # 3 wd from Friday 10-10: Saturday 10-11 (adjusted working day), Monday 10-13, Tuesday 10-14.
    assert t.refusal_notice_due == D(2025, 10, 14)
    due = overdue_and_due_soon_names(database, D(2025, 10, 13))
    assert ("refusal_notice", D(2025, 10, 14), False) in due
    run(database, fixed_clock, c.NotifyRefusal(actor=REVIEWER, on=D(2025, 10, 13), track_id=tid))
    assert overdue_and_due_soon_names(database, D(2025, 10, 13)) == []
    with pytest.raises(WorkflowError, match="it was refused on 2025-10-10"):
        run(database, fixed_clock, c.StartPayment(actor=APPROVER, on=D(2025, 11, 3), track_id=tid))


def overdue_and_due_soon_names(
    database: Database, today: dt.date
) -> list[tuple[str, dt.date, bool]]:
    with database.sessions() as session:
        return [
            (r.deadline, r.due, r.overdue) for r in overdue_and_due_soon(session, "310000", today)
        ]


def test_commands_out_of_order_are_refused_with_the_reason(
    database: Database, fixed_clock: Clock
) -> None:
    register_household(database, "H1", [HEAD])
    _, (tid,) = submit(
        database, fixed_clock, example("dibao_household.json"), "H1", D(2025, 9, 25), ("dibao",)
    )
    with pytest.raises(
        WorkflowError, match=r"\(dibao, submitted\): the application must be accepted first"
    ):
        run(
            database,
            fixed_clock,
            c.StartInvestigation(
                actor=INVESTIGATOR, on=D(2025, 9, 26), track_id=tid, investigators=("a", "b")
            ),
        )
    run(
        database, fixed_clock, c.AcceptApplication(actor=CLERK, on=D(2025, 9, 26), application_id=1)
    )
    with pytest.raises(WorkflowError, match="accepted on 2025-09-26"):
        run(
            database,
            fixed_clock,
            c.AcceptApplication(actor=CLERK, on=D(2025, 9, 26), application_id=1),
        )
    with pytest.raises(WorkflowError, match="at least 2 people"):
        run(
            database,
            fixed_clock,
            c.StartInvestigation(
                actor=INVESTIGATOR, on=D(2025, 9, 26), track_id=tid, investigators=("a",)
            ),
        )
    run(
        database,
        fixed_clock,
        c.StartInvestigation(
            actor=INVESTIGATOR, on=D(2025, 9, 26), track_id=tid, investigators=("a", "b")
        ),
    )
    with pytest.raises(WorkflowError, match="the home visit must be recorded first"):
        run(
            database,
            fixed_clock,
            c.AttachVerificationReport(
                actor=INVESTIGATOR,
                on=D(2025, 9, 26),
                track_id=tid,
                report={},
                cross_check_requested_on=D(2025, 9, 26),
            ),
        )
    with pytest.raises(WorkflowError, match="the public notice must be closed first"):
        run(database, fixed_clock, c.ConfirmTrack(actor=APPROVER, on=D(2025, 9, 26), track_id=tid))
    with pytest.raises(WorkflowError, match="the track must be approved first"):
        run(database, fixed_clock, c.StartPayment(actor=APPROVER, on=D(2025, 9, 26), track_id=tid))
    assert track(database, tid).status == "investigating"


def _to_county(database: Database, clock: Clock, tid: int) -> None:
    investigate_and_propose(database, clock, tid, D(2025, 9, 28))
    run(database, clock, c.PostPublicNotice(actor=REVIEWER, on=D(2025, 9, 29), track_id=tid))
    run(database, clock, c.ClosePublicNotice(actor=REVIEWER, on=D(2025, 10, 9), track_id=tid))


def test_maker_checker_the_investigator_cannot_decide(
    database: Database, fixed_clock: Clock
) -> None:
    tid = accepted_dibao(database, fixed_clock)
    _to_county(database, fixed_clock, tid)
    for actor in (INVESTIGATOR, CLERK):
        with pytest.raises(
            WorkflowError, match="another official must decide it \\(maker-checker\\)"
        ):
            run(
                database, fixed_clock, c.ConfirmTrack(actor=actor, on=D(2025, 10, 10), track_id=tid)
            )
        with pytest.raises(WorkflowError, match="maker-checker"):
            run(
                database,
                fixed_clock,
                c.RefuseTrack(actor=actor, on=D(2025, 10, 10), track_id=tid, reasons=("x",)),
            )
    run(database, fixed_clock, c.ConfirmTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=tid))
    assert track(database, tid).decided_by == "county_chen"


def test_staff_relatives_are_flagged_visited_and_reported(
    database: Database, fixed_clock: Clock
) -> None:
    relative = id_number("19870601", 4)
    run(
        database,
        fixed_clock,
        c.RegisterStaffRelative(
            actor=APPROVER,
            on=D(2025, 9, 1),
            staff_name="town_zhou",
            staff_role="township_reviewer",
            staff_region=REGION,
            id_number=relative,
            relation="sibling",
        ),
    )
    tid = accepted_dibao(database, fixed_clock)  # the household has `relative` as a member
    with database.sessions() as session:
        app = session.get(Application, 1)
        assert app is not None
        assert app.relative_flag
        report = relatives_report(session, "310000")
    assert len(report) == 1
    match = report[0].matches[0]
    assert (match["staff"], match["relation"]) == ("town_zhou", "sibling")
    assert match["id_number"] != relative
    assert match["id_number"].endswith(relative[-4:])

    _to_county(database, fixed_clock, tid)
    with pytest.raises(
        WorkflowError, match="registered relative of staff: the county must visit the home first"
    ):
        run(database, fixed_clock, c.ConfirmTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=tid))
    run(
        database,
        fixed_clock,
        c.RecordHomeVisit(
            actor=APPROVER_2,
            on=D(2025, 10, 10),
            track_id=tid,
            visitors=("county_sun",),
            level="county",
        ),
    )
    run(database, fixed_clock, c.ConfirmTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=tid))
    with database.sessions() as session:
        (case,) = relatives_report(session, REGION)
        assert case.tracks[0]["county_home_visit_on"] == D(2025, 10, 10)
        assert relatives_report(session, "110000") == []
        # The audit log never holds the full identity number.
        afters = [str(a) for a in session.scalars(select(AuditEvent.after))]
        assert not any(relative in a for a in afters)
        assert verify(session) == []


def test_two_approvers_at_once_produce_exactly_one_decision(
    database: Database, fixed_clock: Clock
) -> None:
    tid = accepted_dibao(database, fixed_clock)
    _to_county(database, fixed_clock, tid)
    # The second approver's session read the track before the first one decided it.
    with UnitOfWork(database.sessions) as second:
        seen = second.session.get(Track, tid)
        assert seen is not None
        assert seen.status == "notice_closed"
        seen_version = seen.version
        second.session.commit()  # ends the read transaction; the object stays loaded (stale)
        run(database, fixed_clock, c.ConfirmTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=tid))
        with pytest.raises(ConcurrentUpdateError, match="someone else changed it at the same time"):
            confirm_track(
                c.ConfirmTrack(actor=APPROVER_2, on=D(2025, 10, 10), track_id=tid),
                second,
                fixed_clock,
            )
    with pytest.raises(ConcurrentUpdateError, match="version"):
        run(
            database,
            fixed_clock,
            c.ConfirmTrack(
                actor=APPROVER_2, on=D(2025, 10, 10), track_id=tid, expected_version=seen_version
            ),
        )
    t = track(database, tid)
    assert (t.status, t.decided_by) == ("approved", "county_chen")
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Enrolment)) == 1
        decided = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "TrackConfirmed")
        ).all()
        assert len(decided) == 1
        assert verify(session) == []


def test_an_objection_sends_the_track_back_to_investigation(
    database: Database, fixed_clock: Clock
) -> None:
    tid = accepted_dibao(database, fixed_clock)
    investigate_and_propose(database, fixed_clock, tid, D(2025, 9, 28))
    run(database, fixed_clock, c.PostPublicNotice(actor=REVIEWER, on=D(2025, 9, 29), track_id=tid))
    run(
        database,
        fixed_clock,
        c.RecordObjection(
            actor=REVIEWER, on=D(2025, 9, 30), track_id=tid, summary="undeclared car"
        ),
    )
    t = track(database, tid)
    assert (t.status, t.notice_ends_on) == ("investigating", None)
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Objection)) == 1
    with pytest.raises(WorkflowError, match="the public notice must be posted first"):
        run(
            database,
            fixed_clock,
            c.ClosePublicNotice(actor=REVIEWER, on=D(2025, 10, 9), track_id=tid),
        )


def test_rechecks_annual_half_yearly_and_after_a_death(
    database: Database, fixed_clock: Clock
) -> None:
    tid = accepted_dibao(database, fixed_clock)
    _to_county(database, fixed_clock, tid)
    run(database, fixed_clock, c.ConfirmTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=tid))
    with pytest.raises(WorkflowError, match="payment must have started"):
        run(
            database,
            fixed_clock,
            c.ScheduleRecheck(actor=APPROVER, on=D(2025, 11, 3), track_id=tid, frequency="annual"),
        )
    run(database, fixed_clock, c.StartPayment(actor=APPROVER, on=D(2025, 11, 3), track_id=tid))
    run(
        database,
        fixed_clock,
        c.ScheduleRecheck(actor=APPROVER, on=D(2025, 11, 3), track_id=tid, frequency="annual"),
    )
    assert track(database, tid).recheck_due == D(2026, 11, 3)
    run(
        database,
        fixed_clock,
        c.ScheduleRecheck(actor=APPROVER, on=D(2025, 11, 3), track_id=tid, frequency="half_yearly"),
    )
    assert track(database, tid).recheck_due == D(2026, 5, 3)
    with pytest.raises(InputError, match="not a member of the household"):
        run(
            database,
            fixed_clock,
            c.RecordDeath(
                actor=APPROVER, on=D(2025, 11, 30), track_id=tid, id_number=id_number("19500101", 5)
            ),
        )
    run(
        database,
        fixed_clock,
        c.RecordDeath(actor=APPROVER, on=D(2025, 11, 30), track_id=tid, id_number=HEAD),
    )
    t = track(database, tid)
    assert (t.recheck_due, t.recheck_reason) == (D(2026, 2, 28), "death")
    # A later annual schedule does not push back the re-check the death requires.
    run(
        database,
        fixed_clock,
        c.ScheduleRecheck(actor=APPROVER, on=D(2025, 12, 1), track_id=tid, frequency="annual"),
    )
    assert track(database, tid).recheck_due == D(2026, 2, 28)
    with database.sessions() as session:
        rows = overdue_and_due_soon(session, REGION, D(2026, 2, 25))
        assert [(r.deadline, r.due, r.overdue) for r in rows] == [
            ("recheck", D(2026, 2, 28), False)
        ]
        rows = overdue_and_due_soon(session, REGION, D(2026, 3, 2))
        assert [(r.deadline, r.overdue, r.working_days_left) for r in rows] == [
            ("recheck", True, -1)
        ]


def test_tekun_2026_spot_check_and_termination_after_a_seven_day_notice(
    database: Database, fixed_clock: Clock
) -> None:
    head = id_number("19530301", 6)
    register_household(database, "T1", [head])
    _, (tid,) = submit(
        database, fixed_clock, example("tekun.json"), "T1", D(2026, 1, 23), ("tekun",)
    )
    run(
        database, fixed_clock, c.AcceptApplication(actor=CLERK, on=D(2026, 1, 26), application_id=1)
    )
    assert track(database, tid).township_opinion_due == D(
        2026, 2, 14
    )  # Saturday, adjusted working day
    investigate_and_propose(database, fixed_clock, tid, D(2026, 2, 2))
    run(database, fixed_clock, c.PostPublicNotice(actor=REVIEWER, on=D(2026, 2, 3), track_id=tid))
    assert track(database, tid).notice_ends_on == D(2026, 2, 10)
    run(database, fixed_clock, c.ClosePublicNotice(actor=REVIEWER, on=D(2026, 2, 12), track_id=tid))
    t = track(database, tid)
    assert t.county_decision_due == D(2026, 3, 11)  # 15 wd over the Spring Festival
    assert t.spot_check_selected  # the county's first file: 0 of 1 visited would be below 30 %
    with pytest.raises(WorkflowError, match="spot check"):
        run(
            database,
            fixed_clock,
            c.ConfirmTrack(actor=APPROVER, on=D(2026, 2, 13), track_id=tid, overrides=TEKUN_CARE),
        )
    run(
        database,
        fixed_clock,
        c.RecordHomeVisit(
            actor=APPROVER,
            on=D(2026, 2, 13),
            track_id=tid,
            visitors=("county_chen",),
            level="county",
        ),
    )
    run(
        database,
        fixed_clock,
        c.ConfirmTrack(actor=APPROVER, on=D(2026, 2, 13), track_id=tid, overrides=TEKUN_CARE),
    )
    t = track(database, tid)
    # 1.3 × 1,650 + 500 (fully lost self-care, override [I]) = 2,645 yuan a month.
    assert (t.amount_fen, t.first_payment_month) == (264500, "2026-03")
    run(database, fixed_clock, c.StartPayment(actor=APPROVER, on=D(2026, 3, 2), track_id=tid))

    with pytest.raises(WorkflowError, match="post it first"):
        run(
            database,
            fixed_clock,
            c.TerminateTrack(
                actor=APPROVER, on=D(2026, 4, 1), track_id=tid, reason="moved in with a supporter"
            ),
        )
    run(
        database,
        fixed_clock,
        c.PostPublicNotice(actor=REVIEWER, on=D(2026, 4, 1), track_id=tid, purpose="termination"),
    )
    assert track(database, tid).notice_ends_on == D(2026, 4, 8)  # 04-08 is a working day
    with pytest.raises(WorkflowError, match="the termination notice ends on 2026-04-08"):
        run(
            database,
            fixed_clock,
            c.TerminateTrack(actor=APPROVER, on=D(2026, 4, 7), track_id=tid, reason="supporter"),
        )
    run(
        database,
        fixed_clock,
        c.TerminateTrack(
            actor=APPROVER, on=D(2026, 4, 8), track_id=tid, reason="supporter able to support"
        ),
    )
    with database.sessions() as session:
        enrolment = session.scalars(select(Enrolment)).one()
        assert (enrolment.status, enrolment.end_date) == ("ended", D(2026, 4, 30))  # stops from May
        assert verify(session) == []


def test_unsupported_children_have_no_public_notice(database: Database, fixed_clock: Clock) -> None:
    register_household(database, "C1", [id_number("19520830", 8)])
    _, (tid,) = submit(
        database,
        fixed_clock,
        example("unsupported_child_allowance.json"),
        "C1",
        D(2026, 1, 26),
        ("unsupported_child_allowance",),
    )
    run(
        database, fixed_clock, c.AcceptApplication(actor=CLERK, on=D(2026, 1, 26), application_id=1)
    )
    assert track(database, tid).township_opinion_due == D(2026, 2, 14)
    investigate_and_propose(database, fixed_clock, tid, D(2026, 2, 12))
    assert track(database, tid).county_decision_due == D(2026, 3, 11)
    with pytest.raises(WorkflowError, match="has no public notice"):
        run(
            database,
            fixed_clock,
            c.PostPublicNotice(actor=REVIEWER, on=D(2026, 2, 12), track_id=tid),
        )
    run(
        database,
        fixed_clock,
        c.ConfirmTrack(
            actor=APPROVER,
            on=D(2026, 2, 13),
            track_id=tid,
            overrides={"welfare.orphan.standard_monthly_community": 140000},
        ),
    )
    assert track(database, tid).amount_fen == 140000


def test_emergency_assistance_is_paid_first_and_documented_after(
    database: Database, fixed_clock: Clock
) -> None:
    register_household(
        database, "E1", [id_number("19700501", 9)], region="110105"
    )  # hukou in Beijing
    _, (tid,) = submit(
        database,
        fixed_clock,
        example("temporary_assistance.json"),
        "E1",
        D(2025, 12, 1),
        None,
        emergency=True,
        household_region="110105",
    )
    with database.sessions() as session:
        app = session.get(Application, 1)
        assert app is not None
        assert app.lodged_outside_hukou
    run(
        database, fixed_clock, c.AcceptApplication(actor=CLERK, on=D(2025, 12, 1), application_id=1)
    )
    run(
        database,
        fixed_clock,
        c.StartPayment(actor=REVIEWER, on=D(2025, 12, 1), track_id=tid, advance_amount_fen=300000),
    )
    t = track(database, tid)
    assert (t.status, t.advance_amount_fen, t.paperwork_due) == (
        "advance_paid",
        300000,
        D(2025, 12, 15),
    )
    with database.sessions() as session:
        rows = overdue_and_due_soon(session, REGION, D(2025, 12, 12))
    assert [(r.deadline, r.due) for r in rows] == [("emergency_paperwork", D(2025, 12, 15))]
    run(
        database,
        fixed_clock,
        c.StartInvestigation(
            actor=INVESTIGATOR,
            on=D(2025, 12, 2),
            track_id=tid,
            investigators=("inv_wang", "inv_zhao"),
        ),
    )
    run(
        database,
        fixed_clock,
        c.RecordHomeVisit(
            actor=INVESTIGATOR, on=D(2025, 12, 2), track_id=tid, visitors=("inv_wang",)
        ),
    )
    run(
        database,
        fixed_clock,
        c.AttachVerificationReport(
            actor=INVESTIGATOR,
            on=D(2025, 12, 3),
            track_id=tid,
            report={"event": "fire"},
            cross_check_requested_on=D(2025, 12, 3),
        ),
    )
    run(
        database,
        fixed_clock,
        c.ConfirmTrack(
            actor=APPROVER,
            on=D(2025, 12, 4),
            track_id=tid,
            overrides={"assistance.temporary_assistance.township_advance_limit": 300000},
        ),
    )
    t = track(database, tid)
    assert t.status == "approved"
    assert t.first_payment_month is None
    assert t.amount_fen


def test_lodging_outside_the_hukou_place_needs_a_basis(
    database: Database, fixed_clock: Clock
) -> None:
    register_household(database, "H9", [HEAD], region="110105")
    with pytest.raises(InputError, match="hukou is in 110105"):
        submit(
            database,
            fixed_clock,
            example("dibao_household.json"),
            "H9",
            D(2025, 9, 25),
            ("dibao",),
            household_region="110105",
        )


def test_appeals_have_their_own_time_limits(database: Database, fixed_clock: Clock) -> None:
    tid = accepted_dibao(database, fixed_clock)
    _to_county(database, fixed_clock, tid)
    run(
        database,
        fixed_clock,
        c.RefuseTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=tid, reasons=("assets",)),
    )
    with pytest.raises(WorkflowError, match="ended on 2025-12-09"):
        run(
            database,
            fixed_clock,
            c.LodgeAppeal(
                actor=CLERK,
                on=D(2025, 12, 10),
                track_id=tid,
                kind="reconsideration",
                decision_known_on=D(2025, 10, 10),
                grounds="g",
            ),
        )
    event = run(
        database,
        fixed_clock,
        c.LodgeAppeal(
            actor=CLERK,
            on=D(2025, 12, 9),
            track_id=tid,
            kind="reconsideration",
            decision_known_on=D(2025, 10, 10),
            grounds="assets were misvalued",
        ),
    )
    with database.sessions() as session:
        rows = overdue_and_due_soon(session, REGION, D(2026, 2, 9), within_working_days=3)
        assert ("reconsideration_decision", D(2026, 2, 9)) in [(r.deadline, r.due) for r in rows]
    run(
        database,
        fixed_clock,
        c.DecideAppeal(
            actor=APPROVER_2,
            on=D(2026, 1, 20),
            appeal_id=event.entity_id,
            outcome="upheld",
            reasons=("valuation correct",),
        ),
    )
    with pytest.raises(WorkflowError, match=r"already decided \(upheld\) on 2026-01-20"):
        run(
            database,
            fixed_clock,
            c.DecideAppeal(
                actor=APPROVER_2,
                on=D(2026, 1, 21),
                appeal_id=event.entity_id,
                outcome="revoked",
                reasons=("x",),
            ),
        )
