"""Builders for the case workflow tests: registered households, actors, the steps of a case, and
the dibao case of ``examples/dibao_household.json`` taken to acceptance, the county or payment."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from safetynet.audit.log import Actor
from safetynet.bootstrap import bootstrap
from safetynet.cases import commands as c
from safetynet.cases import events as e
from safetynet.cases.handlers import handle
from safetynet.cases.model import Track
from safetynet.db.engine import Database
from safetynet.domain.identity import check_character
from safetynet.monitoring.alerts_model import Alert
from safetynet.registry.model import Enrolment, Household, Membership, Person

ROOT = Path(__file__).resolve().parents[2]
REGION = "310115"  # Shanghai Pudong: the dibao standard is 1,650 yuan from 2025-07-01 [M]

CLERK = Actor("clerk_li", "intake_clerk", REGION)
INVESTIGATOR = Actor("inv_wang", "investigator", REGION)
REVIEWER = Actor("town_zhou", "township_reviewer", REGION)
APPROVER = Actor("county_chen", "county_approver", REGION)
APPROVER_2 = Actor("county_sun", "county_approver", REGION)
TEAM = ("inv_wang", "inv_zhao")
HEAD = "110105198503010032"  # the head of examples/dibao_household.json, who earns 2,400

Clock = Callable[[], dt.datetime]


def id_number(born: str = "19850301", seq: int = 3, region: str = "110105") -> str:
    first17 = f"{region}{born}{seq:03d}"
    return first17 + check_character(first17)


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "examples" / name).read_text(encoding="utf-8"))
    data["region"] = REGION
    return data


def register_household(
    db: Database, household_no: str, id_numbers: Sequence[str], region: str = REGION
) -> None:
    """A household in the registry with one open membership per identity number (head first)."""
    now = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)
    with db.sessions.begin() as session:
        household = Household(
            region_code=region,
            household_no=household_no,
            hukou_type="urban",
            created_at=now,
            updated_at=now,
        )
        session.add(household)
        session.flush()
        for i, number in enumerate(id_numbers):
            person = Person(
                id_number=number,
                name=f"成员{i}",
                sex="male" if int(number[16]) % 2 else "female",
                birth_date=dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                hukou_region_code=region,
                hukou_type="urban",
                created_at=now,
                updated_at=now,
            )
            session.add(person)
            session.flush()
            session.add(
                Membership(
                    person_id=person.id,
                    household_id=household.id,
                    relation="head" if i == 0 else "other",
                    start_date=dt.date(2020, 1, 1),
                )
            )


def run(db: Database, clock: Clock, cmd: c.Command) -> e.Event:
    """``cmd`` in a unit of work of the bus: the other areas' followers react (monitoring to a
    re-check opened, payments to a gradual exit's amounts)."""
    with bootstrap(db).unit_of_work() as uow:
        return handle(cmd, uow, clock)


def track(db: Database, track_id: int) -> Track:
    with db.sessions() as session:
        row = session.get(Track, track_id)
        assert row is not None
        session.expunge(row)
        return row


def submit(
    db: Database,
    clock: Clock,
    household: dict[str, Any],
    household_no: str,
    on: dt.date,
    programs: tuple[str, ...] | None,
    household_region: str = REGION,
    **kwargs: Any,
) -> tuple[int, list[int]]:
    event = run(
        db,
        clock,
        c.SubmitApplication(
            actor=CLERK,
            on=on,
            household_region=household_region,
            household_no=household_no,
            region=REGION,
            household=household,
            programs=programs,
            **kwargs,
        ),
    )
    assert isinstance(event, e.ApplicationSubmitted)
    return event.entity_id, list(event.track_ids)


