"""Finding households and persons in the registry, and one household seen whole with its history.

Queries only: nothing here writes. A search takes any of an identity number (exact; a legacy
15-digit number is converted to its 18-digit form), a name (exact, its start, or a part), an
address (a part of it), a region (a GB/T 2260 code: the county, or every county of a city or
province) or the start of a statistical code (a township, a village), all of which must hold
(none: everything in the searcher's region); the answer is one page and the total count. Identity numbers are masked in every hit; names
are shown. The searcher's region (``within``) limits what is found: a household by where it is
registered, a person by their current household or, with none, their hukou.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from safetynet.audit.model import AuditEvent
from safetynet.domain.identity import mask_identity_number, parse_identity_number
from safetynet.domain.regions import NATION_CODE, default_registry, validate_region_code
from safetynet.errors import InputError
from safetynet.registry.change_model import ChangeRequest
from safetynet.registry.changes import describe
from safetynet.registry.model import (
    ADDRESS_LENGTH,
    Asset,
    Enrolment,
    EnrolmentHistory,
    Household,
    IncomeItem,
    Membership,
    Person,
)

__all__ = [
    "MAX_PAGE",
    "HouseholdHit",
    "HouseholdView",
    "NameMatch",
    "PersonHit",
    "SearchPage",
    "SearchQuery",
    "change_request_region",
    "change_request_view",
    "change_requests",
    "household_id",
    "household_view",
    "search_households",
    "search_persons",
]

MAX_PAGE = 100
"""Hits per page at most."""
MAX_OFFSET = 1_000_000
NAME_LENGTH = 100
HISTORY_ENTRIES = 200
"""Audit entries a household view shows at most (newest first)."""
INCOME_MONTHS = 24

H = TypeVar("H")
NameMatch = Literal["exact", "prefix", "contains"]
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class SearchQuery:
    """What to look for; every criterion given must hold. ``region``: a 6-digit GB/T 2260 code,
    or 9 or 12 digits of a statistical code (township, village)."""

    id_number: str | None = None
    name: str | None = None
    name_match: NameMatch = "exact"
    address: str | None = None
    region: str | None = None
    within: str = NATION_CODE
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True)
class PersonHit:
    person_id: int
    id_number: str  # masked
    name: str
    sex: str
    birth_date: dt.date
    household_id: int | None  # the current household, None if the person has none
    region: str | None
    household_no: str | None
    relation: str | None
    address: str | None


@dataclass(frozen=True)
class HouseholdHit:
    household_id: int
    region: str
    household_no: str
    address: str | None
    statistical_code: str | None
    head_name: str | None
    head_id_number: str | None  # masked
    members: int


@dataclass(frozen=True)
class SearchPage(Generic[H]):
    total: int
    offset: int
    limit: int
    hits: list[H]


# -- criteria ----------------------------------------------------------------------------------


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _subtree(code: str) -> list[str]:
    registry = default_registry()
    found = [code]
    for child in registry.children(code):
        found.extend(_subtree(child.code))
    return found


def _in_region(column: Any, code: str) -> ColumnElement[bool]:
    if code == NATION_CODE:
        return true()
    return column.in_(_subtree(code))  # type: ignore[no-any-return]


def _checked(q: SearchQuery) -> SearchQuery:
    """The query with its values checked (``InputError`` naming the field) and normalised."""
    if not 1 <= q.limit <= MAX_PAGE:
        raise InputError("limit", f"is {q.limit}; expected 1 to {MAX_PAGE}")
    if not 0 <= q.offset <= MAX_OFFSET:
        raise InputError("offset", f"is {q.offset}; expected 0 to {MAX_OFFSET}")
    number = parse_identity_number(q.id_number).value if q.id_number else None
    name = " ".join((q.name or "").split()) or None
    if name is not None and len(name) > NAME_LENGTH:
        raise InputError("name", f"has {len(name)} characters; at most {NAME_LENGTH}")
    address = " ".join((q.address or "").split()) or None
    if address is not None and len(address) > ADDRESS_LENGTH:
        raise InputError("address", f"has {len(address)} characters; at most {ADDRESS_LENGTH}")
    region = (q.region or "").strip() or None
    if region is not None:
        if not _DIGITS.fullmatch(region) or len(region) not in (6, 9, 12):
            raise InputError(
                "region", f"{region!r}: expected a 6-digit region code or 9/12 statistical digits"
            )
        validate_region_code(region[:6], "region")
    return SearchQuery(number, name, q.name_match, address, region, q.within, q.offset, q.limit)


def _starts_with(session: Session, column: Any, prefix: str) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = column.like(f"{_like(prefix)}%", escape="\\")
    if session.get_bind().dialect.name == "sqlite":
        # SQLite's LIKE ignores the index; the same prefix as a range of the binary order uses it.
        condition = and_(condition, column >= prefix, column < prefix + "\U0010ffff")
    return condition


def _name_condition(session: Session, name: str, match: NameMatch) -> ColumnElement[bool]:
    if match == "exact":
        return Person.name == name
    if match == "contains":
        return Person.name.like(f"%{_like(name)}%", escape="\\")
    return _starts_with(session, Person.name, name)


def _person_conditions(session: Session, q: SearchQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if q.id_number:
        found.append(Person.id_number == q.id_number)
    if q.name:
        found.append(_name_condition(session, q.name, q.name_match))
    return found


def _household_conditions(session: Session, q: SearchQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if q.address:
        found.append(Household.address.like(f"%{_like(q.address)}%", escape="\\"))
    if q.region and len(q.region) == 6:
        found.append(_in_region(Household.region_code, q.region))
    elif q.region:
        found.append(_starts_with(session, Household.statistical_code, q.region))
    return found


# -- searches ----------------------------------------------------------------------------------


def _count(session: Session, query: Select[*tuple[Any, ...]]) -> int:
    """How many rows ``query`` gives (the total of a paginated search)."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return int(total or 0)


