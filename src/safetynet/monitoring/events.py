"""Events monitoring emits for other areas (wired in ``safetynet.bootstrap``), in the publisher's
transaction: payments places and releases holds, cases opens re-checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from safetynet.audit.log import Actor

__all__ = ["AlertResolved", "AlertsStored", "PaymentStop"]


@dataclass(frozen=True, slots=True)
class PaymentStop:
    """A new alert whose action stops the household's next payment (every program)."""

    alert_id: int
    household_id: int
    month: str  # YYYY-MM of the alert
    reason: str


@dataclass(frozen=True)
class AlertsStored:
    """One run's new alerts were stored; ``stops``: those asking to stop the next payment (one
    event for the whole batch). ``holds_placed`` is filled by the followers (the ids of the
    payment holds placed), for the run's counts."""

    stops: tuple[PaymentStop, ...]
    actor: Actor
    occurred_at: dt.datetime
    holds_placed: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class AlertResolved:
    """An alert was resolved with ``outcome``. ``opens_recheck``: a re-check of the household's
    paying track is to be opened (outcome ``recheck_started`` on an alert asking for one), with
    ``recheck_reason``."""

    alert_id: int
    household_id: int
    outcome: str
    reason: str
    actor: Actor
    on: dt.date
    occurred_at: dt.datetime
    opens_recheck: bool = False
    recheck_reason: str = ""
