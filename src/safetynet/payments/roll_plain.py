"""The month's plain instructions, written set at a time on the database server.

Most enrolments a roll looks at are *plain*: eligible for the month; the only enrolment of their
household in the program (whatever its status); no entitlement schedule; no adjustment or
recovery of the household's program and no adjustment made under the enrolment; every instruction
of the program before the month for a month the enrolment covers, at its amount, and none of
another program made under it; none made yet for the month. For such an enrolment ``plan_roll``
(``payments.roll_plan``) decides only the month's instruction, and
decides it from the enrolment, the household's accounts and its holds alone:

- the amount is the enrolment's, with no arrears and no offset (nothing paid differs from what is
  due, nothing is outstanding to recover, no held instruction of an earlier month changes);
- the payee account is the household's account valid on some day of the month with the latest
  start (the first recorded among equal starts);
- the instruction is settled when the amount is nil; else held under the household's first
  standing hold covering the program and month, or held for want of an account; else pending.

``insert_plain`` writes those instructions with one ``INSERT … SELECT`` in the caller's
transaction, in enrolment-id order, and returns which enrolments it wrote; the roll gives every
other candidate to ``plan_roll`` as before (ADR 0039). The statement says what ``plan_roll``
says for these enrolments; tests/payments/test_roll_plain.py compares the two field by field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    String,
    case,
    exists,
    func,
    literal,
    select,
    text,
)
from sqlalchemy import true as sql_true
from sqlalchemy.orm import Session, aliased

from safetynet.db.bulk import among, conflict_insert
from safetynet.payments.holds import NO_ACCOUNT
from safetynet.payments.model import (
    EntitlementChange,
    PayeeAccount,
    PaymentAdjustment,
    PaymentHold,
    PaymentInstruction,
    PaymentRecovery,
)
from safetynet.payments.months import month_bounds
from safetynet.registry.model import Enrolment

__all__ = ["MONTHLY", "NATURAL_KEY", "insert_plain"]

NATURAL_KEY = ("household_id", "program", "month")
# The monthly key is a unique index on the instructions without an award (a one-off award's
# instruction is known by its award: ``payments.roll_awards``).
MONTHLY = "award_id IS NULL"


def _month_of(session: Session, day: Any) -> Any:
    """``YYYY-MM`` of a date column, in the server's own words."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(day, "YYYY-MM")
    return func.strftime("%Y-%m", day)


def _plain(session: Session, month: str, ids: Sequence[int]) -> Any:
    """The plain enrolments among ``ids`` (module docstring), each with the id of its account
    for the month and of the hold that covers it (NULL when none)."""
    first, last = month_bounds(month)
    e, other = Enrolment, aliased(Enrolment)
    i, account, hold = PaymentInstruction, PayeeAccount, PaymentHold

    def of_program(model: Any) -> Any:
        return (model.household_id == e.household_id) & (model.program == e.program)

    account_id = (
        select(account.id)
        .where(
            account.household_id == e.household_id,
            account.valid_from <= last,
            account.valid_to.is_(None) | (account.valid_to >= first),
        )
        .order_by(account.valid_from.desc(), account.id)
        .limit(1)
        .scalar_subquery()
    )
    hold_id = (
        select(hold.id)
        .where(
            hold.household_id == e.household_id,
            hold.released_at.is_(None),
            hold.program.is_(None) | (hold.program == e.program),
            hold.from_month <= month,
        )
        .order_by(hold.id)
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            e.id,
            e.household_id,
            e.program,
            e.amount_fen,
            account_id.label("account_id"),
            hold_id.label("hold_id"),
        )
        .where(
            # the range lets the planner read the batch's enrolments by the primary key
            e.id.between(min(ids), max(ids)),
            among(session, e.id, ids),
            e.status == "active",
            e.start_date <= last,
            e.end_date.is_(None) | (e.end_date >= first),
            ~exists().where(
                other.household_id == e.household_id,
                other.program == e.program,
                other.id != e.id,
            ),
            ~exists().where(EntitlementChange.enrolment_id == e.id),
            ~exists().where(of_program(PaymentAdjustment)),
            # nor one of another program made under it (the plan reads it as this enrolment's)
            ~exists().where(PaymentAdjustment.enrolment_id == e.id),
            ~exists().where(of_program(PaymentRecovery)),
            # what was paid before is what is due now, and nothing is there yet for the month
            ~exists().where(
                of_program(i),
                i.award_id.is_(None),
                i.month <= month,
                (i.month == month)  # (the insert would skip its key anyway)
                | (i.amount_fen != e.amount_fen)
                | (i.month < _month_of(session, e.start_date)),
            ),
            # nor an instruction of another program under this enrolment (a held one of an
            # earlier month would be brought up to date by the enrolment's schedule)
            ~exists().where(i.enrolment_id == e.id, i.month < month, i.program != e.program),
        )
        # evaluated once per row (on PostgreSQL a subquery pulled up into the statement below
        # would evaluate the account and hold subqueries again in each expression naming them)
        .offset(0)
        .subquery("plain")
    )


def insert_plain(
    session: Session, month: str, ids: Sequence[int], run_id: int, now: dt.datetime
) -> list[tuple[int, str, int | None]]:
    """Write the month's instruction of each plain enrolment among ``ids`` (module docstring) in
    the caller's transaction; a key present already (a concurrent roll) is skipped. Returns
    (enrolment id, status, hold id) of each instruction written."""
    if not ids:
        return []
    plain = _plain(session, month, ids)
    account, hold = aliased(PayeeAccount), aliased(PaymentHold)
    nil = plain.c.amount_fen == 0
    source = (
        select(
            plain.c.household_id,
            plain.c.program,
            literal(month, String(7)),
            plain.c.id,
            literal(now, DateTime(timezone=True)),
            literal(run_id, Integer),
            plain.c.amount_fen,
            literal(0, BigInteger),
            literal(0, BigInteger),
            account.account_number,
            account.bank_code,
            plain.c.account_id,
            case(
                (nil, "settled"),
                (plain.c.hold_id.is_not(None) | plain.c.account_id.is_(None), "held"),
                else_="pending",
            ),
            case((nil, None), else_=plain.c.hold_id),
            case(
                (nil, None),
                (plain.c.hold_id.is_not(None), hold.reason),
                (plain.c.account_id.is_(None), NO_ACCOUNT),
                else_=None,
            ),
        )
        .select_from(plain)
        .outerjoin(account, account.id == plain.c.account_id)
        .outerjoin(hold, hold.id == plain.c.hold_id)
        .where(sql_true())  # SQLite reads ON CONFLICT after a join's ON otherwise
        .order_by(plain.c.id)
    )
    columns = [
        "household_id",
        "program",
        "month",
        "enrolment_id",
        "created_at",
        "run_id",
        "amount_fen",
        "arrears_fen",
        "recovery_fen",
        "account",
        "bank_code",
        "payee_account_id",
        "status",
        "hold_id",
        "held_reason",
    ]
    statement = (
        conflict_insert(session, PaymentInstruction)
        .from_select(columns, source)
        .on_conflict_do_nothing(index_elements=list(NATURAL_KEY), index_where=text(MONTHLY))
        .returning(
            PaymentInstruction.enrolment_id, PaymentInstruction.status, PaymentInstruction.hold_id
        )
    )
    made = []
    for enrolment_id, status, hold_id in session.execute(statement):
        assert enrolment_id is not None  # a monthly instruction has its enrolment
        made.append((enrolment_id, status, hold_id))
    return made
