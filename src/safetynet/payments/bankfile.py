"""Bank files: the payable instructions of a county, in a documented fixed-width format, each
instruction in exactly one batch at a time.

``export_bank_files`` first (one transaction, one audit entry) puts every payable instruction of
the county up to the month (``pending``; ``failed`` ones again, as a retry; ``held`` ones whose
household now has an account and that no payment hold keeps) into a new batch and marks them
``exported`` with the batch's id; an instruction a standing hold covers is never exported (a
pending or failed one becomes ``held`` under the hold),
then writes every batch of that county and month from what the database holds, atomically
(temporary file, then rename). Writing is a pure function of the stored batch, so generating again
(or after a crash between the commit and the write) gives byte-identical files and never a second
batch for the same instructions. Format, field by field: docs/payments.md.

Before batching, every instruction about to be sent is checked again against its enrolment as it
stands at that moment (rows locked, so a suspension or an end committed meanwhile is either seen
or waits for the batch): one whose enrolment is suspended, or whose month lies after the month its
entitlement ended (a death or a termination recorded after the roll), is ``held`` with the reason
(``enrolment suspended: …``, ``entitlement ended on DATE: …``), never sent; once it stands again
(suspension lifted) the next bank file sends it, and the next roll settles the months an end made
not due, so nothing is recovered that was never paid. A death recorded by a case or the deaths
feed (``payments.deaths``) on or before the month's first day holds the instruction too when it
is the payee's (and no living member's account is valid in the month) or the household has no
member left alive (``payee died on DATE (SOURCE)``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import func, select, union, update
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.db.bulk import copy_columns
from safetynet.db.engine import Database
from safetynet.domain.money import format_yuan
from safetynet.errors import InputError
from safetynet.logs import logged_stage
from safetynet.payments.accounts import account_for_month
from safetynet.payments.deaths import KnownDeath, known_deaths
from safetynet.payments.holds import (
    ENDED,
    HELD_KINDS,
    NO_ACCOUNT,
    SUSPENDED,
    active_holds,
    covering_hold,
    held_kind,
)
from safetynet.payments.model import (
    BankFile,
    BankFileItem,
    PayeeAccount,
    PaymentHold,
    PaymentInstruction,
)
from safetynet.payments.months import month_bounds, month_of, parse_month
from safetynet.registry.model import Enrolment, EnrolmentHistory, Household, Membership

__all__ = [
    "ENCODING",
    "FORMAT_VERSION",
    "RECORD_LENGTH",
    "BankFileReport",
    "WrittenFile",
    "describe_held",
    "export_bank_files",
    "file_name",
    "render",
]

FORMAT_VERSION = "01"
RECORD_LENGTH = 120  # bytes before the CR LF that ends each record
ENCODING = "ascii"  # every field is ASCII, so the file is also valid UTF-8 and GB18030
_COUNTY = re.compile(r"[0-9]{6}")
Clock = Callable[[], dt.datetime]


@dataclass(frozen=True, slots=True)
class WrittenFile:
    file_id: int
    sequence: int
    path: Path
    count: int
    total_fen: int
    sha256: str
    new: bool


@dataclass(frozen=True, slots=True)
class BankFileReport:
    county: str
    month: str
    files: tuple[WrittenFile, ...]
    released_from_hold: int
    still_held: int
    held_by_hold: int = 0  # of still_held: kept by a payment hold
    # of still_held, how many each reason keeps ((kind, count) in ``HELD_KINDS`` order, kinds
    # with none left out)
    held_by_kind: tuple[tuple[str, int], ...] = ()
    # instructions this call found no longer standing and held: (instruction id, month, reason)
    stopped: tuple[tuple[int, str, str], ...] = ()


def describe_held(report: BankFileReport) -> str:
    """What keeps the county's held instructions, in words: ``3 held: 1 no account, 2 payment
    hold`` (``ended``: a death or termination recorded after the roll)."""
    kinds = ", ".join(f"{count:,} {kind}" for kind, count in report.held_by_kind)
    return f"{report.still_held:,} held" + (f": {kinds}" if kinds else "")


def _field(value: str | int, width: int, *, numeric: bool = False) -> str:
    text = f"{value:0{width}d}" if numeric and isinstance(value, int) else str(value)
    if len(text) > width:
        raise ValueError(f"{text!r} does not fit in {width} characters")
    return text.rjust(width, "0") if numeric else text.ljust(width)


def _record(*fields: str) -> bytes:
    line = "".join(fields)
    if len(line) > RECORD_LENGTH:
        raise ValueError(f"record of {len(line)} characters exceeds {RECORD_LENGTH}")
    return (line.ljust(RECORD_LENGTH) + "\r\n").encode(ENCODING)


def file_name(county: str, month: str, sequence: int) -> str:
    return f"SN{county}{month.replace('-', '')}{sequence:03d}.txt"


def render(
    batch: BankFile, items: list[BankFileItem], programs: dict[int, tuple[str, str]]
) -> bytes:
    """The file's bytes: header, one detail record per item in line order, trailer with the
    SHA-256 of everything before it. ``programs`` maps an instruction id to (program, month)."""
    records = [
        _record(
            "H",
            FORMAT_VERSION,
            _field(batch.id, 10, numeric=True),
            batch.county,
            batch.month.replace("-", ""),
            _field(batch.sequence, 3, numeric=True),
            _field(batch.record_count, 8, numeric=True),
            _field(batch.total_fen, 15, numeric=True),
            batch.created_at.strftime("%Y%m%d"),
            _field(f"CIVIL-AFFAIRS-{batch.county}", 24),
        )
    ]
    for item in items:
        program, month = programs[item.instruction_id]
        # joined once below: adding to one bytes object per record took 7 s for 20,000 records
        records.append(
            _record(
                "D",
                _field(item.line, 6, numeric=True),
                _field(item.instruction_id, 12, numeric=True),
                month.replace("-", ""),
                _field(program, 24),
                _field(item.bank_code, 12),
                _field(item.account, 19),
                _field(item.amount_fen, 15, numeric=True),
            )
        )
    body = b"".join(records)
    checksum = hashlib.sha256(body).hexdigest()
    return body + _record(
        "T",
        _field(batch.record_count, 8, numeric=True),
        _field(batch.total_fen, 15, numeric=True),
        checksum,
    )


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


@dataclass(frozen=True, slots=True)
class _HeldCounts:
    """How many of the county's instructions each reason keeps held."""

    kinds: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    @property
    def by_hold(self) -> int:
        return self.kinds.get("payment hold", 0)

    @property
    def by_kind(self) -> tuple[tuple[str, int], ...]:
        return tuple((k, self.kinds[k]) for k in HELD_KINDS if self.kinds.get(k))


