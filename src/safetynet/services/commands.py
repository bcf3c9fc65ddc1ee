"""Commands of service assistance, in the imperative."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from safetynet.audit.log import Actor

__all__ = ["AddServiceContract", "MakeAssistancePlan", "RecordDelivery", "VerifyDelivery"]


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
