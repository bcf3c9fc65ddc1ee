"""Who may do what through the API: the roles, the actions, and the table between them (policy).

The table is the policy; docs/api.md shows it for people. Region scoping is separate: a user acts
only on applications lodged in their region or below it (``in_region``).
"""

from enum import StrEnum
from typing import Protocol

from safetynet.domain.regions import default_registry

__all__ = ["FULL_IDENTITY_ROLES", "POLICY", "Action", "Role", "in_region", "may"]


class Role(StrEnum):
    INTAKE_CLERK = "intake_clerk"
    INVESTIGATOR = "investigator"
    TOWNSHIP_REVIEWER = "township_reviewer"
    COUNTY_APPROVER = "county_approver"
    AUDITOR = "auditor"
    # Another department (medical insurance, education, housing, ...) that searches the registry
    # through the exchange API for its own decisions, within its region.
    DEPARTMENT = "department"
    ANALYST = "analyst"


class Action(StrEnum):
    READ = "read"  # applications, tracks
    DEADLINES = "deadlines"
    SUBMIT = "submit"
    ACCEPT = "accept"
    START_INVESTIGATION = "start_investigation"
    HOME_VISIT = "home_visit"
    VERIFICATION = "verification"
    TOWNSHIP_OPINION = "township_opinion"
    POST_NOTICE = "post_notice"
    OBJECTION = "objection"
    CLOSE_NOTICE = "close_notice"
    CONFIRM = "confirm"
    REFUSE = "refuse"
    START_PAYMENT = "start_payment"
    EXTEND_LIMIT = "extend_limit"
    SCHEDULE_RECHECK = "schedule_recheck"
    OPEN_RECHECK = "open_recheck"  # because of a monitoring alert
    RECORD_RECHECK = "record_recheck"
    RECORD_DEATH = "record_death"
    RECORD_JOB_REFUSAL = "record_job_refusal"
    RECORD_JOB_ACCEPTANCE = "record_job_acceptance"
    SUSPEND = "suspend"
    GRADUAL_EXIT = "gradual_exit"
    TERMINATE = "terminate"
    LODGE_APPEAL = "lodge_appeal"
    DECIDE_APPEAL = "decide_appeal"
    REGISTER_RELATIVE = "register_relative"
    READ_RELATIVES = "read_relatives"  # the register and the report of flagged applications
    AUDIT_VERIFY = "audit_verify"
    READ_FULL_ID_NUMBER = "read_full_id_number"  # one person's, with a reason, logged
    REGISTRY_READ = "registry_read"  # search households and persons, one household whole
    REQUEST_CHANGE = "request_change"  # of a household's facts (registry change requests)
    DECIDE_CHANGE = "decide_change"  # approve or reject a change request (maker-checker)
    EXCHANGE_SEARCH = "exchange_search"  # another department's search by identifier (logged)
    RECORD_CONTACT = "record_contact"  # a hotline call or message (and the caller's rating)
    ANSWER_CONTACT = "answer_contact"
    REPORT_LEAD = "report_lead"  # a person in difficulty found (active discovery)
    VISIT_LEAD = "visit_lead"
    CLOSE_LEAD = "close_lead"  # referred or closed with a note
    RECORD_DELIVERY = "record_delivery"  # a provider's monthly record of a service, entered
    VERIFY_DELIVERY = "verify_delivery"  # accept (pays the provider) or reject; never one's own
    STATISTICS = "statistics"  # counts and amounts by region, program and month (no person)
    READ_ALERTS = "read_alerts"  # monitoring alerts of the region (suspected fraud, changes)
    CALCULATE = "calculate"  # households' amounts under the rules (nothing is recorded)
    READ_COMPLAINTS = "read_complaints"  # households' complaints (投诉) of the region (web)
    ANSWER_COMPLAINT = "answer_complaint"  # the office's answer to a complaint (once)


_READ = frozenset({Action.READ, Action.DEADLINES, Action.REGISTRY_READ})
# Staff who take in, check or decide applications calculate entitlements (``POST /calculate``);
# the auditor reads what was recorded and does not.
_CALCULATE = frozenset({Action.CALCULATE})