@logged_stage("bank files")
def export_bank_files(
    db: Database,
    month: str,
    county: str,
    out_dir: Path,
    *,
    actor: Actor,
    clock: Clock,
) -> BankFileReport:
    """Batch the county's payable instructions up to ``month`` (if any) and write every batch of
    that county and month to ``out_dir``. Safe to repeat: see the module docstring."""
    month = parse_month(month, "--month")
    if not _COUNTY.fullmatch(county):
        raise InputError("--county", f"{county!r} is not a 6-digit county code")
    first, last = month_bounds(month)
    now = clock()
    with db.sessions.begin() as session:
        in_county = select(Household.id).where(Household.region_code == county)
        scope = (
            PaymentInstruction.household_id.in_(in_county),
            PaymentInstruction.month <= month,
        )
        newly_held = _apply_holds(session, scope, in_county)
        released = _refresh_accounts(session, scope, first, last)
        stopped, resumed = _recheck(session, scope, in_county)
        released += resumed
        session.flush()
        payable = session.scalars(
            select(PaymentInstruction)
            .where(*scope, PaymentInstruction.status.in_(("pending", "failed")))
            .order_by(PaymentInstruction.month, PaymentInstruction.id)
            .with_for_update()
        ).all()
        held = _held_counts(session, scope)
        new_id = _make_batch(session, county, month, now, payable) if payable else None
        if payable or released or newly_held or stopped:
            append(
                session,
                actor=actor,
                command="payments bank-file",
                event="bank_file_created" if payable else "payments_released_from_hold",
                entity="bank_file" if payable else "county_month",
                entity_id=new_id if new_id is not None else f"{county}/{month}",
                after={
                    "county": county,
                    "month": month,
                    "records": len(payable),
                    "total": format_yuan(sum(i.net_fen for i in payable)),
                    "released_from_hold": released,
                    "still_held": held.total,
                    "held_by_payment_hold": held.by_hold,
                    "newly_held_by_payment_hold": newly_held,
                    "held_by_reason": dict(held.by_kind),
                    "no_longer_standing": [
                        {"instruction": i, "month": m, "reason": r} for i, m, r in stopped
                    ],
                },
                occurred_at=now,
            )
    written = _write_files(db, county, month, out_dir, new_id)
    return BankFileReport(
        county,
        month,
        tuple(written),
        released,
        held.total,
        held.by_hold,
        held.by_kind,
        tuple(stopped),
    )


