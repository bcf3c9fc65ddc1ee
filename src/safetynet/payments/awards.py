"""One-off and per-event awards (temporary assistance and its emergency advance, education,
disaster and housing grants, price subsidies, medical assistance): recorded once when a case
decides them, then paid once: by the roll of the first month on or after their due date (an
instruction whose natural key is the award: ``payments.roll_awards``), or at once from the
township reserve (``payments.reserve``).

An award is known by (program, case, sequence): the case workflow publishes ``BenefitAwarded``
in the deciding transaction, and a decision published again records nothing new. A decision
after an emergency advance deducts the case's advances: the award pays the remainder, never less
than nothing; an advance above the decided amount is recorded as a recovery
(``payment_recoveries``, as the roll does for an overpaid month). Medical assistance settled with
the provider is paid to the provider's account (``providers``); every other award to the
household's account. docs/payments.md, "One-off awards".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.db.bulk import insert_new
from safetynet.db.engine import Database
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.money import format_yuan
from safetynet.domain.regions import validate_region_code
from safetynet.errors import InputError, UnknownNameError
from safetynet.payments.accounts import BANK_CATEGORIES
from safetynet.payments.masking import mask_account
from safetynet.payments.model import (
    PAYEE_KINDS,
    OneOffAward,
    PaymentInstruction,
    PaymentRecovery,
    Provider,
    ReserveEntry,
)
from safetynet.payments.reserve import (
    RESERVE_PROGRAM,
    ReservePayment,
    pay_from_reserve,
    validate_township,
)
from safetynet.payments.revisions import revise_award
from safetynet.policy.parameters import ParameterTree
from safetynet.registry.model import Household

__all__ = [
    "AWARD_KEY",
    "AwardRow",
    "AwardedBenefit",
    "RegisterProvider",
    "list_awards",
    "record_award",
    "record_benefit_award",
    "register_provider",
]

Clock = Callable[[], dt.datetime]
AWARD_KEY = ("program", "case_id", "sequence")


class AwardedBenefit(Protocol):
    """The case workflow's ``BenefitAwarded``, as payments reads it."""

    @property
    def program(self) -> str: ...
    @property
    def case_id(self) -> int: ...
    @property
    def sequence(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def household_id(self) -> int: ...
    @property
    def amount_fen(self) -> int: ...
    @property
    def payee(self) -> str: ...
    @property
    def provider(self) -> str | None: ...
    @property
    def township(self) -> str | None: ...
    @property
    def due_on(self) -> dt.date: ...
    @property
    def reason(self) -> str: ...
    @property
    def actor(self) -> Actor: ...
    @property
    def occurred_at(self) -> dt.datetime: ...


def _provider_id(session: Session, award: AwardedBenefit) -> int | None:
    if award.payee != "provider":
        return None
    if not award.provider:
        raise InputError("provider", "a payment to the provider names the provider")
    found = session.scalar(select(Provider.id).where(Provider.code == award.provider))
    if found is None:
        raise UnknownNameError(
            "provider", award.provider, "register it: safetynet payments providers add"
        )
    return found


def _advances(session: Session, award: AwardedBenefit) -> int:
    """What the case's earlier advances awarded (deducted from a decided award)."""
    if award.kind != "award":
        return 0
    total = session.scalar(
        select(func.sum(OneOffAward.amount_fen)).where(
            OneOffAward.program == award.program,
            OneOffAward.case_id == award.case_id,
            OneOffAward.kind == "advance",
            OneOffAward.sequence < award.sequence,
        )
    )
    return int(total or 0)


def _check(award: AwardedBenefit) -> str | None:
    if award.payee not in PAYEE_KINDS:
        raise InputError("payee", f"{award.payee!r} is not one of {', '.join(PAYEE_KINDS)}")
    if award.amount_fen < 0:
        raise InputError("amount", "an award is not negative")
    if award.payee != "township_reserve":
        return None
    if award.program != RESERVE_PROGRAM:
        raise InputError(
            "payee",
            f"the township reserve (临时救助备用金) pays {RESERVE_PROGRAM} only, not {award.program}",
        )
    if award.township is None:
        raise InputError("township", "a payment from the township reserve names the township")
    return validate_township(award.township)


def record_award(session: Session, award: AwardedBenefit, tree: ParameterTree) -> int:
    """Record ``award`` in the caller's transaction (once: a key already recorded is left as it
    is) and, for the township reserve, pay it from there at once (or refuse). Returns its id."""
    township = _check(award)
    provider_id = _provider_id(session, award)
    advances = _advances(session, award)
    deducted = min(advances, award.amount_fen)
    row = {
        "program": award.program,
        "case_id": award.case_id,
        "sequence": award.sequence,
        "kind": award.kind,
        "household_id": award.household_id,
        "amount_fen": award.amount_fen,
        "deducted_fen": deducted,
        "payable_fen": award.amount_fen - deducted,
        "payee": award.payee,
        "provider_id": provider_id,
        "township": township,
        "due_on": award.due_on,
        "reason": award.reason,
        "recorded_at": award.occurred_at,
        "recorded_by": award.actor.name,
    }
    made = insert_new(session, OneOffAward, [row], AWARD_KEY, OneOffAward.id)
    if not made:
        existing = session.scalar(
            select(OneOffAward.id).where(
                OneOffAward.program == award.program,
                OneOffAward.case_id == award.case_id,
                OneOffAward.sequence == award.sequence,
            )
        )
        assert existing is not None  # the conflict was on this key
        if award.kind == "award":
            # published again: the same decision records nothing; a decision changed on appeal
            # (a new amount) is followed by a revision (payments.revisions)
            revise_award(session, award, award.amount_fen)
        return int(existing)
    award_id = int(made[0][0])
    overpaid = advances - award.amount_fen
    if overpaid > 0:
        session.add(
            PaymentRecovery(
                household_id=award.household_id,
                program=award.program,
                award_id=award_id,
                amount_fen=overpaid,
                created_at=award.occurred_at,
            )
        )
    balance = None
    payable = award.amount_fen - deducted
    if township is not None and payable > 0:
        balance = pay_from_reserve(
            session,
            ReservePayment(
                award_id=award_id,
                township=township,
                amount_fen=payable,
                on=award.due_on,
                reason=award.reason,
                actor=award.actor,
            ),
            tree,
            award.occurred_at,
        )
    _audit(session, award, award_id, deducted, overpaid, balance)
    return award_id


def _audit(
    session: Session,
    award: AwardedBenefit,
    award_id: int,
    deducted: int,
    overpaid: int,
    balance: int | None,
) -> None:
    after: dict[str, object] = {
        "program": award.program,
        "case": award.case_id,
        "sequence": award.sequence,
        "kind": award.kind,
        "household": award.household_id,
        "amount": format_yuan(award.amount_fen),
        "advances_deducted": format_yuan(deducted),
        "payable": format_yuan(award.amount_fen - deducted),
        "payee": award.payee,
        "provider": award.provider,
        "due_on": award.due_on.isoformat(),
        "reason": award.reason,
    }
    if overpaid > 0:
        after["advance_above_award_to_recover"] = format_yuan(overpaid)
    if balance is not None:
        after["paid_from_reserve_of"] = award.township
        after["reserve_balance_after"] = format_yuan(balance)
    append(
        session,
        actor=award.actor,
        command="BenefitAwarded",
        event="OneOffAwardRecorded",
        entity="one_off_award",
        entity_id=award_id,
        after=after,
        occurred_at=award.occurred_at,
    )


def record_benefit_award(event: AwardedBenefit, uow: UnitOfWork) -> None:
    """Follower of the case workflow's ``BenefitAwarded`` (``safetynet.bootstrap``)."""
    record_award(uow.session, event, uow.parameters)


# -- providers ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RegisterProvider:
    code: str
    name: str
    county: str
    bank_code: str
    account_number: str
    actor: Actor


def register_provider(db: Database, cmd: RegisterProvider, clock: Clock) -> int:
    """Add a provider with its bank account (one transaction, audit entry
    ``ProviderRegistered``, the account masked there). Returns its id."""
    code = cmd.code.strip()
    if not code or len(code) > 40:
        raise InputError("code", "give the provider's code (1 to 40 characters)")
    if not cmd.name.strip():
        raise InputError("name", "give the provider's name")
    county = validate_region_code(cmd.county, "county")
    account = cmd.account_number.replace(" ", "").replace("-", "")
    if not (account.isascii() and account.isdigit() and 12 <= len(account) <= 19):
        raise InputError("account", f"{mask_account(account)} is not 12 to 19 digits")
    bank = cmd.bank_code.strip()
    if not (bank.isascii() and bank.isdigit() and len(bank) in (3, 12)) or (
        bank[:3] not in BANK_CATEGORIES
    ):
        raise InputError("bank_code", f"{bank!r} is not a known bank category or CNAPS number")
    now = clock()
    with db.sessions.begin() as session:
        if session.scalar(select(Provider.id).where(Provider.code == code)) is not None:
            raise InputError("code", f"provider {code} is already registered")
        provider = Provider(
            code=code,
            name=cmd.name.strip(),
            county=county,
            bank_code=bank,
            account_number=account,
            created_at=now,
            recorded_by=cmd.actor.name,
        )
        session.add(provider)
        session.flush()
        append(
            session,
            actor=cmd.actor,
            command="payments providers add",
            event="ProviderRegistered",
            entity="provider",
            entity_id=provider.id,
            after={"code": code, "name": provider.name, "county": county, "bank_code": bank,
                   "account": mask_account(account)},
            occurred_at=now,
        )  # fmt: skip
        return provider.id


# -- listing --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AwardRow:
    id: int
    county: str
    household_no: str
    program: str
    case_id: int
    sequence: int
    kind: str
    amount_fen: int
    deducted_fen: int
    payable_fen: int
    payee: str
    due_on: dt.date
    state: str  # awaiting the roll; instructed (with the instruction's status); from the reserve
    instruction_id: int | None
    month: str | None


def list_awards(
    db: Database,
    county: str | None = None,
    due_by: dt.date | None = None,
    due_from: dt.date | None = None,
) -> list[AwardRow]:
    """The one-off awards (of one county; due from ``due_from`` up to ``due_by``), in id order,
    with how each is being paid."""
    query = (
        select(
            OneOffAward,
            Household.region_code,
            Household.household_no,
            PaymentInstruction.id,
            PaymentInstruction.status,
            PaymentInstruction.month,
            ReserveEntry.id,
        )
        .join(Household, Household.id == OneOffAward.household_id)
        .outerjoin(PaymentInstruction, PaymentInstruction.award_id == OneOffAward.id)
        .outerjoin(ReserveEntry, ReserveEntry.award_id == OneOffAward.id)
        .order_by(OneOffAward.id)
    )
    if county is not None:
        query = query.where(Household.region_code == county)
    if due_by is not None:
        query = query.where(OneOffAward.due_on <= due_by)
    if due_from is not None:
        query = query.where(OneOffAward.due_on >= due_from)
    rows = []
    with db.sessions() as session:
        for award, region, household_no, instruction_id, status, month, entry in session.execute(
            query
        ):
            if award.cancelled_at is not None:
                state = "withdrawn (the decision changed before payment)"
            elif entry is not None:
                state = "paid from the township reserve"
            elif instruction_id is not None:
                state = f"instruction {status}"
            elif award.payee == "township_reserve":
                state = "nothing to pay (advances cover it)"
            else:
                state = "awaiting the roll"
            rows.append(
                AwardRow(award.id, region, household_no, award.program, award.case_id,
                         award.sequence, award.kind, award.amount_fen, award.deducted_fen,
                         award.payable_fen, award.payee, award.due_on, state, instruction_id,
                         month)
            )  # fmt: skip
    return rows