def search_persons(session: Session, query: SearchQuery) -> SearchPage[PersonHit]:
    """Persons matching every criterion, by name, each with their current household."""
    q = _checked(query)
    household_criteria = _household_conditions(session, q)
    join = and_(Membership.person_id == Person.id, Membership.end_date.is_(None))
    stmt = (
        select(Person, Membership, Household)
        .outerjoin(Membership, join)
        .outerjoin(Household, Household.id == Membership.household_id)
        .where(*_person_conditions(session, q), *household_criteria)
        .order_by(Person.name, Person.id)
    )
    if q.within != NATION_CODE:
        stmt = stmt.where(
            or_(
                _in_region(Household.region_code, q.within),
                and_(Household.id.is_(None), _in_region(Person.hukou_region_code, q.within)),
            )
        )
    total, page = _count(session, stmt), stmt.offset(q.offset).limit(q.limit)
    hits = [
        PersonHit(
            person_id=p.id,
            id_number=mask_identity_number(p.id_number),
            name=p.name,
            sex=p.sex,
            birth_date=p.birth_date,
            household_id=None if h is None else h.id,
            region=None if h is None else h.region_code,
            household_no=None if h is None else h.household_no,
            relation=None if m is None else m.relation,
            address=None if h is None else h.address,
        )
        for p, m, h in session.execute(page)
    ]
    return SearchPage(total, q.offset, q.limit, hits)


def search_households(session: Session, query: SearchQuery) -> SearchPage[HouseholdHit]:
    """Households matching every criterion (a person criterion: one of its current members),
    by region and household number, each with its head and number of members."""
    q = _checked(query)
    stmt = (
        select(Household)
        .where(*_household_conditions(session, q), _in_region(Household.region_code, q.within))
        .order_by(Household.region_code, Household.household_no)
    )
    person_criteria = _person_conditions(session, q)
    if person_criteria:
        # The households of the matching persons (found by their index), not a test per household.
        members = (
            select(Membership.household_id)
            .join(Person, Person.id == Membership.person_id)
            .where(Membership.end_date.is_(None), *person_criteria)
        )
        stmt = stmt.where(Household.id.in_(members))
    total, page = _count(session, stmt), stmt.offset(q.offset).limit(q.limit)
    households = list(session.scalars(page))
    ids = [h.id for h in households]
    heads: dict[int, Person] = {}
    counts: dict[int, int] = {}
    if ids:
        open_members = and_(Membership.household_id.in_(ids), Membership.end_date.is_(None))
        for hid, person in session.execute(
            select(Membership.household_id, Person)
            .join(Person, Person.id == Membership.person_id)
            .where(open_members, Membership.relation == "head")
        ):
            heads[hid] = person
        for hid, n in session.execute(
            select(Membership.household_id, func.count())
            .where(open_members)
            .group_by(Membership.household_id)
        ):
            counts[hid] = int(n)
    hits = [
        HouseholdHit(
            household_id=h.id,
            region=h.region_code,
            household_no=h.household_no,
            address=h.address,
            statistical_code=h.statistical_code,
            head_name=heads[h.id].name if h.id in heads else None,
            head_id_number=mask_identity_number(heads[h.id].id_number) if h.id in heads else None,
            members=counts.get(h.id, 0),
        )
        for h in households
    ]
    return SearchPage(total, q.offset, q.limit, hits)


# -- one household, whole ----------------------------------------------------------------------


@dataclass(frozen=True)
class MemberView:
    person_id: int
    membership_id: int
    id_number: str  # masked
    name: str
    sex: str
    birth_date: dt.date
    relation: str
    start_date: dt.date
    end_date: dt.date | None
    facts: dict[str, Any]

    @property
    def current(self) -> bool:
        return self.end_date is None


