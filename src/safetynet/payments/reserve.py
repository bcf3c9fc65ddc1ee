"""The township reserve for small emergency payments (乡镇(街道)临时救助备用金): an account per
township with a balance, which a payment of an emergency advance lowers at once and the county's
top-up raises.

The State Council's 2014 notice on temporary assistance (国发〔2014〕47号) and the 2018 MCA/MOF
opinions (part 2 item (2)) let the township (street office) pay a small emergency amount at once
(先行救助) from a reserve the county funds. A payment is refused, with the reason, when it is above
the township's advance limit in force (``assistance.temporary_assistance.township_advance_limit``,
set by the locality), when no limit is set, or when it is above the balance; nothing is then
recorded. Each top-up and each payment is a ``reserve_entries`` row with the balance after it;
the reserve's row is locked while it changes, so two payments never spend the same balance.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.db.engine import Database
from safetynet.domain.money import format_yuan
from safetynet.domain.regions import default_registry, validate_region_code
from safetynet.errors import InputError, SafetyNetError
from safetynet.payments.model import ReserveEntry, TownshipReserve
from safetynet.policy.parameters import ParameterTree

__all__ = [
    "ADVANCE_LIMIT",
    "RESERVE_PROGRAM",
    "ReservePayment",
    "ReserveRefusedError",
    "ReserveRow",
    "TopUpReserve",
    "pay_from_reserve",
    "reserve_balances",
    "top_up_reserve",
    "validate_township",
]

Clock = Callable[[], dt.datetime]
ADVANCE_LIMIT = "assistance.temporary_assistance.township_advance_limit"
# The reserve is temporary assistance's (临时救助备用金): no other program is paid from it.
RESERVE_PROGRAM = "temporary_assistance"
_TOWNSHIP = re.compile(r"[0-9]{9}")


class ReserveRefusedError(SafetyNetError):
    """A payment from a township reserve that may not be made: above the limit or the balance."""


def validate_township(value: str, field: str = "township") -> str:
    """A 9-digit township (street) code whose first 6 digits are a known county."""
    code = value.strip()
    if not _TOWNSHIP.fullmatch(code):
        raise InputError(
            field, f"{value!r} is not a 9-digit township code (county code + 3 digits)"
        )
    validate_region_code(code[:6], field)
    return code


@dataclass(frozen=True, kw_only=True)
class TopUpReserve:
    """The county tops up (or opens, at the first top-up) a township's reserve."""

    township: str
    amount_fen: int
    reason: str
    actor: Actor


@dataclass(frozen=True, slots=True)
class ReserveRow:
    township: str
    county: str
    balance_fen: int
    topped_up_fen: int
    paid_fen: int
    payments: int


def _reserve(session: Session, township: str) -> TownshipReserve | None:
    return session.scalars(
        select(TownshipReserve).where(TownshipReserve.township == township).with_for_update()
    ).one_or_none()


def top_up_reserve(db: Database, cmd: TopUpReserve, clock: Clock) -> int:
    """Add ``amount_fen`` to the township's reserve (one transaction, one audit entry
    ``ReserveToppedUp``); returns the balance after it."""
    township = validate_township(cmd.township)
    if cmd.amount_fen <= 0:
        raise InputError("amount", "a top-up is a positive amount")
    if not cmd.reason.strip():
        raise InputError("reason", "say why (e.g. the county's allocation for the quarter)")
    now = clock()
    with db.sessions.begin() as session:
        reserve = _reserve(session, township)
        if reserve is None:
            reserve = TownshipReserve(
                township=township, county=township[:6], balance_fen=0, opened_at=now
            )
            session.add(reserve)
            session.flush()
        before = reserve.balance_fen
        reserve.balance_fen = before + cmd.amount_fen
        session.add(
            ReserveEntry(
                reserve_id=reserve.id,
                kind="top_up",
                amount_fen=cmd.amount_fen,
                balance_after_fen=reserve.balance_fen,
                reason=cmd.reason.strip(),
                recorded_at=now,
                recorded_by=cmd.actor.name,
            )
        )
        append(
            session,
            actor=cmd.actor,
            command="payments reserve top-up",
            event="ReserveToppedUp",
            entity="township_reserve",
            entity_id=township,
            before={"balance": format_yuan(before)},
            after={
                "balance": format_yuan(reserve.balance_fen),
                "top_up": format_yuan(cmd.amount_fen),
                "reason": cmd.reason.strip(),
            },
            occurred_at=now,
        )
        return reserve.balance_fen