def _apply_holds(session: Session, scope: tuple[Any, ...], in_county: Any) -> int:
    """A standing payment hold keeps what it covers: pending and failed instructions under one
    become held (holds read before the instructions are locked, so a hold committed meanwhile
    has already turned its instructions held). Returns how many became held."""
    holds = active_holds(
        session,
        session.scalars(
            select(PaymentHold.household_id).where(
                PaymentHold.household_id.in_(in_county), PaymentHold.released_at.is_(None)
            )
        ),
    )
    newly_held = 0
    for instruction in session.scalars(
        select(PaymentInstruction)
        .where(
            *scope,
            PaymentInstruction.household_id.in_(list(holds))
            | PaymentInstruction.hold_id.is_not(None),
            PaymentInstruction.status.in_(("pending", "held", "failed")),
        )
        .order_by(PaymentInstruction.id)
        .with_for_update()
    ):
        hold = covering_hold(
            holds.get(instruction.household_id, []), instruction.program, instruction.month
        )
        if hold is None:
            if instruction.hold_id is not None:
                # its hold was released while a roll was making it: no hold keeps it now
                instruction.hold_id = None
                instruction.held_reason = NO_ACCOUNT
            continue
        if instruction.hold_id == hold.id:
            continue
        newly_held += instruction.status != "held"
        instruction.status = "held"
        instruction.hold_id = hold.id
        instruction.held_reason = hold.reason
    session.flush()
    return newly_held


def _refresh_accounts(
    session: Session, scope: tuple[Any, ...], first: dt.date, last: dt.date
) -> int:
    """Held instructions no hold keeps and failed ones (a retry) take the account valid in the
    month [first, last]. Returns how many held ones so became pending."""
    to_refresh = session.scalars(
        select(PaymentInstruction)
        .where(
            *scope,
            (PaymentInstruction.status == "failed")
            | (
                (PaymentInstruction.status == "held")
                & (PaymentInstruction.held_reason == NO_ACCOUNT)
            ),
            PaymentInstruction.hold_id.is_(None),
            PaymentInstruction.provider_id.is_(None),  # a provider is paid to its own account
        )
        .order_by(PaymentInstruction.id)
        .with_for_update()
    ).all()
    households = {i.household_id for i in to_refresh}
    accounts: dict[int, list[PayeeAccount]] = {}
    if households:
        for account in session.scalars(
            select(PayeeAccount)
            .where(PayeeAccount.household_id.in_(households))
            .order_by(PayeeAccount.id)
        ):
            accounts.setdefault(account.household_id, []).append(account)
    released = 0
    for instruction in to_refresh:
        options = accounts.get(instruction.household_id, [])
        chosen = account_for_month(options, first, last)
        if chosen is None:
            continue
        account = options[chosen]
        instruction.account = account.account_number
        instruction.bank_code = account.bank_code
        instruction.payee_account_id = account.id
        if instruction.status == "held":
            instruction.status = "pending"
            instruction.held_reason = None
            released += 1
    session.flush()
    return released


def _held_counts(session: Session, scope: tuple[Any, ...]) -> _HeldCounts:
    kinds: dict[str, int] = {}
    for hold_id, reason, count in session.execute(
        select(PaymentInstruction.hold_id, PaymentInstruction.held_reason, func.count())
        .where(*scope, PaymentInstruction.status == "held")
        .group_by(PaymentInstruction.hold_id, PaymentInstruction.held_reason)
    ):
        kind = held_kind(hold_id, reason)
        kinds[kind] = kinds.get(kind, 0) + int(count)
    return _HeldCounts(kinds)


def _batch_items(payable: Sequence[PaymentInstruction]) -> pl.DataFrame:
    """The items of a new batch, one per payable instruction in line order, as columns."""
    ids, amounts, banks, accounts = [], [], [], []
    for instruction in payable:
        # pending and failed instructions always carry an account (roll, refresh above)
        assert instruction.account is not None
        assert instruction.bank_code is not None
        ids.append(instruction.id)
        amounts.append(instruction.net_fen)
        banks.append(instruction.bank_code)
        accounts.append(instruction.account)
    return pl.DataFrame(
        {"line": pl.int_range(1, len(payable) + 1, eager=True, dtype=pl.Int64),
         "instruction_id": pl.Series(ids, dtype=pl.Int64),
         "amount_fen": pl.Series(amounts, dtype=pl.Int64),
         "bank_code": pl.Series(banks, dtype=pl.String),
         "account": pl.Series(accounts, dtype=pl.String)}
    )  # fmt: skip


