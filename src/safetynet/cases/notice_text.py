"""The sentences a written notice prints: message ids of the notices' catalogue (domain
``notices``: ``domain/locale/<language>/LC_MESSAGES/notices.po``).

``MSGIDS`` names each sentence by a key and gives its message id (the English text, with the
``{placeholders}`` ``text`` fills). Notices are issued in Chinese: ``text(key, **values)`` is the
``zh_CN`` translation; ``text(key, locale="en", ...)`` the English one (an office's working copy).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from safetynet.domain.messages import translate

__all__ = ["MSGIDS", "NOTICE_LOCALE", "text"]

NOTICE_LOCALE = "zh_CN"

MSGIDS: Mapping[str, str] = {
    "approval.title": "{program}: decision of approval",
    "refusal.title": "{program}: notice of refusal",
    "document_no": "{document_no}",
    "document_no.missing": "(no document number)",
    "addressee": "{applicant} (household {household_no}):",
    "case_no": "Case {application_id}-{track_id}",
    "fact.place": "Lodged in",
    "fact.household_no": "Household number",
    "fact.applicant": "Applicant",
    "fact.identity": "Identity number",
    "fact.decision": "Decision",
    "fact.decided_on": "Date of the decision",
    "fact.amount": "Amount",
    "fact.first_month": "Paid from",
    "fact.notice_due": "This notice is due",
    "decision.approved": "Approved",
    "decision.refused": "Refused",
    "notice_due": "by {date} (within 3 working days){mark}",
    "provisional": " (provisional: recomputed once the {year} holidays are published)",
    "approval.body": "Your household's application for {program} of {submitted} has been examined and confirmed: it meets the conditions and is approved.",
    "approval.monthly": "From {month}, {amount} yuan is paid every month.",
    "approval.once": "An amount of {amount} yuan is paid.",
    "refusal.body": "Your household's application for {program} of {submitted} has been examined: it does not meet the conditions and is refused.",
    "reasons.heading": "Reasons",
    "approval.reason": "The investigation found that your household's income and assets meet the conditions of {program}; the amount is set as the annex shows.",
    "basis.heading": "Legal basis",
    "basis.line": "{basis}",
    "appeal.heading": "Your rights",
    "appeal.reconsideration": "If you disagree with this decision, you may apply to {body} for administrative reconsideration within {limit} of receiving it ({citation});",
    "appeal.litigation": "or bring an administrative lawsuit before {court} within {limit} of receiving it ({citation}).",
    "appeal.during": "The decision stays in force while a reconsideration or a lawsuit is pending.",
    "seal.place": "(Seal)",
    "seal.hint": "Seal of {department}",
    "date": "{date}",
    "masked.note": "Identity numbers in this document are masked.",
    "copy.file": "File copy (with parameter ids and provenance marks; not for the applicant)",
    "annex.title": "Annex: how the amount was calculated",
    "annex.intro": "Each step of the calculation of your household's amount, its value and the rules it rests on.",
    "annex.step": "Step",
    "annex.value": "Value",
    "annex.source": "Rule",
    "annex.none": "—",
    "annex.in_force": " (in force from {date})",
    "annex.flags": "Marks: [M] entered from memory, to be checked against the official text; [I] illustrative, not an official figure; unmarked: checked against the source.",
    "unit.days": " days",
    "unit.months": " months",
    "unit.working_days": " working days",
    "per.yuan/month": "yuan a month",
    "per.yuan/year": "yuan a year",
    "per.yuan": "yuan",
    "yes": "yes",
    "no": "no",
    "list.sep": ", ",
    "date.format": "{year}-{month}-{day}",
    "month.format": "{year}-{month}",
}


def text(key: str, locale: str = NOTICE_LOCALE, **values: Any) -> str:
    """The sentence ``key`` in ``locale`` (Chinese by default) with ``values`` filled in."""
    return translate(MSGIDS[key], locale, domain="notices", **values)
