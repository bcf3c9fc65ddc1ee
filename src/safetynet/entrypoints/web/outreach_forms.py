"""What the hotline, lead, complaint and service-delivery forms of the workbench send: each form's
fields turned into one command of ``outreach``, ``cases`` or ``services``. A value that cannot be
read (a date, a number, a line too long for its column) is refused here naming its field; every
rule about the call, the lead, the complaint or the delivery is the handler's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

from safetynet.audit.log import Actor
from safetynet.cases import commands as cc
from safetynet.entrypoints.api.bounds import EARLIEST, LATEST
from safetynet.entrypoints.api.policy import in_region
from safetynet.errors import InputError, SafetyNetError
from safetynet.outreach import commands as oc
from safetynet.services import commands as sc

__all__ = [
    "PAGE",
    "answer_complaint",
    "answer_contact",
    "close_lead",
    "form_state",
    "listing",
    "page_of",
    "rate_contact",
    "record_contact",
    "record_delivery",
    "report_lead",
    "verify_delivery",
    "visit_lead",
]

T = TypeVar("T")
Form = Mapping[str, str]
PAGE = 100
"""Rows on one page of calls, leads or deliveries (the most urgent first)."""
NAME = 60
"""A name as typed (the lead keeps ``热线来电 <caller>`` in 100 characters)."""
LINE = 200
TEXT = 2000


def _text(form: Form, name: str, limit: int = TEXT, *, required: bool = True) -> str:
    value = form.get(name, "").strip()
    if required and not value:
        raise InputError(name, "is required (必填)")
    if "\x00" in value:
        raise InputError(name, "holds a character that cannot be stored (含有无效字符)")
    if len(value) > limit:
        raise InputError(name, f"is longer than {limit} characters (超过{limit}字)")
    return value


def _date(form: Form, name: str, today: dt.date) -> dt.date:
    value = form.get(name, "").strip()
    if not value:
        return today
    try:
        on = dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(name, f"{value[:20]!r} is not a date (YYYY-MM-DD, 日期格式有误)") from None
    if not EARLIEST <= on <= LATEST:
        raise InputError(name, f"is outside {EARLIEST} … {LATEST} (日期超出范围)")
    return on


def _number(form: Form, name: str, low: int, high: int) -> int:
    value = form.get(name, "").strip()
    if not value.isdigit() or not low <= int(value) <= high:
        raise InputError(name, f"is a whole number from {low} to {high} ({low}至{high}的整数)")
    return int(value)


def _version(form: Form) -> int | None:
    value = form.get("version", "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def _needs(form: Form) -> tuple[str, ...]:
    items = form.get("needs", "").replace("，", ",").replace("\n", ",").split(",")
    needs = tuple(item.strip() for item in items if item.strip())
    if len(needs) > 10 or any(len(need) > LINE for need in needs):
        raise InputError("needs", f"at most 10, each up to {LINE} characters (最多10项)")
    return needs


def _region(form: Form, within: str, name: str = "region") -> str:
    """The region typed (the user's own if empty), which must lie in the user's region."""
    region = form.get(name, "").strip() or within
    if not (len(region) == 6 and region.isdigit()):
        raise InputError(name, "is a region code of 6 digits (行政区划代码为6位数字)")
    try:
        inside = in_region(within, region)
    except SafetyNetError:
        inside = False
    if not inside:
        raise InputError(name, f"{region} is not a region within yours (不在本辖区)")
    return region


def _subject(form: Form, within: str, *, required: bool) -> oc.Subject | None:
    """The person a report is about; their household is looked up only in the user's region."""
    name = _text(form, "subject_name", NAME, required=required)
    if not name:
        return None
    household_no = _text(form, "household_no", LINE, required=False)
    household_region = None
    if household_no:
        household_region = _region(form, within, "household_region")
    return oc.Subject(
        name=name,
        id_number=_text(form, "subject_id_number", 24, required=False) or None,
        household_region=household_region,
        household_no=household_no or None,
    )


def record_contact(form: Form, actor: Actor, today: dt.date, within: str) -> oc.RecordContact:
    topic = _text(form, "topic", 20)
    return oc.RecordContact(
        actor=actor,
        on=_date(form, "on", today),
        channel=_text(form, "channel", 20),
        topic=topic,
        region=_region(form, within),
        caller_name=_text(form, "caller_name", NAME),
        caller_phone=_text(form, "caller_phone", 24),
        summary=_text(form, "summary"),
        subject=_subject(form, within, required=False),
        needs=_needs(form),
    )


def answer_contact(form: Form, actor: Actor, today: dt.date, contact_id: int) -> oc.AnswerContact:
    return oc.AnswerContact(
        actor=actor,
        on=_date(form, "on", today),
        contact_id=contact_id,
        answer=_text(form, "answer"),
        expected_version=_version(form),
    )


def answer_complaint(
    form: Form, actor: Actor, today: dt.date, complaint_id: int
) -> cc.AnswerComplaint:
    return cc.AnswerComplaint(
        actor=actor,
        on=_date(form, "on", today),
        complaint_id=complaint_id,
        answer=_text(form, "answer"),
    )


def rate_contact(form: Form, actor: Actor, today: dt.date, contact_id: int) -> oc.RateContact:
    return oc.RateContact(
        actor=actor,
        on=_date(form, "on", today),
        contact_id=contact_id,
        rating=_number(form, "rating", 1, 5),
        comment=_text(form, "comment", required=False),
    )


def report_lead(form: Form, actor: Actor, today: dt.date, within: str) -> oc.ReportLead:
    subject = _subject(form, within, required=True)
    assert subject is not None  # required
    return oc.ReportLead(
        actor=actor,
        on=_date(form, "on", today),
        source=_text(form, "source", 20),
        region=_region(form, within),
        reported_by=_text(form, "reported_by", NAME),
        subject=subject,
        situation=_text(form, "situation"),
        needs=_needs(form),
    )


def visit_lead(form: Form, actor: Actor, today: dt.date, lead_id: int) -> oc.RecordLeadVisit:
    visitors = tuple(
        v.strip() for v in form.get("visitors", "").replace("，", ",").split(",") if v.strip()
    )
    if not visitors:
        raise InputError("visitors", "name who visited (入户人员)")
    if len(visitors) > 10 or any(len(v) > NAME for v in visitors):
        raise InputError("visitors", f"at most 10 names of up to {NAME} characters")
    return oc.RecordLeadVisit(
        actor=actor,
        on=_date(form, "on", today),
        lead_id=lead_id,
        visitors=visitors,
        findings=_text(form, "findings"),
        expected_version=_version(form),
    )


def close_lead(form: Form, actor: Actor, today: dt.date, lead_id: int) -> oc.CloseLead:
    return oc.CloseLead(
        actor=actor,
        on=_date(form, "on", today),
        lead_id=lead_id,
        outcome=_text(form, "outcome", 20),
        note=_text(form, "note"),
        expected_version=_version(form),
    )


def record_delivery(
    form: Form, actor: Actor, today: dt.date, delivery_id: int
) -> sc.RecordDelivery:
    return sc.RecordDelivery(
        actor=actor,
        delivery_id=delivery_id,
        units=_number(form, "units", 1, 10_000),
        on=_date(form, "on", today),
    )


def verify_delivery(
    form: Form, actor: Actor, today: dt.date, delivery_id: int
) -> sc.VerifyDelivery:
    decision = form.get("decision", "")
    if decision not in ("accept", "reject"):
        raise InputError("decision", "accept or reject (通过或退回)")
    return sc.VerifyDelivery(
        actor=actor,
        delivery_id=delivery_id,
        on=_date(form, "on", today),
        method=_text(form, "method", 20),
        accepted=decision == "accept",
        note=_text(form, "note", required=False),
    )


def form_state(query: Mapping[str, str], today: dt.date) -> dict[str, Any]:
    """What a page of forms starts from: no error, nothing typed, no form failed, and the step
    just done (``?done=``) to confirm."""
    return {"today": today, "errors": [], "form": {}, "failed": "", "done": query.get("done", "")}


def listing(name: str, rows: list[T], query: Mapping[str, str]) -> dict[str, Any]:
    """``rows`` of the page asked for under ``name``, with the page's number and whether more
    follow (``page_of``)."""
    shown, page, more = page_of(rows, query)
    return {name: shown, "page": page, "more": more}


def page_of(rows: list[T], query: Mapping[str, str]) -> tuple[list[T], int, bool]:
    """The rows of the page asked for (``?page=``, from 0), its number and whether more follow."""
    text = query.get("page", "0")
    page = min(int(text), 100_000) if text.isdigit() and len(text) < 7 else 0
    return rows[page * PAGE : (page + 1) * PAGE], page, len(rows) > (page + 1) * PAGE
