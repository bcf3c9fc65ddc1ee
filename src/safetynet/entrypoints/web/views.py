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

    @property
    def member(self) -> int | None:
        """The member's number (from 1) of a member's fact, None for the household's."""
        found = re.match(r"members\[(\d+)\]\.", self.path)
        return int(found.group(1)) + 1 if found else None

    @property
    def field(self) -> str:
        return self.path.rsplit(".", 1)[-1]


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


# -- supervision ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    entry_id: int
    occurred_at: dt.datetime
    actor: str
    role: str
    event: str
    entity: str
    entity_id: str
    after: dict[str, Any] | None


def case_timeline(db: Database, track_id: int, application_id: int) -> list[TimelineEntry]:
    """The audit log's entries about the track, its application, its appeals and re-checks,
    oldest first (their identity numbers were masked when written)."""
    from sqlalchemy import and_, or_

    from safetynet.audit.model import AuditEvent
    from safetynet.cases.model import Appeal, Recheck

    with db.sessions() as session:
        appeals = [
            str(i) for i in session.scalars(select(Appeal.id).where(Appeal.track_id == track_id))
        ]
        rechecks = [
            str(i) for i in session.scalars(select(Recheck.id).where(Recheck.track_id == track_id))
        ]
        about = or_(
            and_(AuditEvent.entity == "track", AuditEvent.entity_id == str(track_id)),
            and_(AuditEvent.entity == "application", AuditEvent.entity_id == str(application_id)),
            and_(AuditEvent.entity == "appeal", AuditEvent.entity_id.in_(appeals)),
            and_(AuditEvent.entity == "recheck", AuditEvent.entity_id.in_(rechecks)),
        )
        rows = session.scalars(select(AuditEvent).where(about).order_by(AuditEvent.id)).all()
        return [
            TimelineEntry(
                r.id, r.occurred_at, r.actor, r.role, r.event, r.entity, r.entity_id, r.after
            )
            for r in rows
        ]


@dataclass(frozen=True)
class AlertLine:
    alert_id: int
    rule: str
    severity: str
    county: str
    household_id: int
    month: str
    raised_on: dt.date
    due_on: dt.date
    status: str
    evidence: dict[str, Any]
    track_id: int | None
    recheckable: list[tuple[int, str]]  # (track id, program) a re-check may be opened on


def alerts_in_region(db: Database, region: str, limit: int = 200) -> list[AlertLine]:
    """Monitoring alerts not yet resolved in ``region``'s counties, most urgent first, each with
    the household's tracks a re-check may be opened on."""
    from safetynet.cases.views import region_subtree
    from safetynet.cases.workflow import RECHECKABLE
    from safetynet.monitoring.alerts_model import Alert

    with db.sessions() as session:
        alerts = session.scalars(
            select(Alert)
            .where(Alert.county.in_(region_subtree(region)), Alert.status != "resolved")
            .order_by(Alert.due_on, Alert.id)
            .limit(limit)
        ).all()
        households = {a.household_id for a in alerts}
        tracks: dict[int, list[tuple[int, str]]] = {}
        for hid, tid, program in session.execute(
            select(Application.household_id, Track.id, Track.program)
            .join(Track, Track.application_id == Application.id)
            .where(
                Application.household_id.in_(households),
                Track.status.in_([s.value for s in RECHECKABLE]),
            )
        ):
            tracks.setdefault(int(hid), []).append((int(tid), str(program)))
        return [
            AlertLine(
                a.id, a.rule, a.severity, a.county, a.household_id, a.month, a.raised_on,
                a.due_on, a.status, dict(a.evidence or {}), a.track_id,
                tracks.get(a.household_id, []),
            )
            for a in alerts
        ]  # fmt: skip


# -- statistics -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatisticsRow:
    county: str
    county_name: str
    program: str
    month: str
    households: int
    amount_fen: int
    coverage_permille: int  # households paid per 1,000 registered


@dataclass(frozen=True)
class Statistics:
    region: str
    rows: list[StatisticsRow]
    months: list[str]
    amount_by_month_fen: list[int]
    households_by_month: list[int]


def statistics(db: Database, region: str, program: str | None = None) -> Statistics:
    """Households paid, amounts and coverage by county, program and month in ``region``, with
    the totals by month that the charts draw."""
    from safetynet.cases.views import region_subtree
    from safetynet.domain.regions import default_registry
    from safetynet.payments.statistics import paid_by_region_program_month, registered_households

    counties = region_subtree(region)
    with db.sessions() as session:
        paid = paid_by_region_program_month(session, counties, program=program or None)
        registered = registered_households(session, {r.county for r in paid})
    names = default_registry()
    rows = [
        StatisticsRow(
            r.county,
            names.get(r.county).name if names.contains(r.county) else r.county,
            r.program,
            r.month,
            r.households,
            r.amount_fen,
            r.households * 1000 // max(registered.get(r.county, 0), 1),
        )
        for r in paid
    ]
    months = sorted({r.month for r in rows})
    return Statistics(
        region,
        rows,
        months,
        [sum(r.amount_fen for r in rows if r.month == m) for m in months],
        [sum(r.households for r in rows if r.month == m) for m in months],
    )


def statistics_xlsx(stats: Statistics, headers: Sequence[str], title: str) -> bytes:
    """The statistics table as an XLSX workbook: the same rows and numbers as the page (amounts
    in yuan with two decimals, from integer fen)."""
    import io

    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("statistics")
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0.00"})
    sheet.write(0, 0, title, bold)
    for col, header in enumerate(headers):
        sheet.write(2, col, header, bold)
    for i, r in enumerate(stats.rows, start=3):
        sheet.write_string(i, 0, r.county)
        sheet.write_string(i, 1, r.county_name)
        sheet.write_string(i, 2, r.program)
        sheet.write_string(i, 3, r.month)
        sheet.write_number(i, 4, r.households)
        sheet.write_number(i, 5, float(Decimal(r.amount_fen) / 100), money)
        sheet.write_number(i, 6, r.coverage_permille)
    sheet.set_column(0, 6, 14)
    book.close()
    return buffer.getvalue()


@dataclass(frozen=True)
class Waiting:
    application_id: int
    track_id: int
    program: str
    region: str
    lodged_on: dt.date


def waiting_for_acceptance(db: Database, region: str, limit: int = 100) -> list[Waiting]:
    """Tracks lodged in ``region`` (or below it) and not yet accepted, oldest first: their clock
    starts at acceptance, so they have no deadline in the queue yet."""
    from safetynet.cases.views import region_subtree
    from safetynet.cases.workflow import State

    with db.sessions() as session:
        rows = session.execute(
            select(Application.id, Track.id, Track.program, Application.region_code,
                   Application.lodged_on)
            .join(Track, Track.application_id == Application.id)
            .where(Application.region_code.in_(region_subtree(region)),
                   Track.status == State.SUBMITTED.value)
            .order_by(Application.lodged_on, Track.id)
            .limit(limit)
        ).all()  # fmt: skip
    return [Waiting(int(a), int(t), str(p), str(r), d) for a, t, p, r, d in rows]
