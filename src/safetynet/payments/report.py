"""The "paid in full and on time" report per county and program for one month.

For the instructions of the month: how many are payable (something to transfer), paid on time
(booked by the parameter ``payments.timeliness.paid_by_day`` of the month), paid late, failed,
held by a payment hold, held for want of an account, still with the bank or not yet exported; and the recoveries still outstanding
for the county and program (all months, as of now). Paid means paid in full: reconciliation
refuses a return row whose amount differs from what was sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from safetynet.db.engine import Database
from safetynet.domain.regions import default_registry
from safetynet.payments.holds import held_kind
from safetynet.payments.model import PaymentInstruction, PaymentRecovery
from safetynet.payments.months import month_bounds, parse_month
from safetynet.policy.parameters import ParameterTree, default_tree
from safetynet.registry.model import Household

__all__ = ["PAID_BY_DAY", "ReportRow", "payment_report"]

PAID_BY_DAY = "payments.timeliness.paid_by_day"


@dataclass(frozen=True, slots=True)
class ReportRow:
    county: str
    program: str
    deadline: dt.date
    payable: int
    payable_fen: int
    paid_on_time: int
    paid_late: int
    paid_fen: int
    failed: int
    held: int  # no payee account valid in the month
    awaiting: int  # pending or exported: no result yet
    outstanding_recoveries_fen: int
    held_by_hold: int = 0  # kept by a payment hold (payments.holds)
    # held by the bank file's check: the enrolment suspended, or the entitlement ended (a death
    # or a termination recorded after the roll)
    held_suspended: int = 0
    held_ended: int = 0
    held_died: int = 0  # the payee (or the household's only member) recorded dead

    @property
    def on_time_share(self) -> float | None:
        """Paid on time / payable, for display only (never used in money)."""
        return None if self.payable == 0 else self.paid_on_time / self.payable


def _sums(
    model: type[PaymentRecovery] | type[PaymentInstruction], amount: Any, county: str | None
) -> Select[tuple[str, str, Any]]:
    """The sum of ``amount`` per county and program over the rows of ``model`` (of one county,
    or all)."""
    query = (
        select(Household.region_code, model.program, func.sum(amount))
        .join(Household, Household.id == model.household_id)
        .group_by(Household.region_code, model.program)
    )
    if county is not None:
        query = query.where(Household.region_code == county)
    return query


def payment_report(
    db: Database, month: str, county: str | None = None, *, tree: ParameterTree | None = None
) -> list[ReportRow]:
    """One row per county and program with instructions for ``month`` or outstanding recoveries."""
    month = parse_month(month, "--month")
    first, _ = month_bounds(month)
    tree = tree or default_tree()
    net = (
        PaymentInstruction.amount_fen
        + PaymentInstruction.arrears_fen
        - PaymentInstruction.recovery_fen
    )
    with db.sessions() as session:
        query = (
            select(
                Household.region_code,
                PaymentInstruction.program,
                PaymentInstruction.status,
                PaymentInstruction.paid_on,
                net,
                PaymentInstruction.hold_id,
                PaymentInstruction.held_reason,
            )
            .join(Household, Household.id == PaymentInstruction.household_id)
            .where(PaymentInstruction.month == month, PaymentInstruction.status != "settled")
        )
        if county is not None:
            query = query.where(Household.region_code == county)
        instructions = session.execute(query).all()
        recovered = _sums(PaymentRecovery, PaymentRecovery.amount_fen, county)
        offsets = _sums(PaymentInstruction, PaymentInstruction.recovery_fen, county)
        outstanding: dict[tuple[str, str], int] = {
            (c, p): int(total) for c, p, total in session.execute(recovered)
        }
        for c, p, total in session.execute(offsets):
            if (c, p) in outstanding:
                outstanding[(c, p)] -= int(total or 0)

    deadlines: dict[str, dt.date] = {}

    def deadline(region: str) -> dt.date:
        if region not in deadlines:
            lineage = default_registry().lineage_codes(region)
            day = int(tree.resolve(PAID_BY_DAY, first, lineage).value)
            deadlines[region] = first.replace(day=min(day, month_bounds(month)[1].day))
        return deadlines[region]

    counts: dict[tuple[str, str], dict[str, int]] = {}
    column = {
        "no account": "held",
        "payment hold": "held_by_hold",
        "suspended": "held_suspended",
        "ended": "held_ended",
        "payee died": "held_died",
    }
    for region, program, status, paid_on, amount, hold_id, held_reason in instructions:
        row = counts.setdefault(
            (region, program),
            dict.fromkeys(
                (
                    "payable",
                    "payable_fen",
                    "on_time",
                    "late",
                    "paid_fen",
                    "failed",
                    "held",
                    "held_by_hold",
                    "held_suspended",
                    "held_ended",
                    "held_died",
                    "awaiting",
                ),
                0,
            ),
        )
        row["payable"] += 1
        row["payable_fen"] += amount
        if status == "paid":
            row["on_time" if paid_on is not None and paid_on <= deadline(region) else "late"] += 1
            row["paid_fen"] += amount
        elif status == "held":
            row[column[held_kind(hold_id, held_reason)]] += 1
        elif status == "failed":
            row[status] += 1
        else:
            row["awaiting"] += 1
    keys = sorted(set(counts) | {k for k, v in outstanding.items() if v > 0})
    return [
        ReportRow(
            county=region,
            program=program,
            deadline=deadline(region),
            payable=counts.get((region, program), {}).get("payable", 0),
            payable_fen=counts.get((region, program), {}).get("payable_fen", 0),
            paid_on_time=counts.get((region, program), {}).get("on_time", 0),
            paid_late=counts.get((region, program), {}).get("late", 0),
            paid_fen=counts.get((region, program), {}).get("paid_fen", 0),
            failed=counts.get((region, program), {}).get("failed", 0),
            held=counts.get((region, program), {}).get("held", 0),
            held_by_hold=counts.get((region, program), {}).get("held_by_hold", 0),
            held_suspended=counts.get((region, program), {}).get("held_suspended", 0),
            held_ended=counts.get((region, program), {}).get("held_ended", 0),
            held_died=counts.get((region, program), {}).get("held_died", 0),
            awaiting=counts.get((region, program), {}).get("awaiting", 0),
            outstanding_recoveries_fen=max(0, outstanding.get((region, program), 0)),
        )
        for region, program in keys
    ]