def investigate_and_propose(
    db: Database, clock: Clock, track_id: int, on: dt.date, proposal: str = "approve"
) -> None:
    """Investigation, township home visit, verification report and opinion, all on ``on``."""
    run(
        db,
        clock,
        c.StartInvestigation(actor=INVESTIGATOR, on=on, track_id=track_id, investigators=TEAM),
    )
    run(db, clock, c.RecordHomeVisit(actor=INVESTIGATOR, on=on, track_id=track_id, visitors=TEAM))
    run(
        db,
        clock,
        c.AttachVerificationReport(
            actor=INVESTIGATOR,
            on=on,
            track_id=track_id,
            report={"income_checked": True, "assets_checked": True},
            cross_check_requested_on=on,
        ),
    )
    run(
        db,
        clock,
        c.GiveTownshipOpinion(
            actor=REVIEWER,
            on=on,
            track_id=track_id,
            proposal="approve" if proposal == "approve" else "refuse",
            reasons=("household income below the standard",),
        ),
    )


def dibao_household(head_wage: str | None = None) -> dict[str, Any]:
    """The facts of ``examples/dibao_household.json``, the head earning ``head_wage`` if given."""
    facts = example("dibao_household.json")
    if head_wage is not None:
        facts = copy.deepcopy(facts)
        facts["members"][0]["wage_income"] = head_wage
    return facts


def accepted_dibao(db: Database, clock: Clock, *, devolved: bool = False) -> int:
    """Household H1 (the head and one member) applies for dibao on 2025-09-25, accepted the next
    day; returns the track."""
    register_household(db, "H1", [HEAD, id_number("19870601", 4)])
    app_id, (tid,) = submit(
        db, clock, dibao_household(), "H1", dt.date(2025, 9, 25), ("dibao",), devolved=devolved
    )
    run(db, clock, c.AcceptApplication(actor=CLERK, on=dt.date(2025, 9, 26), application_id=app_id))
    return tid


def to_county(db: Database, clock: Clock, tid: int, proposal: str = "approve") -> None:
    """Investigated and proposed on 2025-09-28, noticed from 2025-09-29 to 2025-10-09."""
    investigate_and_propose(db, clock, tid, dt.date(2025, 9, 28), proposal=proposal)
    run(db, clock, c.PostPublicNotice(actor=REVIEWER, on=dt.date(2025, 9, 29), track_id=tid))
    run(db, clock, c.ClosePublicNotice(actor=REVIEWER, on=dt.date(2025, 10, 9), track_id=tid))


def paying_dibao(db: Database, clock: Clock) -> int:
    """Approved on 2025-10-10 at 2,550 yuan a month, paid from November 2025."""
    tid = accepted_dibao(db, clock)
    to_county(db, clock, tid)
    run(db, clock, c.ConfirmTrack(actor=APPROVER, on=dt.date(2025, 10, 10), track_id=tid))
    run(db, clock, c.StartPayment(actor=APPROVER, on=dt.date(2025, 11, 3), track_id=tid))
    return tid


def enrolment_rows(db: Database) -> list[tuple[str, dt.date, dt.date | None, int]]:
    """Every enrolment as (status, start, end, amount in fen), oldest first."""
    with db.sessions() as session:
        rows = session.scalars(select(Enrolment).order_by(Enrolment.id))
        return [(r.status, r.start_date, r.end_date, r.amount_fen) for r in rows]


def household_id_of(db: Database, household_no: str = "H1") -> int:
    with db.sessions() as session:
        found = session.scalar(select(Household.id).where(Household.household_no == household_no))
        assert found is not None
        return found


ALERT_RAISED = dt.date(2025, 11, 20)


def open_alert(
    db: Database,
    household_id: int,
    rule: str = "income_crosses_standard",
    action: str = "recheck_income",
    raised_on: dt.date = ALERT_RAISED,
) -> int:
    """An open alert as the monthly comparison stores it (10-working-day limit)."""
    with db.sessions.begin() as session:
        alert = Alert(
            rule=rule,
            severity="high",
            county=REGION,
            office="township_office",
            action=action,
            household_id=household_id,
            subject=f"household:{household_id}",
            month="2025-10",
            raised_on=raised_on,
            due_on=raised_on + dt.timedelta(days=14),
            evidence={},
            status="open",
            created_at=dt.datetime(2025, 11, 20, tzinfo=dt.UTC),
            version=1,
        )
        session.add(alert)
        session.flush()
        return alert.id
