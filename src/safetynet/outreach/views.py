"""Read-side queries of active discovery and the hotline: each office's leads and calls with their
deadlines, a lead's whole way from the report to the decision (every step's deadline met, late,
pending or overdue), and statistics per office. Identity numbers and telephone numbers masked.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.cases.model import Application, Track
from safetynet.cases.views import region_subtree
from safetynet.domain.identity import mask_identity_number
from safetynet.domain.privacy import mask_text
from safetynet.errors import UnknownNameError
from safetynet.outreach.handlers import mask_phone
from safetynet.outreach.model import Contact, Lead

__all__ = [
    "OfficeStats",
    "Step",
    "contact_rows",
    "lead_progress",
    "lead_rows",
    "office_stats",
    "timeliness",
]

Timeliness = Literal["met", "late", "pending", "overdue"]


def timeliness(due: dt.date | None, done: dt.date | None, today: dt.date) -> Timeliness:
    """Whether a step with deadline ``due`` was done in time (met, late) or is still to do
    (pending, overdue on ``today``)."""
    if done is not None:
        return "met" if due is None or done <= due else "late"
    return "overdue" if due is not None and today > due else "pending"


def _lead_row(lead: Lead, today: dt.date) -> dict[str, Any]:
    return {
        "id": lead.id,
        "source": lead.source,
        "region_code": lead.region_code,
        "reported_on": lead.reported_on.isoformat(),
        "subject_name": lead.subject_name,
        "subject_id_number": mask_identity_number(lead.subject_id_number)
        if lead.subject_id_number
        else None,
        "household_id": lead.household_id,
        "situation": mask_text(lead.situation),
        "needs": list(lead.needs),
        "owner": lead.owner,
        "status": lead.status,
        "visit_due": lead.visit_due.isoformat(),
        "visit_due_provisional": lead.visit_due_provisional,
        "visit": timeliness(lead.visit_due, lead.visited_on, today),
        "visited_on": lead.visited_on.isoformat() if lead.visited_on else None,
        "outcome": lead.outcome,
        "application_id": lead.application_id,
        "version": lead.version,
    }


def lead_rows(
    session: Session, *, within: str, today: dt.date, status: str | None = None
) -> list[dict[str, Any]]:
    """The leads of ``within`` and the regions below it, most urgent first (overdue visits, then
    by visit due date)."""
    query = select(Lead).where(Lead.region_code.in_(region_subtree(within)))
    if status is not None:
        query = query.where(Lead.status == status)
    rows = [_lead_row(lead, today) for lead in session.scalars(query.order_by(Lead.id))]
    return sorted(rows, key=lambda r: (r["visit"] != "overdue", r["visit_due"], r["id"]))


def _contact_row(contact: Contact, today: dt.date) -> dict[str, Any]:
    return {
        "id": contact.id,
        "channel": contact.channel,
        "topic": contact.topic,
        "received_on": contact.received_on.isoformat(),
        "caller_name": contact.caller_name,
        "caller_phone": mask_phone(contact.caller_phone),
        "region_code": contact.region_code,
        "summary": mask_text(contact.summary),
        "routed_to": contact.routed_to,
        "unit": contact.unit,
        "due": contact.due.isoformat(),
        "due_provisional": contact.due_provisional,
        "answer": timeliness(contact.due, contact.answered_on, today),
        "status": contact.status,
        "escalation_level": contact.escalation_level,
        "rating": contact.rating,
        "lead_id": contact.lead_id,
        "version": contact.version,
    }


def contact_rows(
    session: Session,
    *,
    within: str,
    today: dt.date,
    unit: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Calls and messages routed to ``within`` or an office below it, overdue first."""
    query = select(Contact).where(Contact.routed_to.in_(region_subtree(within)))
    if unit is not None:
        query = query.where(Contact.unit == unit)
    if status is not None:
        query = query.where(Contact.status == status)
    rows = [_contact_row(c, today) for c in session.scalars(query.order_by(Contact.id))]
    return sorted(rows, key=lambda r: (r["answer"] != "overdue", r["due"], r["id"]))


@dataclass(frozen=True)
class Step:
    """One step on a lead's way, with its office, deadline and whether it was kept."""

    name: str
    office: str
    due: dt.date | None
    done: dt.date | None
    state: Timeliness
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.name,
            "office": self.office,
            "due": self.due.isoformat() if self.due else None,
            "done": self.done.isoformat() if self.done else None,
            "state": self.state,
            "detail": self.detail,
        }


# A track's deadlines: (step, column of the due date, column of the day it was done).
_TRACK_STEPS = (
    ("investigation_start", "investigation_start_due", "investigation_started_on"),
    ("township_opinion", "township_opinion_due", "township_opinion_on"),
    ("county_decision", "county_decision_due", "decided_on"),
    ("overall", "overall_due", "decided_on"),
    ("refusal_notice", "refusal_notice_due", "refusal_notified_on"),
)


