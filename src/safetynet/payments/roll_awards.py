"""The one-off awards of a roll: each award due by the month's last day and not yet instructed
becomes one instruction whose natural key is the award itself (``payment_instructions.award_id``,
UNIQUE), distinct from the monthly (household, program, month) key, in the same bank files and
reconciliation as the monthly instructions.

Walked in award-id order, ``batch_size`` at a time; each batch is one transaction that inserts
with ``ON CONFLICT (award_id) DO NOTHING``. A crash loses at most the batch in flight; rolling
again (the same month, or any later one) finds the awards already instructed and makes nothing
for them, so an award is paid once whatever is re-run. Awards paid from the township reserve
never reach the roll. Load, pure plan (``plan_awards``), apply, as for the monthly roll.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, exists, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from safetynet.db.bulk import among, insert_new, without_jit
from safetynet.db.engine import Database
from safetynet.payments.accounts import account_for_month
from safetynet.payments.holds import NO_ACCOUNT, active_holds, covering_hold
from safetynet.payments.model import (
    AWARD_ONLY,
    OneOffAward,
    PayeeAccount,
    PaymentHold,
    PaymentInstruction,
    Provider,
)
from safetynet.payments.months import month_bounds
from safetynet.registry.model import Household

__all__ = ["AWARD_INSTRUCTION_KEY", "AwardTotals", "DueAward", "plan_awards", "roll_awards"]

Clock = Callable[[], dt.datetime]
AWARD_INSTRUCTION_KEY = ("award_id",)


@dataclass(frozen=True, slots=True)
class DueAward:
    """An award due by the month and not yet instructed, as the plan needs it."""

    id: int
    household_id: int
    program: str
    payable_fen: int
    payee: str
    provider_id: int | None


@dataclass
class AwardTotals:
    """What the awards phase of one roll did: awards looked at (``due``), instructions made,
    their sum, how many were held and how many had nothing left to pay (settled)."""

    due: int = 0
    created: int = 0
    created_fen: int = 0
    held: int = 0
    settled: int = 0
    batches: int = 0
    ids: list[int] = field(default_factory=list)


def due_awards(month: str, county: str | None) -> Select[int, int, str, int, str, int | None]:
    """Awards due on or before the month's last day, paid through the bank, not withdrawn and not
    yet instructed, in id order."""
    _, last = month_bounds(month)
    instructed = exists().where(PaymentInstruction.award_id == OneOffAward.id)
    query = (
        select(
            OneOffAward.id,
            OneOffAward.household_id,
            OneOffAward.program,
            OneOffAward.payable_fen,
            OneOffAward.payee,
            OneOffAward.provider_id,
        )
        .where(
            OneOffAward.due_on <= last,
            OneOffAward.payee != "township_reserve",
            OneOffAward.cancelled_at.is_(None),
            ~instructed,
        )
        .order_by(OneOffAward.id)
    )
    if county is not None:
        query = query.join(Household, Household.id == OneOffAward.household_id).where(
            Household.region_code == county
        )
    return query


def plan_awards(
    month: str,
    awards: Sequence[DueAward],
    accounts: dict[int, list[PayeeAccount]],
    providers: dict[int, Provider],
    holds: dict[int, list[PaymentHold]],
) -> list[dict[str, object]]:
    """The instruction of each award (pure): the provider's account for a provider, else the
    household's account valid in the month (held without one); held under a standing payment
    hold that covers the program and month; settled when nothing is left to pay."""
    first, last = month_bounds(month)
    rows: list[dict[str, object]] = []
    for award in awards:
        account: str | None = None
        bank: str | None = None
        account_id: int | None = None
        if award.provider_id is not None:
            provider = providers[award.provider_id]
            account, bank = provider.account_number, provider.bank_code
        else:
            options = accounts.get(award.household_id, [])
            chosen = account_for_month(options, first, last)
            if chosen is not None:
                found = options[chosen]
                account, bank, account_id = found.account_number, found.bank_code, found.id
        hold = covering_hold(holds.get(award.household_id, []), award.program, month)
        status, reason = "pending", None
        if award.payable_fen == 0:
            status = "settled"
        elif hold is not None:
            status, reason = "held", hold.reason
        elif account is None:
            status, reason = "held", NO_ACCOUNT
        rows.append(
            {"award_id": award.id, "household_id": award.household_id, "program": award.program,
             "month": month, "amount_fen": award.payable_fen, "arrears_fen": 0, "recovery_fen": 0,
             "account": account, "bank_code": bank, "payee_account_id": account_id,
             "provider_id": award.provider_id, "enrolment_id": None, "status": status,
             "hold_id": hold.id if status == "held" and hold is not None else None,
             "held_reason": reason}
        )  # fmt: skip
    return rows


def _load(
    session: Session, found: Sequence[DueAward]
) -> tuple[dict[int, list[PayeeAccount]], dict[int, Provider], dict[int, list[PaymentHold]]]:
    households = sorted({a.household_id for a in found})
    accounts: dict[int, list[PayeeAccount]] = {}
    for account in session.scalars(
        select(PayeeAccount)
        .where(among(session, PayeeAccount.household_id, households))
        .order_by(PayeeAccount.id)
    ):
        accounts.setdefault(account.household_id, []).append(account)
    provider_ids = sorted({a.provider_id for a in found if a.provider_id is not None})
    providers = {
        p.id: p for p in session.scalars(select(Provider).where(Provider.id.in_(provider_ids)))
    }
    return accounts, providers, active_holds(session, households)


def _apply(
    session: Session, rows: list[dict[str, object]], run_id: int, now: dt.datetime
) -> list[tuple[int, str, int]]:
    """Insert the instructions (an award instructed meanwhile by another roll is skipped) and
    return (id, status, amount) of those this batch made. On SQLite an ``INSERT … RETURNING`` of
    many rows costs more than the inserts (SQLAlchemy splices the returned rows page by page):
    the rows made are read back by run instead, under the database's write lock."""
    full = [{**row, "run_id": run_id, "created_at": now} for row in rows]
    if session.get_bind().dialect.name == "postgresql":
        insert_new(
            session,
            PaymentInstruction,
            full,
            AWARD_INSTRUCTION_KEY,
            PaymentInstruction.id,
            index_where=AWARD_ONLY,
        )
    else:
        statement = sqlite.insert(PaymentInstruction).on_conflict_do_nothing(
            index_elements=list(AWARD_INSTRUCTION_KEY), index_where=text(AWARD_ONLY)
        )
        session.execute(statement, full)
    awards = [int(str(row["award_id"])) for row in rows]
    made = session.execute(
        select(PaymentInstruction.id, PaymentInstruction.status, PaymentInstruction.amount_fen)
        .where(
            among(session, PaymentInstruction.award_id, awards),
            PaymentInstruction.run_id == run_id,
        )
        .order_by(PaymentInstruction.id)
    )
    return [(int(i), str(s), int(a)) for i, s, a in made]


def roll_awards(
    db: Database, month: str, county: str | None, batch_size: int, run_id: int, clock: Clock
) -> AwardTotals:
    """Every batch of due awards, each in its own transaction (module docstring)."""
    query = due_awards(month, county).limit(batch_size)
    cursor = 0
    totals = AwardTotals()
    while True:
        with db.sessions.begin() as session:
            without_jit(session)
            found = [
                DueAward(i, h, p, a, payee, provider)
                for i, h, p, a, payee, provider in session.execute(
                    query.where(OneOffAward.id > cursor)
                )
            ]
            if not found:
                return totals
            rows = plan_awards(month, found, *_load(session, found))
            made = _apply(session, rows, run_id, clock())
            cursor = found[-1].id
        totals.batches += 1
        totals.due += len(found)
        totals.created += len(made)
        totals.created_fen += sum(a for _, s, a in made if s != "settled")
        totals.held += sum(s == "held" for _, s, _ in made)
        totals.settled += sum(s == "settled" for _, s, _ in made)
        totals.ids.extend(i for i, _, _ in made)