POLICY: dict[Role, frozenset[Action]] = {
    # The front desk also takes in appeals lodged there and reports of a member's death.
    Role.INTAKE_CLERK: _READ
    | _CALCULATE
    | {
        Action.SUBMIT,
        Action.ACCEPT,
        Action.OBJECTION,
        Action.LODGE_APPEAL,
        Action.RECORD_DEATH,
        Action.REQUEST_CHANGE,
        Action.RECORD_CONTACT,
        Action.ANSWER_CONTACT,
        Action.REPORT_LEAD,
        Action.RECORD_DELIVERY,
    },
    # Investigators carry out re-checks and record the job offers a member refused or accepted;
    # they verify identity, so they may read a full identity number (with a reason, logged).
    Role.INVESTIGATOR: _READ
    | _CALCULATE
    | {
        Action.READ_FULL_ID_NUMBER,
        Action.START_INVESTIGATION,
        Action.HOME_VISIT,
        Action.VERIFICATION,
        Action.RECORD_RECHECK,
        Action.RECORD_JOB_REFUSAL,
        Action.RECORD_JOB_ACCEPTANCE,
        Action.REQUEST_CHANGE,
        Action.REPORT_LEAD,
        Action.VISIT_LEAD,
        Action.VERIFY_DELIVERY,
    },
    # The township office owns most monitoring alerts and opens the re-checks they call for.
    Role.TOWNSHIP_REVIEWER: _READ
    | _CALCULATE
    | {
        Action.TOWNSHIP_OPINION,
        Action.POST_NOTICE,
        Action.OBJECTION,
        Action.CLOSE_NOTICE,
        Action.SCHEDULE_RECHECK,
        Action.OPEN_RECHECK,
        Action.RECORD_RECHECK,
        Action.RECORD_JOB_REFUSAL,
        Action.RECORD_JOB_ACCEPTANCE,
        Action.REQUEST_CHANGE,
        Action.DECIDE_CHANGE,
        Action.ANSWER_CONTACT,
        Action.REPORT_LEAD,
        Action.VISIT_LEAD,
        Action.CLOSE_LEAD,
        Action.RECORD_DELIVERY,
        Action.VERIFY_DELIVERY,
        Action.READ_ALERTS,
        Action.READ_COMPLAINTS,
        Action.ANSWER_COMPLAINT,
    },
    # The county visits the home itself where the rules ask for it (staff relatives, spot checks),
    # decides, extends the time limit, changes or ends support, records appeal decisions and
    # keeps the register of staff relatives; it decides, and may read a full identity number
    # (with a reason, logged) to send to a bank or another department.
    Role.COUNTY_APPROVER: _READ
    | _CALCULATE
    | {
        Action.READ_FULL_ID_NUMBER,
        Action.HOME_VISIT,
        Action.CONFIRM,
        Action.REFUSE,
        Action.START_PAYMENT,
        Action.EXTEND_LIMIT,
        Action.SCHEDULE_RECHECK,
        Action.OPEN_RECHECK,
        Action.RECORD_DEATH,
        Action.SUSPEND,
        Action.GRADUAL_EXIT,
        Action.TERMINATE,
        Action.LODGE_APPEAL,
        Action.DECIDE_APPEAL,
        Action.REGISTER_RELATIVE,
        Action.READ_RELATIVES,
        Action.DECIDE_CHANGE,
        Action.ANSWER_CONTACT,
        Action.CLOSE_LEAD,
        Action.VERIFY_DELIVERY,
        Action.READ_ALERTS,
        Action.STATISTICS,
        Action.READ_COMPLAINTS,
        Action.ANSWER_COMPLAINT,
    },
    # The auditor supervises: it reads the complaints households lodged, and answers none.
    Role.AUDITOR: _READ
    | {Action.AUDIT_VERIFY, Action.READ_RELATIVES, Action.READ_ALERTS, Action.READ_COMPLAINTS},
    # Analysts see figures, never a person or a case; they may calculate households' amounts.
    Role.ANALYST: frozenset({Action.STATISTICS}) | _CALCULATE,
    # A department sees nothing of the case workflow: only the exchange's answers, each logged.
    Role.DEPARTMENT: frozenset({Action.EXCHANGE_SEARCH}),
}
"""Role → the actions it may take. Anything not listed is refused with 403."""

FULL_IDENTITY_ROLES = frozenset({Role.INVESTIGATOR, Role.COUNTY_APPROVER})
"""Roles that see full identity numbers, and only on a single application (they verify identity
and decide); every list, and every other role, sees them masked."""


class _HasRole(Protocol):
    @property
    def role(self) -> Role: ...


def may(user: _HasRole, action: Action) -> bool:
    """Whether the user's role may take ``action`` (the same table the routes are checked by)."""
    return action in POLICY[user.role]


def in_region(user_region: str, region: str) -> bool:
    """Whether ``region`` is the user's region or lies below it."""
    return user_region in default_registry().lineage_codes(region)
