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

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import DateTime, bindparam, text

from safetynet.audit.log import Actor, append
from safetynet.db.bulk import copy_csv, copy_rows, temp_table
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.identity import mask_identity_number
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
    _parse,
    _Rules,
    _scheme,
    _shown,
)
from safetynet.intake import (
    IntakeLimits,
    NullProgress,
    ProgressSink,
    QuarantineLine,
    cell_problems,
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
        return by_value(data, columns[name], lambda t: parse_money(t, name, most), pl.Int64)

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
    plain = plain.filter(pl.col("account_credit_fen").is_not_null()).select(FIELDS)
    sink.advance(plain.height)

    quarantine: list[QuarantineLine] = []
    flagged: list[QuarantineLine] = []
    accepted: list[ContributionRow] = []
    for raw_row in frame.raw_rows(sorted(other_rows)):
        values = dict(zip(frame.columns, raw_row.cells, strict=False))
        problems = cell_problems(raw_row, frame.columns)
        notes: list[tuple[str, str]] = []
        record = (
            _parse(raw_row, values, limits, rules, out_of_clamp, problems, notes)
            if not problems
            else None
        )
        if problems or record is None:
            quarantine.extend(
                QuarantineLine(raw_row.number, f, r, raw_row.cells) for f, r in problems
            )
        else:
            accepted.append(record)
            flagged.extend(QuarantineLine(raw_row.number, f, r, raw_row.cells) for f, r in notes)
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
    treats them: an exact repeat is imported once, differing ones not at all."""
    repeated = rows.filter(pl.struct("id_number", "scheme", "month").is_duplicated())
    if not repeated.height:
        return rows, set()
    cells = {r.number: r.cells for r in frame.raw_rows(repeated.get_column("row").to_list())}
    groups: dict[tuple[str, str, str], list[tuple[Any, ...]]] = {}
    for row in repeated.iter_rows():
        groups.setdefault((row[1], row[2], row[3]), []).append(row)
    dropped: set[int] = set()
    for records in groups.values():
        first = records[0]
        numbers = ", ".join(str(r[0]) for r in records)
        if all(r[4:] == first[4:] for r in records):
            for r in records[1:]:
                dropped.add(r[0])
                quarantine.append(
                    QuarantineLine(
                        r[0],
                        "month",
                        f"repeats row {first[0]} exactly (same person, scheme, month and "
                        "values); row imported once",
                        cells[r[0]],
                    )
                )
            continue
        for r in records:
            dropped.add(r[0])
            quarantine.append(
                QuarantineLine(
                    r[0],
                    "month",
                    f"overlap: rows {numbers} record {r[2]} for the same person and month "
                    "with different places or amounts; none of them was imported",
                    cells[r[0]],
                )
            )
    return rows.filter(~pl.col("row").is_in(sorted(dropped))), dropped


# -- Writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportBulkContributions:
    batch: BulkContributions
    actor: Actor
    source: str  # file name and digest, for the audit log


_ROWS = "contribution_rows"
_TEMP_COLUMNS = {
    "row_no": "BIGINT",
    "id_number": "VARCHAR(18)",
    "scheme": "VARCHAR(20)",
    "month": "VARCHAR(7)",
    "region": "VARCHAR(6)",
    "base_fen": "BIGINT",
    "employer_fen": "BIGINT",
    "individual_fen": "BIGINT",
    "account_credit_fen": "BIGINT",
}
_SAME = (
    "c.region_code = t.region AND c.base_fen = t.base_fen AND c.employer_fen = t.employer_fen "
    "AND c.individual_fen = t.individual_fen AND c.account_credit_fen = t.account_credit_fen"
)
_FIRST_RECORDED = f"""
    FROM {_ROWS} t
    JOIN persons p ON p.id_number = t.id_number
    JOIN contribution_records c ON c.id = (
        SELECT min(c2.id) FROM contribution_records c2
        WHERE c2.person_id = p.id AND c2.scheme = t.scheme AND c2.month = t.month)
"""


def _load_rows(session: Any, rows: pl.DataFrame) -> None:
    temp_table(session, _ROWS, _TEMP_COLUMNS)
    names = list(_TEMP_COLUMNS)
    if session.get_bind().dialect.name == "postgresql":
        data = rows.rename({"row": "row_no"}).select(names).write_csv(include_header=False)
        copy_csv(session, _ROWS, names, data.encode("utf-8"))
        session.execute(text(f"ANALYZE {_ROWS}"))
    else:
        copy_rows(session, _ROWS, names, rows.select(FIELDS).iter_rows())
        session.execute(text(f"CREATE INDEX {_ROWS}_row ON {_ROWS} (row_no)"))


def _refuse(session: Any) -> tuple[dict[int, tuple[str, str]], int]:
    """Rows the database refuses, with (field, reason): unknown persons, months recorded with
    other values; and the number of rows already recorded with the same values."""
    refused: dict[int, tuple[str, str]] = {}
    unknown = session.execute(
        text(
            f"SELECT t.row_no, t.id_number FROM {_ROWS} t WHERE NOT EXISTS "
            "(SELECT 1 FROM persons p WHERE p.id_number = t.id_number)"
        )
    )
    for row_no, id_number in unknown:
        refused[row_no] = (
            "id_number",
            f"{mask_identity_number(id_number)} is not in the registry: "
            "import the person's household first",
        )
    differing = session.execute(
        text(
            "SELECT t.row_no, t.scheme, t.month, t.region, c.region_code, c.base_fen, "
            f"c.employer_fen, c.individual_fen, c.account_credit_fen {_FIRST_RECORDED} "
            f"WHERE NOT ({_SAME})"
        )
    )
    for row_no, scheme, month, region, *old in differing:
        where = f"in region {old[0]}" if old[0] != region else "with other values"
        refused[row_no] = (
            "month",
            f"overlap: {scheme} for {month} is already recorded {where} "
            f"({_shown(tuple(old))}); an import does not overwrite a recorded month",
        )
    same = session.execute(text(f"SELECT count(*) {_FIRST_RECORDED} WHERE {_SAME}")).scalar_one()
    return refused, int(same)


def _drop_refused(session: Any, refused: Sequence[int]) -> None:
    temp_table(session, f"{_ROWS}_refused", {"row_no": "BIGINT"})
    copy_rows(session, f"{_ROWS}_refused", ["row_no"], ((r,) for r in refused))
    session.execute(
        text(f"DELETE FROM {_ROWS} WHERE row_no IN (SELECT row_no FROM {_ROWS}_refused)")
    )


@logged_stage("import contributions (bulk)")
def import_bulk_contributions(
    cmd: ImportBulkContributions,
    uow: UnitOfWork,
    clock: Callable[[], dt.datetime],
    progress: ProgressSink | None = None,
) -> ContributionImportReport:
    """``import_contributions`` for a ``BulkContributions``: unknown persons and months already
    recorded with other values are moved to the quarantine; identical months are left
    unchanged; the rest is written with one statement."""
    sink = progress or NullProgress()
    batch = cmd.batch
    now = clock()
    session = uow.session
    report = ContributionImportReport(read=batch.read)
    sink.start("Writing contribution records", batch.rows.height)
    uow.repo(RegistryRepository).ensure_regions(batch.rows.get_column("region").unique().to_list())
    _load_rows(session, batch.rows)
    refused, report.unchanged = _refuse(session)
    if refused:
        numbers = sorted(refused)
        cells = {r.number: r.cells for r in batch.frame.raw_rows(numbers)}
        batch.quarantine.extend(QuarantineLine(n, *refused[n], cells[n]) for n in numbers)
        batch.quarantine.sort(key=lambda q: q.row)
        _drop_refused(session, numbers)
        batch.rows = batch.rows.filter(~pl.col("row").is_in(numbers))
        batch.flagged = [f for f in batch.flagged if f.row not in refused]
    report.persons = int(
        session.execute(
            text(
                f"SELECT count(DISTINCT p.id) FROM {_ROWS} t JOIN persons p ON p.id_number = t.id_number"
            )
        ).scalar_one()
    )
    written = session.execute(
        text(
            "INSERT INTO contribution_records (person_id, scheme, region_code, month, base_fen, "
            "employer_fen, individual_fen, account_credit_fen, recorded_at) "
            "SELECT p.id, t.scheme, t.region, t.month, t.base_fen, t.employer_fen, "
            f"t.individual_fen, t.account_credit_fen, :now FROM {_ROWS} t "
            "JOIN persons p ON p.id_number = t.id_number WHERE NOT EXISTS (SELECT 1 FROM "
            "contribution_records c WHERE c.person_id = p.id AND c.scheme = t.scheme "
            "AND c.month = t.month)"
        ).bindparams(bindparam("now", type_=DateTime(timezone=True))),
        {"now": now},
    )
    report.created = written.rowcount  # type: ignore[attr-defined]
    sink.advance(batch.rows.height)
    report.accepted = batch.rows.height
    report.quarantined = batch.quarantined_rows
    report.flagged = len({f.row for f in batch.flagged})
    if report.created:
        append(
            session,
            actor=cmd.actor,
            command="ImportContributions",
            event="ContributionsImported",
            entity="import",
            entity_id=cmd.source[:60],
            after={
                "source": cmd.source,
                "read": report.read,
                "accepted": report.accepted,
                "quarantined": report.quarantined,
                "created": report.created,
                "unchanged": report.unchanged,
                "flagged": report.flagged,
                "persons": report.persons,
                "rows_sha256": _digest(batch.rows),
            },
            occurred_at=now,
        )
    uow.commit()
    return report


def _digest(rows: pl.DataFrame) -> str:
    """SHA-256 of the accepted rows (identity number, scheme, month, region, amounts in fen) as
    CSV in row order: what the import wrote, or found already recorded, named without a copy."""
    data = rows.select(FIELDS[1:]).write_csv(include_header=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()
