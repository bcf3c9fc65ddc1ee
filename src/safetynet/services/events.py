"""What service assistance says happened, for the areas that follow it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from safetynet.audit.log import Actor

__all__ = ["ServiceDeliveryVerified"]


@dataclass(frozen=True)
class ServiceDeliveryVerified:
    """A delivery was verified: payments pays the provider ``amount_fen`` once, known by
    (``program`` = ``service.<service>``, ``case_id`` = the delivery, ``sequence`` 1), by the roll
    of the month of ``due_on`` (the same shape as the case workflow's ``BenefitAwarded``)."""

    program: str
    case_id: int
    sequence: int
    kind: str
    household_id: int
    amount_fen: int
    payee: str
    provider: str | None
    township: str | None
    due_on: dt.date
    reason: str
    actor: Actor
    occurred_at: dt.datetime
