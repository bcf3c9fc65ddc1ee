"""Active discovery and the hotline: a call about an elderly person living alone becomes a lead,
a home visit, an application and an approval, each deadline met or flagged; calls are routed,
escalated when overdue, answered and rated; bad input names its field. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from safetynet.audit.log import Actor
from safetynet.audit.model import AuditEvent
from safetynet.bootstrap import bootstrap
from safetynet.cases import commands as cc
from safetynet.cases.views import region_subtree
from safetynet.db.engine import Database
from safetynet.errors import InputError, UnknownNameError
from safetynet.outreach import commands as c
from safetynet.outreach.model import Contact, Lead
from safetynet.outreach.views import contact_rows, lead_progress, lead_rows, office_stats
from tests.cases.helpers import (
    APPROVER,
    CLERK,
    REGION,
    REVIEWER,
    example,
    id_number,
    register_household,
    run,
    submit,
    to_county,
)

Clock = Callable[[], dt.datetime]
OPERATOR = Actor("hotline_gao", "intake_clerk", REGION)
ELDER = id_number("19530301", 22)  # a woman born in 1953
PHONE = "13812345678"
MONDAY = dt.date(2025, 9, 22)
# Shanghai's tekun care standard is not in the shipped parameters: the county gives it (yuan/month
# in fen by self-care tier), as the case workflow's own tekun tests do.
CARE_STANDARD = {
    "assistance.tekun.care_standard_monthly": {
        "fully_lost": 50000,
        "partially_lost": 25000,
        "capable": 6000,
    }
}


def handle(db: Database, clock: Clock, cmd: object) -> Any:
    return bootstrap(db, clock=clock).handle(cmd)


def elder_call(**changes: Any) -> c.RecordContact:
    fields: dict[str, Any] = {
        "actor": OPERATOR,
        "on": MONDAY,
        "channel": "phone",
        "topic": "person_in_need",
        "region": REGION,
        "caller_name": "邻居张女士",
        "caller_phone": PHONE,
        "summary": f"独居老人王桂华（身份证{ELDER}）行动不便，无人照料",
        "subject": c.Subject(
            name="王桂华", id_number=ELDER, household_region=REGION, household_no="T1"
        ),
        "needs": ("elderly_living_alone",),
    }
    return c.RecordContact(**(fields | changes))


def tekun_facts() -> dict[str, Any]:
    facts = example("tekun.json")
    facts["members"][0]["birth_date"] = "1953-03-01"
    return facts


def test_a_call_about_an_elderly_person_alone_ends_in_an_approval_every_deadline_kept(
    database: Database, fixed_clock: Clock
) -> None:
    register_household(database, "T1", [ELDER])
    contact_id = handle(database, fixed_clock, elder_call())
    with database.sessions() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        assert contact.lead_id is not None
        lead = session.get(Lead, contact.lead_id)
        assert lead is not None
        # Three working days from Monday 22 September 2025; one working day to answer the caller.
        assert (lead.visit_due, contact.due) == (dt.date(2025, 9, 25), dt.date(2025, 9, 23))
        lead_id, version = lead.id, lead.version
    handle(database, fixed_clock, c.AnswerContact(actor=OPERATOR, on=MONDAY, contact_id=contact_id,
                                                  answer="已转街道，三个工作日内入户"))  # fmt: skip
    handle(database, fixed_clock, c.RateContact(actor=OPERATOR, on=MONDAY, contact_id=contact_id,
                                                rating=5))  # fmt: skip
    handle(
        database,
        fixed_clock,
        c.RecordLeadVisit(
            actor=Actor("town_zhou", "township_reviewer", REGION),
            on=dt.date(2025, 9, 24),
            lead_id=lead_id,
            visitors=("town_zhou", "社区干部李"),
            findings="独居，无法自理四项，无赡养人",
            expected_version=version,
        ),
    )
    app_id, (track_id,) = submit(
        database, fixed_clock, tekun_facts(), "T1", dt.date(2025, 9, 25), ("tekun",)
    )
    run(database, fixed_clock, cc.AcceptApplication(actor=CLERK, on=dt.date(2025, 9, 26),
                                                    application_id=app_id))  # fmt: skip
    to_county(database, fixed_clock, track_id)
    # Tekun cases may be drawn for the county's spot check: the county visits the home too.
    run(database, fixed_clock, cc.RecordHomeVisit(actor=APPROVER, on=dt.date(2025, 10, 10),
                                                  track_id=track_id, visitors=("county_chen",),
                                                  level="county"))  # fmt: skip
    run(database, fixed_clock,
        cc.ConfirmTrack(actor=APPROVER, on=dt.date(2025, 10, 10), track_id=track_id,
                        overrides=CARE_STANDARD))  # fmt: skip

    with database.sessions() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        assert (lead.status, lead.outcome, lead.application_id) == ("closed", "application", app_id)
        steps = lead_progress(session, lead_id, within=region_subtree(REGION),
                              today=dt.date(2025, 10, 10))  # fmt: skip
        other_county = region_subtree("310104")
        with pytest.raises(UnknownNameError):
            lead_progress(session, lead_id, within=other_county, today=dt.date(2025, 10, 10))
        rows = lead_rows(session, within=REGION, today=dt.date(2025, 10, 10))
        stats = office_stats(session, within="310000", today=dt.date(2025, 10, 10))
    by_step = {s.name: s.state for s in steps}
    assert by_step["hotline.answer"] == "met"
    assert by_step["lead.visit"] == "met"
    assert by_step["application"] == "met"
    assert by_step["tekun.county_decision"] == "met"
    assert all(state in ("met", "late") for state in by_step.values()), by_step
    assert [r["outcome"] for r in rows] == ["application"]
    assert rows[0]["subject_id_number"] == ELDER[:3] + "*" * 11 + ELDER[-4:]
    (office,) = stats
    assert office.to_json()["leads_to_application"] == 1
    assert office.to_json()["mean_rating"] == "5.00"


def test_a_lead_not_visited_in_time_is_flagged_overdue_first_in_its_office_list(
    database: Database, fixed_clock: Clock
) -> None:
    register_household(database, "T1", [ELDER])
    handle(database, fixed_clock, elder_call())
    report = c.ReportLead(
        actor=CLERK,
        on=dt.date(2025, 9, 29),
        source="grid_worker",
        region=REGION,
        reported_by="网格员陈",
        subject=c.Subject(name="无名老人"),
        situation="桥下露宿的老人",
        needs=("homeless",),
    )
    handle(database, fixed_clock, report)
    with database.sessions() as session:
        # 1 October is the National Day holiday: the grid worker's lead is due 10 October.
        rows = lead_rows(session, within=REGION, today=dt.date(2025, 9, 30))
        elsewhere = lead_rows(session, within="310104", today=dt.date(2025, 9, 30))
    assert [(r["source"], r["visit"]) for r in rows] == [
        ("hotline", "overdue"),
        ("grid_worker", "pending"),
    ]
    assert rows[1]["visit_due"] == "2025-10-10"
    assert elsewhere == []


def test_an_overdue_call_goes_up_one_level_and_staff_conduct_goes_to_supervision(
    database: Database, fixed_clock: Clock
) -> None:
    question = elder_call(topic="consultation", subject=None, summary="低保怎么申请？")
    conduct = elder_call(topic="staff_conduct", subject=None, summary="工作人员态度恶劣")
    first = handle(database, fixed_clock, question)
    second = handle(database, fixed_clock, conduct)
    moved = handle(database, fixed_clock,
                   c.EscalateOverdueContacts(actor=OPERATOR, on=dt.date(2025, 9, 24)))  # fmt: skip
    assert moved == 1  # the question was due on the 23rd; the complaint has ten working days
    with database.sessions() as session:
        asked = session.get(Contact, first)
        complained = session.get(Contact, second)
        assert asked is not None
        assert complained is not None
        # Pudong's level above is the municipality of Shanghai itself (no city level between).
        assert (asked.routed_to, asked.escalation_level) == ("310000", 1)
        assert asked.due == dt.date(2025, 9, 25)
        assert (complained.unit, complained.routed_to) == ("supervision", REGION)
        city_list = contact_rows(session, within="310000", today=dt.date(2025, 9, 24))
        county_list = contact_rows(session, within=REGION, today=dt.date(2025, 9, 24))
    assert [r["id"] for r in city_list] == [first, second] or [r["id"] for r in city_list] == [
        second,
        first,
    ]
    assert [r["id"] for r in county_list] == [second]
    assert all(r["caller_phone"] == "138****5678" for r in city_list)


def test_every_audit_entry_masks_the_identity_and_telephone_numbers(
    database: Database, fixed_clock: Clock
) -> None:
    register_household(database, "T1", [ELDER])
    handle(database, fixed_clock, elder_call())
    with database.sessions() as session:
        entries = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        text = json.dumps([e.after for e in entries], ensure_ascii=False)
    assert {e.event for e in entries} >= {"ContactRecorded", "LeadReported"}
    assert ELDER not in text
    assert PHONE not in text
    assert "138****5678" in text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"topic": "gossip"}, "topic"),
        ({"channel": "pigeon"}, "channel"),
        ({"caller_phone": "call me"}, "caller_phone"),
        ({"summary": "  "}, "summary"),
        ({"region": "999999"}, "region"),
        ({"subject": None}, "subject"),
    ],
)
def test_a_bad_call_names_its_field_and_leaves_nothing_behind(
    database: Database, fixed_clock: Clock, changes: dict[str, Any], field: str
) -> None:
    register_household(database, "T1", [ELDER])
    with pytest.raises((InputError, UnknownNameError)) as caught:
        handle(database, fixed_clock, elder_call(**changes))
    assert field in str(caught.value)
    with database.sessions() as session:
        assert session.scalars(select(Contact)).all() == []
        assert session.scalars(select(Lead)).all() == []


def test_a_rating_comes_after_the_answer_once_and_a_closed_lead_stays_closed(
    database: Database, fixed_clock: Clock
) -> None:
    register_household(database, "T1", [ELDER])
    contact_id = handle(database, fixed_clock, elder_call())
    rate = c.RateContact(actor=OPERATOR, on=MONDAY, contact_id=contact_id, rating=4)
    with pytest.raises(InputError, match="not answered"):
        handle(database, fixed_clock, rate)
    handle(database, fixed_clock,
           c.AnswerContact(actor=OPERATOR, on=MONDAY, contact_id=contact_id, answer="已转办"))  # fmt: skip
    with pytest.raises(InputError, match="rating"):
        handle(database, fixed_clock, c.RateContact(actor=OPERATOR, on=MONDAY,
                                                    contact_id=contact_id, rating=6))  # fmt: skip
    handle(database, fixed_clock, rate)
    with pytest.raises(InputError, match="already rated"):
        handle(database, fixed_clock, rate)
    with database.sessions() as session:
        lead_id = session.scalars(select(Lead.id)).one()
    close = c.CloseLead(
        actor=REVIEWER, on=MONDAY, lead_id=lead_id, outcome="referral", note="转慈善"
    )
    with pytest.raises(InputError, match="after its home visit"):
        handle(database, fixed_clock, close)
    handle(database, fixed_clock, c.CloseLead(actor=REVIEWER, on=MONDAY, lead_id=lead_id,
                                              outcome="closed_note", note="已由子女接走照料"))  # fmt: skip
    with pytest.raises(InputError, match="already closed"):
        handle(database, fixed_clock, close)
