"""The monthly payment roll: one instruction per (household, program, month), exactly once.

``roll_month`` walks the eligible enrolments in enrolment-id order and inserts instructions in
batches. Each batch is one transaction that inserts with ``ON CONFLICT DO NOTHING`` on the natural
key and records the run's progress, so a crash at any point loses at most the batch in flight
(rolled back whole), and rolling again (a rerun or a resume) inserts exactly the missing
instructions: never a second one, never a skipped one. A resume rescans from the first enrolment
rather than trusting the interrupted run's cursor: an enrolment added meanwhile with a lower id is
still found, and existing keys cost one index probe each. One audit entry per finished run.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.errors import InputError
from safetynet.payments.model import PaymentInstruction, PaymentRun
from safetynet.registry.db import Database
from safetynet.registry.model import Enrolment, Household

__all__ = [
    "NATURAL_KEY",
    "SYSTEM_ACTOR",
    "Clock",
    "RollReport",
    "eligible_enrolments",
    "month_bounds",
    "parse_month",
    "roll_month",
]

Clock = Callable[[], dt.datetime]
NATURAL_KEY = ("household_id", "program", "month")
SYSTEM_ACTOR = Actor(name="system", role="payments_clerk")
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")
_COUNTY = re.compile(r"[0-9]{6}")


@dataclass(frozen=True, slots=True)
class RollReport:
    """What one call of ``roll_month`` did: ``eligible = created + already_present``."""

    run_id: int
    month: str
    county: str | None
    eligible: int
    created: int
    already_present: int
    batches: int
    interrupted_runs: tuple[int, ...]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def parse_month(value: str, field: str = "month") -> str:
    """``value`` checked as a calendar month ``YYYY-MM``."""
    if not _MONTH.fullmatch(value) or not 1 <= int(value[5:]) <= 12 or value[:4] == "0000":
        raise InputError(field, f"{value!r} is not a month (YYYY-MM)")
    return value


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """The first and last day of ``month`` (YYYY-MM)."""
    first = dt.date.fromisoformat(f"{parse_month(month)}-01")
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


def eligible_enrolments(month: str, county: str | None = None) -> Select[int, int, str, int]:
    """Active enrolments covering some day of ``month``, in enrolment-id order.

    An enrolment covers the month when it starts on or before the month's last day and is open or
    ends on or after its first day (the month of ``end_date`` is paid). Only status ``active``
    counts: suspended and ended enrolments are not paid. ``county`` is the household's region.
    """
    first, last = month_bounds(month)
    query = (
        select(Enrolment.id, Enrolment.household_id, Enrolment.program, Enrolment.amount_fen)
        .where(
            Enrolment.status == "active",
            Enrolment.start_date <= last,
            (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= first),
        )
        .order_by(Enrolment.id)
    )
    if county is not None:
        query = query.join(Household, Household.id == Enrolment.household_id).where(
            Household.region_code == county
        )
    return query


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert ``rows``; those whose natural key exists are skipped. Returns how many went in."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(PaymentInstruction)
        .values(rows)
        .on_conflict_do_nothing(index_elements=list(NATURAL_KEY))
        .returning(PaymentInstruction.id)
    )
    return len(session.execute(statement).all())


def _same_scope(month: str, county: str | None) -> Any:
    county_clause = PaymentRun.county.is_(None) if county is None else PaymentRun.county == county
    return (PaymentRun.month == month) & county_clause


def roll_month(
    db: Database,
    month: str,
    county: str | None = None,
    batch_size: int = 500,
    *,
    actor: Actor = SYSTEM_ACTOR,
    clock: Clock = _now,
) -> RollReport:
    """Create the missing payment instructions of ``month`` (optionally one county's).

    Safe to call again at any time, also after a crash: see the module docstring. Runs of the same
    month and county left ``running`` by a crash are marked ``interrupted`` by the next call.
    """
    month = parse_month(month)
    if county is not None and not _COUNTY.fullmatch(county):
        raise InputError("county", f"{county!r} is not a 6-digit county code")
    if batch_size < 1:
        raise InputError("batch_size", "must be at least 1")

    with db.sessions.begin() as session:
        interrupted = tuple(
            session.scalars(
                select(PaymentRun.id)
                .where(_same_scope(month, county), PaymentRun.status == "running")
                .order_by(PaymentRun.id)
            )
        )
        if interrupted:
            session.execute(
                update(PaymentRun)
                .where(PaymentRun.id.in_(interrupted))
                .values(status="interrupted")
            )
        run = PaymentRun(
            month=month,
            county=county,
            started_at=clock(),
            status="running",
            batches=0,
            eligible_count=0,
            created_count=0,
            present_count=0,
        )
        session.add(run)
        session.flush()
        run_id = run.id

    query = eligible_enrolments(month, county).limit(batch_size)
    cursor = 0
    eligible = created = batches = 0
    while True:
        with db.sessions.begin() as session:
            found = session.execute(query.where(Enrolment.id > cursor)).all()
            if not found:
                break
            now = clock()
            rows = [
                {
                    "household_id": household_id,
                    "program": program,
                    "month": month,
                    "amount_fen": amount_fen,
                    "account": None,
                    "enrolment_id": enrolment_id,
                    "status": "pending",
                    "created_at": now,
                    "run_id": run_id,
                }
                for enrolment_id, household_id, program, amount_fen in found
            ]
            inserted = _insert_ignoring_duplicates(session, rows)
            cursor = found[-1][0]
            eligible += len(found)
            created += inserted
            batches += 1
            session.execute(
                update(PaymentRun)
                .where(PaymentRun.id == run_id)
                .values(
                    batches=batches,
                    eligible_count=eligible,
                    created_count=created,
                    present_count=eligible - created,
                    last_enrolment_id=cursor,
                )
            )

    report = RollReport(
        run_id=run_id,
        month=month,
        county=county,
        eligible=eligible,
        created=created,
        already_present=eligible - created,
        batches=batches,
        interrupted_runs=interrupted,
    )
    with db.sessions.begin() as session:
        session.execute(
            update(PaymentRun)
            .where(PaymentRun.id == run_id)
            .values(status="finished", finished_at=clock())
        )
        append(
            session,
            actor=actor,
            command="payments roll",
            event="payment_roll_finished",
            entity="payment_run",
            entity_id=run_id,
            after={
                "month": month,
                "county": county,
                "eligible": eligible,
                "created": created,
                "already_present": eligible - created,
                "batches": batches,
                "interrupted_runs": list(interrupted),
            },
            occurred_at=clock(),
        )
    return report
