"""Import insured persons' monthly contribution records (CSV or XLSX, one row per person and month).

Reading, encoding detection and the quarantine file are those of the household import
(``registry.imports``); only the columns and the row checks differ. Every problem is a quarantined
row with its reason, never a silent correction: overlaps (the same person, scheme and month twice),
months before the person was 16 or after the import date, bases outside the 60-300 % clamp
(quarantined, or imported and flagged with ``out_of_clamp="flag"``), unknown persons, and months
already recorded with other values. Rules and columns: docs/contributions.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select

from safetynet.audit.log import Actor, append
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.identity import mask_identity_number, parse_identity_number
from safetynet.domain.money import Rounding, format_yuan, mul_ratio
from safetynet.errors import CoverageError, InputError, UnknownNameError
from safetynet.insurance.contributions import SCHEME_SYNONYMS, SCHEMES, ContributionRecord
from safetynet.intake import (
    Column,
    IntakeLimits,
    NullProgress,
    ProgressSink,
    QuarantineLine,
    RawRow,
    Sheet,
    cell_problems,
    intake_limits,
    parse_money,
    parse_month,
    parse_region,
    read_sheet,
)
from safetynet.logs import logged_stage
from safetynet.policy.engine import Params
from safetynet.policy.parameters import ParameterTree, default_tree
from safetynet.registry.repository import RegistryRepository

__all__ = [
    "CLAMPED_SCHEMES",
    "COLUMNS",
    "ContributionImportReport",
    "ContributionRow",
    "ContributionTable",
    "ImportContributions",
    "ValidatedContributions",
    "audit_import",
    "check_row",
    "default_flagged_path",
    "file_overlaps",
    "import_contributions",
    "load_history",
    "read_contributions",
    "recorded_otherwise",
    "unknown_person",
    "validate_contributions",
]

OutOfClamp = Literal["quarantine", "flag"]
MINIMUM_WORKING_AGE = 16  # Labour Law art. 15: no employment under 16
CHUNK = 500  # persons looked up together

COLUMNS: tuple[Column, ...] = (
    Column("id_number", ("身份证号", "身份证号码", "公民身份号码"), True, "identity number"),
    Column("scheme", ("险种", "险种类型"), True, "险种: 职工养老/居民养老/失业/职工医保/工伤"),
    Column("region", ("参保地", "参保地代码", "参保地行政区划代码"), True, "6-digit region"),
    Column("month", ("缴费月份", "费款所属期", "所属期"), True, "YYYY-MM"),
    Column("base", ("缴费基数",), True, "monthly contribution base in yuan"),
    Column("employer", ("单位缴费", "单位缴费额"), True, "employer contribution in yuan"),
    Column("individual", ("个人缴费", "个人缴费额"), True, "individual contribution in yuan"),
    Column(
        "account_credit",
        ("个人账户记账额", "记账金额", "划入个人账户"),
        False,
        "credited to the personal account, yuan (derived when absent)",
    ),
    Column("name", ("姓名",), False, "name (not stored; for the reader of the file)"),
)

# Schemes whose base is a wage clamped to 60-300 % of the average wage, and the parameters of
# the clamp. The pension's clamp is used for unemployment and work injury too (most provinces set
# one base for all the employee insurances) [I].
AVERAGE_WAGE = "insurance.employee_pension.average_wage_monthly"
_PENSION = (
    "insurance.employee_pension.base_floor_ratio",
    "insurance.employee_pension.base_ceiling_ratio",
)
_MEDICAL = (
    "insurance.employee_medical.contribution_base_floor_ratio",
    "insurance.employee_medical.contribution_base_ceiling_ratio",
)
CLAMPED_SCHEMES: Mapping[str, tuple[str, str]] = {
    "employee_pension": _PENSION,
    "unemployment": _PENSION,
    "work_injury": _PENSION,
    "employee_medical": _MEDICAL,
}
ACCOUNT_SHARE = "insurance.pension_account.account_share_of_base"
NO_ACCOUNT = ("unemployment", "work_injury")


# -- Reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContributionTable:
    path: Path
    headers: tuple[str, ...]
    columns: tuple[str, ...]
    rows: list[RawRow]
    encoding: str | None
    sheet: Sheet | None = None


def read_contributions(
    path: Path, encoding: str | None = None, header_row: int | None = None
) -> ContributionTable:
    """Read a CSV or XLSX contribution file; file-level problems raise ``InputError``."""
    sheet = read_sheet(path, encoding, COLUMNS, header_row)
    return ContributionTable(path, sheet.headers, sheet.columns, sheet.rows, sheet.encoding, sheet)


# -- Validation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContributionRow:
    row: int
    id_number: str
    birth_date: dt.date
    scheme: str
    region: str
    month: str
    base_fen: int
    employer_fen: int
    individual_fen: int
    account_credit_fen: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.id_number, self.scheme, self.month)

    @property
    def values(self) -> tuple[str, int, int, int, int]:
        return (
            self.region,
            self.base_fen,
            self.employer_fen,
            self.individual_fen,
            self.account_credit_fen,
        )


@dataclass
class ValidatedContributions:
    path: Path
    headers: tuple[str, ...]
    read: int
    rows: list[ContributionRow]
    quarantine: list[QuarantineLine]
    flagged: list[QuarantineLine]  # imported, with a note (clamp not checked or outside it)
    raw: dict[int, tuple[str, ...]] = field(repr=False)

    @property
    def quarantined_rows(self) -> int:
        return len({q.row for q in self.quarantine})

    def reject(self, record: ContributionRow, field_name: str, reason: str) -> None:
        self.rows.remove(record)
        self.quarantine.append(QuarantineLine(record.row, field_name, reason, self.raw[record.row]))
        self.flagged = [f for f in self.flagged if f.row != record.row]


class _Rules:
    """Parameter look-ups for one month and region, cached (a file has few distinct pairs)."""

    def __init__(self, tree: ParameterTree, overrides: Mapping[str, Any] | None) -> None:
        self._params = Params
        self.tree = tree
        self.overrides = dict(overrides or {})
        self._cache: dict[tuple[str, str], Any] = {}

    def params(self, region: str, month: str) -> Any:
        key = (region, month)
        hit = self._cache.get(key)
        if hit is None:
            on = dt.date(int(month[:4]), int(month[5:]), 1)
            hit = self._cache[key] = self._params(on, region, self.tree, self.overrides)
        return hit

    def clamp(self, scheme: str, region: str, month: str) -> tuple[int, int, int] | str:
        """(floor, ceiling, average wage) in fen, or why the clamp cannot be checked."""
        p = self.params(region, month)
        floor_name, ceiling_name = CLAMPED_SCHEMES[scheme]
        try:
            average = p.fen(AVERAGE_WAGE)
            mode = p.rounding("common.rounding.mode")
            floor = mul_ratio(average, p.ratio(floor_name), mode)
            ceiling = mul_ratio(average, p.ratio(ceiling_name), mode)
        except CoverageError as exc:
            return str(exc).split(";")[0]
        return int(floor), int(ceiling), average

    def account_share(self, region: str, month: str) -> tuple[Decimal, Rounding]:
        p = self.params(region, month)
        return p.ratio(ACCOUNT_SHARE), p.rounding("common.rounding.mode")


def _scheme(text: str) -> str:
    value = SCHEME_SYNONYMS.get(text) or (text.lower() if text.lower() in SCHEMES else None)
    if value is None:
        listed = "/".join([*SCHEME_SYNONYMS, *SCHEMES])
        raise InputError("scheme", f"{text!r} is not one of {listed}")
    return value


def validate_contributions(
    table: ContributionTable,
    *,
    as_of: dt.date,
    out_of_clamp: OutOfClamp = "quarantine",
    tree: ParameterTree | None = None,
    overrides: Mapping[str, Any] | None = None,
    progress: ProgressSink | None = None,
) -> ValidatedContributions:
    """Check every row, then overlaps within the file; return what can be imported.

    ``overrides`` are parameter values (engine form: money in fen) used for the clamp and the
    derived account credits, as ``--set`` does for ``calc``."""
    sink = progress or NullProgress()
    rules = _Rules(tree or default_tree(), overrides)
    raw = {r.number: r.cells for r in table.rows}
    quarantine: list[QuarantineLine] = []
    flagged: list[QuarantineLine] = []
    good: list[ContributionRow] = []
    limits = intake_limits(as_of)
    sink.start("Validating contribution rows", len(table.rows))
    for raw_row in table.rows:
        record = check_row(raw_row, table.columns, limits, rules, out_of_clamp, quarantine, flagged)
        if record is not None:
            good.append(record)
        sink.advance()

    # Overlaps within the file: the same person, scheme and month more than once.
    by_key: dict[tuple[str, str, str], list[ContributionRow]] = {}
    for record in good:
        by_key.setdefault(record.key, []).append(record)
    groups = [[(r.row, r.scheme, r.values) for r in records] for records in by_key.values()]
    dropped = file_overlaps(groups, raw, quarantine)
    kept = [r for r in good if r.row not in dropped]
    flagged = [f for f in flagged if f.row not in dropped]
    quarantine.sort(key=lambda q: q.row)
    kept.sort(key=lambda r: r.row)
    return ValidatedContributions(
        table.path, table.headers, len(table.rows), kept, quarantine, flagged, raw
    )


def check_row(
    raw_row: RawRow,
    columns: Sequence[str],
    limits: IntakeLimits,
    rules: _Rules,
    out_of_clamp: OutOfClamp,
    quarantine: list[QuarantineLine],
    flagged: list[QuarantineLine],
) -> ContributionRow | None:
    """One row through the row validator: the record, or None with the row's problems added to
    ``quarantine`` (its notes go to ``flagged`` when it is accepted)."""
    values = {c: raw_row.cells[i] if i < len(raw_row.cells) else "" for i, c in enumerate(columns)}
    problems = cell_problems(raw_row, columns)
    notes: list[tuple[str, str]] = []
    record = (
        _parse(raw_row, values, limits, rules, out_of_clamp, problems, notes)
        if not problems
        else None
    )
    if problems or record is None:
        quarantine.extend(QuarantineLine(raw_row.number, f, r, raw_row.cells) for f, r in problems)
        return None
    flagged.extend(QuarantineLine(raw_row.number, f, r, raw_row.cells) for f, r in notes)
    return record


OverlapGroup = Sequence[tuple[int, str, tuple[Any, ...]]]


def file_overlaps(
    groups: Iterable[OverlapGroup],
    cells: Mapping[int, tuple[str, ...]],
    quarantine: list[QuarantineLine],
) -> set[int]:
    """Rows of the file recording one person, scheme and month more than once (each group:
    (row, scheme, values) in row order): an exact repeat is imported once, differing ones not
    at all. The rows dropped; their reasons are added to ``quarantine``."""
    dropped: set[int] = set()
    for records in groups:
        if len(records) < 2:
            continue
        first = records[0]
        if all(r[2] == first[2] for r in records):
            for number, _, _ in records[1:]:
                dropped.add(number)
                reason = (
                    f"repeats row {first[0]} exactly (same person, scheme, month and values); "
                    "row imported once"
                )
                quarantine.append(QuarantineLine(number, "month", reason, cells[number]))
            continue
        numbers = ", ".join(str(r[0]) for r in records)
        for number, scheme, _ in records:
            dropped.add(number)
            reason = (
                f"overlap: rows {numbers} record {scheme} for the same person and month "
                "with different places or amounts; none of them was imported"
            )
            quarantine.append(QuarantineLine(number, "month", reason, cells[number]))
    return dropped


def _parse(
    raw_row: RawRow,
    values: Mapping[str, str],
    limits: IntakeLimits,
    rules: _Rules,
    out_of_clamp: OutOfClamp,
    problems: list[tuple[str, str]],
    notes: list[tuple[str, str]],
) -> ContributionRow | None:
    def attempt(field_name: str, parse: Callable[[str], Any]) -> Any:
        try:
            return parse(values.get(field_name, "").strip())
        except InputError as exc:
            problems.append((field_name, exc.reason))
            return None

    for column in COLUMNS:
        if column.required and column.name != "base" and not values.get(column.name, "").strip():
            problems.append((column.name, f"is required ({column.description})"))
    if problems:
        return None
    if "id_number" in raw_row.numeric:
        problems.append(
            (
                "id_number",
                "is stored as a number in the spreadsheet, which loses digits: "
                "format the column as text and type the numbers again",
            )
        )
        return None
    latest = f"{limits.as_of.year:04d}-{limits.as_of.month:02d}"
    earliest = f"{limits.earliest_date.year:04d}-{limits.earliest_date.month:02d}"
    most = limits.maximum_fen
    identity = attempt(
        "id_number",
        lambda t: parse_identity_number(
            t, "id_number", raw_row.number, as_of=limits.as_of, earliest_birth=limits.earliest_birth
        ),
    )
    scheme = attempt("scheme", _scheme)
    region = attempt("region", parse_region)
    month = attempt("month", lambda t: parse_month(t, "month"))
    employer = attempt("employer", lambda t: parse_money(t, "employer", most))
    individual = attempt("individual", lambda t: parse_money(t, "individual", most))
    base_text = values.get("base", "").strip()
    base = attempt("base", lambda t: parse_money(t, "base", most)) if base_text else None
    credit_text = values.get("account_credit", "").strip()
    credit = (
        attempt("account_credit", lambda t: parse_money(t, "account_credit", most))
        if credit_text
        else None
    )
    if problems or identity is None or scheme is None or region is None or month is None:
        return None
    assert employer is not None
    assert individual is not None

    if base is None:
        if scheme != "resident_pension":
            problems.append(("base", f"is required for {scheme} (the monthly contribution base)"))
            return None
        base = 0
    if employer + individual == 0:
        problems.append(
            (
                "individual",
                "the row records no contribution (employer and individual are 0); leave unpaid "
                "months out of the file: they are shown as gaps",
            )
        )
    if month > latest:
        problems.append(("month", f"{month} is after the import date ({latest})"))
    if month < earliest:
        problems.append(
            (
                "month",
                f"{month} is implausibly early (before {earliest}, parameter "
                "common.intake.business_date_years_back)",
            )
        )
    born: dt.date = identity.birth_date
    sixteen = f"{born.year + MINIMUM_WORKING_AGE:04d}-{born.month:02d}"
    if month < sixteen:
        problems.append(
            (
                "month",
                f"{month} is before the person turned {MINIMUM_WORKING_AGE} (born "
                f"{born.year:04d}-{born.month:02d}, per the identity number {identity.masked})",
            )
        )
    if scheme in NO_ACCOUNT and credit:
        problems.append(
            ("account_credit", f"{scheme} has no personal account; leave it 0 or blank")
        )
    if problems:
        return None

    if scheme in CLAMPED_SCHEMES:
        clamp = rules.clamp(scheme, region, month)
        if isinstance(clamp, str):
            notes.append(("base", f"not checked against the 60-300 % clamp: {clamp}"))
        else:
            floor, ceiling, average = clamp
            low, high = floor // 100 * 100, -(-ceiling // 100) * 100  # whole yuan, generous
            if not low <= base <= high:
                reason = (
                    f"base {format_yuan(base)} is outside {format_yuan(floor)}-"
                    f"{format_yuan(ceiling)} (the clamp of the average wage "
                    f"{format_yuan(average)} in {region} for {month})"
                )
                if out_of_clamp == "quarantine":
                    problems.append(("base", reason))
                    return None
                notes.append(("base", reason + "; imported as recorded (--out-of-clamp flag)"))

    if credit is None:
        try:
            credit = _derived_credit(scheme, region, month, base, individual, rules)
        except CoverageError as exc:
            problems.append(
                ("account_credit", f"cannot be derived ({exc}); give 个人账户记账额 in the file")
            )
            return None
    return ContributionRow(
        row=raw_row.number,
        id_number=identity.value,
        birth_date=born,
        scheme=scheme,
        region=region,
        month=month,
        base_fen=base,
        employer_fen=employer,
        individual_fen=individual,
        account_credit_fen=credit,
    )


def _derived_credit(
    scheme: str, region: str, month: str, base: int, individual: int, rules: _Rules
) -> int:
    """The personal-account credit when the file gives none (docs/contributions.md)."""
    if scheme in NO_ACCOUNT:
        return 0
    if scheme == "employee_pension":
        share, mode = rules.account_share(region, month)
        return min(individual, int(mul_ratio(base, share, mode)))
    return individual  # employee_medical (2021 reform) and resident_pension: own contribution


# -- Writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportContributions:
    batch: ValidatedContributions
    actor: Actor
    source: str  # file name and digest, for the audit log


@dataclass
class ContributionImportReport:
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    created: int = 0
    unchanged: int = 0
    flagged: int = 0
    persons: int = 0


def default_flagged_path(source: Path) -> Path:
    return source.with_name(f"{source.stem}.flagged.csv")


def _chunks(items: Sequence[ContributionRow], size: int) -> Iterator[Sequence[ContributionRow]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _shown(values: tuple[Any, ...]) -> str:
    region, base, employer, individual, credit = values
    return (
        f"region {region}, base {format_yuan(base)}, employer {format_yuan(employer)}, "
        f"individual {format_yuan(individual)}, account {format_yuan(credit)}"
    )


@logged_stage("import contributions")
def import_contributions(
    cmd: ImportContributions,
    uow: UnitOfWork,
    clock: Callable[[], dt.datetime],
    progress: ProgressSink | None = None,
) -> ContributionImportReport:
    """Write validated rows in one transaction. Unknown persons and months already recorded with
    other values are moved to ``cmd.batch.quarantine``; identical months are left unchanged."""
    sink = progress or NullProgress()
    batch = cmd.batch
    now = clock()
    session = uow.session
    repo = uow.repo(RegistryRepository)
    report = ContributionImportReport(read=batch.read)
    sink.start("Writing contribution records", len(batch.rows))
    persons_seen: set[int] = set()
    for chunk in _chunks(list(batch.rows), CHUNK):
        persons = repo.persons_by_id_number({r.id_number for r in chunk})
        ids = [p.id for p in persons.values()]
        existing: dict[tuple[int, str, str], list[ContributionRecord]] = {}
        if ids:
            months = {r.month for r in chunk}
            found = session.scalars(
                select(ContributionRecord).where(
                    ContributionRecord.person_id.in_(ids), ContributionRecord.month.in_(months)
                )
            )
            for rec in found:
                existing.setdefault((rec.person_id, rec.scheme, rec.month), []).append(rec)
        repo.ensure_regions({r.region for r in chunk})
        for record in chunk:
            person = persons.get(record.id_number)
            if person is None:
                batch.reject(record, *unknown_person(record.id_number))
                continue
            before = existing.get((person.id, record.scheme, record.month), [])
            if before:
                old = before[0]
                old_values = (
                    old.region_code,
                    old.base_fen,
                    old.employer_fen,
                    old.individual_fen,
                    old.account_credit_fen,
                )
                if old_values == record.values:
                    report.unchanged += 1
                    persons_seen.add(person.id)
                    continue
                batch.reject(
                    record,
                    *recorded_otherwise(record.scheme, record.month, record.region, old_values),
                )
                continue
            session.add(
                ContributionRecord(
                    person_id=person.id,
                    scheme=record.scheme,
                    region_code=record.region,
                    month=record.month,
                    base_fen=record.base_fen,
                    employer_fen=record.employer_fen,
                    individual_fen=record.individual_fen,
                    account_credit_fen=record.account_credit_fen,
                    recorded_at=now,
                )
            )
            existing[(person.id, record.scheme, record.month)] = [
                ContributionRecord(
                    region_code=record.region,
                    base_fen=record.base_fen,
                    employer_fen=record.employer_fen,
                    individual_fen=record.individual_fen,
                    account_credit_fen=record.account_credit_fen,
                )
            ]
            report.created += 1
            persons_seen.add(person.id)
        session.flush()
        sink.advance(len(chunk))
    batch.quarantine.sort(key=lambda q: q.row)
    report.accepted = len(batch.rows)
    report.quarantined = batch.quarantined_rows
    report.flagged = len({f.row for f in batch.flagged})
    report.persons = len(persons_seen)
    audit_import(session, cmd.actor, cmd.source, report, now)
    uow.commit()
    return report


def unknown_person(id_number: str) -> tuple[str, str]:
    """(field, reason) of a row whose person the registry does not have."""
    return (
        "id_number",
        f"{mask_identity_number(id_number)} is not in the registry: "
        "import the person's household first",
    )


def recorded_otherwise(
    scheme: str, month: str, region: str, old_values: tuple[Any, ...]
) -> tuple[str, str]:
    """(field, reason) of a row of ``region`` whose person, scheme and month are recorded with
    other values (``old_values``: region and amounts in fen of the first record)."""
    where = f"in region {old_values[0]}" if old_values[0] != region else "with other values"
    return (
        "month",
        f"overlap: {scheme} for {month} is already recorded {where} "
        f"({_shown(old_values)}); an import does not overwrite a recorded month",
    )


def audit_import(
    session: Any,
    actor: Actor,
    source: str,
    report: ContributionImportReport,
    now: dt.datetime,
    **extra: Any,
) -> None:
    """The import's one ``ContributionsImported`` entry (counts; ``extra``: e.g. the digest of
    the rows), when it wrote anything."""
    if not report.created:
        return
    append(
        session,
        actor=actor,
        command="ImportContributions",
        event="ContributionsImported",
        entity="import",
        entity_id=source[:60],
        after={
            "source": source,
            "read": report.read,
            "accepted": report.accepted,
            "quarantined": report.quarantined,
            "created": report.created,
            "unchanged": report.unchanged,
            "flagged": report.flagged,
            "persons": report.persons,
            **extra,
        },
        occurred_at=now,
    )


def load_history(uow: UnitOfWork, id_number: str, scheme: str) -> list[ContributionRecord]:
    """A person's records of one scheme, in month order (raises if the person is unknown)."""
    if scheme not in SCHEMES:
        raise InputError("scheme", f"{scheme!r} is not one of {list(SCHEMES)}")
    person = uow.repo(RegistryRepository).person(id_number)
    if person is None:
        raise UnknownNameError("person", mask_identity_number(id_number), "not in the registry")
    return list(
        uow.session.scalars(
            select(ContributionRecord)
            .where(ContributionRecord.person_id == person.id, ContributionRecord.scheme == scheme)
            .order_by(ContributionRecord.month, ContributionRecord.region_code)
        )
    )
