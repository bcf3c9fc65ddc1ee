"""Payee accounts: a household's social-security-card bank account, imported from CSV with
row-level validation and quarantine, and looked up by the roll for each month.

Account numbers are stored in full (the bank file needs them) and shown only masked
(``mask_account``: the first 4 and last 4 digits) in every message, display and quarantine file.
Columns, bank codes and checks: docs/payments.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import polars as pl
from sqlalchemy import Date, Integer, String, text
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.db.bulk import copy_rows, refresh_statistics, temp_table
from safetynet.db.engine import Database
from safetynet.domain.identity import mask_identity_number, parse_identity_number
from safetynet.errors import InputError
from safetynet.intake import (
    Column,
    IntakeLimits,
    QuarantineLine,
    RawRow,
    Sheet,
    cell_problems,
    intake_limits,
    parse_date_text,
    parse_region,
    read_sheet,
)
from safetynet.intake.columnar import (
    Frame,
    by_value,
    has_control_character,
    identity_number_checks,
    read_csv_frame,
)
from safetynet.logs import logged_stage
from safetynet.payments.masking import mask_account
from safetynet.payments.model import PayeeAccount

__all__ = [
    "ACCOUNT_COLUMNS",
    "BANK_CATEGORIES",
    "AccountImportReport",
    "AccountRow",
    "ValidatedAccounts",
    "account_for_month",
    "import_accounts",
    "mask_account",
    "parse_account_number",
    "parse_bank_code",
    "read_accounts",
]

# Bank category codes: the first 3 digits of the 12-digit CNAPS bank number (支付系统行号) of the
# banks that issue social security cards with a financial account (docs/payments.md).
BANK_CATEGORIES: Mapping[str, str] = {
    "102": "中国工商银行",
    "103": "中国农业银行",
    "104": "中国银行",
    "105": "中国建设银行",
    "301": "交通银行",
    "302": "中信银行",
    "303": "中国光大银行",
    "304": "华夏银行",
    "305": "中国民生银行",
    "306": "广发银行",
    "308": "招商银行",
    "309": "兴业银行",
    "310": "上海浦东发展银行",
    "313": "城市商业银行",
    "314": "农村商业银行",
    "315": "恒丰银行",
    "316": "浙商银行",
    "317": "农村合作银行",
    "402": "农村信用合作社",
    "403": "中国邮政储蓄银行",
}
ACCOUNT_LENGTHS = range(12, 20)  # bank card and passbook account numbers: 12 to 19 digits
_DIGITS = re.compile(r"[0-9]+")

ACCOUNT_COLUMNS: tuple[Column, ...] = (
    Column(
        "region", ("行政区划代码", "户籍地", "户籍地代码"), True, "6-digit county of the household"
    ),
    Column("household_no", ("户编号", "户号"), True, "the county's household number"),
    Column(
        "holder_id_number",
        ("持卡人身份证号", "身份证号", "公民身份号码"),
        True,
        "identity number of the card holder (a member of the household)",
    ),
    Column(
        "bank_code",
        ("开户行行号", "银行代码", "行号"),
        True,
        "bank: 3-digit category or 12-digit CNAPS number",
    ),
    Column("account_number", ("银行账号", "社保卡银行账号", "账号"), True, "12-19 digits"),
    Column("valid_from", ("启用日期", "生效日期"), True, "YYYY-MM-DD"),
    Column("valid_to", ("停用日期", "失效日期"), False, "YYYY-MM-DD, empty = open"),
    Column("holder_name", ("持卡人姓名", "姓名"), False, "name (not stored; for the reader)"),
)


def parse_account_number(text: str, field_name: str = "account_number") -> str:
    """An account number: digits only (spaces allowed between groups), 12 to 19 of them."""
    compact = re.sub(r"[\s-]", "", text)
    if not compact:
        raise InputError(field_name, "is empty")
    if not _DIGITS.fullmatch(compact):
        raise InputError(field_name, f"{mask_account(compact)} has characters other than digits")
    if len(compact) not in ACCOUNT_LENGTHS:
        raise InputError(
            field_name,
            f"{mask_account(compact)} has {len(compact)} digits; expected 12 to 19",
        )
    return compact


def parse_bank_code(text: str, field_name: str = "bank_code") -> str:
    """A bank: its 3-digit category code or a 12-digit CNAPS number whose first 3 digits are one
    of ``BANK_CATEGORIES``."""
    code = text.strip()
    if not _DIGITS.fullmatch(code) or len(code) not in (3, 12):
        raise InputError(
            field_name, f"{code!r} is neither a 3-digit bank code nor a 12-digit CNAPS number"
        )
    if code[:3] not in BANK_CATEGORIES:
        raise InputError(
            field_name, f"bank category {code[:3]} is not in the list of card-issuing banks"
        )
    return code


# -- Reading and validating ------------------------------------------------------------------


@dataclass(frozen=True)
class AccountRow:
    row: int
    region: str
    household_no: str
    holder_id_number: str
    bank_code: str
    account_number: str
    valid_from: dt.date
    valid_to: dt.date | None

    @property
    def key(self) -> tuple[str, str, dt.date]:
        return (self.region, self.household_no, self.valid_from)

    @property
    def values(self) -> tuple[str, str, str, dt.date | None]:
        return (self.holder_id_number, self.bank_code, self.account_number, self.valid_to)


@dataclass
class ValidatedAccounts:
    path: Path
    headers: tuple[str, ...]
    read: int
    rows: list[AccountRow]
    quarantine: list[QuarantineLine]
    raw: Mapping[int, tuple[str, ...]] = field(repr=False)
    sheet: Sheet | None = field(default=None, repr=False)

    def reject(self, record: AccountRow, field_name: str, reason: str) -> None:
        self.rows.remove(record)
        self.quarantine.append(QuarantineLine(record.row, field_name, reason, self.raw[record.row]))


def _masked_cells(cells: tuple[str, ...], columns: Sequence[str]) -> tuple[str, ...]:
    """The row as written, with the account number and identity number masked."""
    masked = []
    for i, cell in enumerate(cells):
        name = columns[i] if i < len(columns) else ""
        if name == "account_number":
            masked.append(mask_account(re.sub(r"[\s-]", "", cell)))
        elif name == "holder_id_number":
            masked.append(mask_identity_number(cell))
        else:
            masked.append(cell)
    return tuple(masked)


def read_accounts(
    path: Path,
    encoding: str | None = None,
    *,
    header_row: int | None = None,
    as_of: dt.date | None = None,
) -> ValidatedAccounts:
    """Read and check a payee-account CSV (UTF-8 or GB18030); file-level problems raise
    ``InputError``, row problems are quarantined. Checks against the database come later.
    Dates outside the plausible window of ``intake_limits(as_of)`` are refused.

    A plain UTF-8 file is read as columns and its rows checked column by column; a row that is
    not accepted that way goes through the row checks, so its reasons are theirs."""
    limits = intake_limits(as_of)
    frame = read_csv_frame(path, encoding, ACCOUNT_COLUMNS, header_row)
    if frame is not None:
        return _read_frame(frame, limits)
    sheet = read_sheet(path, encoding, ACCOUNT_COLUMNS, header_row, xlsx=False)
    raw = {r.number: _masked_cells(r.cells, sheet.columns) for r in sheet.rows}
    accepted, quarantine = _check_rows(sheet.rows, sheet.columns, limits, raw)
    validated = ValidatedAccounts(
        path, sheet.headers, len(sheet.rows), accepted, quarantine, raw, sheet
    )
    _reject_duplicates(validated)
    return validated


def _check_rows(
    rows: Sequence[RawRow],
    columns: Sequence[str],
    limits: IntakeLimits,
    raw: Mapping[int, tuple[str, ...]],
) -> tuple[list[AccountRow], list[QuarantineLine]]:
    """The row checks: (accepted rows, quarantined lines), in row order."""
    accepted: list[AccountRow] = []
    quarantine: list[QuarantineLine] = []
    for raw_row in rows:
        values = {
            c: raw_row.cells[i] if i < len(raw_row.cells) else "" for i, c in enumerate(columns)
        }
        problems = cell_problems(raw_row, columns)
        parsed = _parse_row(values, problems, limits) if not problems else None
        if problems or parsed is None:
            quarantine.extend(
                QuarantineLine(raw_row.number, f, r, raw[raw_row.number]) for f, r in problems
            )
            continue
        accepted.append(AccountRow(raw_row.number, *parsed))
    return accepted, quarantine


class _MaskedCells(Mapping[int, tuple[str, ...]]):
    """The masked cells of a row of a ``Frame``, made when asked for (only quarantined rows)."""

    def __init__(self, frame: Frame) -> None:
        self._frame = frame
        self._names = [f"c{i}" for i in range(len(frame.columns))]
        self._at: dict[int, int] | None = None

    def _positions(self) -> dict[int, int]:
        if self._at is None:
            numbers = self._frame.data.get_column("row").to_list()
            self._at = dict(zip(numbers, range(len(numbers)), strict=True))
        return self._at

    def __getitem__(self, number: int) -> tuple[str, ...]:
        values = self._frame.data.select(self._names).row(self._positions()[number])
        return _masked_cells(self._frame.raw_row(values, number).cells, self._frame.columns)

    def __iter__(self) -> Iterator[int]:
        return iter(self._positions())

    def __len__(self) -> int:
        return self._frame.read


def _household_no(text: str) -> str:
    if not text.strip():
        raise InputError("household_no", "is empty")
    return text.strip()


def _read_frame(frame: Frame, limits: IntakeLimits) -> ValidatedAccounts:
    """``read_accounts`` of a plain CSV file: columns checked at once, the other rows by the row
    checks; the same rows accepted and quarantined for the same reasons."""
    blank = "__blank"
    data = frame.data.with_columns(pl.lit("").alias(blank))
    col = {c.name: frame.column(c.name) or blank for c in ACCOUNT_COLUMNS}

    def parsed(name: str, parse: Any, dtype: Any) -> pl.Expr:
        return by_value(data, col[name], parse, dtype).alias(name)

    identity_ok, _ = identity_number_checks(col["holder_id_number"], limits)
    names = [f"c{i}" for i in range(len(frame.columns))]
    checked = data.select(
        "row",
        parsed("region", parse_region, pl.Utf8),
        parsed("household_no", _household_no, pl.Utf8),
        pl.col(col["holder_id_number"]).alias("holder_id_number"),
        parsed("bank_code", parse_bank_code, pl.Utf8),
        parsed("account_number", parse_account_number, pl.Utf8),
        parsed("valid_from", lambda t: parse_date_text(t, "valid_from", limits), pl.Date),
        parsed("valid_to", lambda t: parse_date_text(t, "valid_to", limits), pl.Date),
        (pl.col(col["valid_to"]).str.strip_chars() == "").alias("valid_to_blank"),
        (identity_ok & ~has_control_character(names)).alias("cells_ok"),
    )
    required = ("region", "household_no", "bank_code", "account_number", "valid_from")
    plain = (
        pl.col("cells_ok")
        & pl.all_horizontal(pl.col(n).is_not_null() for n in required)
        & (pl.col("valid_to").is_not_null() | pl.col("valid_to_blank"))
        & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= pl.col("valid_from")))
    )
    checked = checked.with_columns(plain.fill_null(value=False).alias("plain"))
    raw = _MaskedCells(frame)
    fields = ("row", "region", "household_no", "holder_id_number", "bank_code",
              "account_number", "valid_from", "valid_to")  # fmt: skip
    accepted = [AccountRow(*r) for r in checked.filter(pl.col("plain")).select(fields).iter_rows()]
    others = checked.filter(~pl.col("plain")).get_column("row").to_list()
    slow, quarantine = _check_rows(frame.raw_rows(others), frame.columns, limits, raw)
    rows = sorted(accepted + slow, key=lambda r: r.row)
    validated = ValidatedAccounts(
        frame.path, frame.headers, frame.read, rows, quarantine, raw, frame.sheet()
    )
    _reject_duplicates(validated)
    return validated


def _parse_row(
    values: Mapping[str, str], problems: list[tuple[str, str]], limits: IntakeLimits
) -> tuple[str, str, str, str, str, dt.date, dt.date | None] | None:
    def attempt(name: str, parse: object) -> object:
        try:
            return parse(values.get(name, ""))  # type: ignore[operator]
        except InputError as exc:
            problems.append((name, exc.reason))
            return None

    def required_date(text: str) -> dt.date:
        parsed = parse_date_text(text, "valid_from", limits)
        if parsed is None:
            raise InputError("valid_from", "is empty")
        return parsed

    def optional_date(text: str) -> dt.date | None:
        return parse_date_text(text, "valid_to", limits)

    def household_no(text: str) -> str:
        if not text.strip():
            raise InputError("household_no", "is empty")
        return text.strip()

    def holder(text: str) -> str:
        return parse_identity_number(
            text, "holder_id_number", as_of=limits.as_of, earliest_birth=limits.earliest_birth
        ).value

    region = attempt("region", parse_region)
    number = attempt("household_no", household_no)
    holder_id = attempt("holder_id_number", holder)
    bank = attempt("bank_code", parse_bank_code)
    account = attempt("account_number", parse_account_number)
    valid_from = attempt("valid_from", required_date)
    valid_to = attempt("valid_to", optional_date)
    if isinstance(valid_from, dt.date) and isinstance(valid_to, dt.date) and valid_to < valid_from:
        problems.append(("valid_to", f"{valid_to} is before valid_from {valid_from}"))
    if problems:
        return None
    return (
        str(region),
        str(number),
        str(holder_id),
        str(bank),
        str(account),
        cast(dt.date, valid_from),
        cast(dt.date | None, valid_to),
    )


def _reject_duplicates(batch: ValidatedAccounts) -> None:
    """Rows repeating a (household, valid_from) of the file are all quarantined: which one is
    meant cannot be told."""
    seen: dict[tuple[str, str, dt.date], list[AccountRow]] = {}
    for record in batch.rows:
        seen.setdefault(record.key, []).append(record)
    repeated: set[int] = set()
    for key, records in seen.items():
        if len(records) > 1:
            rows = ", ".join(str(r.row) for r in records)
            for record in records:
                repeated.add(record.row)
                reason = (
                    f"household {key[0]}/{key[1]} has {len(records)} accounts from {key[2]} "
                    f"in this file (rows {rows})"
                )
                batch.quarantine.append(
                    QuarantineLine(record.row, "valid_from", reason, batch.raw[record.row])
                )
    if repeated:
        batch.rows = [r for r in batch.rows if r.row not in repeated]


# -- Importing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountImportReport:
    """read = imported + already_recorded + quarantined."""

    read: int
    imported: int
    already_recorded: int
    quarantine: tuple[QuarantineLine, ...]
    headers: tuple[str, ...]

    @property
    def quarantined(self) -> int:
        return len({q.row for q in self.quarantine})


# Why a row is not stored: (field, reason).
_Rejection = tuple[str, str]


@dataclass(frozen=True, slots=True)
class _Found:
    """What the database knows of one row: its household, its holder, whether the holder is a
    member while the account is valid, and the account recorded for the household from the
    same day (holder, bank, account number, valid_to), if any."""

    household_id: int | None
    person_id: int | None
    is_member: bool
    existing: tuple[int, str, str, dt.date | None] | None


def _holder_in_household(record: AccountRow, found: _Found) -> tuple[int, int] | _Rejection:
    """(household id, holder's person id) of the row, or why not: the household and the person
    must be known and the holder a member while the account is valid."""
    if found.household_id is None:
        return ("household_no", f"unknown household {record.region}/{record.household_no}")
    masked = mask_identity_number(record.holder_id_number)
    if found.person_id is None:
        return ("holder_id_number", f"unknown person {masked}")
    if not found.is_member:
        return (
            "holder_id_number",
            f"{masked} is not a member of household "
            f"{record.region}/{record.household_no} while the account is valid",
        )
    return found.household_id, found.person_id


def _against_existing(
    existing: tuple[int, str, str, dt.date | None], record: AccountRow, person_id: int
) -> _Rejection | None:
    """None if the account recorded from the same day is the row's own (already recorded), else
    why the row is refused (pure)."""
    holder, bank_code, account_number, valid_to = existing
    same = (
        holder == person_id
        and bank_code == record.bank_code
        and account_number == record.account_number
        and valid_to == record.valid_to
    )
    if same:
        return None
    return (
        "valid_from",
        f"household {record.region}/{record.household_no} already has account "
        f"{mask_account(account_number)} from {record.valid_from}; "
        "a different account needs a different valid_from",
    )


_ROWS_TABLE = "payee_account_rows"
_LOOKUP = text(
    f"""
    SELECT t.row_no, h.id AS household_id, p.id AS person_id,
           CASE WHEN EXISTS (
               SELECT 1 FROM memberships m
               WHERE m.person_id = p.id AND m.household_id = h.id
                 AND (t.valid_to IS NULL OR m.start_date <= t.valid_to)
                 AND (m.end_date IS NULL OR m.end_date > t.valid_from)
           ) THEN 1 ELSE 0 END AS is_member,
           a.holder_person_id, a.bank_code, a.account_number, a.valid_to
    FROM {_ROWS_TABLE} t
    LEFT JOIN households h ON h.region_code = t.region AND h.household_no = t.household_no
    LEFT JOIN persons p ON p.id_number = t.holder
    LEFT JOIN payee_accounts a ON a.household_id = h.id AND a.valid_from = t.valid_from
    """
).columns(
    row_no=Integer,
    household_id=Integer,
    person_id=Integer,
    is_member=Integer,
    holder_person_id=Integer,
    bank_code=String,
    account_number=String,
    valid_to=Date,
)
_ACCOUNT_COLUMNS = (
    "household_id",
    "holder_person_id",
    "bank_code",
    "account_number",
    "valid_from",
    "valid_to",
    "created_at",
    "source",
)


def _look_up(session: Session, rows: Sequence[AccountRow]) -> dict[int, _Found]:
    """The database's answer for every row at once: the rows' keys go into a temporary table
    (COPY on PostgreSQL) and one query joins them with the registry and the accounts."""
    temp_table(
        session,
        _ROWS_TABLE,
        {
            "row_no": "INTEGER",
            "region": "VARCHAR(6)",
            "household_no": "VARCHAR(40)",
            "holder": "VARCHAR(18)",
            "valid_from": "DATE",
            "valid_to": "DATE",
        },
    )
    copy_rows(
        session,
        _ROWS_TABLE,
        ("row_no", "region", "household_no", "holder", "valid_from", "valid_to"),
        (
            (r.row, r.region, r.household_no, r.holder_id_number, r.valid_from, r.valid_to)
            for r in rows
        ),
    )
    found: dict[int, _Found] = {}
    for row_no, hid, pid, member, holder, bank, account, valid_to in session.execute(_LOOKUP):
        existing = None if holder is None else (holder, bank, account, valid_to)
        found[row_no] = _Found(hid, pid, bool(member), existing)
    session.execute(text(f"DROP TABLE {_ROWS_TABLE}"))
    return found


def _store_rows(
    session: Session, batch: ValidatedAccounts, now: dt.datetime
) -> tuple[int, int, str]:
    """Check each row against the registry and the accounts recorded, store the new ones (COPY
    on PostgreSQL, batched inserts on SQLite); (imported, already recorded, digest of the rows
    stored)."""
    already = 0
    found = _look_up(session, batch.rows)
    kept: list[AccountRow] = []
    new: list[tuple[object, ...]] = []
    for record in batch.rows:
        checked = _holder_in_household(record, found[record.row])
        if isinstance(checked[0], str):
            field_name, reason = checked
            batch.quarantine.append(
                QuarantineLine(record.row, field_name, reason, batch.raw[record.row])
            )
            continue
        household_id, person_id = checked
        existing = found[record.row].existing
        if existing is not None:
            refused = _against_existing(existing, record, person_id)
            if refused is None:
                already += 1
            else:
                batch.quarantine.append(QuarantineLine(record.row, *refused, batch.raw[record.row]))
            continue
        kept.append(record)
        new.append(
            (household_id, person_id, record.bank_code, record.account_number,
             record.valid_from, record.valid_to, now, batch.path.name)
        )  # fmt: skip
    batch.rows = kept
    copy_rows(session, "payee_accounts", _ACCOUNT_COLUMNS, new)
    return len(new), already, _digest(new)


def _digest(rows: Sequence[tuple[object, ...]]) -> str:
    """SHA-256 of the stored rows (household, holder, bank, account, validity), in file order:
    the audit entry names exactly what was written without holding an account number."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update("|".join(str(v) for v in row[:6]).encode() + b"\n")
    return digest.hexdigest()


@logged_stage("import accounts")
def import_accounts(
    db: Database,
    batch: ValidatedAccounts,
    *,
    actor: Actor,
    clock: object,
    dry_run: bool = False,
) -> AccountImportReport:
    """Check the rows against the registry and store the good ones, in one transaction with one
    audit entry (counts and a digest of the rows stored). Rows already recorded with the same
    values are counted, not stored twice. With ``dry_run`` every check runs and the transaction
    is rolled back: nothing is written."""
    now: dt.datetime = clock()  # type: ignore[operator]
    with db.sessions() as session, session.begin() as transaction:
        imported, already, digest = _store_rows(session, batch, now)
        batch.quarantine.sort(key=lambda q: q.row)
        append(
            session,
            actor=actor,
            command="payments accounts import",
            event="payee_accounts_imported",
            entity="payee_account_file",
            entity_id=hashlib.sha256(batch.path.read_bytes()).hexdigest()[:16],
            after={
                "file": batch.path.name,
                "read": batch.read,
                "imported": imported,
                "already_recorded": already,
                "quarantined": len({q.row for q in batch.quarantine}),
                "rows_sha256": digest,
            },
            occurred_at=now,
        )
        if dry_run:
            transaction.rollback()
    if imported and not dry_run:
        with db.sessions.begin() as session:  # the roll and bank files plan with the accounts
            refresh_statistics(session, PayeeAccount)
    return AccountImportReport(
        batch.read, imported, already, tuple(batch.quarantine), batch.headers
    )


def account_for_month(
    accounts: Sequence[PayeeAccount],
    first: dt.date,
    last: dt.date,
) -> int | None:
    """The index in ``accounts`` of the account used for the month [first, last]: of those valid
    on some day of it, the one with the latest ``valid_from``; None if there is none."""
    best: tuple[dt.date, int] | None = None
    for i, item in enumerate(accounts):
        valid_from, valid_to = item.valid_from, item.valid_to
        valid = valid_from <= last and (valid_to is None or valid_to >= first)
        if valid and (best is None or valid_from > best[0]):
            best = (valid_from, i)
    return None if best is None else best[1]