@dataclass(frozen=True)
class IncomeView:
    month: str
    person_id: int
    name: str
    kind: str
    amount_fen: int


@dataclass(frozen=True)
class MonthIncome:
    month: str
    total_fen: int
    items: list[IncomeView]


@dataclass(frozen=True)
class AssetView:
    kind: str
    source: str
    value_fen: int
    count: int | None
    area_dm2: int | None
    description: str


@dataclass(frozen=True)
class EnrolmentVersion:
    version: int
    changed_at: dt.datetime
    status: str
    start_date: dt.date
    end_date: dt.date | None
    amount_fen: int
    reason: str


@dataclass(frozen=True)
class EnrolmentView:
    enrolment_id: int
    program: str
    status: str
    start_date: dt.date
    end_date: dt.date | None
    amount_fen: int
    version: int
    history: list[EnrolmentVersion]


@dataclass(frozen=True)
class ChangeRequestView:
    request_id: int
    household_id: int
    kind: str
    status: str
    details: dict[str, Any]  # masked
    reason: str
    requested_by: str
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str | None


@dataclass(frozen=True)
class HistoryEntry:
    entry_id: int
    occurred_at: dt.datetime
    actor: str
    role: str
    command: str
    event: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class HouseholdView:
    household_id: int
    region: str
    region_name: str
    household_no: str
    hukou_type: str
    statistical_code: str | None
    address: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    members: list[MemberView]
    income: list[MonthIncome]
    assets: list[AssetView]
    enrolments: list[EnrolmentView]
    change_requests: list[ChangeRequestView]
    history: list[HistoryEntry] = field(default_factory=list)


_FACTS = (
    "hukou_region_code",
    "hukou_type",
    "labour_capacity",
    "disability_category",
    "disability_grade",
    "has_serious_illness",
    "self_care_items_failed",
    "schooling",
    "employment",
)


def household_id(session: Session, region: str, household_no: str) -> int | None:
    """The id of the household ``region``/``household_no``, or None."""
    return session.scalar(
        select(Household.id).where(
            Household.region_code == region, Household.household_no == household_no
        )
    )


def change_request_view(request: ChangeRequest) -> ChangeRequestView:
    return ChangeRequestView(
        request_id=request.id,
        household_id=request.household_id,
        kind=request.kind,
        status=request.status,
        details=describe(request),
        reason=request.reason,
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        decided_by=request.decided_by,
        decided_at=request.decided_at,
        decision_note=request.decision_note,
    )


def _members(session: Session, hid: int) -> list[MemberView]:
    rows = session.execute(
        select(Membership, Person)
        .join(Person, Person.id == Membership.person_id)
        .where(Membership.household_id == hid)
        .order_by(Membership.end_date.is_not(None), Membership.start_date, Membership.id)
    )
    return [
        MemberView(
            person_id=p.id,
            membership_id=m.id,
            id_number=mask_identity_number(p.id_number),
            name=p.name,
            sex=p.sex,
            birth_date=p.birth_date,
            relation=m.relation,
            start_date=m.start_date,
            end_date=m.end_date,
            facts={f: getattr(p, f) for f in _FACTS},
        )
        for m, p in rows
    ]


def _income(session: Session, members: Sequence[MemberView]) -> list[MonthIncome]:
    """The current members' income, by month, newest first (the last ``INCOME_MONTHS``)."""
    names = {m.person_id: m.name for m in members if m.current}
    if not names:
        return []
    months = list(
        session.scalars(
            select(IncomeItem.month)
            .where(IncomeItem.person_id.in_(list(names)))
            .group_by(IncomeItem.month)
            .order_by(IncomeItem.month.desc())
            .limit(INCOME_MONTHS)
        )
    )
    by_month: dict[str, list[IncomeView]] = {m: [] for m in months}
    for item in session.scalars(
        select(IncomeItem)
        .where(IncomeItem.person_id.in_(list(names)), IncomeItem.month.in_(months))
        .order_by(IncomeItem.person_id, IncomeItem.kind)
    ):
        by_month[item.month].append(
            IncomeView(
                item.month, item.person_id, names[item.person_id], item.kind, item.amount_fen
            )
        )
    return [
        MonthIncome(m, sum(i.amount_fen for i in items), items) for m, items in by_month.items()
    ]


