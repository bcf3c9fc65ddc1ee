"""Request and response bodies of ``/registry``: searches, one household whole, change requests.

Every identity number in an answer is masked (by the query, and again by the masking middleware);
account numbers appear only masked. Request fields use the bounded types of ``bounds``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from safetynet.entrypoints.api.bounds import (
    AmountFen,
    BusinessDate,
    IdNumberText,
    LongText,
    Name,
    RegionCode,
    ShortText,
    YearMonth,
)

__all__ = [
    "ChangeDecisionBody",
    "ChangeRejectionBody",
    "ChangeRequestCreate",
    "ChangeRequestPage",
    "ChangeRequestPublic",
    "DuplicatePairPage",
    "DuplicatePairPublic",
    "DuplicatePersonPublic",
    "DuplicateProposalCreate",
    "HouseholdHitPage",
    "HouseholdPublic",
    "PersonHitPage",
]

_FROM = ConfigDict(from_attributes=True)


def _utc(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; everything the registry writes is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


UtcDateTime = Annotated[dt.datetime, AfterValidator(_utc)]
"""A moment, always with its offset (RFC 3339 ``date-time``)."""


class PersonHitPublic(BaseModel):
    model_config = _FROM
    person_id: int
    id_number: str = Field(description="Masked.")
    name: str
    sex: str
    birth_date: dt.date
    household_id: int | None
    region: str | None
    household_no: str | None
    relation: str | None
    address: str | None


class PersonHitPage(BaseModel):
    model_config = _FROM
    total: int = Field(description="Hits of the whole search, not only of this page.")
    offset: int
    limit: int
    hits: list[PersonHitPublic]


class HouseholdHitPublic(BaseModel):
    model_config = _FROM
    household_id: int
    region: str
    household_no: str
    address: str | None
    statistical_code: str | None
    head_name: str | None
    head_id_number: str | None = Field(description="Masked.")
    members: int


class HouseholdHitPage(BaseModel):
    model_config = _FROM
    total: int = Field(description="Hits of the whole search, not only of this page.")
    offset: int
    limit: int
    hits: list[HouseholdHitPublic]


class MemberPublic(BaseModel):
    model_config = _FROM
    person_id: int
    membership_id: int
    id_number: str = Field(description="Masked.")
    name: str
    sex: str
    birth_date: dt.date
    relation: str
    start_date: dt.date
    end_date: dt.date | None = Field(description="None while the person is a member.")
    facts: dict[str, Any]


class IncomePublic(BaseModel):
    model_config = _FROM
    month: str
    person_id: int
    name: str
    kind: str
    amount_fen: int


class MonthIncomePublic(BaseModel):
    model_config = _FROM
    month: str
    total_fen: int
    items: list[IncomePublic]


class AssetPublic(BaseModel):
    model_config = _FROM
    kind: str
    source: str
    value_fen: int
    count: int | None
    area_dm2: int | None
    description: str


class EnrolmentVersionPublic(BaseModel):
    model_config = _FROM
    version: int
    changed_at: UtcDateTime
    status: str
    start_date: dt.date
    end_date: dt.date | None
    amount_fen: int
    reason: str


class EnrolmentPublic(BaseModel):
    model_config = _FROM
    enrolment_id: int
    program: str
    status: str
    start_date: dt.date
    end_date: dt.date | None
    amount_fen: int
    version: int
    history: list[EnrolmentVersionPublic]


class ChangeRequestPublic(BaseModel):
    model_config = _FROM
    request_id: int
    household_id: int
    kind: str
    status: str
    details: dict[str, Any] = Field(description="What is asked; identity and account masked.")
    reason: str
    requested_by: str
    requested_at: UtcDateTime
    decided_by: str | None
    decided_at: UtcDateTime | None
    decision_note: str | None


class ChangeRequestPage(BaseModel):
    model_config = _FROM
    total: int
    offset: int
    limit: int
    hits: list[ChangeRequestPublic]


class HistoryEntryPublic(BaseModel):
    model_config = _FROM
    entry_id: int
    occurred_at: UtcDateTime
    actor: str
    role: str
    command: str
    event: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class HouseholdPublic(BaseModel):
    model_config = _FROM
    household_id: int
    region: str
    region_name: str
    household_no: str
    hukou_type: str
    statistical_code: str | None
    address: str | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    members: list[MemberPublic] = Field(description="Current members first, then past ones.")
    income: list[MonthIncomePublic] = Field(description="Current members' income, newest first.")
    assets: list[AssetPublic]
    enrolments: list[EnrolmentPublic]
    change_requests: list[ChangeRequestPublic]
    history: list[HistoryEntryPublic] = Field(description="Audit entries, newest first.")


class ChangeRequestCreate(BaseModel):
    """A change of the household's facts; which fields are needed depends on ``kind``
    (docs/registry.md): ``member_moves_in`` id_number, relation, on (and name for a newcomer);
    ``member_moves_out`` id_number, on (to_region, to_household_no and relation to move into
    another household); ``income_change`` id_number, income_kind, month, amount_fen;
    ``bank_account_change`` id_number (the holder), bank_code, account_number, on;
    ``fact_change`` field, value (and id_number for a member's fact)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal[
        "member_moves_in", "member_moves_out", "income_change", "bank_account_change", "fact_change"
    ]
    reason: LongText = Field(description="Why; kept with the request (at least 4 characters).")
    id_number: IdNumberText | None = None
    name: Name | None = None
    relation: ShortText | None = None
    on: BusinessDate | None = None
    to_region: RegionCode | None = None
    to_household_no: ShortText | None = None
    income_kind: ShortText | None = None
    month: YearMonth | None = None
    amount_fen: AmountFen | None = None
    bank_code: ShortText | None = None
    account_number: ShortText | None = None
    field: ShortText | None = None
    value: ShortText | None = None


class ChangeDecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: LongText = ""


class ChangeRejectionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: LongText = Field(description="Why it is rejected (at least 4 characters).")


# -- the duplicates review queue (ADR 0012, 0016) -----------------------------------------------


class DuplicatePersonPublic(BaseModel):
    """One person of a pair: the identity number masked."""

    person_id: int
    masked_id_number: str
    name: str
    birth_date: dt.date
    region: str


class DuplicatePairPublic(BaseModel):
    """A pair the linkage model thinks may be one person, with its decision or the decision
    proposed and waiting for a second person's approval."""

    pair_id: int
    match_probability: float
    status: Literal["open", "merged", "separated"]
    person: DuplicatePersonPublic
    other: DuplicatePersonPublic
    decided_by: str | None
    decided_at: UtcDateTime | None
    kept_person_id: int | None
    proposed_action: Literal["merge", "separate"] | None
    proposed_keep_person_id: int | None
    proposed_by: str | None
    proposed_at: UtcDateTime | None
    proposal_reason: str | None


class DuplicatePairPage(BaseModel):
    offset: int
    limit: int
    hits: list[DuplicatePairPublic]


class DuplicateProposalCreate(BaseModel):
    """Propose to merge the pair, keeping ``keep_person_id`` (one of its two persons), or to
    separate it; another person, in a role that approves, decides."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["merge", "separate"]
    keep_person_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    reason: LongText = Field(description="Why (kept in the audit log).")
