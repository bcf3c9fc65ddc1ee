"""Change requests: a household's facts changed by one person and approved by another (ADR 0011).

``RequestChange`` checks what is asked against the registry as it stands, keeps it with the state
of the facts it would change (``expected``) and writes ``ChangeRequested`` to the audit log.
``ApproveChange`` is refused to the requester (maker-checker) and to a role that does not approve,
and when the facts have changed since the request (``expected`` no longer holds: the person has
moved already, the income was corrected by an import); otherwise it applies the change through
the registry's own commands (``MovePerson``; an income item recorded or corrected, followed by
payments through ``IncomeChanged``; a bank account through ``BankAccountChanged``, which payments
records) in the same transaction as its ``ChangeApproved`` entry. ``RejectChange`` changes
nothing but the request. Each is one transaction through the unit of work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, select

from safetynet.audit.log import Actor, append
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.identity import mask_identity_number, parse_identity_number
from safetynet.domain.privacy import mask_text
from safetynet.domain.regions import parse_statistical_code
from safetynet.errors import InputError, SafetyNetError, UnknownNameError
from safetynet.intake import intake_limits, parse_month
from safetynet.registry.change_model import CHANGE_KINDS, ChangeRequest
from safetynet.registry.events import BankAccountChanged, IncomeChange, IncomeChanged
from safetynet.registry.handlers import Clock, MovePerson, move_person
from safetynet.registry.model import ADDRESS_LENGTH, Household, IncomeItem, Membership, Person
from safetynet.registry.repository import RegistryRepository
from safetynet.registry.vocabulary import (
    DISABILITY_CATEGORIES,
    EMPLOYMENT,
    HUKOU_TYPES,
    INCOME_KINDS,
    LABOUR_CAPACITY,
    RELATIONS,
    SCHOOLING,
    SYNONYMS,
)

__all__ = [
    "APPROVER_ROLES",
    "FACT_FIELDS",
    "AccountCheck",
    "ApproveChange",
    "ChangeDetails",
    "ChangeRefusedError",
    "CheckedAccount",
    "RejectChange",
    "RequestChange",
    "approve_change",
    "describe",
    "reject_change",
    "request_change",
]

T = TypeVar("T")

APPROVER_ROLES = frozenset({"township_reviewer", "county_approver", "registry_approver"})
"""Roles that approve or reject a change request (the API's policy grants them the same action;
``registry_approver`` is the command line's). Nobody decides a request they made."""

MIN_REASON_LENGTH = 4
"""Characters a reason needs at least: the request and a rejection say why."""
MAX_TEXT_LENGTH = 500


class ChangeRefusedError(SafetyNetError):
    """A decision the request's state does not allow: already decided, the requester deciding
    their own request, a role that does not approve, facts changed since the request."""

    def __init__(self, request_id: int, action: str, reason: str) -> None:
        self.request_id = request_id
        self.action = action
        self.reason = reason
        super().__init__(f"change request {request_id}: cannot {action}: {reason}")


@dataclass(frozen=True, slots=True)
class CheckedAccount:
    """A bank account as payments checked it: bank code, account number, and its masked form."""

    bank_code: str
    account_number: str
    masked: str


AccountCheck = Callable[[str, str], CheckedAccount]
"""Checks ``(bank_code, account_number)`` and returns them normalised, or raises ``InputError``
(payments' rules, handed in by ``safetynet.bootstrap``: the registry does not import payments)."""


@dataclass(frozen=True)
class ChangeDetails:
    """What a request asks, by kind (docs/registry.md): ``id_number`` the member concerned (the
    account holder of a bank account change); ``on`` the date a move takes effect or an account
    is used from; ``field``/``value`` a fact change."""

    id_number: str | None = None
    name: str | None = None
    relation: str | None = None
    on: dt.date | None = None
    to_region: str | None = None
    to_household_no: str | None = None
    income_kind: str | None = None
    month: str | None = None
    amount_fen: int | None = None
    bank_code: str | None = None
    account_number: str | None = None
    field: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class RequestChange:
    region: str
    household_no: str
    kind: str
    details: ChangeDetails
    reason: str
    actor: Actor


@dataclass(frozen=True)
class ApproveChange:
    request_id: int
    actor: Actor
    note: str = ""


@dataclass(frozen=True)
class RejectChange:
    request_id: int
    reason: str
    actor: Actor


# -- facts a fact change may set ---------------------------------------------------------------


def _vocabulary(field_name: str, choices: tuple[str, ...]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = text.strip()
        synonyms: Mapping[str, str] = SYNONYMS.get(field_name, {})
        code = synonyms.get(value) or (value.lower() if value.lower() in choices else None)
        if code is None:
            listed = "/".join([*synonyms, *choices])
            raise InputError("value", f"{value!r} is not a {field_name}: one of {listed}")
        return code

    return parse


def _whole(field_name: str, low: int, high: int) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = text.strip()
        if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
            raise InputError("value", f"{field_name} is a whole number {low}-{high}, got {text!r}")
        return int(value)

    return parse


def _yes_no(text: str) -> Any:
    value = text.strip().lower()
    if value in ("是", "有", "yes", "true", "1"):
        return True
    if value in ("否", "无", "no", "false", "0"):
        return False
    raise InputError("value", f"{text!r} is not 是/否 (yes/no)")


def _address(text: str) -> Any:
    value = " ".join(text.split())
    if not value or len(value) > ADDRESS_LENGTH:
        raise InputError("value", f"an address has 1 to {ADDRESS_LENGTH} characters")
    return value


def _statistical_code(text: str) -> Any:
    return parse_statistical_code(text, "value").code


# field -> (of a person or the household, parser of the new value)
def _phone(text: str) -> Any:
    digits = text.strip().replace(" ", "").replace("-", "")
    if not (len(digits) == 11 and digits.isascii() and digits.isdigit() and digits[0] == "1"):
        raise InputError(
            "value", "手机号码应为以1开头的11位数字 / a mobile number has 11 digits from 1"
        )
    return digits


FACT_FIELDS: Mapping[str, tuple[str, Callable[[str], Any]]] = {
    "address": ("household", _address),
    "statistical_code": ("household", _statistical_code),
    "hukou_type": ("household", _vocabulary("hukou_type", HUKOU_TYPES)),
    "relation": ("membership", _vocabulary("relation", RELATIONS)),
    "labour_capacity": ("person", _vocabulary("labour_capacity", LABOUR_CAPACITY)),
    "disability_category": ("person", _vocabulary("disability_category", DISABILITY_CATEGORIES)),
    "disability_grade": ("person", _whole("disability_grade", 0, 4)),
    "has_serious_illness": ("person", _yes_no),
    "self_care_items_failed": ("person", _whole("self_care_items_failed", 0, 6)),
    "schooling": ("person", _vocabulary("schooling", SCHOOLING)),
    "employment": ("person", _vocabulary("employment", EMPLOYMENT)),
    "phone": ("person", _phone),  # the mobile number sign-in codes go to (citizens ask)
}
"""The facts a ``fact_change`` may set: the household's, a member's, or a member's relation."""


# -- reading the registry ----------------------------------------------------------------------


def _text(value: str | None, field_name: str, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InputError(field_name, "is required for this kind of change")
    if len(text) > MAX_TEXT_LENGTH:
        raise InputError(field_name, f"has {len(text)} characters; at most {MAX_TEXT_LENGTH}")
    return text


def _required(value: T | None, field_name: str) -> T:
    if value is None:
        raise InputError(field_name, "is required for this kind of change")
    return value


def _identity(value: str | None, field_name: str = "id_number") -> str:
    return parse_identity_number(_text(value, field_name), field_name).value


def _open_membership(uow: UnitOfWork, person_id: int) -> Membership | None:
    return uow.repo(RegistryRepository).open_membership(person_id)


def _member(uow: UnitOfWork, household: Household, id_number: str) -> tuple[Person, Membership]:
    """The person and their open membership of ``household``, or an error saying why not."""
    person = uow.repo(RegistryRepository).person(id_number)
    masked = mask_identity_number(id_number)
    if person is None:
        raise UnknownNameError("person", masked, "not in the registry")
    membership = _open_membership(uow, person.id)
    if membership is None or membership.household_id != household.id:
        raise InputError(
            "id_number",
            f"{masked} is not a member of household {household.region_code}/"
            f"{household.household_no}",
        )
    return person, membership


def _members_left(uow: UnitOfWork, household_id: int) -> int:
    return (
        uow.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.household_id == household_id, Membership.end_date.is_(None))
        )
        or 0
    )


def _has_head(uow: UnitOfWork, household_id: int) -> bool:
    return (
        uow.session.scalar(
            select(Membership.id).where(
                Membership.household_id == household_id,
                Membership.end_date.is_(None),
                Membership.relation == "head",
            )
        )
        is not None
    )


def _income_amount(uow: UnitOfWork, person_id: int, kind: str, month: str) -> int | None:
    return uow.session.scalar(
        select(IncomeItem.amount_fen).where(
            IncomeItem.person_id == person_id, IncomeItem.kind == kind, IncomeItem.month == month
        )
    )


def _fact_value(uow: UnitOfWork, household: Household, details: Mapping[str, Any]) -> Any:
    """The current value of a fact change's field."""
    where, _ = FACT_FIELDS[details["field"]]
    if where == "household":
        return getattr(household, details["field"])
    person, membership = _member(uow, household, details["id_number"])
    return membership.relation if where == "membership" else getattr(person, details["field"])


def _expected(uow: UnitOfWork, kind: str, household: Household, details: Mapping[str, Any]) -> Any:
    """The state of the facts a request would change, as the registry holds them now: kept
    with the request, and compared again when it is approved."""
    if kind == "member_moves_in":
        person = uow.repo(RegistryRepository).person(details["id_number"])
        membership = None if person is None else _open_membership(uow, person.id)
        return {
            "registered": person is not None,
            "household_id": None if membership is None else membership.household_id,
        }
    if kind == "member_moves_out":
        _, membership = _member(uow, household, details["id_number"])
        return {"membership_id": membership.id}
    if kind == "income_change":
        person, _ = _member(uow, household, details["id_number"])
        return {
            "amount_fen": _income_amount(uow, person.id, details["income_kind"], details["month"])
        }
    if kind == "fact_change":
        value = _fact_value(uow, household, details)
        return {"value": value}
    return {}  # bank_account_change: payments checks its accounts when the change is recorded


# -- RequestChange -----------------------------------------------------------------------------


def _moves_in(uow: UnitOfWork, household: Household, d: ChangeDetails) -> dict[str, Any]:
    id_number = _identity(d.id_number)
    relation = _text(d.relation, "relation")
    if relation not in RELATIONS:
        raise InputError("relation", f"{relation!r} is not one of {list(RELATIONS)}")
    on = _required(d.on, "on")
    person = uow.repo(RegistryRepository).person(id_number)
    details: dict[str, Any] = {"id_number": id_number, "relation": relation, "on": on.isoformat()}
    if person is None:
        # Someone the registry does not know yet: registered with the household's hukou.
        details["name"] = _text(d.name, "name")
    else:
        membership = _open_membership(uow, person.id)
        if membership is not None and membership.household_id == household.id:
            raise InputError("id_number", f"{mask_identity_number(id_number)} is already a member")
        if membership is not None and on < membership.start_date:
            raise InputError(
                "on", f"{on} is before the current membership began ({membership.start_date})"
            )
    if relation == "head" and _has_head(uow, household.id):
        raise InputError("relation", f"household {household.household_no} already has a head")
    return details


def _moves_out(uow: UnitOfWork, household: Household, d: ChangeDetails) -> dict[str, Any]:
    id_number = _identity(d.id_number)
    on = _required(d.on, "on")
    _, membership = _member(uow, household, id_number)
    if on < membership.start_date:
        raise InputError("on", f"{on} is before the membership began ({membership.start_date})")
    details: dict[str, Any] = {"id_number": id_number, "on": on.isoformat()}
    to_region = _text(d.to_region, "to_region", required=False)
    to_household = _text(d.to_household_no, "to_household_no", required=False)
    if bool(to_region) != bool(to_household):
        raise InputError("to_household_no", "give both to_region and to_household_no, or neither")
    if to_region:
        target = uow.repo(RegistryRepository).household(to_region, to_household)
        if target is None:
            raise UnknownNameError("household", f"{to_region}/{to_household}")
        if target.id == household.id:
            raise InputError("to_household_no", "is the household the member leaves")
        relation = _text(d.relation, "relation")
        if relation not in RELATIONS:
            raise InputError("relation", f"{relation!r} is not one of {list(RELATIONS)}")
        details |= {"to_region": to_region, "to_household_no": to_household, "relation": relation}
    if membership.relation == "head" and _members_left(uow, household.id) > 1:
        raise InputError(
            "id_number",
            f"{mask_identity_number(id_number)} is the head of household "
            f"{household.household_no} and others stay: make another member head first "
            "(a fact_change of relation)",
        )
    return details


def _income(uow: UnitOfWork, household: Household, d: ChangeDetails) -> dict[str, Any]:
    id_number = _identity(d.id_number)
    _member(uow, household, id_number)
    kind = _text(d.income_kind, "income_kind")
    if kind not in INCOME_KINDS:
        raise InputError("income_kind", f"{kind!r} is not one of {list(INCOME_KINDS)}")
    limits = intake_limits(region=household.region_code)
    month = limits.check_month(parse_month(_text(d.month, "month"), "month"), "month")
    amount = _required(d.amount_fen, "amount_fen")
    if not 0 <= amount <= limits.maximum_fen:
        raise InputError("amount_fen", f"is {amount}; expected 0 to {limits.maximum_fen} fen")
    return {"id_number": id_number, "income_kind": kind, "month": month, "amount_fen": amount}


def _bank_account(
    uow: UnitOfWork, household: Household, d: ChangeDetails, check: AccountCheck
) -> dict[str, Any]:
    id_number = _identity(d.id_number)
    _member(uow, household, id_number)
    account = check(_text(d.bank_code, "bank_code"), _text(d.account_number, "account_number"))
    return {
        "id_number": id_number,
        "bank_code": account.bank_code,
        "account_number": account.account_number,
        "account_masked": account.masked,
        "on": _required(d.on, "on").isoformat(),
    }


def _fact(uow: UnitOfWork, household: Household, d: ChangeDetails) -> dict[str, Any]:
    name = _text(d.field, "field")
    if name not in FACT_FIELDS:
        raise InputError("field", f"{name!r} is not one of {', '.join(FACT_FIELDS)}")
    where, parse = FACT_FIELDS[name]
    details: dict[str, Any] = {"field": name, "value": parse(_text(d.value, "value"))}
    if where != "household":
        details["id_number"] = _identity(d.id_number)
        if name == "relation" and details["value"] == "head" and _has_head(uow, household.id):
            raise InputError(
                "value",
                f"household {household.household_no} already has a head: change the head's "
                "relation first (a household has one head)",
            )
    if _fact_value(uow, household, details) == details["value"]:
        raise InputError("value", f"{name} is already {details['value']!r}")
    return details


def _household(uow: UnitOfWork, region: str, household_no: str) -> Household:
    household = uow.repo(RegistryRepository).household(region, household_no)
    if household is None:
        raise UnknownNameError("household", f"{region}/{household_no}")
    return household


def _reason(text: str, field_name: str = "reason") -> str:
    why = _text(text, field_name)
    if len(why) < MIN_REASON_LENGTH:
        raise InputError(field_name, f"say why (at least {MIN_REASON_LENGTH} characters)")
    return why


def request_change(
    cmd: RequestChange, uow: UnitOfWork, clock: Clock, *, check_account: AccountCheck
) -> int:
    """Record a change request (pending) and its ``ChangeRequested`` entry; returns its id."""
    if cmd.kind not in CHANGE_KINDS:
        raise InputError("kind", f"{cmd.kind!r} is not one of {list(CHANGE_KINDS)}")
    reason = _reason(cmd.reason)
    household = _household(uow, cmd.region, cmd.household_no)
    if cmd.kind == "member_moves_in":
        details = _moves_in(uow, household, cmd.details)
    elif cmd.kind == "member_moves_out":
        details = _moves_out(uow, household, cmd.details)
    elif cmd.kind == "income_change":
        details = _income(uow, household, cmd.details)
    elif cmd.kind == "bank_account_change":
        details = _bank_account(uow, household, cmd.details, check_account)
    else:
        details = _fact(uow, household, cmd.details)
    expected = _expected(uow, cmd.kind, household, details)
    if cmd.kind == "income_change" and expected["amount_fen"] == details["amount_fen"]:
        raise InputError("amount_fen", f"the income is already {details['amount_fen']} fen")
    now = clock()
    request = ChangeRequest(
        household_id=household.id,
        kind=cmd.kind,
        status="pending",
        details=details,
        expected=expected,
        reason=reason,
        requested_by=cmd.actor.name,
        requested_role=cmd.actor.role,
        requested_at=now,
    )
    uow.session.add(request)
    uow.session.flush()
    append(
        uow.session,
        actor=cmd.actor,
        command="RequestChange",
        event="ChangeRequested",
        entity="change_request",
        entity_id=request.id,
        after={"household_id": household.id, "kind": cmd.kind, "reason": mask_text(reason)}
        | describe(request),
        occurred_at=now,
    )
    uow.commit()
    return request.id


def describe(request: ChangeRequest) -> dict[str, Any]:
    """What a request asks, fit to show: identity numbers masked, the account number only in its
    masked form."""
    shown = {k: v for k, v in request.details.items() if k not in ("account_number",)}
    if "id_number" in shown:
        shown["id_number"] = mask_identity_number(str(shown["id_number"]))
    if shown.get("field") == "phone" and shown.get("value"):
        number = str(shown["value"])
        shown["value"] = number[:3] + "****" + number[-4:]
    return shown


# -- ApproveChange and RejectChange ------------------------------------------------------------


def _pending(uow: UnitOfWork, request_id: int, action: str, actor: Actor) -> ChangeRequest:
    request = uow.session.get(ChangeRequest, request_id)
    if request is None:
        raise UnknownNameError("change request", str(request_id))
    if request.status != "pending":
        raise ChangeRefusedError(
            request_id,
            action,
            f"it was already {request.status} by {request.decided_by} on "
            f"{request.decided_at:%Y-%m-%d}; a request is decided once"
            if request.decided_at
            else f"it is {request.status}",
        )
    if actor.role not in APPROVER_ROLES:
        raise ChangeRefusedError(
            request_id,
            action,
            f"the role {actor.role} does not decide change requests "
            f"({', '.join(sorted(APPROVER_ROLES))} do)",
        )
    if actor.name == request.requested_by:
        raise ChangeRefusedError(
            request_id,
            action,
            f"{actor.name} made this request; another official must decide it (maker-checker)",
        )
    return request


def _decide(
    uow: UnitOfWork, request: ChangeRequest, actor: Actor, status: str, note: str, now: dt.datetime
) -> None:
    request.status = status
    request.decided_by = actor.name
    request.decided_role = actor.role
    request.decided_at = now
    request.decision_note = note or None
    uow.session.flush()
    append(
        uow.session,
        actor=actor,
        command="ApproveChange" if status == "approved" else "RejectChange",
        event="ChangeApproved" if status == "approved" else "ChangeRejected",
        entity="change_request",
        entity_id=request.id,
        before={"status": "pending"},
        after={"status": status, "household_id": request.household_id, "note": mask_text(note)},
        occurred_at=now,
    )


def _conflict(request: ChangeRequest, now_state: Any) -> str:
    """Why the facts no longer are what the request was made against."""
    then = request.expected
    if request.kind == "member_moves_in":
        return (
            "the person was registered or moved since the request "
            f"(household then {then['household_id']}, now {now_state['household_id']}); "
            "make a new request"
        )
    if request.kind == "member_moves_out":
        return "the member has left the household since the request"
    if request.kind == "income_change":
        return (
            f"the income of {request.details['month']} was {then['amount_fen']} fen when "
            f"requested and is {now_state['amount_fen']} fen now; make a new request"
        )
    return (
        f"{request.details.get('field')} was {then.get('value')!r} when requested and is "
        f"{now_state.get('value')!r} now; make a new request"
    )


def approve_change(cmd: ApproveChange, uow: UnitOfWork, clock: Clock) -> int:
    """Apply a pending request made by someone else, in one transaction with its entries."""
    action = "approve"
    note = _text(cmd.note, "note", required=False)
    request = _pending(uow, cmd.request_id, action, cmd.actor)
    household = uow.session.get(Household, request.household_id)
    assert household is not None  # a foreign key guarantees it
    try:
        now_state = _expected(uow, request.kind, household, request.details)
    except SafetyNetError as exc:  # the member is gone, the person unknown
        raise ChangeRefusedError(request.id, action, str(exc)) from None
    if now_state != request.expected:
        raise ChangeRefusedError(request.id, action, _conflict(request, now_state))
    now = clock()
    with uow.held_commits():  # the commands applied below commit with the decision, not before
        try:
            _APPLY[request.kind](uow, request, household, cmd.actor, now, clock)
        except InputError as exc:  # e.g. MovePerson: the new household got a head meanwhile
            raise ChangeRefusedError(request.id, action, str(exc)) from None
        _decide(uow, request, cmd.actor, "approved", note, now)
    uow.commit()
    return request.id


def reject_change(cmd: RejectChange, uow: UnitOfWork, clock: Clock) -> int:
    """Reject a pending request made by someone else, saying why; the household is unchanged."""
    reason = _reason(cmd.reason)
    request = _pending(uow, cmd.request_id, "reject", cmd.actor)
    _decide(uow, request, cmd.actor, "rejected", reason, clock())
    uow.commit()
    return request.id


# -- applying an approved change ---------------------------------------------------------------

_Apply = Callable[[UnitOfWork, ChangeRequest, Household, Actor, dt.datetime, Clock], None]


def _audit(
    uow: UnitOfWork,
    actor: Actor,
    event: str,
    entity: str,
    entity_id: int | str,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    now: dt.datetime,
) -> None:
    append(
        uow.session,
        actor=actor,
        command="ApproveChange",
        event=event,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
        occurred_at=now,
    )


def _apply_moves_in(
    uow: UnitOfWork,
    request: ChangeRequest,
    household: Household,
    actor: Actor,
    now: dt.datetime,
    clock: Clock,
) -> None:
    d = request.details
    repo = uow.repo(RegistryRepository)
    if repo.person(d["id_number"]) is None:
        identity = parse_identity_number(d["id_number"])
        person = Person(
            id_number=identity.value,
            name=d["name"],
            sex=identity.sex.value,
            birth_date=identity.birth_date,
            hukou_region_code=household.region_code,
            hukou_type=household.hukou_type,
            disability_category="none",
            disability_grade=0,
            has_serious_illness=False,
            self_care_items_failed=0,
            created_at=now,
            updated_at=now,
        )
        repo.add(person)
        repo.flush()
        after = {"id_number": identity.value, "name": d["name"], "change_request": request.id}
        _audit(uow, actor, "PersonRegistered", "person", person.id, None, after, now)
    move = MovePerson(
        id_number=d["id_number"],
        region=household.region_code,
        household_no=household.household_no,
        relation=d["relation"],
        on=dt.date.fromisoformat(d["on"]),
        actor=actor,
    )
    move_person(move, uow, clock)


def _apply_moves_out(
    uow: UnitOfWork,
    request: ChangeRequest,
    household: Household,
    actor: Actor,
    now: dt.datetime,
    clock: Clock,
) -> None:
    d = request.details
    on = dt.date.fromisoformat(d["on"])
    if "to_region" in d:
        move = MovePerson(
            d["id_number"], d["to_region"], d["to_household_no"], d["relation"], on, actor
        )
        move_person(move, uow, clock)
        return
    _, membership = _member(uow, household, d["id_number"])
    membership.end_date = on
    uow.session.flush()
    after = {"end_date": on.isoformat(), "change_request": request.id}
    _audit(uow, actor, "MemberLeft", "membership", membership.id, {"end_date": None}, after, now)


def _apply_income(
    uow: UnitOfWork,
    request: ChangeRequest,
    household: Household,
    actor: Actor,
    now: dt.datetime,
    _clock: Clock,
) -> None:
    d = request.details
    person, _ = _member(uow, household, d["id_number"])
    kind, month, amount = d["income_kind"], d["month"], d["amount_fen"]
    item = uow.session.scalars(
        select(IncomeItem).where(
            IncomeItem.person_id == person.id, IncomeItem.kind == kind, IncomeItem.month == month
        )
    ).one_or_none()
    entity_id = f"{person.id}/{kind}/{month}"
    before = None if item is None else item.amount_fen
    if item is None:
        uow.session.add(IncomeItem(person_id=person.id, kind=kind, month=month, amount_fen=amount))
        event = "IncomeRecorded"
    else:
        item.amount_fen = amount
        event = "IncomeCorrected"
    uow.session.flush()
    after = {"amount_fen": amount, "change_request": request.id}
    old = None if before is None else {"amount_fen": before}
    _audit(uow, actor, event, "income_item", entity_id, old, after, now)
    change = IncomeChange(household.id, person.id, kind, month, before, amount)
    # Payments follows in this transaction: months already paid are checked against it.
    uow.emit(IncomeChanged((change,), f"change request {request.id}", actor, now))


def _apply_bank_account(
    uow: UnitOfWork,
    request: ChangeRequest,
    household: Household,
    actor: Actor,
    now: dt.datetime,
    _clock: Clock,
) -> None:
    d = request.details
    person, _ = _member(uow, household, d["id_number"])
    uow.emit(
        BankAccountChanged(
            request_id=request.id,
            household_id=household.id,
            holder_person_id=person.id,
            bank_code=d["bank_code"],
            account_number=d["account_number"],
            valid_from=dt.date.fromisoformat(d["on"]),
            actor=actor,
            occurred_at=now,
        )
    )


def _apply_fact(
    uow: UnitOfWork,
    request: ChangeRequest,
    household: Household,
    actor: Actor,
    now: dt.datetime,
    _clock: Clock,
) -> None:
    d = request.details
    name, value = d["field"], d["value"]
    where, _ = FACT_FIELDS[name]
    before = {name: request.expected["value"]}
    after = {name: value, "change_request": request.id}
    if where == "household":
        setattr(household, name, value)
        household.updated_at = now
        _audit(uow, actor, "HouseholdUpdated", "household", household.id, before, after, now)
        return
    person, membership = _member(uow, household, d["id_number"])
    if where == "membership":
        membership.relation = value
        _audit(uow, actor, "MemberRelationChanged", "membership", membership.id, before, after, now)
        return
    setattr(person, name, value)
    person.updated_at = now
    _audit(uow, actor, "PersonUpdated", "person", person.id, before, after, now)


_APPLY: Mapping[str, _Apply] = {
    "member_moves_in": _apply_moves_in,
    "member_moves_out": _apply_moves_out,
    "income_change": _apply_income,
    "bank_account_change": _apply_bank_account,
    "fact_change": _apply_fact,
}
