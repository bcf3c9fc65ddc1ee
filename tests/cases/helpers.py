"""Builders for the case workflow tests: registered households, actors, and the steps of a case."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from safetynet.audit.log import Actor
from safetynet.cases import commands as c
from safetynet.cases import events as e
from safetynet.cases.handlers import handle
from safetynet.cases.model import Track
from safetynet.cases.unit_of_work import CaseUnitOfWork
from safetynet.domain.identity import check_character
from safetynet.registry.db import Database
from safetynet.registry.model import Household, Membership, Person

ROOT = Path(__file__).resolve().parents[2]
REGION = "310115"  # Shanghai Pudong: the dibao standard is 1,650 yuan from 2025-07-01 [M]

CLERK = Actor("clerk_li", "intake_clerk", REGION)
INVESTIGATOR = Actor("inv_wang", "investigator", REGION)
REVIEWER = Actor("town_zhou", "township_reviewer", REGION)
APPROVER = Actor("county_chen", "county_approver", REGION)
APPROVER_2 = Actor("county_sun", "county_approver", REGION)
TEAM = ("inv_wang", "inv_zhao")

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
    with CaseUnitOfWork(db.sessions) as uow:
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