def _enrolments(session: Session, hid: int) -> list[EnrolmentView]:
    enrolments = list(
        session.scalars(
            select(Enrolment).where(Enrolment.household_id == hid).order_by(Enrolment.id)
        )
    )
    history: dict[int, list[EnrolmentVersion]] = {e.id: [] for e in enrolments}
    if enrolments:
        for row in session.scalars(
            select(EnrolmentHistory)
            .where(EnrolmentHistory.enrolment_id.in_(list(history)))
            .order_by(EnrolmentHistory.enrolment_id, EnrolmentHistory.version)
        ):
            history[row.enrolment_id].append(
                EnrolmentVersion(
                    row.version,
                    row.changed_at,
                    row.status,
                    row.start_date,
                    row.end_date,
                    row.amount_fen,
                    row.reason,
                )
            )
    return [
        EnrolmentView(
            e.id,
            e.program,
            e.status,
            e.start_date,
            e.end_date,
            e.amount_fen,
            e.version,
            history[e.id],
        )
        for e in enrolments
    ]


def _history(
    session: Session,
    hid: int,
    members: Sequence[MemberView],
    income: Sequence[MonthIncome],
    assets: Sequence[AssetView],
    enrolments: Sequence[EnrolmentView],
    requests: Sequence[ChangeRequestView],
) -> list[HistoryEntry]:
    """The audit entries about the household, its members, memberships, income, assets,
    enrolments and change requests, newest first."""
    keys: dict[str, set[str]] = {
        "household": {str(hid)},
        "person": {str(m.person_id) for m in members},
        "membership": {str(m.membership_id) for m in members},
        "income_item": {f"{i.person_id}/{i.kind}/{i.month}" for mi in income for i in mi.items},
        "asset": {f"{hid}/{a.kind}" for a in assets},
        "enrolment": {str(e.enrolment_id) for e in enrolments},
        "change_request": {str(r.request_id) for r in requests},
    }
    clauses = [
        and_(AuditEvent.entity == entity, AuditEvent.entity_id.in_(sorted(ids)))
        for entity, ids in keys.items()
        if ids
    ]
    rows = session.scalars(
        select(AuditEvent)
        .where(or_(false(), *clauses))
        .order_by(AuditEvent.id.desc())
        .limit(HISTORY_ENTRIES)
    )
    return [
        HistoryEntry(
            e.id,
            e.occurred_at,
            e.actor,
            e.role,
            e.command,
            e.event,
            e.entity,
            e.entity_id,
            e.before,
            e.after,
        )
        for e in rows
    ]


def household_view(session: Session, hid: int) -> HouseholdView | None:
    """The household ``hid`` whole: members past and present, income by month, assets,
    enrolments with their versions, change requests, and its audit history; None if unknown."""
    household = session.get(Household, hid)
    if household is None:
        return None
    members = _members(session, hid)
    income = _income(session, members)
    assets = [
        AssetView(a.kind, a.source, a.value_fen, a.count, a.area_dm2, a.description)
        for a in session.scalars(
            select(Asset).where(Asset.household_id == hid).order_by(Asset.kind, Asset.id)
        )
    ]
    enrolments = _enrolments(session, hid)
    requests = [
        change_request_view(r)
        for r in session.scalars(
            select(ChangeRequest)
            .where(ChangeRequest.household_id == hid)
            .order_by(ChangeRequest.id.desc())
        )
    ]
    registry = default_registry()
    return HouseholdView(
        household_id=household.id,
        region=household.region_code,
        region_name=registry.full_name(household.region_code)
        if registry.contains(household.region_code)
        else household.region_code,
        household_no=household.household_no,
        hukou_type=household.hukou_type,
        statistical_code=household.statistical_code,
        address=household.address,
        created_at=household.created_at,
        updated_at=household.updated_at,
        members=members,
        income=income,
        assets=assets,
        enrolments=enrolments,
        change_requests=requests,
        history=_history(session, hid, members, income, assets, enrolments, requests),
    )


def change_requests(
    session: Session,
    *,
    status: str | None = None,
    within: str = NATION_CODE,
    offset: int = 0,
    limit: int = 50,
) -> SearchPage[ChangeRequestView]:
    """Change requests (oldest first), of one status if given, of households in ``within``."""
    if not 1 <= limit <= MAX_PAGE:
        raise InputError("limit", f"is {limit}; expected 1 to {MAX_PAGE}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InputError("offset", f"is {offset}; expected 0 to {MAX_OFFSET}")
    stmt = (
        select(ChangeRequest)
        .join(Household, Household.id == ChangeRequest.household_id)
        .where(_in_region(Household.region_code, within))
        .order_by(ChangeRequest.id)
    )
    if status is not None:
        stmt = stmt.where(ChangeRequest.status == status)
    total, page = _count(session, stmt), stmt.offset(offset).limit(limit)
    return SearchPage(total, offset, limit, [change_request_view(r) for r in session.scalars(page)])


def change_request_region(session: Session, request_id: int) -> str | None:
    """The region of the household a change request is about, or None if there is no such
    request (the API's scoping)."""
    return session.scalar(
        select(Household.region_code)
        .join(ChangeRequest, ChangeRequest.household_id == Household.id)
        .where(ChangeRequest.id == request_id)
    )
