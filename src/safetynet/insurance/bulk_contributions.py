"""Contribution files of millions of rows: the checks of ``contribution_imports`` decided column by
column (Polars) and the rows written with one statement per step (``COPY`` on PostgreSQL).

Every row is still checked. A row is accepted here only when each of its cells has the plain form
whose meaning the row validator gives (an 18-character identity number with the right check
character, birth date and county; a scheme, region, month or amount that the row validator's own
parser accepted as a distinct value of the file) and passes the same checks of the row (a month
inside the window and after the person turned 16, some contribution, the base inside the clamp);
every other row goes through the row validator (``contribution_imports._parse``), so a rejected row
has exactly the reasons, and a flagged one exactly the notes, it had before. Overlaps within the
file, unknown persons and months already recorded are then found for all rows at once.

Audit: one ``ContributionsImported`` entry per import (as before) with the counts and the SHA-256
of the rows written, in row order, instead of one entry per row (there never was one per row).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import text

from safetynet.audit.log import Actor
from safetynet.db.bulk import (
    CHUNK_ROWS,
    copy_frame,
    copy_rows,
    foreign_keys_checked_once,
    read_frame,
    temp_table,
)
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.money import mul_ratio
from safetynet.errors import CoverageError
from safetynet.insurance.contribution_imports import (
    CLAMPED_SCHEMES,
    COLUMNS,
    MINIMUM_WORKING_AGE,
    NO_ACCOUNT,
    ContributionImportReport,
    ContributionRow,
    OutOfClamp,
    _Rules,
    _scheme,
    audit_import,
    check_row,
    file_overlaps,
    recorded_otherwise,
    unknown_person,
)
from safetynet.intake import (
    IntakeLimits,
    NullProgress,
    ProgressSink,
    QuarantineLine,
    intake_limits,
    parse_money,
    parse_month,
    parse_region,
)
from safetynet.intake.columnar import (
    Frame,
    by_value,
    has_control_character,
    identity_number_checks,
    plain_yuan,
    read_csv_frame,
)
from safetynet.logs import logged_stage
from safetynet.policy.parameters import ParameterTree, default_tree
from safetynet.registry.repository import RegistryRepository

__all__ = [
    "BulkContributions",
    "ImportBulkContributions",
    "import_bulk_contributions",
    "read_bulk_contributions",
    "validate_bulk_contributions",
]

VALUES = ("region", "base_fen", "employer_fen", "individual_fen", "account_credit_fen")
FIELDS = ("row", "id_number", "scheme", "month", *VALUES)
_SCHEMA = {
    "row": pl.Int64,
    "id_number": pl.Utf8,
    "scheme": pl.Utf8,
    "month": pl.Utf8,
    "region": pl.Utf8,
    "base_fen": pl.Int64,
    "employer_fen": pl.Int64,
    "individual_fen": pl.Int64,
    "account_credit_fen": pl.Int64,
}


def read_bulk_contributions(
    path: Path, encoding: str | None = None, header_row: int | None = None
) -> Frame | None:
    """The file as columns, or None when it needs the row reader (``read_contributions``)."""
    return read_csv_frame(path, encoding, COLUMNS, header_row)


@dataclass
class BulkContributions:
    """What validation leaves: the accepted rows as columns (``FIELDS``), the quarantine and the
    flagged rows, as ``ValidatedContributions`` has them."""

    path: Path
    headers: tuple[str, ...]
    read: int
    rows: pl.DataFrame
    quarantine: list[QuarantineLine]
    flagged: list[QuarantineLine]
    frame: Frame = field(repr=False)

    @property
    def quarantined_rows(self) -> int:
        return len({q.row for q in self.quarantine})


# -- Validation ------------------------------------------------------------------------------


def _clamps(rules: _Rules, keys: pl.DataFrame) -> pl.DataFrame:
    """(scheme, region, month) → the clamp's floor and ceiling in whole yuan as the row validator
    widens them, for each distinct key of a clamped scheme (null where it cannot be checked)."""
    low: list[int | None] = []
    high: list[int | None] = []
    for scheme, region, month in keys.iter_rows():
        clamp = rules.clamp(scheme, region, month) if scheme in CLAMPED_SCHEMES else None
        if isinstance(clamp, tuple):
            floor, ceiling, _ = clamp
            low.append(floor // 100 * 100)
            high.append(-(-ceiling // 100) * 100)
        else:
            low.append(None)
            high.append(None)
    return keys.with_columns(
        pl.Series("clamp_low", low, dtype=pl.Int64), pl.Series("clamp_high", high, dtype=pl.Int64)
    )


def _derived_credits(rules: _Rules, rows: pl.DataFrame) -> pl.Series:
    """The personal-account credit of rows that give none, as ``_derived_credit`` computes it
    (null where the parameters do not cover the region and month)."""
    credit = np.full(rows.height, -1, dtype=np.int64)
    scheme = rows.get_column("scheme").to_numpy()
    base = rows.get_column("base_fen").to_numpy()
    individual = rows.get_column("individual_fen").to_numpy()
    no_account = np.isin(scheme, list(NO_ACCOUNT))
    credit[no_account] = 0
    own = ~no_account & (scheme != "employee_pension")
    credit[own] = individual[own]
    pension = rows.with_row_index("i").filter(pl.col("scheme") == "employee_pension")
    for (region, month), group in pension.group_by("region", "month"):
        at = group.get_column("i").to_numpy()
        try:
            share, mode = rules.account_share(str(region), str(month))
        except CoverageError:
            continue  # left at -1: the row validator says why
        credit[at] = np.minimum(individual[at], mul_ratio(base[at], share, mode))
    series = pl.Series("account_credit_fen", credit)
    return pl.select(pl.when(series >= 0).then(series)).to_series()


def _plain(frame: Frame, limits: IntakeLimits, rules: _Rules) -> pl.DataFrame:
    """Every row with its parsed values and ``plain``: true where the row is accepted as it is."""
    data = frame.data
    columns: dict[str, str] = {}
    blank = "__blank"
    data = data.with_columns(pl.lit("").alias(blank))
    for column in COLUMNS:
        columns[column.name] = frame.column(column.name) or blank
    most = limits.maximum_fen
    latest = f"{limits.as_of.year:04d}-{limits.as_of.month:02d}"
    earliest = f"{limits.earliest_date.year:04d}-{limits.earliest_date.month:02d}"

    def money(name: str) -> pl.Expr:
        def parse(text: str) -> int:
            return parse_money(text, name, most)

        return by_value(data, columns[name], parse, pl.Int64, plain_yuan(columns[name], most))

    identity_ok, born = identity_number_checks(columns["id_number"], limits)
    raw_cells = [f"c{i}" for i in range(len(frame.columns))]
    parsed = data.select(
        pl.col("row"),
        pl.col(columns["id_number"]).alias("id_number"),
        identity_ok.alias("identity_ok"),
        born.alias("born"),
        by_value(data, columns["scheme"], _scheme, pl.Utf8).alias("scheme"),
        by_value(data, columns["region"], parse_region, pl.Utf8).alias("region"),
        by_value(data, columns["month"], lambda t: parse_month(t, "month"), pl.Utf8).alias("month"),
        money("employer").alias("employer_fen"),
        money("individual").alias("individual_fen"),
        money("base").alias("base_fen"),
        (pl.col(columns["base"]).str.strip_chars() == "").alias("base_blank"),
        money("account_credit").alias("account_credit_fen"),
        (pl.col(columns["account_credit"]).str.strip_chars() == "").alias("credit_blank"),
        has_control_character(raw_cells).alias("control"),
    )
    keys = parsed.select("scheme", "region", "month").unique().drop_nulls()
    parsed = parsed.join(_clamps(rules, keys), on=["scheme", "region", "month"], how="left")
    sixteen = (
        (pl.col("born") // 10000 + MINIMUM_WORKING_AGE).cast(pl.Utf8).str.zfill(4)
        + "-"
        + (pl.col("born") // 100 % 100).cast(pl.Utf8).str.zfill(2)
    )
    resident = pl.col("scheme") == "resident_pension"
    base = pl.when(pl.col("base_blank") & resident).then(0).otherwise(pl.col("base_fen"))
    clamped = pl.col("scheme").is_in(list(CLAMPED_SCHEMES))
    plain = (
        pl.col("identity_ok")
        & ~pl.col("control")
        & pl.col("scheme").is_not_null()
        & pl.col("region").is_not_null()
        & pl.col("month").is_not_null()
        & pl.col("employer_fen").is_not_null()
        & pl.col("individual_fen").is_not_null()
        & (pl.col("base_fen").is_not_null() | (pl.col("base_blank") & resident))
        & (pl.col("account_credit_fen").is_not_null() | pl.col("credit_blank"))
        & (pl.col("employer_fen") + pl.col("individual_fen") > 0)
        & (pl.col("month") <= latest)
        & (pl.col("month") >= earliest)
        & (pl.col("month") >= sixteen)
        & ~(pl.col("scheme").is_in(list(NO_ACCOUNT)) & (pl.col("account_credit_fen") > 0))
        & (
            ~clamped
            | (pl.col("clamp_low").is_not_null() & base.is_between("clamp_low", "clamp_high"))
        )
    )
    return parsed.with_columns(base.alias("base_fen"), plain.fill_null(value=False).alias("plain"))


def _accepted(frame: Frame, limits: IntakeLimits, rules: _Rules) -> tuple[pl.DataFrame, list[int]]:
    """The rows of ``frame`` accepted as they are (``FIELDS``, in row order) and the numbers of
    the others (for the row validator)."""
    checked = _plain(frame, limits, rules)
    plain = checked.filter(pl.col("plain"))
    need_credit = plain.filter(pl.col("account_credit_fen").is_null())
    if need_credit.height:
        derived = need_credit.with_columns(_derived_credits(rules, need_credit))
        plain = pl.concat([plain.filter(pl.col("account_credit_fen").is_not_null()), derived]).sort(
            "row"
        )
    # Rows whose credit cannot be derived here are the row validator's.
    other_rows = checked.filter(~pl.col("plain")).get_column("row").to_list()
    other_rows += plain.filter(pl.col("account_credit_fen").is_null()).get_column("row").to_list()
    return plain.filter(pl.col("account_credit_fen").is_not_null()).select(FIELDS), other_rows


def validate_bulk_contributions(
    frame: Frame,
    *,
    as_of: dt.date,
    out_of_clamp: OutOfClamp = "quarantine",
    tree: ParameterTree | None = None,
    overrides: Mapping[str, Any] | None = None,
    progress: ProgressSink | None = None,
) -> BulkContributions:
    """``validate_contributions`` for a ``Frame``: the same rows accepted, quarantined and
    flagged, for the same reasons."""
    sink = progress or NullProgress()
    rules = _Rules(tree or default_tree(), overrides)
    limits = intake_limits(as_of)
    sink.start("Validating contribution rows", frame.read)
    parts: list[pl.DataFrame] = []
    other_rows: list[int] = []
    # A slice of the file at a time: the parsed columns of one slice are held, not the file's.
    for start in range(0, frame.read, CHUNK_ROWS):
        part = dataclasses.replace(frame, data=frame.data.slice(start, CHUNK_ROWS))
        accepted_part, others = _accepted(part, limits, rules)
        parts.append(accepted_part)
        other_rows += others
        sink.advance(accepted_part.height)
    plain = (
        pl.concat(parts, how="vertical_relaxed")
        if parts
        else pl.DataFrame(schema=_SCHEMA).select(FIELDS)
    )
    del parts

    quarantine: list[QuarantineLine] = []
    flagged: list[QuarantineLine] = []
    accepted: list[ContributionRow] = []
    for raw_row in frame.raw_rows(sorted(other_rows)):
        record = check_row(raw_row, frame.columns, limits, rules, out_of_clamp, quarantine, flagged)
        if record is not None:
            accepted.append(record)
        sink.advance()
    slow = pl.DataFrame(
        [[r.row, r.id_number, r.scheme, r.month, *r.values] for r in accepted],
        schema=_SCHEMA,
        orient="row",
    )
    rows = pl.concat([plain.cast(_SCHEMA), slow]).sort("row")  # type: ignore[arg-type]
    rows, dropped = _overlaps(frame, rows, quarantine)
    flagged = [f for f in flagged if f.row not in dropped]
    quarantine.sort(key=lambda q: q.row)
    return BulkContributions(
        frame.path, frame.headers, frame.read, rows, quarantine, flagged, frame
    )


def _overlaps(
    frame: Frame, rows: pl.DataFrame, quarantine: list[QuarantineLine]
) -> tuple[pl.DataFrame, set[int]]:
    """Rows repeating a person, scheme and month of the file, as ``validate_contributions``
    treats them (``file_overlaps``): an exact repeat is imported once, differing ones not at
    all."""
    repeated = rows.filter(pl.struct("id_number", "scheme", "month").is_duplicated())
    if not repeated.height:
        return rows, set()
    cells = {r.number: r.cells for r in frame.raw_rows(repeated.get_column("row").to_list())}
    groups: dict[tuple[str, str, str], list[tuple[int, str, tuple[Any, ...]]]] = {}
    for row in repeated.iter_rows():
        groups.setdefault((row[1], row[2], row[3]), []).append((row[0], row[2], tuple(row[4:])))
    dropped = file_overlaps(groups.values(), cells, quarantine)
    return rows.filter(~pl.col("row").is_in(sorted(dropped))), dropped


# -- Writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportBulkContributions:
    batch: BulkContributions
    actor: Actor
    source: str  # file name and digest, for the audit log


# From this many new records on, PostgreSQL checks the table's foreign keys once for the whole
# table instead of once per row (docs/adr/0015-contribution-import-checks-foreign-keys-once.md).
SET_BASED_FROM = 100_000
_RECORD_COLUMNS = ("person_id", "scheme", "region_code", "month", "base_fen", "employer_fen",
                   "individual_fen", "account_credit_fen", "recorded_at")  # fmt: skip
_OLD = ("old_region", "old_base", "old_employer", "old_individual", "old_credit")
_RECORDED = {
    "person_id": pl.Int64, "scheme": pl.Utf8, "month": pl.Utf8, "old_id": pl.Int64,
    **dict.fromkeys(_OLD, pl.Int64), "old_region": pl.Utf8,
}  # fmt: skip


def _person_ids(session: Any, rows: pl.DataFrame) -> pl.DataFrame:
    """(id_number, person_id) of the file's persons the registry has: one join of the distinct
    identity numbers with ``persons``."""
    temp_table(session, "import_id_numbers", {"id_number": "VARCHAR(18)"})
    numbers = rows.get_column("id_number").unique().to_list()
    copy_rows(session, "import_id_numbers", ["id_number"], ((n,) for n in numbers))
    found = session.execute(
        text(
            "SELECT p.id_number, p.id FROM persons p "
            "JOIN import_id_numbers k ON k.id_number = p.id_number"
        )
    ).all()
    schema = {"id_number": pl.Utf8, "person_id": pl.Int64}
    return pl.DataFrame(found, schema=schema, orient="row")


def _recorded(session: Any, rows: pl.DataFrame) -> pl.DataFrame:
    """The first record (lowest id) of each person, scheme and month of ``rows`` already in the
    registry, with its region and amounts (``_OLD``)."""
    temp_table(session, "import_person_ids", {"id": "BIGINT"})
    temp_table(session, "import_months", {"month": "VARCHAR(7)"})
    persons = rows.get_column("person_id").unique().to_list()
    copy_rows(session, "import_person_ids", ["id"], ((i,) for i in persons))
    months = rows.get_column("month").unique().to_list()
    copy_rows(session, "import_months", ["month"], ((m,) for m in months))
    found = read_frame(
        session,
        "SELECT c.person_id, c.scheme, c.month, c.id, c.region_code, c.base_fen, c.employer_fen, "
        "c.individual_fen, c.account_credit_fen FROM contribution_records c "
        "JOIN import_person_ids k ON k.id = c.person_id JOIN import_months m ON m.month = c.month",
        list(_RECORDED),
        _RECORDED,
    )
    return found.sort("old_id").unique(["person_id", "scheme", "month"], keep="first")


def _refused(
    rows: pl.DataFrame, report: ContributionImportReport
) -> tuple[dict[int, tuple[str, str]], pl.DataFrame]:
    """The rows the registry refuses, with (field, reason): unknown persons, months recorded
    with other values; and the records to write (``_RECORD_COLUMNS`` but the time, in the order
    of the table's unique index). Counts the months recorded with the same values and the
    persons in ``report``."""
    unknown = rows.filter(pl.col("person_id").is_null())
    refused = {n: unknown_person(i) for n, i in unknown.select("row", "id_number").iter_rows()}
    known, new = pl.col("person_id").is_not_null(), pl.col("old_id").is_null()
    same = pl.all_horizontal(pl.col(v) == pl.col(o) for v, o in zip(VALUES, _OLD, strict=True))
    differing = rows.filter(known & ~new & ~same)
    for number, scheme, month, region, *previous in differing.select(
        "row", "scheme", "month", "region", *_OLD
    ).iter_rows():
        refused[number] = recorded_otherwise(scheme, month, region, tuple(previous))
    counts = rows.select(
        (known & ~new & same).sum().alias("unchanged"),
        pl.col("person_id").filter(known & (new | same)).n_unique().alias("persons"),
    )
    report.unchanged, report.persons = (int(v) for v in counts.row(0))
    # In the order of the table's unique index: each insert lands next to the one before
    # instead of on a random page of an index larger than the server's buffers.
    records = (
        rows.filter(known & new)
        .select("person_id", "scheme", pl.col("region").alias("region_code"), "month", *VALUES[1:])
        .sort("person_id", "scheme", "month", "region_code")
    )
    return refused, records


def _write(session: Any, records: pl.DataFrame, now: dt.datetime) -> int:
    """Append the new records to ``contribution_records`` (COPY on PostgreSQL)."""
    if session.get_bind().dialect.name != "postgresql":
        rows = ((*r, now) for r in records.iter_rows())
        return copy_rows(session, "contribution_records", _RECORD_COLUMNS, rows)
    recorded_at = {"recorded_at": now.isoformat()}
    if records.height < SET_BASED_FROM:
        return copy_frame(session, "contribution_records", records, recorded_at)
    with foreign_keys_checked_once(session, "contribution_records"):
        return copy_frame(session, "contribution_records", records, recorded_at)


@logged_stage("import contributions (bulk)")
def import_bulk_contributions(
    cmd: ImportBulkContributions,
    uow: UnitOfWork,
    clock: Callable[[], dt.datetime],
    progress: ProgressSink | None = None,
) -> ContributionImportReport:
    """``import_contributions`` for a ``BulkContributions``: unknown persons and months already
    recorded with other values are moved to the quarantine; identical months are left
    unchanged; the rest is appended in one statement."""
    sink = progress or NullProgress()
    batch = cmd.batch
    now = clock()
    session = uow.session
    report = ContributionImportReport(read=batch.read)
    sink.start("Writing contribution records", batch.rows.height)
    uow.repo(RegistryRepository).ensure_regions(batch.rows.get_column("region").unique().to_list())
    rows = batch.rows.join(_person_ids(session, batch.rows), on="id_number", how="left")
    recorded = _recorded(
        session, rows.select("person_id", "month").filter(pl.col("person_id").is_not_null())
    )
    rows = rows.join(recorded, on=["person_id", "scheme", "month"], how="left")
    del recorded
    refused, records = _refused(rows, report)
    del rows
    if refused:
        numbers = sorted(refused)
        cells = {r.number: r.cells for r in batch.frame.raw_rows(numbers)}
        batch.quarantine.extend(QuarantineLine(n, *refused[n], cells[n]) for n in numbers)
        batch.quarantine.sort(key=lambda q: q.row)
        batch.rows = batch.rows.filter(~pl.col("row").is_in(numbers))
        batch.flagged = [f for f in batch.flagged if f.row not in refused]
    report.created = _write(session, records, now)
    del records
    sink.advance(batch.rows.height)
    report.accepted = batch.rows.height
    report.quarantined = batch.quarantined_rows
    report.flagged = len({f.row for f in batch.flagged})
    audit_import(session, cmd.actor, cmd.source, report, now, rows_sha256=_digest(batch.rows))
    uow.commit()
    return report


def _digest(rows: pl.DataFrame) -> str:
    """SHA-256 of the accepted rows (identity number, scheme, month, region, amounts in fen) as
    CSV in row order: what the import wrote, or found already recorded, named without a copy."""
    digest = hashlib.sha256()
    for part in rows.select(FIELDS[1:]).iter_slices(CHUNK_ROWS):
        digest.update(part.write_csv(include_header=False).encode("utf-8"))
    return digest.hexdigest()
