"""View models of the workbench's pages, built from the service layer's reads (the API's
``CaseService`` and the areas' views): routes call these and render; templates only display."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from safetynet.cases.model import Application, Track
from safetynet.db.engine import Database
from safetynet.entrypoints.api.policy import in_region
from safetynet.entrypoints.api.schemas import DeadlinePublic
from safetynet.registry.model import Person
from safetynet.registry.search import (
    HouseholdHit,
    HouseholdView,
    SearchPage,
    SearchQuery,
    household_view,
    search_households,
)

__all__ = ["WEEK_WORKING_DAYS", "QueueGroup", "work_queue"]

WEEK_WORKING_DAYS = 5
"""The queue's horizon: deadlines falling within this many working days ("this week")."""


@dataclass
class QueueGroup:
    key: str  # overdue, today, week
    title: str  # message id
    rows: list[DeadlinePublic] = field(default_factory=list)


def work_queue(rows: Sequence[DeadlinePublic], today: dt.date) -> list[QueueGroup]:
    """The deadlines as the clerk reads them: overdue, due today, due this week (most urgent
    first within each)."""
    groups = [
        QueueGroup("overdue", "Overdue"),
        QueueGroup("today", "Due today"),
        QueueGroup("week", "Due this week"),
    ]
    for row in rows:
        index = 0 if row.due < today else 1 if row.due == today else 2
        groups[index].rows.append(row)
    return groups


# -- households ---------------------------------------------------------------------------------

_ID_LIKE = re.compile(r"^[0-9]{6}[0-9]{8,11}[0-9Xx]?$")


def household_search(db: Database, within: str, text: str) -> SearchPage[HouseholdHit]:
    """Households of ``within`` whose member has this identity number (exact) or whose name
    contains ``text``; identity numbers masked."""
    text = text.strip()
    if _ID_LIKE.match(text):
        query = SearchQuery(id_number=text, within=within, limit=50)
    else:
        query = SearchQuery(name=text, name_match="contains", within=within, limit=50)
    with db.sessions() as session:
        return search_households(session, query)


@dataclass(frozen=True)
class CaseLine:
    application_id: int
    lodged_on: dt.date
    track_id: int
    program: str
    status: str
    amount_fen: int | None


def household_in_region(db: Database, household_id: int, within: str) -> HouseholdView | None:
    """The household whole (members masked), if registered in ``within`` or below it."""
    with db.sessions() as session:
        found = household_view(session, household_id)
    if found is None or not in_region(within, found.region):
        return None
    return found


def household_cases(db: Database, household_id: int) -> list[CaseLine]:
    """Every track of every application of the household, newest first."""
    with db.sessions() as session:
        rows = session.execute(
            select(Application, Track)
            .join(Track, Track.application_id == Application.id)
            .where(Application.household_id == household_id)
            .order_by(Application.id.desc(), Track.id)
        ).all()
    return [CaseLine(a.id, a.lodged_on, t.id, t.program, t.status, t.amount_fen) for a, t in rows]


# -- one-door intake ----------------------------------------------------------------------------

HOUSEHOLD_FIELDS = ("financial_assets", "vehicles", "homes")
"""Household facts the intake form asks for (besides the hukou type)."""
_WHOLE_NUMBERS = frozenset({"vehicles", "homes", "disability_grade"})
MEMBER_MONEY = ("wage_income", "business_income", "excluded_income")
MEMBER_FLAGS = ("is_employed", "has_serious_illness")
MEMBER_NUMBERS = ("disability_grade",)


@dataclass(frozen=True)
class IntakeMember:
    index: int
    person_id: int
    name: str
    masked_id: str
    relation: str
    birth_date: dt.date
    sex: str


def intake_members(db: Database, household_id: int) -> list[IntakeMember]:
    """The household's current members as the intake form lists them (masked)."""
    with db.sessions() as session:
        found = household_view(session, household_id)
    if found is None:
        return []
    current = [m for m in found.members if m.current]
    return [
        IntakeMember(i, m.person_id, m.name, m.id_number, m.relation, m.birth_date, m.sex)
        for i, m in enumerate(current)
    ]


