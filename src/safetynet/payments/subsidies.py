"""The month's subsidies decided by the monthly rules run, not by a case: the temporary price
subsidy (价格临时补贴) that the month's CPI triggers for the covered recipients. Each becomes a
one-off award (``one_off_awards``, kind ``subsidy``) whose natural key is (program, the month as
the case — YYYYMM —, the household as the sequence), so the month is awarded once to a household
however often the cycle runs, and the roll pays it once like every award (its instruction is
keyed by the award: ``payments.roll_awards``). docs/payments.md, "The month's subsidies".
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from safetynet.audit.log import Actor, append
from safetynet.db.bulk import among, insert_new
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.money import format_yuan
from safetynet.errors import InputError
from safetynet.payments.awards import AWARD_KEY
from safetynet.payments.model import OneOffAward
from safetynet.payments.months import month_bounds
from safetynet.registry.model import Household

__all__ = ["AwardMonthSubsidies", "SubsidyCounts", "award_month_subsidies", "subsidy_case"]

Clock = Callable[[], dt.datetime]


def subsidy_case(month: str) -> int:
    """The award's case number of a month's subsidy: the month as YYYYMM (2025-09 → 202509)."""
    first, _ = month_bounds(month)
    return first.year * 100 + first.month


@dataclass(frozen=True, kw_only=True)
class AwardMonthSubsidies:
    """Award ``program``'s amount of ``month`` to each (household id, amount in fen) of
    ``awards`` (one county's rules run: ``county``)."""

    program: str
    month: str
    county: str
    awards: Sequence[tuple[int, int]]
    actor: Actor


@dataclass
class SubsidyCounts:
    """What one call did: awards recorded now (and their sum), already recorded by an earlier
    run, and households the registry does not hold (left out)."""

    recorded: int = 0
    recorded_fen: int = 0
    present: int = 0
    outside_registry: int = 0


def _held(uow: UnitOfWork, ids: list[int]) -> set[int]:
    found = uow.session.scalars(select(Household.id).where(among(uow.session, Household.id, ids)))
    return {int(i) for i in found}


def award_month_subsidies(cmd: AwardMonthSubsidies, uow: UnitOfWork, clock: Clock) -> SubsidyCounts:
    """Record the month's subsidy of every household of ``cmd`` the registry holds, once (keys
    already recorded are left as they are), with one audit entry for the county. Due on the
    month's first day: the month's roll pays it."""
    if any(amount <= 0 for _, amount in cmd.awards):
        raise InputError("amount", "a subsidy awarded is above zero")
    case = subsidy_case(cmd.month)
    first, _ = month_bounds(cmd.month)
    now = clock()
    counts = SubsidyCounts()
    held = _held(uow, sorted({h for h, _ in cmd.awards}))
    rows = [
        {"program": cmd.program, "case_id": case, "sequence": household, "kind": "subsidy",
         "household_id": household, "amount_fen": amount, "deducted_fen": 0,
         "payable_fen": amount, "payee": "household", "provider_id": None, "township": None,
         "due_on": first, "reason": f"{cmd.program} {cmd.month} (monthly rules run)",
         "recorded_at": now, "recorded_by": cmd.actor.name}
        for household, amount in cmd.awards
        if household in held
    ]  # fmt: skip
    counts.outside_registry = len(cmd.awards) - len(rows)
    made = {int(h) for (h,) in insert_new(uow.session, OneOffAward, rows, AWARD_KEY,
                                          OneOffAward.household_id)}  # fmt: skip
    counts.recorded = len(made)
    counts.recorded_fen = sum(int(str(r["amount_fen"])) for r in rows if r["sequence"] in made)
    counts.present = len(rows) - counts.recorded
    if counts.recorded:
        _audit(uow, cmd, case, made, counts, now)
    uow.commit()
    return counts


def _audit(
    uow: UnitOfWork,
    cmd: AwardMonthSubsidies,
    case: int,
    made: set[int],
    counts: SubsidyCounts,
    now: dt.datetime,
) -> None:
    """One entry per county and month: the count, the sum and a digest of the households (the
    awards themselves are the rows of ``one_off_awards``)."""
    digest = hashlib.sha256(",".join(str(h) for h in sorted(made)).encode()).hexdigest()
    append(
        uow.session,
        actor=cmd.actor,
        command="AwardMonthSubsidies",
        event="MonthSubsidiesAwarded",
        entity="county",
        entity_id=cmd.county,
        after={"program": cmd.program, "month": cmd.month, "case": case,
               "awards": counts.recorded, "amount": format_yuan(counts.recorded_fen),
               "already_awarded": counts.present, "households_sha256": digest},
        occurred_at=now,
    )  # fmt: skip
