"""Events the registry emits for other areas (wired in ``safetynet.bootstrap``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from safetynet.audit.log import Actor

__all__ = ["BankAccountChanged", "IncomeChange", "IncomeChanged"]


@dataclass(frozen=True, slots=True)
class IncomeChange:
    """One income item of a person recorded or corrected: ``before_fen`` is None for a new item."""

    household_id: int
    person_id: int
    kind: str
    month: str
    before_fen: int | None
    after_fen: int


@dataclass(frozen=True)
class IncomeChanged:
    """Income items were recorded or corrected (e.g. by an import), in the publisher's
    transaction."""

    changes: tuple[IncomeChange, ...]
    source: str
    actor: Actor
    occurred_at: dt.datetime


@dataclass(frozen=True)
class BankAccountChanged:
    """An approved change request gives a household a new bank account from ``valid_from``
    (payments records it, in the publisher's transaction, or refuses it)."""

    request_id: int
    household_id: int
    holder_person_id: int
    bank_code: str
    account_number: str
    valid_from: dt.date
    actor: Actor
    occurred_at: dt.datetime

    def __repr__(self) -> str:
        # Never reveal the account number in logs or tracebacks.
        return f"BankAccountChanged(request {self.request_id}, household {self.household_id})"
