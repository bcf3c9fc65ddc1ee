"""Seed households and enrolments straight into the tables (fast, no import pipeline)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from safetynet.db.engine import Database
from safetynet.payments.model import PaymentInstruction
from safetynet.registry.model import Enrolment, Household

NOW = dt.datetime(2025, 9, 1, 8, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Spec:
    """One household with one enrolment."""

    program: str = "dibao"
    start: dt.date = dt.date(2025, 1, 1)
    end: dt.date | None = None
    amount_fen: int = 80_000
    status: str = "active"
    region: str = "110105"


def seed(db: Database, specs: list[Spec]) -> list[int]:
    """Insert one household and one enrolment per spec; return the household ids, in order."""
    households = [
        {
            "id": i + 1,
            "region_code": spec.region,
            "household_no": f"H{i + 1:07d}",
            "hukou_type": "urban",
            "created_at": NOW,
            "updated_at": NOW,
        }
        for i, spec in enumerate(specs)
    ]
    enrolments = [
        {
            "id": i + 1,
            "household_id": i + 1,
            "program": spec.program,
            "start_date": spec.start,
            "end_date": spec.end,
            "amount_fen": spec.amount_fen,
            "status": spec.status,
            "version": 1,
        }
        for i, spec in enumerate(specs)
    ]
    with db.sessions.begin() as session:
        for chunk in range(0, len(specs), 1000):
            session.execute(insert(Household), households[chunk : chunk + 1000])
            session.execute(insert(Enrolment), enrolments[chunk : chunk + 1000])
    return [h["id"] for h in households]  # type: ignore[misc]


def heads(session: Session, households: list[int]) -> None:
    """A head for each household without one (person id = household id), in the caller's
    transaction: the holder an account names."""
    from safetynet.registry.model import Person

    session.execute(
        insert(Person),
        [
            {"id": h, "id_number": f"110105{h:011d}X", "name": "李强", "sex": "male",
             "birth_date": dt.date(1970, 5, 1), "hukou_region_code": "110105",
             "hukou_type": "urban", "created_at": NOW, "updated_at": NOW}
            for h in households
            if not session.get(Person, h)
        ],
    )  # fmt: skip


def month_instructions(session: Session, month: str) -> list[Any]:
    """The month's monthly instructions (one-off awards left out) as (household, program, month,
    amount, arrears, recovery)."""
    return list(
        session.execute(
            select(
                PaymentInstruction.household_id,
                PaymentInstruction.program,
                PaymentInstruction.month,
                PaymentInstruction.amount_fen,
                PaymentInstruction.arrears_fen,
                PaymentInstruction.recovery_fen,
            ).where(PaymentInstruction.month == month, PaymentInstruction.award_id.is_(None))
        ).all()
    )


def duplicate_instructions(session: Session) -> list[Any]:
    """The (household, program, month) keys that hold more than one instruction, with the count:
    empty whenever the roll kept its one-instruction-a-month promise."""
    return list(
        session.execute(
            text(
                "SELECT household_id, program, month, COUNT(*) FROM payment_instructions "
                "WHERE award_id IS NULL GROUP BY household_id, program, month HAVING COUNT(*) > 1"
            )
        ).all()
    )


def instruction(
    db: Database, month: str, household: int | None = None
) -> tuple[int, int, int, str]:
    """(amount, arrears, recovery offset, status) of the month's one instruction (of
    ``household``, where the test seeded several)."""
    query = select(
        PaymentInstruction.amount_fen,
        PaymentInstruction.arrears_fen,
        PaymentInstruction.recovery_fen,
        PaymentInstruction.status,
    ).where(PaymentInstruction.month == month)
    if household is not None:
        query = query.where(PaymentInstruction.household_id == household)
    with db.sessions() as session:
        row = session.execute(query).one()
    return (row[0], row[1], row[2], row[3])


def planned_rows(db: Database, table: str) -> float | None:
    """How many rows PostgreSQL's planner takes ``table`` to hold (its statistics' row count)."""
    with db.sessions() as session:
        rows = session.scalar(
            text("SELECT reltuples FROM pg_class WHERE relname = :table"), {"table": table}
        )
    return None if rows is None else float(rows)
