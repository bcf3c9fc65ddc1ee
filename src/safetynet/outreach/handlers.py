"""Handlers of active discovery and the hotline: each command in one transaction with one audit
entry per row it changes.

A lead's visit deadline and a contact's answer deadline are working days from the report or the
call (parameters ``common.outreach``, regional overrides apply). A report of a person in need on
the hotline opens a lead at once. A lead whose household applies is closed by the application
(``close_leads_of_application`` follows the case workflow's ``ApplicationSubmitted``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select

from safetynet.audit.log import Actor, append
from safetynet.cases.events import ApplicationSubmitted
from safetynet.cases.model import Application
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.identity import mask_identity_number, parse_identity_number
from safetynet.domain.privacy import mask_text
from safetynet.domain.regions import default_registry, validate_region_code
from safetynet.domain.workdays import Deadline, add_working_days
from safetynet.errors import InputError, UnknownNameError
from safetynet.outreach import commands as c
from safetynet.outreach.model import (
    CHANNELS,
    LEAD_SOURCES,
    TOPICS,
    Contact,
    Lead,
)
from safetynet.registry.citizen_access import mask_phone
from safetynet.registry.repository import RegistryRepository

__all__ = [
    "HANDLERS",
    "SYSTEM",
    "close_leads_of_application",
    "mask_phone",
]

Clock = Callable[[], dt.datetime]

PARAMETER_ROOT = "common.outreach"
SYSTEM = Actor("safetynet", "system")
"""Who closes a lead when its household applies (the application's clerk is named in the entry)."""

MAX_TEXT = 2000


def _text(field: str, value: str, *, required: bool = True) -> str:
    text = value.strip()
    if required and not text:
        raise InputError(field, "is required (必填)")
    if len(text) > MAX_TEXT:
        raise InputError(field, f"is longer than {MAX_TEXT} characters (超过{MAX_TEXT}字)")
    return text


def _one_of(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InputError(field, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _region(value: str) -> str:
    region = validate_region_code(value, "region")
    default_registry().get(region)
    return region


def _deadline(uow: UnitOfWork, name: str, region: str, start: dt.date) -> Deadline:
    lineage = default_registry().lineage_codes(region)
    days = int(uow.parameters.resolve(f"{PARAMETER_ROOT}.{name}", start, lineage).value)
    return add_working_days(start, days)


def _household_id(uow: UnitOfWork, subject: c.Subject | None) -> int | None:
    if subject is None or not subject.household_no:
        return None
    region = _region(subject.household_region or "")
    household = uow.repo(RegistryRepository).household(region, subject.household_no)
    if household is None:
        raise UnknownNameError("household", f"{region}/{subject.household_no}")
    return household.id


def _subject_id_number(subject: c.Subject, on: dt.date) -> str | None:
    if not subject.id_number:
        return None
    return parse_identity_number(subject.id_number, "subject.id_number", as_of=on).value


def _lead_row(uow: UnitOfWork, cmd: c.ReportLead, now: dt.datetime, contact_id: int | None) -> Lead:
    region = _region(cmd.region)
    due = _deadline(uow, "lead.visit_within", region, cmd.on)
    return Lead(
        source=_one_of("source", cmd.source, LEAD_SOURCES),
        region_code=region,
        reported_on=cmd.on,
        reported_by=_text("reported_by", cmd.reported_by),
        subject_name=_text("subject.name", cmd.subject.name),
        subject_id_number=_subject_id_number(cmd.subject, cmd.on),
        household_id=_household_id(uow, cmd.subject),
        situation=_text("situation", cmd.situation),
        needs=[_text("needs", need) for need in cmd.needs],
        owner=cmd.actor.name,
        visit_due=due,
        visit_due_provisional=due.provisional,
        status="open",
        contact_id=contact_id,
        created_at=now,
    )


def describe_lead(lead: Lead) -> dict[str, Any]:
    """The lead as the audit log and every display keep it: identity number masked."""
    return {
        "source": lead.source,
        "region_code": lead.region_code,
        "reported_on": lead.reported_on.isoformat(),
        "subject_name": lead.subject_name,
        "subject_id_number": mask_identity_number(lead.subject_id_number)
        if lead.subject_id_number
        else None,
        "household_id": lead.household_id,
        "situation": mask_text(lead.situation),
        "needs": lead.needs,
        "owner": lead.owner,
        "visit_due": lead.visit_due.isoformat(),
        "status": lead.status,
        "outcome": lead.outcome,
        "application_id": lead.application_id,
    }


def _audit(
    uow: UnitOfWork,
    actor: Actor,
    command: str,
    event: str,
    entity: str,
    entity_id: int,
    after: Mapping[str, Any],
    now: dt.datetime,
    before: Mapping[str, Any] | None = None,
) -> None:
    append(
        uow.session,
        actor=actor,
        command=command,
        event=event,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
        occurred_at=now,
    )


def report_lead(cmd: c.ReportLead, uow: UnitOfWork, clock: Clock) -> int:
    """Open a lead (status open, visit due in working days); returns its id."""
    now = clock()
    lead = _lead_row(uow, cmd, now, None)
    uow.session.add(lead)
    uow.session.flush()
    _audit(uow, cmd.actor, "ReportLead", "LeadReported", "lead", lead.id, describe_lead(lead), now)
    uow.commit()
    return lead.id


def _lead(uow: UnitOfWork, lead_id: int, expected_version: int | None = None) -> Lead:
    lead = uow.session.get(Lead, lead_id)
    if lead is None:
        raise UnknownNameError("lead", str(lead_id))
    if expected_version is not None and lead.version != expected_version:
        raise InputError(
            "expected_version",
            f"lead {lead_id} has changed since it was read (version {lead.version}, "
            f"not {expected_version}): read it again",
        )
    return lead


def record_lead_visit(cmd: c.RecordLeadVisit, uow: UnitOfWork, clock: Clock) -> None:
    """The home visit: the lead becomes visited, on time or late (the entry says which)."""
    lead = _lead(uow, cmd.lead_id, cmd.expected_version)
    if lead.status != "open":
        raise InputError("lead_id", f"lead {lead.id} is {lead.status}: its home visit is recorded")
    if cmd.on < lead.reported_on:
        raise InputError("on", "the visit cannot be before the report")
    visitors = [_text("visitors", v) for v in cmd.visitors]
    if not visitors:
        raise InputError("visitors", "name who visited (入户人员)")
    now = clock()
    before = describe_lead(lead)
    lead.status, lead.visited_on, lead.visitors = "visited", cmd.on, visitors
    lead.findings = _text("findings", cmd.findings)
    after = describe_lead(lead) | {
        "visited_on": cmd.on.isoformat(),
        "visit_on_time": cmd.on <= lead.visit_due,
        "findings": mask_text(lead.findings),
    }
    _audit(uow, cmd.actor, "RecordLeadVisit", "LeadVisited", "lead", lead.id, after, now, before)
    uow.commit()


def close_lead(cmd: c.CloseLead, uow: UnitOfWork, clock: Clock) -> None:
    """End a lead by a referral or a closed note (an application closes it by itself)."""
    lead = _lead(uow, cmd.lead_id, cmd.expected_version)
    _one_of("outcome", cmd.outcome, ("referral", "closed_note"))
    if lead.status == "closed":
        raise InputError("lead_id", f"lead {lead.id} is already closed ({lead.outcome})")
    if lead.status == "open" and cmd.outcome == "referral":
        raise InputError("outcome", "a lead is referred after its home visit (先入户核实)")
    now = clock()
    before = describe_lead(lead)
    lead.status, lead.outcome, lead.closed_on = "closed", cmd.outcome, cmd.on
    lead.close_note = _text("note", cmd.note)
    after = describe_lead(lead) | {"note": mask_text(lead.close_note)}
    _audit(uow, cmd.actor, "CloseLead", "LeadClosed", "lead", lead.id, after, now, before)
    uow.commit()


def close_leads_of_application(event: ApplicationSubmitted, uow: UnitOfWork) -> None:
    """The household of an open lead applied: the lead ends in that application."""
    application = uow.session.get(Application, event.entity_id)
    if application is None:
        return
    leads = uow.session.scalars(
        select(Lead).where(Lead.household_id == application.household_id, Lead.status != "closed")
    ).all()
    for lead in leads:
        before = describe_lead(lead)
        lead.status, lead.outcome = "closed", "application"
        lead.application_id, lead.closed_on = application.id, application.lodged_on
        after = describe_lead(lead) | {"application_submitted_by": application.submitted_by}
        _audit(
            uow,
            SYSTEM,
            "SubmitApplication",
            "LeadClosed",
            "lead",
            lead.id,
            after,
            application.created_at,
            before,
        )


# -- the hotline -------------------------------------------------------------------------------


def _route(region: str, topic: str) -> tuple[str, str]:
    """Which office answers: the region's own assistance office, or for a complaint about staff
    conduct the supervision office of the county above (never the office complained about)."""
    if topic == "staff_conduct":
        return region, "supervision"
    return region, "assistance"


def _phone(value: str) -> str:
    phone = value.strip().replace(" ", "").replace("-", "")
    if not phone.lstrip("+").isdigit() or not 5 <= len(phone) <= 20:
        raise InputError("caller_phone", "is not a telephone number (电话号码有误)")
    return phone


def describe_contact(contact: Contact) -> dict[str, Any]:
    """The contact as the audit log and displays keep it: the caller's phone masked."""
    return {
        "channel": contact.channel,
        "topic": contact.topic,
        "received_on": contact.received_on.isoformat(),
        "caller_name": contact.caller_name,
        "caller_phone": mask_phone(contact.caller_phone),
        "region_code": contact.region_code,
        "household_id": contact.household_id,
        "summary": mask_text(contact.summary),
        "routed_to": contact.routed_to,
        "unit": contact.unit,
        "due": contact.due.isoformat(),
        "status": contact.status,
        "escalation_level": contact.escalation_level,
        "lead_id": contact.lead_id,
    }


def record_contact(cmd: c.RecordContact, uow: UnitOfWork, clock: Clock) -> int:
    """Record a call or message, route it and set its deadline; a report of a person in need
    opens a lead in the same transaction. Returns the contact's id."""
    topic = _one_of("topic", cmd.topic, TOPICS)
    region = _region(cmd.region)
    routed_to, unit = _route(region, topic)
    due = _deadline(uow, f"hotline.answer_within.{topic}", region, cmd.on)
    now = clock()
    contact = Contact(
        channel=_one_of("channel", cmd.channel, CHANNELS),
        topic=topic,
        received_on=cmd.on,
        taken_by=cmd.actor.name,
        caller_name=_text("caller_name", cmd.caller_name),
        caller_phone=_phone(cmd.caller_phone),
        region_code=region,
        household_id=_household_id(uow, cmd.subject),
        summary=_text("summary", cmd.summary),
        routed_to=routed_to,
        unit=unit,
        due=due,
        due_provisional=due.provisional,
        status="open",
        created_at=now,
    )
    uow.session.add(contact)
    uow.session.flush()
    _audit(
        uow, cmd.actor, "RecordContact", "ContactRecorded", "contact", contact.id,
        describe_contact(contact), now,
    )  # fmt: skip
    if topic == "person_in_need":
        _lead_from_contact(uow, cmd, contact, now)
    uow.commit()
    return contact.id


def _lead_from_contact(
    uow: UnitOfWork, cmd: c.RecordContact, contact: Contact, now: dt.datetime
) -> None:
    if cmd.subject is None:
        raise InputError("subject", "a report of a person in need names the person (被报告人)")
    report = c.ReportLead(
        actor=cmd.actor,
        on=cmd.on,
        source="hotline",
        region=cmd.region,
        reported_by=f"热线来电 {contact.caller_name}",
        subject=cmd.subject,
        situation=cmd.summary,
        needs=cmd.needs,
    )
    lead = _lead_row(uow, report, now, contact.id)
    uow.session.add(lead)
    uow.session.flush()
    contact.lead_id = lead.id
    _audit(
        uow, cmd.actor, "RecordContact", "LeadReported", "lead", lead.id, describe_lead(lead), now
    )


def _contact(uow: UnitOfWork, contact_id: int, expected_version: int | None = None) -> Contact:
    contact = uow.session.get(Contact, contact_id)
    if contact is None:
        raise UnknownNameError("contact", str(contact_id))
    if expected_version is not None and contact.version != expected_version:
        raise InputError(
            "expected_version",
            f"contact {contact_id} has changed since it was read: read it again",
        )
    return contact


def answer_contact(cmd: c.AnswerContact, uow: UnitOfWork, clock: Clock) -> None:
    """The answer given to the caller, on time or late (the entry says which)."""
    contact = _contact(uow, cmd.contact_id, cmd.expected_version)
    if contact.status == "answered":
        raise InputError("contact_id", f"contact {contact.id} is already answered")
    if cmd.on < contact.received_on:
        raise InputError("on", "the answer cannot be before the call")
    now = clock()
    before = describe_contact(contact)
    contact.status, contact.answered_on, contact.answered_by = "answered", cmd.on, cmd.actor.name
    contact.answer = _text("answer", cmd.answer)
    after = describe_contact(contact) | {
        "answered_on": cmd.on.isoformat(),
        "answered_on_time": cmd.on <= contact.due,
    }
    _audit(
        uow,
        cmd.actor,
        "AnswerContact",
        "ContactAnswered",
        "contact",
        contact.id,
        after,
        now,
        before,
    )
    uow.commit()


def rate_contact(cmd: c.RateContact, uow: UnitOfWork, clock: Clock) -> None:
    """The caller's rating, once, after the answer."""
    contact = _contact(uow, cmd.contact_id)
    if contact.status != "answered":
        raise InputError("contact_id", f"contact {contact.id} is not answered yet: rate it after")
    if contact.rating is not None:
        raise InputError("rating", f"contact {contact.id} is already rated ({contact.rating})")
    if not 1 <= cmd.rating <= 5:
        raise InputError("rating", "is 1 (very dissatisfied) to 5 (very satisfied)")
    now = clock()
    contact.rating, contact.rating_comment = cmd.rating, cmd.comment.strip() or None
    after = {"rating": cmd.rating, "comment": mask_text(cmd.comment.strip())}
    _audit(uow, cmd.actor, "RateContact", "ContactRated", "contact", contact.id, after, now)
    uow.commit()


def escalate_overdue_contacts(cmd: c.EscalateOverdueContacts, uow: UnitOfWork, clock: Clock) -> int:
    """Every open contact past due goes to the office one level up, with a new deadline counted
    from today; returns how many were escalated. A contact already at its province stays there
    (and stays overdue in the lists)."""
    registry = default_registry()
    overdue = uow.session.scalars(
        select(Contact).where(Contact.status == "open", Contact.due < cmd.on).order_by(Contact.id)
    ).all()
    now, moved = clock(), 0
    for contact in overdue:
        lineage = registry.lineage_codes(contact.routed_to)
        if len(lineage) <= 2:  # at its province (or the nation): it stays
            continue
        before = describe_contact(contact)
        contact.routed_to = lineage[-2]
        contact.escalation_level += 1
        contact.escalated_on = cmd.on
        due = _deadline(uow, f"hotline.answer_within.{contact.topic}", contact.routed_to, cmd.on)
        contact.due, contact.due_provisional = due, due.provisional
        _audit(
            uow, cmd.actor, "EscalateOverdueContacts", "ContactEscalated", "contact", contact.id,
            describe_contact(contact), now, before,
        )  # fmt: skip
        moved += 1
    uow.commit()
    return moved


HANDLERS: dict[type, Callable[[Any, UnitOfWork, Clock], Any]] = {
    c.ReportLead: report_lead,
    c.RecordLeadVisit: record_lead_visit,
    c.CloseLead: close_lead,
    c.RecordContact: record_contact,
    c.AnswerContact: answer_contact,
    c.RateContact: rate_contact,
    c.EscalateOverdueContacts: escalate_overdue_contacts,
}
"""Every outreach command with its handler (wired in ``safetynet.bootstrap``)."""