def _make_batch(
    session: Session,
    county: str,
    month: str,
    now: dt.datetime,
    payable: Sequence[PaymentInstruction],
) -> int:
    """A new batch (the next sequence of the county and month) of the payable instructions,
    marked ``exported`` with its id. Returns the batch's id."""
    sequence = (
        session.scalar(
            select(func.max(BankFile.sequence)).where(
                BankFile.county == county, BankFile.month == month
            )
        )
        or 0
    ) + 1
    batch = BankFile(
        county=county,
        month=month,
        sequence=sequence,
        created_at=now,
        record_count=len(payable),
        total_fen=sum(i.net_fen for i in payable),
    )
    session.add(batch)
    session.flush()
    # COPY on PostgreSQL (no statement per item), executemany on SQLite
    copy_columns(
        session, BankFileItem.__tablename__, _batch_items(payable), {"bank_file_id": batch.id}
    )
    in_batch = select(BankFileItem.instruction_id).where(BankFileItem.bank_file_id == batch.id)
    session.execute(
        update(PaymentInstruction)
        .where(PaymentInstruction.id.in_(in_batch))
        .values(
            status="exported",
            bank_file_id=batch.id,
            failure_code=None,
            failure_text=None,
        )
        .execution_options(synchronize_session=False)
    )
    return batch.id


