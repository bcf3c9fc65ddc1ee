"""Commands of service assistance, in the imperative."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from safetynet.audit.log import Actor

__all__ = [
    "AddServiceContract",
    "MakeAssistancePlan",
    "RecordCharityAnswer",
    "RecordDelivery",
    "ReferToCharity",
    "RegisterCharity",
    "VerifyDelivery",
]


@dataclass(frozen=True, kw_only=True)
class AddServiceContract:
    """A purchase contract with a provider for one service in one county."""

    actor: Actor
    code: str
    service: str
    region: str
    provider_code: str
    provider_name: str
    unit_price_fen: int
    budget_fen: int
    starts_on: dt.date
    ends_on: dt.date


@dataclass(frozen=True, kw_only=True)
class MakeAssistancePlan:
    """Assess a registered household's needs on ``on``: the cash programs it is eligible for and
    the services its members need, each planned month by month from ``first_month`` to
    ``last_month`` with the county's contract that delivers it."""

    actor: Actor
    on: dt.date
    household_region: str
    household_no: str
    household: Mapping[str, Any]
    first_month: str
    last_month: str
    # Local values the region's parameters lack (e.g. a tekun care standard), as the county sets
    # them; used only where the region has none in force, and named in the plan's audit entry.
    fallbacks: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class RecordDelivery:
    """The provider's record of a month's service: how many units, finished on which day."""

    actor: Actor
    delivery_id: int
    units: int
    on: dt.date


@dataclass(frozen=True, kw_only=True)
class VerifyDelivery:
    """An official checks a delivered service (a home visit or the person's signature) and
    accepts it, which pays the provider, or rejects it with a note."""

    actor: Actor
    delivery_id: int
    on: dt.date
    method: str
    accepted: bool
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class RegisterCharity:
    """A registered charitable organisation that takes referrals of the given kinds of need."""

    actor: Actor
    code: str
    name: str
    credit_code: str
    region: str
    fields: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ReferToCharity:
    """Refer a need the programs leave unmet to an organisation, with the person's consent: a
    medical or hardship gap stated by the rules core from the household's facts, or a service the
    household's plan needs and the county does not offer."""

    actor: Actor
    on: dt.date
    household_region: str
    household_no: str
    kind: str
    organisation: str
    consent: bool
    consent_by: str
    household: Mapping[str, Any] | None = None
    plan_id: int | None = None
    service: str | None = None
    fallbacks: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class RecordCharityAnswer:
    """What the organisation gave back: met, partly met or declined, the amount and in what form."""

    actor: Actor
    referral_id: int
    on: dt.date
    outcome: str
    given_fen: int
    given: str