def _limit(tree: ParameterTree, county: str, on: dt.date) -> int | None:
    """The township's advance limit in force on ``on`` (fen), or None where none is set."""
    try:
        value = tree.resolve(ADVANCE_LIMIT, on, default_registry().lineage_codes(county)).value
    except SafetyNetError:
        return None
    return None if value is None else int(value)


@dataclass(frozen=True, kw_only=True)
class ReservePayment:
    award_id: int
    township: str
    amount_fen: int
    on: dt.date
    reason: str
    actor: Actor


def pay_from_reserve(
    session: Session, payment: ReservePayment, tree: ParameterTree, now: dt.datetime
) -> int:
    """Pay an award from the township's reserve in the caller's transaction, or refuse with the
    reason (``ReserveRefusedError``; nothing recorded). Returns the balance after it."""
    township = payment.township
    reserve = _reserve(session, township)
    amount = format_yuan(payment.amount_fen)
    if reserve is None:
        raise ReserveRefusedError(
            f"township {township} has no reserve (临时救助备用金) yet: the county opens it with "
            "`safetynet payments reserve top-up`; pay through the bank instead"
        )
    limit = _limit(tree, reserve.county, payment.on)
    if limit is None:
        raise ReserveRefusedError(
            f"no township advance limit is set for {reserve.county} on {payment.on} "
            f"({ADVANCE_LIMIT}): the reserve pays only amounts within it; pay through the bank"
        )
    if payment.amount_fen > limit:
        raise ReserveRefusedError(
            f"{amount} yuan is above the township advance limit of {format_yuan(limit)} yuan "
            f"({ADVANCE_LIMIT}, {reserve.county}): pay it through the bank"
        )
    if payment.amount_fen > reserve.balance_fen:
        raise ReserveRefusedError(
            f"the reserve of township {township} holds {format_yuan(reserve.balance_fen)} yuan, "
            f"less than the {amount} yuan to pay: the county tops it up first, or pay through "
            "the bank"
        )
    reserve.balance_fen -= payment.amount_fen
    session.add(
        ReserveEntry(
            reserve_id=reserve.id,
            kind="payment",
            amount_fen=payment.amount_fen,
            balance_after_fen=reserve.balance_fen,
            award_id=payment.award_id,
            reason=payment.reason,
            recorded_at=now,
            recorded_by=payment.actor.name,
        )
    )
    session.flush()
    return reserve.balance_fen


def reserve_balances(db: Database, county: str | None = None) -> list[ReserveRow]:
    """Every township reserve (of one county, or all): balance, totals topped up and paid."""
    totals = select(
        ReserveEntry.reserve_id,
        ReserveEntry.kind,
        func.sum(ReserveEntry.amount_fen),
        func.count(),
    ).group_by(ReserveEntry.reserve_id, ReserveEntry.kind)
    query = select(TownshipReserve).order_by(TownshipReserve.township)
    if county is not None:
        query = query.where(TownshipReserve.county == county)
    with db.sessions() as session:
        sums: dict[tuple[int, str], tuple[int, int]] = {
            (r, k): (int(s), int(n)) for r, k, s, n in session.execute(totals)
        }
        return [
            ReserveRow(
                township=r.township,
                county=r.county,
                balance_fen=r.balance_fen,
                topped_up_fen=sums.get((r.id, "top_up"), (0, 0))[0],
                paid_fen=sums.get((r.id, "payment"), (0, 0))[0],
                payments=sums.get((r.id, "payment"), (0, 0))[1],
            )
            for r in session.scalars(query)
        ]