def _write_files(
    db: Database, county: str, month: str, out_dir: Path, new_id: int | None
) -> list[WrittenFile]:
    """Write every batch of the county and month from what the database holds (atomically)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with db.sessions() as session:
        batches = session.scalars(
            select(BankFile)
            .where(BankFile.county == county, BankFile.month == month)
            .order_by(BankFile.sequence)
        ).all()
        for batch in batches:
            items = list(
                session.scalars(
                    select(BankFileItem)
                    .where(BankFileItem.bank_file_id == batch.id)
                    .order_by(BankFileItem.line)
                )
            )
            programs = {
                i: (p, m)
                for i, p, m in session.execute(
                    select(
                        PaymentInstruction.id, PaymentInstruction.program, PaymentInstruction.month
                    )
                    .join(BankFileItem, BankFileItem.instruction_id == PaymentInstruction.id)
                    .where(BankFileItem.bank_file_id == batch.id)
                )
            }
            data = render(batch, items, programs)
            path = out_dir / file_name(county, month, batch.sequence)
            _write_atomically(path, data)
            written.append(
                WrittenFile(
                    batch.id,
                    batch.sequence,
                    path,
                    batch.record_count,
                    batch.total_fen,
                    hashlib.sha256(data).hexdigest(),
                    batch.id == new_id,
                )
            )
    return written


def _recheck(
    session: Session, scope: tuple[Any, ...], in_county: Any
) -> tuple[list[tuple[int, str, str]], int]:
    """Check the instructions about to be sent (and those this check held before) against their
    enrolments and the deaths recorded as they stand now (module docstring). Returns the
    instructions newly held, with their reasons, and how many held ones stand again and are
    payable."""
    rows = session.execute(
        select(PaymentInstruction, Enrolment.status, Enrolment.end_date)
        .join(Enrolment, Enrolment.id == PaymentInstruction.enrolment_id)
        .where(
            *scope,
            PaymentInstruction.hold_id.is_(None),
            PaymentInstruction.status.in_(("pending", "failed", "held")),
        )
        .order_by(PaymentInstruction.id)
        .with_for_update()
    ).all()
    ids = {i.enrolment_id for i, status, _ in rows if status != "active"}
    reasons: dict[int, str] = {}
    for enrolment_id, text in session.execute(
        select(EnrolmentHistory.enrolment_id, EnrolmentHistory.reason)
        .where(EnrolmentHistory.enrolment_id.in_(ids))
        .order_by(EnrolmentHistory.enrolment_id, EnrolmentHistory.version)
    ):
        reasons[enrolment_id] = text  # the last version's reason wins
    dead = _Deaths.load(session, in_county) if rows else None
    stopped: list[tuple[int, str, str]] = []
    resumed = 0
    for instruction, status, end in rows:
        assert instruction.enrolment_id is not None  # joined with its enrolment
        why = reasons.get(instruction.enrolment_id) or "no reason recorded"
        reason: str | None = None
        if status == "suspended":
            reason = f"{SUSPENDED}: {why}"
        elif (
            status == "ended"
            and end is not None
            and instruction.month > month_of(end)
            and instruction.amount_fen > 0
        ):
            reason = f"{ENDED} on {end.isoformat()}: {why}"
        elif dead is not None:
            reason = dead.reason(instruction)
        if reason is None:
            if instruction.status == "held" and held_kind(None, instruction.held_reason) in (
                "suspended",
                "ended",
                "payee died",
            ):
                if instruction.account is None:
                    instruction.held_reason = NO_ACCOUNT
                else:
                    instruction.status = "pending"
                    instruction.held_reason = None
                    resumed += 1
            continue
        if instruction.status == "held" and instruction.held_reason == reason:
            continue
        instruction.status = "held"
        instruction.held_reason = reason
        stopped.append((instruction.id, instruction.month, reason))
    return stopped, resumed


@dataclass
class _Deaths:
    """The deaths recorded, by any door, of the county's members and account holders (one
    query), with the memberships and accounts of the households they concern, needed to tell
    whom an instruction pays (read only for those households: usually few or none)."""

    deaths: dict[int, KnownDeath]
    holders: dict[int, int]  # account id → holder, for the households concerned
    members: dict[int, list[tuple[int, dt.date, dt.date | None]]]  # household → memberships
    accounts: dict[int, list[PayeeAccount]]  # household → accounts, in id order

    @classmethod
    def load(cls, session: Session, in_county: Any) -> _Deaths:
        persons = union(
            select(Membership.person_id).where(Membership.household_id.in_(in_county)),
            select(PayeeAccount.holder_person_id).where(PayeeAccount.household_id.in_(in_county)),
        )
        deaths = known_deaths(session, persons)
        dead = sorted(deaths)
        concerned: set[int] = set()
        for start in range(0, len(dead), 900):
            chunk = dead[start : start + 900]
            concerned.update(
                session.scalars(
                    union(
                        select(Membership.household_id).where(
                            Membership.person_id.in_(chunk),
                            Membership.household_id.in_(in_county),
                        ),
                        select(PayeeAccount.household_id).where(
                            PayeeAccount.holder_person_id.in_(chunk),
                            PayeeAccount.household_id.in_(in_county),
                        ),
                    )
                )
            )
        households = sorted(concerned)
        members: dict[int, list[tuple[int, dt.date, dt.date | None]]] = {}
        accounts: dict[int, list[PayeeAccount]] = {}
        for start in range(0, len(households), 900):
            chunk = households[start : start + 900]
            for household_id, person_id, begins, ends in session.execute(
                select(
                    Membership.household_id,
                    Membership.person_id,
                    Membership.start_date,
                    Membership.end_date,
                ).where(Membership.household_id.in_(chunk))
            ):
                members.setdefault(household_id, []).append((person_id, begins, ends))
            for account in session.scalars(
                select(PayeeAccount)
                .where(PayeeAccount.household_id.in_(chunk))
                .order_by(PayeeAccount.id)
            ):
                accounts.setdefault(account.household_id, []).append(account)
        holders = {a.id: a.holder_person_id for found in accounts.values() for a in found}
        return cls(deaths, holders, members, accounts)

    def _dead_by(self, person_id: int, day: dt.date) -> KnownDeath | None:
        death = self.deaths.get(person_id)
        return death if death is not None and death.died_on <= day else None

    def reason(self, instruction: PaymentInstruction) -> str | None:
        """Why the instruction no longer stands for a death (None if it does). The payee dead
        on or before the month's first day: another account of the household valid in the month,
        held by someone alive, is taken instead, else it is held. A household left with no member
        alive on that day (one person who died) is held too; the death of another member of a
        larger household is for its re-check, not the bank file."""
        if instruction.household_id not in self.members:
            return None  # no member or account holder of the household is recorded dead
        first, last = month_bounds(instruction.month)
        options = self.accounts.get(instruction.household_id, [])
        holder = (
            None
            if instruction.payee_account_id is None
            else self.holders.get(instruction.payee_account_id)
        )
        payee_death = None if holder is None else self._dead_by(holder, first)
        if payee_death is not None:
            chosen = account_for_month(options, first, last)
            account = None if chosen is None else options[chosen]
            if account is None or self._dead_by(account.holder_person_id, first) is not None:
                return payee_death.reason
            instruction.account = account.account_number
            instruction.bank_code = account.bank_code
            instruction.payee_account_id = account.id
        alive, dead = False, []
        for person_id, start, end in self.members.get(instruction.household_id, []):
            death = self._dead_by(person_id, first)
            if death is None:
                alive = alive or (start <= first and (end is None or end >= first))
            elif start <= death.died_on:
                dead.append(death)
        if dead and not alive:
            return min(dead, key=lambda d: d.died_on).reason
        return None
