"""Steps after (or around) a decision: extending the overall time limit, re-checks, gradual exit,
refused job offers and appeals that reopen a track; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import pytest
from sqlalchemy import select

from safetynet.audit.log import verify
from safetynet.audit.model import AuditEvent
from safetynet.cases import commands as c
from safetynet.cases.workflow import WorkflowError
from safetynet.db.engine import Database
from safetynet.errors import InputError
from tests.cases.helpers import (
    APPROVER,
    APPROVER_2,
    CLERK,
    HEAD,
    INVESTIGATOR,
    Clock,
    accepted_dibao,
    dibao_household,
    enrolment_rows,
    id_number,
    paying_dibao,
    run,
    to_county,
    track,
)

D = dt.date


def test_the_overall_limit_is_extended_once_before_it_expires_with_a_reason(
    database: Database, fixed_clock: Clock
) -> None:
    tid = accepted_dibao(database, fixed_clock)
    assert track(database, tid).overall_due == D(2025, 11, 13)  # 30 wd from 2025-09-26
    with pytest.raises(InputError, match="reason"):
        run(
            database,
            fixed_clock,
            c.ExtendTimeLimit(actor=APPROVER, on=D(2025, 11, 3), track_id=tid, reason=" "),
        )
    with pytest.raises(WorkflowError, match="the time limit expired on 2025-11-13"):
        run(
            database,
            fixed_clock,
            c.ExtendTimeLimit(actor=APPROVER, on=D(2025, 11, 14), track_id=tid, reason="x"),
        )
    run(
        database,
        fixed_clock,
        c.ExtendTimeLimit(
            actor=APPROVER, on=D(2025, 11, 13), track_id=tid, reason="bank replies outstanding"
        ),
    )
    t = track(database, tid)
    # 45 working days from acceptance (最低生活保障审核确认办法 art. 22; worked example E1.4).
    assert (t.overall_due, t.limit_extended_on, t.limit_extension_reason) == (
        D(2025, 12, 4),
        D(2025, 11, 13),
        "bank replies outstanding",
    )
    with pytest.raises(WorkflowError, match="already extended on 2025-11-13 \\(only once\\)"):
        run(
            database,
            fixed_clock,
            c.ExtendTimeLimit(actor=APPROVER, on=D(2025, 11, 20), track_id=tid, reason="again"),
        )
    with database.sessions() as session:
        entry = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "TimeLimitExtended")
        ).one()
        assert entry.before is not None
        assert entry.after is not None
        assert (entry.before["overall_due"], entry.after["overall_due"]) == (
            "2025-11-13",
            "2025-12-04",
        )


def test_a_devolved_20_day_limit_is_not_extended(database: Database, fixed_clock: Clock) -> None:
    tid = accepted_dibao(database, fixed_clock, devolved=True)
    with pytest.raises(WorkflowError, match="devolved to the township cannot be extended"):
        run(
            database,
            fixed_clock,
            c.ExtendTimeLimit(actor=APPROVER, on=D(2025, 10, 9), track_id=tid, reason="x"),
        )


def _recheck_head_earning_3000(db: Database, clock: Clock, tid: int) -> None:
    """The annual re-check of 10 March 2026 finds the head now earning 3,000 yuan a month."""
    run(
        db,
        clock,
        c.RecordRecheck(
            actor=INVESTIGATOR,
            on=D(2026, 3, 10),
            track_id=tid,
            frequency="annual",
            findings="the head now earns 3,000",
            household=dibao_household("3000.00"),
        ),
    )


def test_a_recheck_with_new_facts_changes_the_amount_from_the_following_month(
    database: Database, fixed_clock: Clock
) -> None:
    tid = paying_dibao(database, fixed_clock)
    run(
        database,
        fixed_clock,
        c.RecordDeath(actor=CLERK, on=D(2025, 12, 15), track_id=tid, id_number=HEAD),
    )
    assert track(database, tid).recheck_due == D(2026, 3, 15)  # within 3 months of the death
    _recheck_head_earning_3000(database, fixed_clock, tid)
    t = track(database, tid)
    # (1,650 − 3,000 / 3) × 3 = 1,950 yuan a month from April.
    assert (t.amount_fen, t.last_recheck_on, t.recheck_due, t.recheck_reason) == (
        195000,
        D(2026, 3, 10),
        D(2027, 3, 10),
        "annual",
    )
    assert enrolment_rows(database) == [
        ("ended", D(2025, 11, 1), D(2026, 3, 31), 255000),
        ("active", D(2026, 4, 1), None, 195000),
    ]
    # Nothing material changed: the amount stays.
    run(
        database,
        fixed_clock,
        c.RecordRecheck(
            actor=INVESTIGATOR,
            on=D(2027, 3, 1),
            track_id=tid,
            frequency="half_yearly",
            findings="no change",
        ),
    )
    assert (track(database, tid).amount_fen, track(database, tid).recheck_due) == (
        195000,
        D(2027, 9, 1),
    )
    with pytest.raises(WorkflowError, match="no longer eligible on 2027-10-01"):
        run(
            database,
            fixed_clock,
            c.RecordRecheck(
                actor=INVESTIGATOR,
                on=D(2027, 9, 1),
                track_id=tid,
                frequency="annual",
                findings="the head earns 6,000",
                household=dibao_household("6000.00"),
            ),
        )
    with database.sessions() as session:
        assert verify(session) == []


def test_gradual_exit_keeps_the_amount_six_months_after_the_rise_then_stops(
    database: Database, fixed_clock: Clock
) -> None:
    tid = paying_dibao(database, fixed_clock)
    with pytest.raises(WorkflowError, match="still eligible"):
        run(
            database,
            fixed_clock,
            c.StartGradualExit(
                actor=APPROVER,
                on=D(2025, 12, 20),
                track_id=tid,
                income_rose_in="2025-12",
                household=dibao_household("3000.00"),
            ),
        )
    run(
        database,
        fixed_clock,
        c.StartGradualExit(
            actor=APPROVER,
            on=D(2025, 12, 20),
            track_id=tid,
            income_rose_in="2025-12",
            household=dibao_household("6000.00"),  # 6,000 / 3 = 2,000 > 1,650
        ),
    )
    t = track(database, tid)
    # Worked example E1.3 (民发〔2022〕83号 [M]): the amount continues through month m+6 (frozen, the
    # national choice).
    assert (t.status, t.gradual_exit_from, t.gradual_exit_until) == (
        "gradual_exit",
        "2025-12",
        "2026-06",
    )
    assert t.gradual_exit_schedule == [
        {"month": m, "amount_fen": 255000}
        for m in ("2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06")
    ]
    assert enrolment_rows(database) == [("active", D(2025, 11, 1), D(2026, 6, 30), 255000)]
    # Terminating at the end never pays longer than the period.
    run(
        database,
        fixed_clock,
        c.TerminateTrack(
            actor=APPROVER, on=D(2026, 7, 1), track_id=tid, reason="gradual exit ended"
        ),
    )
    assert enrolment_rows(database) == [("ended", D(2025, 11, 1), D(2026, 6, 30), 255000)]


def test_the_third_refused_job_offer_stops_that_members_share_from_the_next_month(
    database: Database, fixed_clock: Clock
) -> None:
    tid = paying_dibao(database, fixed_clock)
    with pytest.raises(InputError, match="not a member"):
        run(
            database,
            fixed_clock,
            c.RecordJobRefusal(
                actor=INVESTIGATOR,
                on=D(2025, 12, 1),
                track_id=tid,
                id_number=id_number("19500101", 5),
                offer="warehouse clerk",
            ),
        )
    for day in (1, 8):
        run(
            database,
            fixed_clock,
            c.RecordJobRefusal(
                actor=INVESTIGATOR,
                on=D(2025, 12, day),
                track_id=tid,
                id_number=HEAD,
                offer="warehouse clerk",
            ),
        )
        assert track(database, tid).amount_fen == 255000  # below the limit of 3
    run(
        database,
        fixed_clock,
        c.RecordJobRefusal(
            actor=INVESTIGATOR,
            on=D(2025, 12, 15),
            track_id=tid,
            id_number=HEAD,
            offer="security guard",
        ),
    )
    # 2,550 − 2,550 / 3 members = 1,700 yuan a month from January 2026.
    assert track(database, tid).amount_fen == 170000
    assert enrolment_rows(database) == [
        ("ended", D(2025, 11, 1), D(2025, 12, 31), 255000),
        ("active", D(2026, 1, 1), None, 170000),
    ]
    with database.sessions() as session:
        entry = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.event == "JobRefusalRecorded")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert entry is not None
        assert entry.after is not None
        assert (entry.after["refusals"], entry.after["share_stopped_from"]) == (3, "2026-01-01")
        assert HEAD not in str(entry.after)  # masked
        assert verify(session) == []


def _refused_with_appeal(db: Database, clock: Clock) -> tuple[int, int]:
    tid = accepted_dibao(db, clock)
    to_county(db, clock, tid)
    run(db, clock, c.RefuseTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=tid, reasons=("a",)))
    event = run(
        db,
        clock,
        c.LodgeAppeal(
            actor=CLERK,
            on=D(2025, 11, 3),
            track_id=tid,
            kind="reconsideration",
            decision_known_on=D(2025, 10, 13),
            grounds="the car is needed for work",
        ),
    )
    return tid, event.entity_id


def _decide(
    db: Database,
    clock: Clock,
    appeal_id: int,
    outcome: Literal["upheld", "varied", "revoked", "dismissed"],
    reasons: tuple[str, ...],
    reopen_at: Literal["investigation", "township_opinion", "decision", "payment"] | None = None,
) -> None:
    """The second county approver decides the appeal on 2026-01-20."""
    run(
        db,
        clock,
        c.DecideAppeal(
            actor=APPROVER_2,
            on=D(2026, 1, 20),
            appeal_id=appeal_id,
            outcome=outcome,
            reasons=reasons,
            reopen_at=reopen_at,
        ),
    )


def test_an_appeal_in_the_applicants_favour_sends_the_track_back_to_the_county(
    database: Database, fixed_clock: Clock
) -> None:
    tid, appeal_id = _refused_with_appeal(database, fixed_clock)
    with pytest.raises(InputError, match="names the step"):
        _decide(database, fixed_clock, appeal_id, "revoked", ("the car is exempt",))
    with pytest.raises(InputError, match="reopens nothing"):
        _decide(database, fixed_clock, appeal_id, "upheld", ("x",), "decision")
    _decide(database, fixed_clock, appeal_id, "revoked", ("the car is exempt",), "decision")
    t = track(database, tid)
    # The county decides again within 10 working days of the appeal decision (Tue 2026-01-20).
    assert (t.status, t.decision, t.refusal_reasons, t.county_decision_due) == (
        "notice_closed",
        None,
        None,
        D(2026, 2, 3),
    )
    run(database, fixed_clock, c.ConfirmTrack(actor=APPROVER, on=D(2026, 1, 22), track_id=tid))
    t = track(database, tid)
    assert (t.status, t.amount_fen, t.first_payment_month) == ("approved", 255000, "2026-02")
    with database.sessions() as session:
        events = [e for (e,) in session.execute(select(AuditEvent.event).order_by(AuditEvent.id))]
        assert events[-4:-1] == ["AppealDecided", "TrackReopened", "TrackConfirmed"]
        assert verify(session) == []


def test_an_appeal_can_send_the_track_back_to_investigation(
    database: Database, fixed_clock: Clock
) -> None:
    tid, appeal_id = _refused_with_appeal(database, fixed_clock)
    _decide(
        database, fixed_clock, appeal_id, "varied", ("investigate the car again",), "investigation"
    )
    t = track(database, tid)
    assert (t.status, t.proposal, t.decision, t.notice_ends_on) == (
        "investigating",
        None,
        None,
        None,
    )
    with pytest.raises(WorkflowError, match="the public notice must be closed first"):
        run(database, fixed_clock, c.ConfirmTrack(actor=APPROVER, on=D(2026, 1, 21), track_id=tid))
    run(
        database,
        fixed_clock,
        c.AttachVerificationReport(
            actor=INVESTIGATOR,
            on=D(2026, 1, 21),
            track_id=tid,
            report={"car": "needed for work: exempt"},
            cross_check_requested_on=D(2026, 1, 21),
        ),
    )
    assert track(database, tid).status == "verified"


def test_an_appeal_against_a_termination_resumes_payment(
    database: Database, fixed_clock: Clock
) -> None:
    tid = paying_dibao(database, fixed_clock)
    run(
        database,
        fixed_clock,
        c.TerminateTrack(actor=APPROVER, on=D(2025, 12, 10), track_id=tid, reason="moved away"),
    )
    event = run(
        database,
        fixed_clock,
        c.LodgeAppeal(
            actor=CLERK,
            on=D(2025, 12, 20),
            track_id=tid,
            kind="reconsideration",
            decision_known_on=D(2025, 12, 12),
            grounds="they did not move",
        ),
    )
    with pytest.raises(WorkflowError, match="reopen at investigation"):
        _decide(database, fixed_clock, event.entity_id, "revoked", ("x",), "investigation")
    _decide(
        database, fixed_clock, event.entity_id, "revoked", ("they live at the address",), "payment"
    )
    t = track(database, tid)
    assert (t.status, t.terminated_on, t.end_reason) == ("paying", None, None)
    # Paid again from the month after the termination: no month is lost.
    assert enrolment_rows(database) == [
        ("ended", D(2025, 11, 1), D(2025, 12, 31), 255000),
        ("active", D(2026, 1, 1), None, 255000),
    ]


def test_the_facts_behind_each_amount_are_in_the_audit_log(
    database: Database, fixed_clock: Clock
) -> None:
    """The household facts at the decision and at each re-check are recorded with the entry
    that set the amount, identity numbers masked."""
    tid = paying_dibao(database, fixed_clock)
    _recheck_head_earning_3000(database, fixed_clock, tid)
    with database.sessions() as session:
        entries = {
            e.event: e.after
            for e in session.scalars(
                select(AuditEvent).where(
                    AuditEvent.event.in_(["TrackConfirmed", "RecheckRecorded"])
                )
            )
        }
    decided, rechecked = entries["TrackConfirmed"], entries["RecheckRecorded"]
    assert decided is not None
    assert rechecked is not None
    head_at_decision = decided["household_facts"]["members"][0]
    head_at_recheck = rechecked["household_facts"]["members"][0]
    assert (head_at_decision["wage_income"], head_at_recheck["wage_income"]) == (
        "2400.00",
        "3000.00",
    )
    assert decided["household_facts"]["financial_assets"] == "8000.00"
    assert head_at_decision["id_number"] != HEAD
    assert HEAD not in str(decided)
    assert HEAD not in str(rechecked)
