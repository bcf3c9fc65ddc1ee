"""The complaints an office reads (``complaint_rows``): those of households in its region and
below, unanswered first (the oldest first, aged in working days on the official calendar), then
the answered ones (the most recently answered first); identity numbers masked. On SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt

from safetynet.cases import commands as c
from safetynet.cases.views import complaint_region, complaint_rows
from safetynet.db.engine import Database
from tests.cases.helpers import (
    HEAD,
    REVIEWER,
    Clock,
    accepted_dibao,
    household_id_of,
    id_number,
    register_household,
    run,
)
from tests.cases.test_citizen import CITIZEN

D = dt.date
OTHER_COUNTY = "110105"  # Beijing Chaoyang


def _lodge(db: Database, clock: Clock, household: int, on: D, text: str, **kw: int) -> int:
    event = run(
        db, clock, c.LodgeComplaint(actor=CITIZEN, on=on, household_id=household, text=text, **kw)
    )
    return event.entity_id


def _answer(db: Database, clock: Clock, complaint: int, on: D, answer: str) -> None:
    run(db, clock, c.AnswerComplaint(actor=REVIEWER, on=on, complaint_id=complaint, answer=answer))


def test_unanswered_complaints_come_first_oldest_first_then_the_latest_answers(
    database: Database, fixed_clock: Clock
) -> None:
    track_id = accepted_dibao(database, fixed_clock)
    mine = household_id_of(database, "H1")
    register_household(database, "H9", [id_number("19700101", 7, OTHER_COUNTY)], OTHER_COUNTY)
    far = household_id_of(database, "H9")
    about_track = _lodge(database, fixed_clock, mine, D(2025, 9, 26), "审批太慢", track_id=track_id)
    oldest = _lodge(database, fixed_clock, mine, D(2025, 9, 15), f"我的身份证号{HEAD}被写错")
    early = _lodge(database, fixed_clock, mine, D(2025, 9, 16), "窗口排队太久")
    late = _lodge(database, fixed_clock, mine, D(2025, 9, 17), "工作人员态度不好")
    _answer(database, fixed_clock, early, D(2025, 9, 18), "已增设窗口")
    _answer(database, fixed_clock, late, D(2025, 9, 24), f"已核实，身份证号{HEAD}已更正")
    elsewhere = _lodge(database, fixed_clock, far, D(2025, 9, 15), "北京的投诉")

    with database.sessions() as session:
        rows = complaint_rows(session, within="310115", today=D(2025, 9, 30))
        city = complaint_rows(session, within="310000", today=D(2025, 9, 30))
        beijing = complaint_rows(session, within=OTHER_COUNTY, today=D(2025, 9, 30))
        assert complaint_region(session, elsewhere) == OTHER_COUNTY
        assert complaint_region(session, 999_999) is None

    assert [r.id for r in rows] == [oldest, about_track, late, early]
    assert [r.id for r in city] == [r.id for r in rows]  # a city office sees its districts
    assert [r.id for r in beijing] == [elsewhere]
    first, second, third, fourth = rows
    # 2025-09-28 (a Sunday) is a working day in lieu of the National Day holiday.
    assert (first.answered, first.working_days) == (False, 12)
    assert first.text == "我的身份证号110***********0032被写错"
    assert (first.household_no, first.region, first.track_id) == ("H1", "310115", None)
    assert first.lodged_by == CITIZEN.name
    assert (second.track_id, second.program, second.working_days) == (track_id, "dibao", 3)
    assert second.application_id is not None
    assert (third.answered, third.answered_on, third.working_days) == (True, D(2025, 9, 24), 5)
    assert third.answer == "已核实，身份证号110***********0032已更正"
    assert (fourth.answer, fourth.working_days) == ("已增设窗口", 2)


def test_a_complaint_is_due_five_working_days_after_it_is_lodged_and_shown_overdue_after(
    database: Database, fixed_clock: Clock
) -> None:
    accepted_dibao(database, fixed_clock)
    mine = household_id_of(database, "H1")
    # Lodged on Thursday 25 September 2025: Fri 26, Sun 28 (worked in lieu), Mon 29, Tue 30,
    # then the National Day holiday (1-8 October): the fifth working day is Thursday 9 October.
    waiting = _lodge(database, fixed_clock, mine, D(2025, 9, 25), "补贴为何停发")
    answered_late = _lodge(database, fixed_clock, mine, D(2025, 9, 1), "材料被退回三次")
    answered_in_time = _lodge(database, fixed_clock, mine, D(2025, 9, 2), "电话打不通")
    _answer(database, fixed_clock, answered_late, D(2025, 9, 10), "已说明所缺材料")
    _answer(database, fixed_clock, answered_in_time, D(2025, 9, 5), "已增加接听人员")
    with database.sessions() as session:
        on_the_day = {
            r.id: r for r in complaint_rows(session, within="310115", today=D(2025, 10, 9))
        }
        after = {r.id: r for r in complaint_rows(session, within="310115", today=D(2025, 10, 10))}
    assert on_the_day[waiting].answer_due == D(2025, 10, 9)
    assert not on_the_day[waiting].overdue
    assert after[waiting].overdue
    # 1 September + 5 working days = 8 September: answered on the 10th, after its limit.
    assert (after[answered_late].answer_due, after[answered_late].late) == (D(2025, 9, 8), True)
    assert (after[answered_in_time].late, after[answered_in_time].overdue) == (False, False)
