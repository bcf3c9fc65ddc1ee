"""The "paid in full and on time" report per county and program for one month.

For the instructions of the month: how many are payable (something to transfer), paid on time
(booked by the parameter ``payments.timeliness.paid_by_day`` of the month), paid late, failed,
held by a payment hold, held for want of an account, still with the bank or not yet exported; and the recoveries still outstanding
for the county and program (all months, as of now). Paid means paid in full: reconciliation
refuses a return row whose amount differs from what was sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

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


_COUNTERS = (
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
)
# The counter of each kind of held instruction (``payments.holds.held_kind``).
_HELD_COLUMN = {
    "no account": "held",
    "payment hold": "held_by_hold",
    "suspended": "held_suspended",
    "ended": "held_ended",
    "payee died": "held_died",
}


def _month_instructions(session: Session, month: str, county: str | None) -> list[Any]:
    """The month's instructions not settled nor cancelled (a withdrawn award's): (county,
    program, status, paid on, net, hold id, held reason)."""
    net = (
        PaymentInstruction.amount_fen
        + PaymentInstruction.arrears_fen
        - PaymentInstruction.recovery_fen
    )
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
        .where(
            PaymentInstruction.month == month,
            PaymentInstruction.status.not_in(("settled", "cancelled")),
        )
    )
    if county is not None:
        query = query.where(Household.region_code == county)
    return list(session.execute(query).all())


def _outstanding(session: Session, county: str | None) -> dict[tuple[str, str], int]:
    """Recoveries recorded less those already offset, per county and program."""
    recovered = _sums(PaymentRecovery, PaymentRecovery.amount_fen, county)
    offsets = _sums(PaymentInstruction, PaymentInstruction.recovery_fen, county)
    outstanding: dict[tuple[str, str], int] = {
        (c, p): int(total) for c, p, total in session.execute(recovered)
    }
    for c, p, total in session.execute(offsets):
        if (c, p) in outstanding:
            outstanding[(c, p)] -= int(total or 0)
    return outstanding


class _Deadlines:
    """The day of ``month`` by which a county's payments count as on time, once per county."""

    def __init__(self, tree: ParameterTree, month: str) -> None:
        self.tree = tree
        self.first, self.last = month_bounds(month)
        self._found: dict[str, dt.date] = {}

    def __call__(self, region: str) -> dt.date:
        if region not in self._found:
            lineage = default_registry().lineage_codes(region)
            day = int(self.tree.resolve(PAID_BY_DAY, self.first, lineage).value)
            self._found[region] = self.first.replace(day=min(day, self.last.day))
        return self._found[region]


def _count(
    instructions: list[Any], deadline: Callable[[str], dt.date]
) -> dict[tuple[str, str], dict[str, int]]:
    """The counters of each county and program (pure)."""
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for region, program, status, paid_on, amount, hold_id, held_reason in instructions:
        row = counts.setdefault((region, program), dict.fromkeys(_COUNTERS, 0))
        row["payable"] += 1
        row["payable_fen"] += amount
        if status == "paid":
            row["on_time" if paid_on is not None and paid_on <= deadline(region) else "late"] += 1
            row["paid_fen"] += amount
        elif status == "held":
            row[_HELD_COLUMN[held_kind(hold_id, held_reason)]] += 1
        elif status == "failed":
            row[status] += 1
        else:
            row["awaiting"] += 1
    return counts


def _report_row(
    region: str, program: str, deadline: dt.date, counts: dict[str, int], outstanding: int
) -> ReportRow:
    return ReportRow(
        county=region,
        program=program,
        deadline=deadline,
        payable=counts.get("payable", 0),
        payable_fen=counts.get("payable_fen", 0),
        paid_on_time=counts.get("on_time", 0),
        paid_late=counts.get("late", 0),
        paid_fen=counts.get("paid_fen", 0),
        failed=counts.get("failed", 0),
        held=counts.get("held", 0),
        held_by_hold=counts.get("held_by_hold", 0),
        held_suspended=counts.get("held_suspended", 0),
        held_ended=counts.get("held_ended", 0),
        held_died=counts.get("held_died", 0),
        awaiting=counts.get("awaiting", 0),
        outstanding_recoveries_fen=max(0, outstanding),
    )


def payment_report(
    db: Database, month: str, county: str | None = None, *, tree: ParameterTree | None = None
) -> list[ReportRow]:
    """One row per county and program with instructions for ``month`` or outstanding recoveries."""
    month = parse_month(month, "--month")
    with db.sessions() as session:
        instructions = _month_instructions(session, month, county)
        outstanding = _outstanding(session, county)
    deadline = _Deadlines(tree or default_tree(), month)
    counts = _count(instructions, deadline)
    keys = sorted(set(counts) | {k for k, v in outstanding.items() if v > 0})
    return [
        _report_row(
            region,
            program,
            deadline(region),
            counts.get((region, program), {}),
            outstanding.get((region, program), 0),
        )
        for region, program in keys
    ]
