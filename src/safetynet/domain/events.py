"""Domain events between areas: one area publishes what happened, others react in the same
transaction, without either importing the other's handlers.

``SUBSCRIBERS`` is the one wiring table: an event's class name → the handlers ("module:function")
called, in order, with the publisher's session and the event. Handlers are imported only when an
event they follow is published, so an area never depends on its subscribers at import time. A
handler's failure fails the publisher's transaction: what the event reports and its consequences
are committed together or not at all.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

__all__ = ["SUBSCRIBERS", "publish"]

SUBSCRIBERS: dict[str, tuple[str, ...]] = {
    # A registry import corrected or added income of a month: the payments already made for that
    # month and later are checked against it (arrears or recoveries by the next roll).
    "IncomeChanged": ("safetynet.payments.facts:follow_income_changes",),
}


def _handler(path: str) -> Callable[[Session, Any], None]:
    module, name = path.split(":")
    handler: Callable[[Session, Any], None] = getattr(importlib.import_module(module), name)
    return handler


def publish(session: Session, event: object) -> None:
    """Call every subscriber of ``event`` inside the caller's transaction (``session``)."""
    for path in SUBSCRIBERS.get(type(event).__name__, ()):
        _handler(path)(session, event)
