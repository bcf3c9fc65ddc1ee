"""Reconciliation: import the bank's return file and mark exported instructions paid or failed.

Every row is checked against the batch it names; a row naming an unknown batch or instruction, an
instruction not exported in that batch, a different amount or account, or repeating another row's
instruction is quarantined with its reason (account numbers masked) and changes nothing. A row the
database already holds with the same result is counted as already reconciled, so importing the
same file twice changes nothing the second time. One transaction and one audit entry per import.
Format: docs/payments.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.db.engine import Database
from safetynet.errors import InputError
from safetynet.intake import (
    Column,
    IntakeLimits,
    QuarantineLine,
    Sheet,
    cell_problems,
    intake_limits,
    parse_date_text,
    read_sheet,
)
from safetynet.logs import logged_stage
from safetynet.payments.accounts import mask_account
from safetynet.payments.model import BankFileItem, BankReturn, PaymentInstruction

__all__ = [
    "RETURN_COLUMNS",
    "ReconcileReport",
    "ReturnRow",
    "read_return_file",
    "reconcile_return_file",
]

Clock = Callable[[], dt.datetime]
RESULTS = {"paid": "paid", "成功": "paid", "failed": "failed", "失败": "failed"}

RETURN_COLUMNS: tuple[Column, ...] = (
    Column("file_id", ("批次号", "文件号"), True, "the bank file's id (header positions 4-13)"),
    Column("instruction_id", ("指令号", "明细号"), True, "instruction id of the detail record"),
    Column("account", ("账号", "银行账号"), True, "account credited"),
    Column("amount_fen", ("金额分", "金额（分）"), True, "amount in fen"),
    Column("result", ("结果", "处理结果"), True, "paid/成功 or failed/失败"),
    Column("booked_on", ("入账日期", "记账日期"), False, "YYYY-MM-DD; required when paid"),
    Column("reason_code", ("失败原因代码", "原因代码"), False, "required when failed"),
    Column("reason_text", ("失败原因", "原因说明"), False, "the bank's explanation"),
)


@dataclass(frozen=True, slots=True)
class ReturnRow:
    row: int
    file_id: int
    instruction_id: int
    account: str
    amount_fen: int
    result: str
    booked_on: dt.date | None
    reason_code: str | None
    reason_text: str | None


@dataclass(frozen=True)
class ReconcileReport:
    """read = paid + failed + already_reconciled + quarantined (rows)."""

    return_id: int
    read: int
    paid: int
    failed: int
    already_reconciled: int
    quarantine: tuple[QuarantineLine, ...]
    headers: tuple[str, ...]

    @property
    def quarantined(self) -> int:
        return len({q.row for q in self.quarantine})


# Ids are stored in PostgreSQL integer (int4) columns; amounts in bigint fen.
MAX_ID = 2**31 - 1
_WHOLE = re.compile(r"[0-9]+")


def _integer(text: str, field: str, maximum: int) -> int:
    # ASCII digits only: a superscript digit passes str.isdigit() but int() refuses it.
    if not _WHOLE.fullmatch(text.strip()):
        raise InputError(field, f"{text!r} is not a whole number (digits 0-9)")
    value = int(text.strip())
    if value > maximum:
        raise InputError(field, f"{text.strip()} is larger than the largest possible ({maximum})")
    return value


def _parse(number: int, values: dict[str, str], limits: IntakeLimits) -> ReturnRow:
    file_id = _integer(values.get("file_id", ""), "file_id", MAX_ID)
    instruction_id = _integer(values.get("instruction_id", ""), "instruction_id", MAX_ID)
    account = values.get("account", "").strip()
    if not _WHOLE.fullmatch(account):
        raise InputError("account", f"{mask_account(account)} is not an account number")
    amount = _integer(values.get("amount_fen", ""), "amount_fen", limits.maximum_fen)
    result = RESULTS.get(values.get("result", "").strip().lower())
    if result is None:
        raise InputError("result", f"{values.get('result', '')!r} is not paid/成功 or failed/失败")
    booked = parse_date_text(values.get("booked_on", ""), "booked_on", limits)
    code = values.get("reason_code", "").strip() or None
    text = values.get("reason_text", "").strip() or None
    if result == "paid" and booked is None:
        raise InputError("booked_on", "is required for a paid row")
    if result == "failed" and code is None:
        raise InputError("reason_code", "is required for a failed row")
    return ReturnRow(number, file_id, instruction_id, account, amount, result, booked, code, text)


def _masked(cells: tuple[str, ...], columns: list[str]) -> tuple[str, ...]:
    return tuple(
        mask_account(c) if i < len(columns) and columns[i] == "account" else c
        for i, c in enumerate(cells)
    )


def read_return_file(
    path: Path,
    encoding: str | None = None,
    *,
    header_row: int | None = None,
    as_of: dt.date | None = None,
) -> tuple[Sheet, list[ReturnRow], list[QuarantineLine]]:
    """Read and check a return file without touching the database: its layout, the rows that
    parse, and the rows that do not (each with its field and reason)."""
    sheet = read_sheet(path, encoding, RETURN_COLUMNS, header_row, xlsx=False)
    columns = sheet.columns
    limits = intake_limits(as_of)
    quarantine: list[QuarantineLine] = []
    parsed: list[ReturnRow] = []
    for r in sheet.rows:
        values = {c: r.cells[i] if i < len(r.cells) else "" for i, c in enumerate(columns)}
        masked = _masked(r.cells, list(columns))
        problems = cell_problems(r, columns)
        if problems:
            quarantine.extend(QuarantineLine(r.number, f, why, masked) for f, why in problems)
            continue
        try:
            parsed.append(_parse(r.number, values, limits))
        except InputError as exc:
            quarantine.append(QuarantineLine(r.number, exc.field, exc.reason, masked))
    return sheet, parsed, quarantine


def _unique_rows(
    parsed: list[ReturnRow], raw: dict[int, tuple[str, ...]]
) -> tuple[list[ReturnRow], list[QuarantineLine]]:
    """The rows naming an (batch, instruction) pair once, and the quarantine lines of those that
    name one more than once (none of them is applied)."""
    by_key: dict[tuple[int, int], list[ReturnRow]] = {}
    for row in parsed:
        by_key.setdefault((row.file_id, row.instruction_id), []).append(row)
    unique: list[ReturnRow] = []
    quarantine: list[QuarantineLine] = []
    for (file_id, instruction_id), rows in by_key.items():
        if len(rows) == 1:
            unique.append(rows[0])
            continue
        numbers = ", ".join(str(r.row) for r in rows)
        quarantine.extend(
            QuarantineLine(
                row.row,
                "instruction_id",
                f"instruction {instruction_id} of file {file_id} appears "
                f"{len(rows)} times (rows {numbers}); none was applied",
                raw[row.row],
            )
            for row in rows
        )
    return unique, quarantine


# What a return row does: "apply" it, count it as "already" reconciled, or (field, reason) why
# it is quarantined.
_Verdict = Literal["apply", "already"] | tuple[str, str]


def _verdict(
    row: ReturnRow, instruction: PaymentInstruction | None, item: BankFileItem | None
) -> _Verdict:
    """Whether the row matches what the batch sent (pure: no database)."""
    file_id, instruction_id = row.file_id, row.instruction_id
    if instruction is None:
        return ("instruction_id", f"unknown instruction {instruction_id}")
    if item is None:
        return (
            "instruction_id",
            f"instruction {instruction_id} was not exported in bank file {file_id}",
        )
    if row.amount_fen != item.amount_fen:
        return ("amount_fen", f"{row.amount_fen} fen, but the file sent {item.amount_fen}")
    if row.account != item.account:
        return (
            "account",
            f"{mask_account(row.account)}, but the file sent {mask_account(item.account)}",
        )
    if item.result is None:
        return "apply"
    if (item.result, item.result_date, item.reason_code) == (
        row.result,
        row.booked_on,
        row.reason_code,
    ):
        return "already"
    return (
        "result",
        f"instruction {instruction_id} of file {file_id} was already "
        f"reconciled as {item.result}; a different result is not applied",
    )


def _apply_result(row: ReturnRow, instruction: PaymentInstruction, item: BankFileItem) -> None:
    item.result = row.result
    item.result_date = row.booked_on
    item.reason_code = row.reason_code
    item.reason_text = row.reason_text
    if instruction.bank_file_id == row.file_id and instruction.status == "exported":
        instruction.status = row.result
        instruction.paid_on = row.booked_on
        instruction.failure_code = row.reason_code
        instruction.failure_text = row.reason_text


@dataclass
class _Counts:
    paid: int = 0
    failed: int = 0
    already: int = 0


def _apply_rows(
    session: Session,
    rows: list[ReturnRow],
    raw: dict[int, tuple[str, ...]],
    quarantine: list[QuarantineLine],
) -> _Counts:
    """Check each row against its batch (rows locked) and apply those that match. The results
    are flushed together at the end, not before each row's lookups: a row repeated in the file
    meets its instruction and item as the earlier row left them (the session's identity map)."""
    counts = _Counts()
    with session.no_autoflush:
        for row in rows:
            _apply_row(session, row, raw, quarantine, counts)
    return counts


def _apply_row(
    session: Session,
    row: ReturnRow,
    raw: dict[int, tuple[str, ...]],
    quarantine: list[QuarantineLine],
    counts: _Counts,
) -> None:
    """One return row: checked against its instruction and bank-file item, applied or
    quarantined."""
    instruction = session.get(PaymentInstruction, row.instruction_id, with_for_update=True)
    item = None
    if instruction is not None:
        item = session.scalars(
            select(BankFileItem).where(
                BankFileItem.bank_file_id == row.file_id,
                BankFileItem.instruction_id == row.instruction_id,
            )
        ).one_or_none()
    verdict = _verdict(row, instruction, item)
    if verdict == "already":
        counts.already += 1
    elif verdict == "apply":
        assert instruction is not None  # checked by _verdict
        assert item is not None
        _apply_result(row, instruction, item)
        counts.paid += row.result == "paid"
        counts.failed += row.result != "paid"
    else:
        field, reason = verdict
        quarantine.append(QuarantineLine(row.row, field, reason, raw[row.row]))


def _record_return(
    session: Session,
    path: Path,
    read: int,
    counts: _Counts,
    quarantined: int,
    actor: Actor,
    now: dt.datetime,
) -> int:
    """The import's row (with the items it reconciled pointed at it) and its audit entry."""
    record = BankReturn(
        file_name=path.name,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        imported_at=now,
        read_count=read,
        applied_count=counts.paid + counts.failed,
        already_count=counts.already,
        quarantined_count=quarantined,
    )
    session.add(record)
    session.flush()
    session.execute(
        update(BankFileItem)
        .where(
            BankFileItem.return_id.is_(None),
            BankFileItem.result.is_not(None),
        )
        .values(return_id=record.id)
    )
    append(
        session,
        actor=actor,
        command="payments reconcile",
        event="bank_return_reconciled",
        entity="bank_return",
        entity_id=record.id,
        after={
            "file": path.name,
            "read": read,
            "paid": counts.paid,
            "failed": counts.failed,
            "already_reconciled": counts.already,
            "quarantined": quarantined,
        },
        occurred_at=now,
    )
    return record.id


@logged_stage("reconcile bank return")
def reconcile_return_file(
    db: Database,
    path: Path,
    *,
    actor: Actor,
    clock: Clock,
    encoding: str | None = None,
    header_row: int | None = None,
    dry_run: bool = False,
) -> ReconcileReport:
    """Apply a return file (CSV, UTF-8 or GB18030); see the module docstring. With ``dry_run``
    every check runs and the transaction is rolled back: nothing is written."""
    sheet, parsed, quarantine = read_return_file(
        path, encoding, header_row=header_row, as_of=clock().date()
    )
    read = len(sheet.rows)
    raw = {r.number: _masked(r.cells, list(sheet.columns)) for r in sheet.rows}
    rows, duplicated = _unique_rows(parsed, raw)
    quarantine.extend(duplicated)
    now = clock()
    with db.sessions() as session, session.begin() as transaction:
        counts = _apply_rows(session, rows, raw, quarantine)
        quarantine.sort(key=lambda q: q.row)
        quarantined = len({q.row for q in quarantine})
        return_id = _record_return(session, path, read, counts, quarantined, actor, now)
        if dry_run:
            transaction.rollback()
    return ReconcileReport(
        return_id,
        read,
        counts.paid,
        counts.failed,
        counts.already,
        tuple(quarantine),
        tuple(sheet.headers),
    )
