"""A county's current roll (保障名册): the households paid by a program now, as the office delivers
it, imported as enrolments.

The household list (``import households``) says who lives where and what they have; the roll says
who is enrolled in which program, since when and for how much a month. Each row names a household
(户编号 and 户籍地, as in the household list), the program (its id or its Chinese title: 城乡低保,
特困人员救助供养 …), the monthly amount in yuan and the start date. Rows are validated through the
intake kit and a bad row is quarantined with its row number, field and reason; a row whose
household is not in the registry is quarantined too (import the household list first).

Importing is idempotent: a household already enrolled in the program with the same amount is
counted as already present; with another amount the enrolment is changed to the roll's amount
(a new version in its history, reason "roll import"). Every enrolment written is audited like
``EnrolHousehold``, and the import as a whole once (``RollImported``, counts only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from safetynet.audit.log import Actor, append
from safetynet.db.unit_of_work import UnitOfWork
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
    parse_money,
    parse_region,
    read_sheet,
)
from safetynet.policy.engine import programs
from safetynet.registry.handlers import enrolment_state, record_enrolment_version
from safetynet.registry.model import Enrolment
from safetynet.registry.repository import RegistryRepository

__all__ = [
    "ROLL_COLUMNS",
    "ImportRoll",
    "RollEntry",
    "RollImportReport",
    "ValidatedRoll",
    "import_roll",
    "read_roll",
    "validate_roll",
]

ROLL_COLUMNS: tuple[Column, ...] = (
    Column("household_no", ("户编号", "户号"), True, "the county's household number"),
    Column("region", ("户籍地", "户籍地代码", "行政区划代码"), True, "6-digit region"),
    Column("program", ("项目", "救助项目", "保障类别"), True, "program id or Chinese title"),
    Column("amount", ("月保障金额", "月金额", "保障金额"), True, "monthly amount in yuan"),
    Column("start_date", ("起始日期", "享受起始日期", "开始日期"), True, "YYYY-MM-DD"),
)

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class RollEntry:
    row: int
    region: str
    household_no: str
    program: str
    amount_fen: int
    start: dt.date
    cells: tuple[str, ...]


@dataclass
class ValidatedRoll:
    entries: list[RollEntry]
    quarantine: list[QuarantineLine]
    read: int


def read_roll(path: Path, encoding: str | None = None, header_row: int | None = None) -> Sheet:
    return read_sheet(path, encoding, ROLL_COLUMNS, header_row)


# The short names offices write on their rolls, besides each program's id and full title.
PROGRAM_ALIASES = {
    "低保": "dibao",
    "城乡低保": "dibao",
    "城市低保": "dibao",
    "农村低保": "dibao",
    "城乡居民最低生活保障": "dibao",
    "特困": "tekun",
    "特困供养": "tekun",
    "特困人员": "tekun",
}


def _program_names() -> Mapping[str, str]:
    """Every accepted spelling of a program: its id, its Chinese title and the short names."""
    names: dict[str, str] = dict(PROGRAM_ALIASES)
    for pid, prog in programs().items():
        names[pid] = pid
        names[prog.title_zh] = pid
    return names


def validate_roll(sheet: Sheet, as_of: dt.date) -> ValidatedRoll:
    """Rows into roll entries; a bad row is quarantined with its field and reason. A household
    listed twice for one program is ambiguous: both rows are quarantined."""
    names = _program_names()
    limits = intake_limits(as_of)
    entries: list[RollEntry] = []
    quarantine: list[QuarantineLine] = []
    for raw in sheet.rows:
        try:
            entries.append(_entry(raw, sheet.columns, names, limits))
        except InputError as exc:
            quarantine.append(QuarantineLine(raw.number, exc.field, exc.reason, raw.cells))
    seen: dict[tuple[str, str, str], list[RollEntry]] = {}
    for e in entries:
        seen.setdefault((e.region, e.household_no, e.program), []).append(e)
    repeated = {k for k, rows in seen.items() if len(rows) > 1}
    kept = [e for e in entries if (e.region, e.household_no, e.program) not in repeated]
    for e in entries:
        if (e.region, e.household_no, e.program) in repeated:
            rows = ", ".join(str(r.row) for r in seen[(e.region, e.household_no, e.program)])
            quarantine.append(
                QuarantineLine(
                    e.row, "household_no",
                    f"household {e.household_no} is listed for {e.program} more than once "
                    f"(rows {rows})", e.cells,
                )
            )  # fmt: skip
    quarantine.sort(key=lambda q: q.row)
    return ValidatedRoll(kept, quarantine, len(sheet.rows))


def _entry(
    raw: RawRow, columns: tuple[str, ...], names: Mapping[str, str], limits: IntakeLimits
) -> RollEntry:
    problems = cell_problems(raw, columns)
    if problems:
        raise InputError(*problems[0])
    cell = dict(zip(columns, raw.cells, strict=False))

    def text(name: str) -> str:
        value = cell.get(name, "").strip()
        if not value:
            raise InputError(name, "is empty")
        return value

    program = names.get(text("program"))
    if program is None:
        raise InputError("program", f"{text('program')!r} is not a known program id or title")
    amount = parse_money(text("amount"), "amount", limits.maximum_fen)
    start = parse_date_text(text("start_date"), "start_date", limits)
    assert start is not None  # text() refused an empty cell
    region = parse_region(text("region"))
    return RollEntry(raw.number, region, text("household_no"), program, amount, start, raw.cells)


@dataclass(frozen=True)
class ImportRoll:
    """Write a validated roll as enrolments (new, changed or already present)."""

    roll: ValidatedRoll
    actor: Actor
    source: str  # file name and digest, for the audit log


@dataclass
class RollImportReport:
    read: int = 0
    enrolled: dict[str, int] = field(default_factory=dict)
    changed: int = 0
    already_present: int = 0
    quarantined: int = 0


def import_roll(cmd: ImportRoll, uow: UnitOfWork, clock: Clock) -> RollImportReport:
    """One transaction: every entry whose household is registered is enrolled (or changed);
    entries of unknown households are quarantined and added to ``cmd.roll.quarantine``."""
    now = clock()
    repo = uow.repo(RegistryRepository)
    report = RollImportReport(read=cmd.roll.read)
    for entry in cmd.roll.entries:
        household = repo.household(entry.region, entry.household_no)
        if household is None:
            cmd.roll.quarantine.append(
                QuarantineLine(
                    entry.row, "household_no",
                    f"household {entry.region}/{entry.household_no} is not in the registry "
                    "(import the household list first)", entry.cells,
                )
            )  # fmt: skip
            continue
        current = repo.current_enrolment(household.id, entry.program)
        if current is None:
            _enrol(uow, cmd, household.id, entry, now)
            report.enrolled[entry.program] = report.enrolled.get(entry.program, 0) + 1
        elif current.amount_fen == entry.amount_fen:
            report.already_present += 1
        else:
            _change_amount(uow, cmd, current, entry.amount_fen, now)
            report.changed += 1
    cmd.roll.quarantine.sort(key=lambda q: q.row)
    report.quarantined = len(cmd.roll.quarantine)
    if report.enrolled or report.changed:
        append(
            uow.session, actor=cmd.actor, command="ImportRoll", event="RollImported",
            entity="import", entity_id=cmd.source[:60],
            after={"source": cmd.source, "read": report.read, "enrolled": report.enrolled,
                   "changed": report.changed, "already_present": report.already_present,
                   "quarantined": report.quarantined},
            occurred_at=now,
        )  # fmt: skip
    uow.commit()
    return report


def _enrol(
    uow: UnitOfWork, cmd: ImportRoll, household_id: int, entry: RollEntry, now: dt.datetime
) -> None:
    repo = uow.repo(RegistryRepository)
    enrolment = Enrolment(
        household_id=household_id, program=entry.program, start_date=entry.start,
        end_date=None, amount_fen=entry.amount_fen, status="active", version=1,
    )  # fmt: skip
    repo.add(enrolment)
    repo.flush()
    record_enrolment_version(uow, enrolment, now, "roll import")
    append(
        uow.session, actor=cmd.actor, command="ImportRoll", event="HouseholdEnrolled",
        entity="enrolment", entity_id=enrolment.id, after=enrolment_state(enrolment), occurred_at=now,
    )  # fmt: skip


def _change_amount(
    uow: UnitOfWork, cmd: ImportRoll, enrolment: Enrolment, amount_fen: int, now: dt.datetime
) -> None:
    before = enrolment_state(enrolment)
    enrolment.amount_fen = amount_fen
    enrolment.version += 1
    record_enrolment_version(uow, enrolment, now, "roll import")
    append(
        uow.session, actor=cmd.actor, command="ImportRoll", event="EnrolmentChanged",
        entity="enrolment", entity_id=enrolment.id, before=before,
        after=enrolment_state(enrolment) | {"reason": "roll import"}, occurred_at=now,
    )  # fmt: skip