def _track_steps(track: Track, region: str, today: dt.date) -> list[Step]:
    steps = []
    for name, due_column, done_column in _TRACK_STEPS:
        due = getattr(track, due_column)
        if name == "overall" and track.overall_extended_due is not None:
            due = track.overall_extended_due
        if due is None:
            continue
        done = getattr(track, done_column)
        detail = f"{track.program}: {track.status}"
        steps.append(
            Step(f"{track.program}.{name}", region, due, done, timeliness(due, done, today), detail)
        )
    return steps


def lead_progress(
    session: Session, lead_id: int, *, within: Collection[str] | None, today: dt.date
) -> list[Step]:
    """The lead's way: the call answered (if it came from the hotline), the home visit, the
    application, and each track's statutory steps to the decision. ``within`` limits what an
    office may see (None: everything); a lead outside it is reported as unknown."""
    lead = session.get(Lead, lead_id)
    if lead is None or (within is not None and lead.region_code not in within):
        raise UnknownNameError("lead", str(lead_id))
    steps: list[Step] = []
    if lead.contact_id is not None:
        contact = session.get(Contact, lead.contact_id)
        if contact is not None:
            steps.append(
                Step("hotline.answer", contact.routed_to, contact.due, contact.answered_on,
                     timeliness(contact.due, contact.answered_on, today), contact.topic)
            )  # fmt: skip
    steps.append(
        Step("lead.visit", lead.region_code, lead.visit_due, lead.visited_on,
             timeliness(lead.visit_due, lead.visited_on, today), lead.findings or "")
    )  # fmt: skip
    if lead.application_id is None:
        closed = lead.closed_on if lead.outcome else None
        steps.append(Step("lead.outcome", lead.region_code, None, closed,
                          "met" if closed else "pending", lead.outcome or ""))  # fmt: skip
        return steps
    application = session.get(Application, lead.application_id)
    if application is None:  # pragma: no cover - the application is never deleted
        return steps
    steps.append(Step("application", application.region_code, None, application.lodged_on, "met",
                      f"application {application.id}"))  # fmt: skip
    tracks = session.scalars(
        select(Track).where(Track.application_id == application.id).order_by(Track.id)
    ).all()
    for track in tracks:
        steps.extend(_track_steps(track, application.region_code, today))
    return steps


@dataclass
class OfficeStats:
    """One office's hotline figures (calls routed to it) and leads (of its region)."""

    office: str
    calls: int = 0
    answered: int = 0
    answered_on_time: int = 0
    overdue: int = 0
    escalated: int = 0
    ratings: list[int] = field(default_factory=list)
    by_topic: Counter[str] = field(default_factory=Counter)
    leads: int = 0
    leads_visited_on_time: int = 0
    leads_overdue: int = 0
    leads_to_application: int = 0

    def to_json(self) -> dict[str, Any]:
        mean = (
            str((Decimal(sum(self.ratings)) / len(self.ratings)).quantize(Decimal("0.01")))
            if self.ratings
            else None
        )
        return {
            "office": self.office,
            "calls": self.calls,
            "answered": self.answered,
            "answered_on_time": self.answered_on_time,
            "overdue": self.overdue,
            "escalated": self.escalated,
            "rated": len(self.ratings),
            "mean_rating": mean,
            "by_topic": dict(sorted(self.by_topic.items())),
            "leads": self.leads,
            "leads_visited_on_time": self.leads_visited_on_time,
            "leads_overdue": self.leads_overdue,
            "leads_to_application": self.leads_to_application,
        }


def office_stats(session: Session, *, within: str, today: dt.date) -> list[OfficeStats]:
    """Figures per office under ``within``: calls, answered on time, overdue, escalated,
    ratings, topics; leads visited on time, overdue and ended in an application."""
    offices = region_subtree(within)
    stats: dict[str, OfficeStats] = {}
    for contact in session.scalars(select(Contact).where(Contact.routed_to.in_(offices))):
        row = stats.setdefault(contact.routed_to, OfficeStats(contact.routed_to))
        row.calls += 1
        row.by_topic[contact.topic] += 1
        state = timeliness(contact.due, contact.answered_on, today)
        row.answered += contact.answered_on is not None
        row.answered_on_time += state == "met"
        row.overdue += state == "overdue"
        row.escalated += contact.escalation_level > 0
        if contact.rating is not None:
            row.ratings.append(contact.rating)
    for lead in session.scalars(select(Lead).where(Lead.region_code.in_(offices))):
        row = stats.setdefault(lead.region_code, OfficeStats(lead.region_code))
        row.leads += 1
        state = timeliness(lead.visit_due, lead.visited_on, today)
        row.leads_visited_on_time += state == "met"
        row.leads_overdue += state == "overdue"
        row.leads_to_application += lead.outcome == "application"
    return [stats[k] for k in sorted(stats)]
