"""Commands of active discovery and the hotline: what a user asks for, in the imperative.

Every command names the actor and the business date ``on`` of the step; deadlines are counted
from those dates, the audit timestamp from the clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from safetynet.audit.log import Actor

__all__ = [
    "AnswerContact",
    "CloseLead",
    "EscalateOverdueContacts",
    "RateContact",
    "RecordContact",
    "RecordLeadVisit",
    "ReportLead",
]


@dataclass(frozen=True, kw_only=True)
class Command:
    actor: Actor
    on: dt.date


@dataclass(frozen=True, kw_only=True)
class Subject:
    """The person a report is about: a name, and what else the reporter knows."""

    name: str
    id_number: str | None = None
    household_region: str | None = None
    household_no: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReportLead(Command):
    """Someone found a person in difficulty: open a lead with its visit deadline."""

    source: str
    region: str
    reported_by: str
    subject: Subject
    situation: str
    needs: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RecordLeadVisit(Command):
    """The home visit of a lead: who went, what they found."""

    lead_id: int
    visitors: tuple[str, ...]
    findings: str
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class CloseLead(Command):
    """End a lead without an application: referred (to a charity, another department) or closed
    with a note (no need found, moved away, ...). A lead that becomes an application is closed
    by the application itself."""

    lead_id: int
    outcome: str
    note: str
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class RecordContact(Command):
    """A call or message to the hotline: routed at once to the office that answers it."""

    channel: str
    topic: str
    region: str
    caller_name: str
    caller_phone: str
    summary: str
    subject: Subject | None = None
    needs: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, kw_only=True)
class AnswerContact(Command):
    contact_id: int
    answer: str
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class RateContact(Command):
    """The caller's rating of the answer (1 very dissatisfied … 5 very satisfied)."""

    contact_id: int
    rating: int
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class EscalateOverdueContacts(Command):
    """Every unanswered contact past its due date goes one level up (county → city → province),
    with a new deadline; run daily (or by the monthly cycle)."""
