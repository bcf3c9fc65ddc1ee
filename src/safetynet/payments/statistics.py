"""Statistics of what was paid: households paid and amounts by county, program and month, with
coverage (households paid per registered household), from the payment roll (queries only)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from safetynet.payments.model import PaymentInstruction
from safetynet.registry.model import Household

__all__ = ["PaidRow", "paid_by_region_program_month", "registered_households"]


@dataclass(frozen=True)
class PaidRow:
    county: str
    program: str
    month: str  # YYYY-MM
    households: int
    amount_fen: int


def paid_by_region_program_month(
    session: Session, counties: Collection[str], *, program: str | None = None
) -> list[PaidRow]:
    """Households paid and the amount paid (instructions of the roll, arrears included,
    recoveries deducted) by county, program and month, in that order."""
    amount = func.sum(
        PaymentInstruction.amount_fen
        + PaymentInstruction.arrears_fen
        - PaymentInstruction.recovery_fen
    )
    query = (
        select(
            Household.region_code,
            PaymentInstruction.program,
            PaymentInstruction.month,
            func.count(distinct(PaymentInstruction.household_id)),
            amount,
        )
        .join(Household, Household.id == PaymentInstruction.household_id)
        .where(Household.region_code.in_(list(counties)))
        .group_by(Household.region_code, PaymentInstruction.program, PaymentInstruction.month)
        .order_by(Household.region_code, PaymentInstruction.program, PaymentInstruction.month)
    )
    if program:
        query = query.where(PaymentInstruction.program == program)
    return [
        PaidRow(str(c), str(p), str(m), int(n or 0), int(a or 0))
        for c, p, m, n, a in session.execute(query)
    ]


def registered_households(session: Session, counties: Collection[str]) -> dict[str, int]:
    """Households registered in each county (the denominator of coverage)."""
    rows = session.execute(
        select(Household.region_code, func.count())
        .where(Household.region_code.in_(list(counties)))
        .group_by(Household.region_code)
    )
    return {str(code): int(n) for code, n in rows}
