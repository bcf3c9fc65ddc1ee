"""A county's household list at scale: its rows checked by column, and the households new to the
registry inserted set-based (``COPY`` on PostgreSQL, batched inserts on SQLite).

Checking. ``validate_frame`` gives what ``imports.validate`` gives for the same file (the same
households, quarantined rows and reasons): a row whose every cell has a plain form that the row
validator's own parsers accepted (as a distinct value of the file) and that passes the row's
cross-checks is taken as it is; every other row goes through ``imports._parse_row``; the household
checks are those of ``imports.validate``. A file with a column this module does not know is left
to ``imports.validate`` whole.

Writing. ``insert_new_households`` takes, from a validated import, the households whose key is
not in the registry and none of whose members is known (the first import of a county), and
writes them, their members, memberships, wages and asset totals with one statement per table.
Everything else (households or persons already registered: updates, moves, conflicts) is left to
the row writer of ``handlers.import_households``. Audit: one ``HouseholdsRegisteredInBulk`` entry
per county with the counts and the SHA-256 of the rows written, instead of one entry per
household, person, membership, income item and asset; the import's ``HouseholdsImported`` entry
follows as before. No ``IncomeChanged`` event is emitted for these households: a household created
in this transaction has no payment to follow.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import time
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import polars as pl
from sqlalchemy import text

from safetynet.audit.log import append
from safetynet.db.bulk import (
    copy_columns,
    tables_checked_once,
    temp_table,
)
from safetynet.db.bulk import read_frame as read_query
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.regions import parse_statistical_code
from safetynet.intake import (
    IGNORED,
    NullProgress,
    ProgressSink,
    QuarantineLine,
    RawRow,
    cell_problems,
    intake_limits,
    parse_area,
    parse_money,
    parse_month,
    parse_region,
)
from safetynet.intake.columnar import (
    Frame,
    has_control_character,
    identity_number_checks,
    parsed_by_value,
    plain_yuan,
    read_csv_frame,
)
from safetynet.registry import imports
from safetynet.registry.imports import (
    COLUMNS,
    AssetTotal,
    HouseholdRecord,
    PersonRecord,
    ValidatedImport,
)
from safetynet.registry.repository import RegistryRepository
from safetynet.registry.vocabulary import RELATIONS

__all__ = ["insert_new_households", "read_frame", "validate_frame"]

# The columns this module checks by column (the household list's at the time of writing).
KNOWN = frozenset(
    ("household_no", "name", "id_number", "relation", "region", "hukou_type", "statistical_code",
     "sex", "birth_date", "disability_category", "disability_grade", "has_serious_illness",
     "labour_capacity", "self_care_items_failed", "schooling", "employment", "wage_income",
     "income_month", "deposits", "securities", "vehicles", "vehicle_value", "properties",
     "property_area", "business_registrations")
)  # fmt: skip
_ASSET_COLUMNS = {
    # kind: (value column, count column, area column), as imports._ASSET_PARTS
    "deposits": ("deposits", None, None),
    "securities": ("securities", None, None),
    "vehicle": ("vehicle_value", "vehicles", None),
    "property": (None, "properties", "property_area"),
    "business": (None, "business_registrations", None),
}
_PERSON_FIELDS = frozenset(
    ("row", "id_number", "name", "relation", "attributes", "income", "assets", "facts",
     "household_facts", "month")
)  # fmt: skip
_HOUSEHOLD_FIELDS = frozenset(
    ("household_no", "region", "hukou_type", "statistical_code", "statistical_code_given",
     "members", "assets", "facts", "facts_month")
)  # fmt: skip
_FACT_COLUMNS = ("field", "value", "valid_from")
_log = logging.getLogger(__name__)


@contextmanager
def _timed(phase: str, **counts: int) -> Iterator[None]:
    """Log (debug) the wall time of a phase of the import: ``SAFETYNET_LOG_LEVEL=DEBUG``."""
    started = time.perf_counter()
    yield
    _log.debug(
        "households bulk: %s %.2f s %s", phase, time.perf_counter() - started,
        " ".join(f"{k}={v}" for k, v in counts.items()),
    )  # fmt: skip


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text.strip()).strip()


def read_frame(path: Any, encoding: str | None, header_row: int | None) -> Frame | None:
    """The household list as columns, or None when it needs ``imports.read_table``."""
    frame = read_csv_frame(path, encoding, COLUMNS, header_row)
    if frame is None or not set(frame.columns) - {IGNORED} <= KNOWN:
        return None
    understood = dict(imports._ASSET_PARTS) == _ASSET_COLUMNS and _shapes_known()
    return frame if understood else None


def _shapes_known() -> bool:
    """The records are those this module builds (another version of ``imports`` may carry more
    facts: then the row validator and the row writer do the work)."""
    person = {f.name for f in dataclasses.fields(PersonRecord)}
    household = {f.name for f in dataclasses.fields(HouseholdRecord)}
    return person == _PERSON_FIELDS and household == _HOUSEHOLD_FIELDS


# -- Checking --------------------------------------------------------------------------------


def _parsers(limits: Any) -> dict[str, tuple[Any, Any]]:
    """Column → (the row validator's parser, Polars type of the value)."""
    parsers: dict[str, tuple[Any, Any]] = {
        "relation": (lambda t: imports._choice(t, "relation", RELATIONS), pl.Utf8),
        "birth_date": (lambda t: imports._birth_date(t, "birth_date", limits), pl.Date),
        "statistical_code": (lambda t: parse_statistical_code(t).code if t else None, pl.Utf8),
        # A blank wage or month is no income (None), not a refused value.
        "wage_income": (
            lambda t: parse_money(t, "wage_income", limits.maximum_fen) if t else None,
            pl.Int64,
        ),
        "income_month": (
            lambda t: (
                limits.check_month(parse_month(t, "income_month"), "income_month") if t else None
            ),
            pl.Utf8,
        ),
        "property_area": (parse_area, pl.Int64),
    }
    types = {"sex": pl.Utf8, "region": pl.Utf8, "hukou_type": pl.Utf8,
             "disability_category": pl.Utf8, "disability_grade": pl.Int64,
             "has_serious_illness": pl.Boolean, "labour_capacity": pl.Utf8,
             "self_care_items_failed": pl.Int64, "schooling": pl.Utf8, "employment": pl.Utf8}  # fmt: skip
    for name, dtype in types.items():
        parsers[name] = (imports._PARSERS[name], dtype)
    parsers["region"] = (parse_region, pl.Utf8)
    for value_col, count_col, _ in _ASSET_COLUMNS.values():
        if value_col:
            parsers[value_col] = (imports._money_or_zero(value_col, limits.maximum_fen), pl.Int64)
        if count_col:
            parsers[count_col] = (imports._count_or_zero(count_col), pl.Int64)
    return parsers


def _checked(frame: Frame, limits: Any, default_month: str | None) -> pl.DataFrame:
    """Each row's parsed values and ``plain``: true where the row is taken as it is."""
    data = frame.data
    present = {c: f"c{i}" for i, c in enumerate(frame.columns) if c in KNOWN}
    values: list[pl.Expr] = [pl.col("row")]
    oks: list[pl.Expr] = []
    amounts = {"wage_income", *(value for value, _, _ in _ASSET_COLUMNS.values() if value)}
    for name, (parse, dtype) in _parsers(limits).items():
        if name not in present:
            continue
        fast = plain_yuan(present[name], limits.maximum_fen) if name in amounts else None
        value, ok = parsed_by_value(data, present[name], parse, dtype, _norm, fast)
        values.append(value.alias(name))
        oks.append(ok)
    identity_ok, born = identity_number_checks(present["id_number"], limits)
    names = [f"c{i}" for i in range(len(frame.columns))]
    checked = data.select(
        *values,
        pl.col(present["id_number"]).alias("id_number"),
        pl.col(present["name"]).alias("name"),
        pl.col(present["household_no"]).alias("household_no"),
        born.alias("born"),
        (pl.col(present["id_number"]).str.slice(16, 1).cast(pl.Int64, strict=False) % 2 == 1).alias(
            "id_male"
        ),
        (
            identity_ok
            & ~has_control_character(names)
            & pl.all_horizontal(oks)
            # Names and household numbers are taken as written only in their plain form.
            & pl.col(present["name"]).str.contains(
                r"^[^\s\x00-\x1f]([^\x00-\x1f]*[^\s\x00-\x1f])?$"
            )
            & pl.col(present["household_no"]).str.contains(r"^[0-9A-Za-z_-]+$")
        ).alias("cells_ok"),
    )
    plain = pl.col("cells_ok")
    if "birth_date" in checked.columns:
        given = pl.col("birth_date")
        as_int = (
            given.dt.year().cast(pl.Int64) * 10000
            + given.dt.month().cast(pl.Int64) * 100
            + given.dt.day().cast(pl.Int64)
        )
        plain = plain & (given.is_null() | (as_int == pl.col("born")))
    if "sex" in checked.columns:
        plain = plain & (pl.col("sex").is_null() | ((pl.col("sex") == "male") == pl.col("id_male")))
    if "disability_grade" in checked.columns and "disability_category" in checked.columns:
        category, grade = pl.col("disability_category"), pl.col("disability_grade")
        plain = (
            plain & ~((category == "none") & (grade != 0)) & ~((category != "none") & (grade == 0))
        )
    if "wage_income" in checked.columns:
        wage_blank = pl.col("wage_income").is_null()
        month_blank = (
            pl.col("income_month").is_null() if "income_month" in checked.columns else pl.lit(True)
        )
        plain = plain & (wage_blank | ~month_blank | pl.lit(default_month is not None))
        checked = checked.with_columns(wage_blank.alias("wage_blank"))
    return checked.with_columns(plain.fill_null(value=False).alias("plain"))


def _persons(
    checked: pl.DataFrame, present: set[str], default_month: str | None
) -> Iterator[PersonRecord]:
    """The ``PersonRecord`` ``imports._parse_row`` builds for each plain row of ``checked``
    (which columns a record takes is decided once for the file, not per row)."""
    names = [n for n in imports._PERSON_COLUMNS if n in present and n in checked.columns]
    if "statistical_code" in present:
        names.append("statistical_code")
    wage = "wage_income" in present
    kinds = [
        (kind, value_col if value_col in present else None, count_col if count_col in present
         else None, area_col if area_col in present else None)
        for kind, (value_col, count_col, area_col) in _ASSET_COLUMNS.items()
        if any(c in present for c in (value_col, count_col, area_col) if c)
    ]  # fmt: skip
    born = pl.col("born")
    derived = {
        "birth_date": pl.date(born // 10000, born // 100 % 100, born % 100),
        "sex": pl.when(pl.col("id_male")).then(pl.lit("male")).otherwise(pl.lit("female")),
    }
    keys = [*names, *(n for n in derived if n not in names)]
    attributes = checked.select(derived[n].alias(n) if n in derived else pl.col(n) for n in keys)
    months = (
        checked.get_column("income_month").fill_null(pl.lit(default_month, pl.Utf8)).to_list()
        if "income_month" in checked.columns
        else [default_month] * checked.height
    )
    wages = (
        checked.select(pl.when(~pl.col("wage_blank")).then(pl.col("wage_income"))).to_series()
        if wage
        else pl.Series([None] * checked.height, dtype=pl.Int64)
    )
    parts: list[tuple[str, list[Any] | None, list[Any] | None, list[Any] | None]] = [
        (kind, _values(checked, value), _values(checked, count), _values(checked, area))
        for kind, value, count, area in kinds
    ]
    columns = zip(
        checked.get_column("row").to_list(),
        checked.get_column("id_number").to_list(),
        checked.get_column("name").to_list(),
        checked.get_column("relation").to_list(),
        zip(*(attributes.get_column(n).to_list() for n in keys), strict=True),
        months,
        wages.to_list(),
        strict=True,
    )
    for i, (row, id_number, name, relation, values, month, wage_fen) in enumerate(columns):
        income: dict[tuple[str, str], int] = {}
        if wage_fen is not None:
            assert month is not None
            income[("wage", month)] = wage_fen
        yield PersonRecord(
            row=row,
            id_number=id_number,
            name=_norm(name),
            relation=relation,
            attributes=dict(zip(keys, values, strict=True)),
            income=income,
            assets={
                kind: AssetTotal((v[i] if v else 0) or 0, c[i] if c else None, a[i] if a else None)
                for kind, v, c, a in parts
            },
            month=month,  # the row's month, as imports gives it
        )


def _values(frame: pl.DataFrame, column: str | None) -> list[Any] | None:
    return frame.get_column(column).to_list() if column else None


def validate_frame(
    frame: Frame,
    *,
    month: str | None = None,
    progress: ProgressSink | None = None,
    as_of: dt.date | None = None,
) -> ValidatedImport:
    """``imports.validate`` for a ``Frame``: the same households, quarantine and reasons."""
    sink = progress or NullProgress()
    limits = dataclasses.replace(intake_limits(), as_of=as_of or dt.date.today())
    default_month = parse_month(month, "--month") if month else None
    sink.start("Validating rows", frame.read)
    with _timed("cells checked by column", rows=frame.read):
        checked = _checked(frame, limits, default_month)
    present = set(frame.columns)
    records: dict[int, PersonRecord] = {}
    groups_of: dict[int, str] = {}
    plain = checked.filter(pl.col("plain"))
    with _timed("person records of plain rows", rows=plain.height):
        for person, household_no in zip(
            _persons(plain, present, default_month),
            plain.get_column("household_no").to_list(),
            strict=True,
        ):
            records[person.row] = person
            # A plain row's household number is ASCII without spaces: _norm would not change it.
            groups_of[person.row] = household_no
    sink.advance(len(records))
    quarantine: list[QuarantineLine] = []
    bad_rows: dict[str, list[int]] = {}
    others = checked.filter(~pl.col("plain")).get_column("row").to_list()
    for raw_row in frame.raw_rows(others):
        record, household_no = _row_checked(
            raw_row, frame.columns, default_month, limits, quarantine
        )
        if record is None:
            if household_no:
                bad_rows.setdefault(household_no, []).append(raw_row.number)
        else:
            records[raw_row.number] = record
            groups_of[raw_row.number] = household_no
        sink.advance()
    with _timed("households grouped and checked", rows=len(records)):
        groups: dict[str, list[PersonRecord]] = {}
        for number in sorted(records):
            groups.setdefault(groups_of[number], []).append(records[number])
        raw = _RawCells(frame)
        households = _households(groups, bad_rows, frame.columns, raw, quarantine)
    quarantine.sort(key=lambda q: q.row)
    return ValidatedImport(frame.path, frame.headers, frame.read, households, quarantine, raw)  # type: ignore[arg-type]


def _row_checked(
    raw_row: RawRow,
    columns: Sequence[str],
    default_month: str | None,
    limits: Any,
    quarantine: list[QuarantineLine],
) -> tuple[PersonRecord | None, str]:
    """A row through the row validator, as ``imports.validate`` does it."""
    cells = raw_row.cells
    values = {c: cells[i] if i < len(cells) else "" for i, c in enumerate(columns)}
    household_no = imports._norm(values.get("household_no", ""))
    problems = cell_problems(raw_row, columns)
    record = (
        imports._parse_row(raw_row, values, default_month, problems, limits)
        if not problems
        else None
    )
    if problems or record is None:
        quarantine.extend(QuarantineLine(raw_row.number, f, r, raw_row.cells) for f, r in problems)
        return None, household_no
    return record, household_no


class _RawCells(Mapping[int, tuple[str, ...]]):
    """A row's cells as the row reader gives them, made when asked for."""

    def __init__(self, frame: Frame) -> None:
        self._frame = frame
        self._at: dict[int, int] | None = None

    def _positions(self) -> dict[int, int]:
        if self._at is None:
            numbers = self._frame.data.get_column("row").to_list()
            self._at = dict(zip(numbers, range(len(numbers)), strict=True))
        return self._at

    def __getitem__(self, number: int) -> tuple[str, ...]:
        names = [f"c{i}" for i in range(len(self._frame.columns))]
        values = self._frame.data.select(names).row(self._positions()[number])
        return self._frame.raw_row(values, number).cells

    def __iter__(self) -> Any:
        return iter(self._positions())

    def __len__(self) -> int:
        return self._frame.read


def _households(
    groups: Mapping[str, list[PersonRecord]],
    bad_rows: Mapping[str, list[int]],
    columns: Sequence[str],
    raw: Mapping[int, tuple[str, ...]],
    quarantine: list[QuarantineLine],
) -> list[HouseholdRecord]:
    """The household checks of ``imports.validate``: the same function."""
    return imports.group_households(groups, bad_rows, columns, raw, quarantine)


# -- Writing ---------------------------------------------------------------------------------

_INCOME_COLUMNS = ("person_id", "kind", "month", "amount_fen")
_ASSET_TABLE_COLUMNS = ("household_id", "kind", "value_fen", "count", "area_dm2")
ASSET_DESCRIPTION = "totals from the county household list"


def _known(session: Any, households: Sequence[HouseholdRecord]) -> tuple[set[Any], set[str]]:
    """The household keys and identity numbers of the import that the registry already has."""
    temp_table(
        session, "import_household_keys", {"region": "VARCHAR(6)", "household_no": "VARCHAR(40)"}
    )
    keys_frame = pl.DataFrame(
        {
            "region": [h.region for h in households],
            "household_no": [h.household_no for h in households],
        },
        schema={"region": pl.Utf8, "household_no": pl.Utf8},
    )
    copy_columns(session, "import_household_keys", keys_frame)
    keys = {
        (r, n)
        for r, n in session.execute(
            text(
                "SELECT h.region_code, h.household_no FROM households h JOIN "
                "import_household_keys k ON k.region = h.region_code AND k.household_no = h.household_no"
            )
        )
    }
    temp_table(session, "import_person_keys", {"id_number": "VARCHAR(18)"})
    numbers = pl.DataFrame(
        {"id_number": [m.id_number for h in households for m in h.members]},
        schema={"id_number": pl.Utf8},
    )
    copy_columns(session, "import_person_keys", numbers)
    persons = set(
        session.scalars(
            text(
                "SELECT p.id_number FROM persons p JOIN import_person_keys k "
                "ON k.id_number = p.id_number"
            )
        )
    )
    session.execute(text("DROP TABLE import_household_keys"))
    session.execute(text("DROP TABLE import_person_keys"))
    return keys, persons


def _new_ids(session: Any, table: str, n: int) -> list[int]:
    """``n`` ids for new rows of ``table``: from its sequence on PostgreSQL; on SQLite after the
    largest (the import's transaction holds the database's write lock)."""
    if session.get_bind().dialect.name == "postgresql":
        sequence = f"pg_get_serial_sequence('{table}', 'id')"
        if n >= SET_BASED_FROM:
            # A block of n ids at once: with the table locked against inserts (which the import
            # holds until it commits anyway from this size on, ADR 0015), no other session
            # takes an id from its sequence in between.
            session.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
            last = session.execute(
                text(f"SELECT setval({sequence}, nextval({sequence}) + :n - 1)"), {"n": int(n)}
            ).scalar_one()
            return list(range(last - n + 1, last + 1))
        # Read back with COPY (no row object per id).
        query = f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, {int(n)})"
        ids: list[int] = (
            read_query(session, query, ["id"], {"id": pl.Int64}).get_column("id").to_list()
        )
        return ids
    start = session.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar_one()
    return list(range(start + 1, start + 1 + n))


def insert_new_households(
    uow: UnitOfWork,
    cmd: Any,
    now: dt.datetime,
    report: Any,
    person_columns: Mapping[str, str],
    person_defaults: Mapping[str, Any],
    asset_source: str,
    progress: ProgressSink | None = None,
) -> list[HouseholdRecord]:
    """Write the households of ``cmd.batch`` that are new to the registry, with all their
    members new too, set-based; count them in ``report``; return the households left for the
    row writer (in their order). ``person_columns`` and ``person_defaults`` are the row writer's
    (``handlers._PERSON_COLUMNS``, ``_PERSON_DEFAULTS``), so both write the same person rows."""
    households = list(cmd.batch.households)
    if not households or not _shapes_known():
        return households
    session = uow.session
    with _timed("registered keys looked up", households=len(households)):
        keys, persons = _known(session, households)
    new = [
        h for h in households
        if h.key not in keys and not any(m.id_number in persons for m in h.members)
        and all(set(m.attributes) <= set(person_columns) | {"statistical_code"} for m in h.members)
    ]  # fmt: skip
    if not new:
        return households
    chosen = {id(h) for h in new}
    sink = progress or NullProgress()
    sink.start("Writing new households", len(new))
    uow.repo(RegistryRepository).ensure_regions(
        {h.region for h in new} | {m.attributes["region"] for h in new for m in h.members}
    )
    by_county: dict[str, list[HouseholdRecord]] = {}
    for household in new:
        by_county.setdefault(household.region, []).append(household)
    facts_source = f"import:{cmd.batch.path.name}"
    for county, group in sorted(by_county.items()):
        with _timed(f"county {county} written", households=len(group)):
            counts, digest = _write(
                session, group, cmd.as_of, now, person_columns, person_defaults,
                (asset_source, facts_source),
            )  # fmt: skip
        append(
            session,
            actor=cmd.actor,
            command="ImportHouseholds",
            event="HouseholdsRegisteredInBulk",
            entity="region",
            entity_id=county,
            after={"source": cmd.source, **counts, "rows_sha256": digest},
            occurred_at=now,
        )
        report.households_created += counts["households"]
        report.persons_created += counts["persons"]
        sink.advance(len(group))
    return [h for h in households if id(h) not in chosen]


def _write(
    session: Any,
    households: Sequence[HouseholdRecord],
    as_of: dt.date,
    now: dt.datetime,
    person_columns: Mapping[str, str],
    person_defaults: Mapping[str, Any],
    sources: tuple[str, str],
) -> tuple[dict[str, int], str]:
    """Insert the households and everything under them; (counts, digest of the rows).
    ``sources``: the assets' and the program facts' source. Each table's rows are columns
    (one Python list per column, a Polars frame per table) sent as CSV text by Polars."""
    asset_source, facts_source = sources
    digest = hashlib.sha256()
    household_ids = _new_ids(session, "households", len(households))
    member_hids = [hid for hid, h in zip(household_ids, households, strict=True) for _ in h.members]
    members = [m for h in households for m in h.members]
    person_ids = _new_ids(session, "persons", len(members))
    stamps = {"created_at": now, "updated_at": now}
    frame = pl.DataFrame(
        {
            "id": household_ids,
            "region_code": [h.region for h in households],
            "household_no": [h.household_no for h in households],
            "statistical_code": pl.Series([h.statistical_code for h in households], dtype=pl.Utf8),
            "hukou_type": [h.hukou_type for h in households],
        }
    )
    with _foreign_keys_once(session, len(members)):
        written = {"households": _copy(session, "households", frame, stamps, digest)}
        people = _person_frame(person_ids, members, person_columns, person_defaults)
        written["persons"] = _copy(session, "persons", people, stamps, digest)
        frame = pl.DataFrame(
            {
                "person_id": person_ids,
                "household_id": member_hids,
                "relation": [m.relation for m in members],
            }
        )
        written["memberships"] = _copy(
            session, "memberships", frame, {"start_date": as_of, "end_date": None}, digest
        )
        income = [
            (pid, kind, month, amount)
            for pid, m in zip(person_ids, members, strict=True)
            for (kind, month), amount in m.income.items()
        ]
        written["income_items"] = _copy(
            session, "income_items", _frame(_INCOME_COLUMNS, income), None, digest
        )
        assets = [
            (hid, kind, total.value_fen, total.count, total.area_dm2)
            for hid, h in zip(household_ids, households, strict=True)
            for kind, total in h.assets.items()
            if total.value_fen or total.count or total.area_dm2
        ]
        fixed = {"source": asset_source, "description": ASSET_DESCRIPTION}
        written["assets"] = _copy(
            session, "assets", _frame(_ASSET_TABLE_COLUMNS, assets), fixed, digest
        )
        ids = (
            dict(zip(household_ids, households, strict=True)),
            list(zip(person_ids, members, strict=True)),
        )
        written |= _write_facts(session, ids, as_of, now, facts_source, digest)
    return written, digest.hexdigest()


# From this many persons written in one county on PostgreSQL, the foreign keys of the tables
# written (to regions, households and persons) are checked once each after the COPY
# (``foreign_keys_checked_once``, ADR 0015) instead of by one trigger call per row.
SET_BASED_FROM = 100_000
_CHILD_TABLES = ("households", "persons", "memberships", "income_items", "assets", "person_facts",
                 "household_facts")  # fmt: skip


@contextmanager
def _foreign_keys_once(session: Any, persons: int) -> Iterator[None]:
    with tables_checked_once(session, _CHILD_TABLES, persons >= SET_BASED_FROM):
        yield
    if persons >= SET_BASED_FROM:
        _log.debug("households bulk: foreign keys of %s checked once", ", ".join(_CHILD_TABLES))


def _person_frame(
    person_ids: Sequence[int],
    members: Sequence[PersonRecord],
    person_columns: Mapping[str, str],
    person_defaults: Mapping[str, Any],
) -> pl.DataFrame:
    """The persons' rows as columns: a column takes the member's attribute of the last key that
    maps to it and that the member has, else the column's default (as the row writer)."""
    keys_of: dict[str, list[str]] = {}
    for key, column in person_columns.items():
        keys_of.setdefault(column, []).append(key)
    names = dict.fromkeys([*person_defaults, *person_columns.values()])
    columns: dict[str, Any] = {
        "id": person_ids,
        "id_number": [m.id_number for m in members],
        "name": [m.name for m in members],
    }
    for name in names:
        default = person_defaults.get(name)
        keys = keys_of.get(name, [])
        if len(keys) == 1:
            key = keys[0]
            values = [m.attributes.get(key, default) for m in members]
        else:
            values = [_attribute(m.attributes, keys, default) for m in members]
        columns[name] = pl.Series(values, dtype=_PERSON_TYPES.get(name))
    return pl.DataFrame(columns)


def _attribute(attributes: Mapping[str, Any], keys: Sequence[str], default: Any) -> Any:
    for key in reversed(keys):
        if key in attributes:
            return attributes[key]
    return default


# Polars types of the person columns that may be null throughout (else inferred from the values).
_PERSON_TYPES: dict[str, Any] = {
    "sex": pl.Utf8, "birth_date": pl.Date, "hukou_region_code": pl.Utf8, "hukou_type": pl.Utf8,
    "labour_capacity": pl.Utf8, "disability_category": pl.Utf8, "disability_grade": pl.Int64,
    "has_serious_illness": pl.Boolean, "self_care_items_failed": pl.Int64, "schooling": pl.Utf8,
    "employment": pl.Utf8, "statistical_code": pl.Utf8,
}  # fmt: skip


def _frame(names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> pl.DataFrame:
    """Rows (few per household: income, assets, facts) as a frame with ``names``."""
    schema = {n: _COLUMN_TYPES.get(n, pl.Int64) for n in names}
    return pl.DataFrame(list(rows), schema=schema, orient="row")


_COLUMN_TYPES: dict[str, Any] = {
    "kind": pl.Utf8, "month": pl.Utf8, "field": pl.Utf8, "value": pl.Utf8, "valid_from": pl.Date,
}  # fmt: skip


def _write_facts(
    session: Any,
    ids: tuple[dict[int, HouseholdRecord], list[tuple[int, PersonRecord]]],
    as_of: dt.date,
    now: dt.datetime,
    source: str,
    digest: Any,
) -> dict[str, int]:
    """The program facts of the new households and their members (canonical text from the
    validator), valid from the row's income month, else ``as_of``: as the row writer's
    ``sync_facts`` records them for a new subject."""

    def since(month: str | None) -> dt.date:
        return dt.date.fromisoformat(f"{month}-01") if month else as_of

    households, members = ids
    person_rows = [
        (pid, name, value, since(m.month))
        for pid, m in members
        for name, value in sorted(m.facts.items())
    ]
    household_rows = [
        (hid, name, value, since(h.facts_month))
        for hid, h in households.items()
        for name, value in sorted(h.facts.items())
    ]
    fixed = {"source": source, "recorded_at": now}
    names = _FACT_COLUMNS
    return {
        "person_facts": _copy(
            session, "person_facts", _frame(("person_id", *names), person_rows), fixed, digest
        ),
        "household_facts": _copy(
            session,
            "household_facts",
            _frame(("household_id", *names), household_rows),
            fixed,
            digest,
        ),
    }


def _copy(
    session: Any, table: str, frame: pl.DataFrame, same: Mapping[str, Any] | None, digest: Any
) -> int:
    digest.update(f"{table}\n".encode())
    with _timed(f"COPY {table}", rows=frame.height):
        return copy_columns(session, table, frame, same, digest)
