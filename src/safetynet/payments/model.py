"""Tables of the monthly payment roll (issue 5 items 4-5): ``payment_runs`` and
``payment_instructions``.

An instruction is known by its natural key (household, program, month), which is UNIQUE: however
often a month is rolled, and wherever a roll was interrupted, there is at most one instruction per
key (docs/payments.md).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.registry.base import Base

__all__ = ["INSTRUCTION_STATUSES", "RUN_STATUSES", "PaymentInstruction", "PaymentRun"]

RUN_STATUSES = ("running", "finished", "interrupted")
INSTRUCTION_STATUSES = ("pending",)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class PaymentRun(Base):
    """One call of ``roll_month`` for a month and (optionally) a county, with its progress.

    ``last_enrolment_id`` and the counts are updated in the transaction of each batch, so after a
    crash they say exactly what the run had committed.
    """

    __tablename__ = "payment_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    county: Mapped[str | None] = mapped_column(String(6))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(12))
    batches: Mapped[int] = mapped_column(Integer)
    eligible_count: Mapped[int] = mapped_column(Integer)
    created_count: Mapped[int] = mapped_column(Integer)
    present_count: Mapped[int] = mapped_column(Integer)
    last_enrolment_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint(_one_of("status", RUN_STATUSES), name="status"),
        CheckConstraint("length(month) = 7", name="month"),
        CheckConstraint(
            "eligible_count = created_count + present_count AND created_count >= 0 "
            "AND present_count >= 0",
            name="counts",
        ),
    )


class PaymentInstruction(Base):
    """One payment to one household for one program and month, taken from its enrolment.

    ``account`` stays NULL until the registry holds the household's bank account (social security
    card account); the bank file (a later step) must refuse instructions without one.
    """

    __tablename__ = "payment_instructions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    program: Mapped[str] = mapped_column(String(60))
    month: Mapped[str] = mapped_column(String(7))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    account: Mapped[str | None] = mapped_column(Text)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    run_id: Mapped[int] = mapped_column(ForeignKey("payment_runs.id"), index=True)

    __table_args__ = (
        # The natural key: one instruction per (beneficiary household, program, month).
        UniqueConstraint("household_id", "program", "month"),
        CheckConstraint(_one_of("status", INSTRUCTION_STATUSES), name="status"),
        CheckConstraint("amount_fen >= 0", name="amount_fen"),
        CheckConstraint("length(month) = 7", name="month"),
    )
