"""A citizen's own cases through the service layer: the steps and deadlines of their household's
applications, the application they declare themselves, appeals; never another household's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from safetynet.audit.log import Actor
from safetynet.cases import commands as c
from safetynet.cases.citizen import (
    MemberIncome,
    SelfDeclaration,
    citizen_appeal,
    citizen_complaint,
    household_cases,
    household_complaints,
    own_track,
    self_declared_application,
)
from safetynet.db.engine import Database
from safetynet.errors import InputError, UnknownNameError
from safetynet.policy.parameters import default_tree
from safetynet.registry.model import Household, Membership
from tests.cases.helpers import (
    APPROVER,
    REVIEWER,
    Clock,
    accepted_dibao,
    id_number,
    register_household,
    run,
    to_county,
)

D = dt.date
CITIZEN = Actor("citizen:110***********0032", "citizen")


def _household(db: Database, number: str) -> int:
    with db.sessions() as session:
        return int(
            session.execute(
                select(Household.id).where(Household.household_no == number)
            ).scalar_one()
        )


def test_the_steps_deadlines_decision_and_appeal_of_the_own_case(
    database: Database, fixed_clock: Clock
) -> None:
    tid = accepted_dibao(database, fixed_clock)  # household H1
    register_household(database, "H9", [id_number("19600101", 5)])
    mine, other = _household(database, "H1"), _household(database, "H9")
    with database.sessions() as session:
        (case,) = household_cases(session, mine, D(2025, 9, 26), default_tree())
        assert household_cases(session, other, D(2025, 9, 26), default_tree()) == []
    (track,) = case.tracks
    assert (track.status_zh, track.title_zh) == ("已受理，等待入户调查", "最低生活保障")
    assert [s.label_zh for s in track.steps if s.done_on] == ["提交申请", "乡镇（街道）受理"]
    assert track.next_deadline_zh is not None
    assert track.next_deadline_zh.startswith("开始入户调查：2025年")
    assert track.appeals == ()  # nothing decided yet

    to_county(database, fixed_clock, tid, "refuse")
    run(
        database,
        fixed_clock,
        c.RefuseTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=tid, reasons=("存款超标",)),
    )
    with database.sessions() as session:
        (case,) = household_cases(session, mine, D(2025, 10, 15), default_tree())
        (track,) = case.tracks
        assert track.decision_zh == "2025年10月10日不予批准：存款超标"
        assert track.notice_no == "浦民救〔2025〕1号"
        # 60 days for reconsideration, 6 months for a lawsuit, from the decision.
        assert [(a.kind, a.due) for a in track.appeals] == [
            ("reconsideration", D(2025, 12, 9)),
            ("litigation", D(2026, 4, 10)),
        ]
        command = citizen_appeal(
            session,
            mine,
            tid,
            kind="reconsideration",
            grounds="存款是借的",
            decision_known_on=D(2025, 10, 14),
            on=D(2025, 10, 15),
            actor=CITIZEN,
        )
        with pytest.raises(UnknownNameError, match="track"):
            own_track(session, other, tid)
        with pytest.raises(UnknownNameError, match="track"):
            citizen_appeal(
                session,
                other,
                tid,
                kind="reconsideration",
                grounds="x",
                decision_known_on=D(2025, 10, 14),
                on=D(2025, 10, 15),
                actor=CITIZEN,
            )
    run(database, fixed_clock, command)
    with database.sessions() as session:
        (case,) = household_cases(session, mine, D(2025, 10, 16), default_tree())
    assert case.tracks[0].lodged_appeals == ("2025年10月15日申请行政复议（处理中）",)


def test_a_self_declared_application(database: Database) -> None:
    register_household(database, "H1", [id_number("19850301", 3), id_number("19870601", 4)])
    register_household(database, "H9", [id_number("19600101", 5)])
    mine, other = _household(database, "H1"), _household(database, "H9")
    with database.sessions() as session:
        head = (
            session.execute(
                select(Membership.person_id)
                .where(Membership.household_id == mine)
                .order_by(Membership.id)
            )
            .scalars()
            .first()
        )
        stranger = session.execute(
            select(Membership.person_id).where(Membership.household_id == other)
        ).scalar_one()
        assert head is not None
        declaration = SelfDeclaration(
            programs=("dibao",),
            members=(MemberIncome(head, wage_income=Decimal("800"), employed=True),),
            financial_assets=Decimal("2000"),
            promise=True,
        )
        command = self_declared_application(
            session, mine, declaration, on=D(2025, 9, 25), actor=CITIZEN
        )
        with pytest.raises(InputError, match="promise"):
            self_declared_application(
                session, mine, SelfDeclaration(("dibao",), ()), on=D(2025, 9, 25), actor=CITIZEN
            )
        with pytest.raises(InputError, match="members"):
            self_declared_application(
                session,
                mine,
                SelfDeclaration(("dibao",), (MemberIncome(stranger),), promise=True),
                on=D(2025, 9, 25),
                actor=CITIZEN,
            )
        with pytest.raises(InputError, match="programs"):
            self_declared_application(
                session,
                mine,
                SelfDeclaration(("employee_pension",), (), promise=True),
                on=D(2025, 9, 25),
                actor=CITIZEN,
            )
    assert (command.household_no, command.region, command.programs) == ("H1", "310115", ("dibao",))
    members = command.household["members"]
    assert [m["relation"] for m in members] == ["head", "other"]
    assert [m["wage_income"] for m in members] == ["800.00", "0.00"]
    assert command.household["financial_assets"] == "2000.00"


def test_a_complaint_is_answered_once_and_the_citizen_reads_the_answer(
    database: Database, fixed_clock: Clock
) -> None:
    register_household(database, "H1", [id_number("19850301", 3)])
    mine = _household(database, "H1")
    with database.sessions() as session:
        lodge = citizen_complaint(
            session, mine, text="窗口排队太久", track_id=None, on=D(2025, 9, 20), actor=CITIZEN
        )
    event = run(database, fixed_clock, lodge)
    answer = c.AnswerComplaint(
        actor=REVIEWER, on=D(2025, 9, 22), complaint_id=event.entity_id, answer="已增设窗口"
    )
    run(database, fixed_clock, answer)
    with pytest.raises(InputError, match="was answered on 2025-09-22"):
        run(database, fixed_clock, answer)
    with database.sessions() as session:
        (item,) = household_complaints(session, mine)
    assert (item.about_zh, item.status_zh, item.answer) == ("其他", "已答复", "已增设窗口")
