"""A household's bank account changed through an approved registry change request (ADR 0011).

The registry asks and approves; the accounts are payments'. ``check_account`` is the registry's
check of a requested account (handed to ``RequestChange`` by ``safetynet.bootstrap``, so a bad
bank code is refused when the clerk asks, not when the approver approves), and
``record_account_change`` follows ``BankAccountChanged`` in the approver's transaction: the account
in force ends the day before the new one starts, the new one is stored, and the audit log says
both (masked). An account already recorded from that day or later refuses the approval.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from sqlalchemy import select

from safetynet.audit.log import Actor, append
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.payments.accounts import parse_account_number, parse_bank_code
from safetynet.payments.masking import mask_account
from safetynet.payments.model import PayeeAccount
from safetynet.registry.changes import ChangeRefusedError, CheckedAccount

__all__ = ["check_account", "record_account_change"]


def check_account(bank_code: str, account_number: str) -> CheckedAccount:
    """A requested account, checked as an account file's row is (``InputError`` naming the
    field), with its masked form for displays."""
    number = parse_account_number(account_number)
    return CheckedAccount(parse_bank_code(bank_code), number, mask_account(number))


class _AccountChange(Protocol):
    @property
    def request_id(self) -> int: ...
    @property
    def household_id(self) -> int: ...
    @property
    def holder_person_id(self) -> int: ...
    @property
    def bank_code(self) -> str: ...
    @property
    def account_number(self) -> str: ...
    @property
    def valid_from(self) -> dt.date: ...
    @property
    def actor(self) -> Actor: ...
    @property
    def occurred_at(self) -> dt.datetime: ...


def record_account_change(event: _AccountChange, uow: UnitOfWork) -> None:
    """Store the household's new account from ``valid_from`` and end the one in force the day
    before; refused (``ChangeRefusedError``) when an account starts on that day or later."""
    session = uow.session
    accounts = list(
        session.scalars(
            select(PayeeAccount)
            .where(PayeeAccount.household_id == event.household_id)
            .order_by(PayeeAccount.valid_from)
        )
    )
    later = [a for a in accounts if a.valid_from >= event.valid_from]
    if later:
        raise ChangeRefusedError(
            event.request_id,
            "approve",
            f"the household already has account {mask_account(later[-1].account_number)} from "
            f"{later[-1].valid_from}; a new account must start after it",
        )
    ended: dict[str, str | None] | None = None
    for account in accounts:
        if account.valid_to is None or account.valid_to >= event.valid_from:
            old_end = None if account.valid_to is None else account.valid_to.isoformat()
            ended = {"account": mask_account(account.account_number), "valid_to": old_end}
            account.valid_to = event.valid_from - dt.timedelta(days=1)
    new = PayeeAccount(
        household_id=event.household_id,
        holder_person_id=event.holder_person_id,
        bank_code=event.bank_code,
        account_number=event.account_number,
        valid_from=event.valid_from,
        valid_to=None,
        created_at=event.occurred_at,
        source=f"change request {event.request_id}",
    )
    session.add(new)
    session.flush()
    append(
        session,
        actor=event.actor,
        command="ApproveChange",
        event="PayeeAccountChanged",
        entity="household",
        entity_id=event.household_id,
        before=ended,
        after={
            "account": mask_account(event.account_number),
            "bank_code": event.bank_code,
            "valid_from": event.valid_from.isoformat(),
            "holder_person_id": event.holder_person_id,
            "change_request": event.request_id,
        },
        occurred_at=event.occurred_at,
    )