def _full_numbers(db: Database, person_ids: Sequence[int]) -> dict[int, str]:
    # The stored facts carry the full numbers (the staff-relatives check reads them); they are
    # never shown: every page masks them.
    with db.sessions() as session:
        rows = session.execute(select(Person.id, Person.id_number).where(Person.id.in_(person_ids)))
        return {int(pid): str(number) for pid, number in rows}


def _typed(name: str, text: str) -> Any:
    """A typed value as the rules core reads it: whole numbers as numbers, amounts as text (the
    rules core checks both and names the field); empty is 0."""
    value = text.strip() or "0"
    if name in _WHOLE_NUMBERS and value.lstrip("-").isdigit():
        return int(value)
    return value


def household_facts(
    db: Database, region: str, members: Sequence[IntakeMember], form: Mapping[str, str]
) -> dict[str, Any]:
    """The rules core's household JSON from the registry's members and the facts the clerk
    confirmed on the form (amounts as typed: the rules core validates them, naming the field)."""
    numbers = _full_numbers(db, [m.person_id for m in members])
    household: dict[str, Any] = {
        "region": region,
        "hukou_type": form.get("hukou_type", "urban"),
        **{name: _typed(name, form.get(name, "")) for name in HOUSEHOLD_FIELDS},
    }
    people = []
    for m in members:
        person: dict[str, Any] = {
            "id_number": numbers.get(m.person_id, ""),
            "name": m.name,
            "relation": m.relation,
            "birth_date": m.birth_date.isoformat(),
            "sex": m.sex,
        }
        for name in MEMBER_MONEY + MEMBER_NUMBERS:
            person[name] = _typed(name, form.get(f"m{m.index}_{name}", ""))
        for name in MEMBER_FLAGS:
            person[name] = form.get(f"m{m.index}_{name}") == "on"
        people.append(person)
    household["members"] = people
    return household


def form_field_of(path: str) -> str:
    """The form input a rules-core field path names (``household.members[1].wage_income`` →
    ``m1_wage_income``), for the error beside the field."""
    found = re.search(r"members\[(\d+)\]\.(\w+)", path)
    if found:
        return f"m{found.group(1)}_{found.group(2)}"
    return path.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class ScreeningView:
    program: str
    eligible: bool
    amount_fen: int
    period: str
    one_door: bool
    problem: str
    steps: list[tuple[str, str, Any]]  # (key, label, value)


def screening(household: Mapping[str, Any], on: dt.date, region: str) -> list[ScreeningView]:
    """Every program for the household, eligible ones first, each with its explanation."""
    from safetynet.policy.engine import programs
    from safetynet.policy.screening import screen

    info = programs()
    lines = screen(household, on, region, explain=True)
    views = [
        ScreeningView(
            program=line.program,
            eligible=line.eligible,
            amount_fen=line.amount_fen,
            period=line.period,
            one_door=info[line.program].info.one_door,
            problem=line.problem,
            steps=[
                (s.key, s.label, s.value)
                for s in (line.evaluation.trace.steps if line.evaluation else [])
            ],
        )
        for line in lines
    ]
    return sorted(views, key=lambda v: (not v.eligible, not v.one_door, v.program))


# -- a track and its application ------------------------------------------------------------------


@dataclass(frozen=True)
class FactRow:
    path: str
    declared: str
    verified: str | None
    differs: bool


def _same(a: str, b: str) -> bool:
    try:
        return Decimal(a) == Decimal(b)
    except (InvalidOperation, ValueError):
        return a.strip().lower() == b.strip().lower()


def fact_comparison(
    declared: Sequence[tuple[str, str]], report: Mapping[str, Any] | None
) -> list[FactRow]:
    """The declared facts beside what the verification found; a difference is flagged."""
    verified = (report or {}).get("verified") or {}
    rows = []
    for path, value in declared:
        found = verified.get(path)
        found_text = None if found is None else str(found)
        differs = found_text is not None and not _same(value, found_text)
        rows.append(FactRow(path, value, found_text, differs))
    return rows


def verification_report(db: Database, track_id: int) -> dict[str, Any] | None:
    """The verification report attached to the track (the caller has scoped the track)."""
    with db.sessions() as session:
        report = session.scalar(select(Track.verification_report).where(Track.id == track_id))
    return dict(report) if report else None
