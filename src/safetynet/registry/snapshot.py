"""The registry as the monthly cycle's input: a county-partitioned snapshot of one month.

``export_snapshot`` writes, county by county (a county = the household's 6-digit region code),
every fact any program needs into the batch format (``registry.county_data``): each declared
field is taken from where ``registry.fact_sources`` says the registry keeps it. One county's rows
are in memory at a time; each county is a handful of SQL queries, never a whole-registry load,
read as Arrow columns (``registry.sql_columns``), the values in force picked in NumPy (ADR 0028).

What "as of the month" means (docs/registry.md, ADR 0010), with ``end`` the month's last day:
- members: the membership covering ``end``; a person with none but an open membership (a
  household imported after the month) counts in that household;
- income: per person and kind, the item of the latest month on or before the snapshot month
  (a county's import gives one month; it stays in force until the next one);
- assets: the household's current totals per kind, summed over their sources;
- enrolments (dibao, tekun): those covering ``end`` and not ended without a date; a household's
  tekun enrolment marks every member (as ``monitoring.verification`` does);
- facts: the value with the latest ``valid_from`` on or before ``end`` (ties: the last recorded).

``household_id``/``person_id`` are the registry's ids; ``id_number`` is the full number (the
snapshot is internal input, as the synthetic one; it is never printed). The manifest records the
month, the counties with their counts and the audit log's head, so a run can say which state of
the registry it used.

Counties in parallel (``mapper``: worker processes or Spark, ``batch.engines``): on PostgreSQL
the export's own repeatable-read transaction exports its snapshot (``pg_export_snapshot``) and
every county's worker connects and takes that same snapshot (``SET TRANSACTION SNAPSHOT``), as
``pg_dump --jobs`` does: all counties see one state of the registry, whatever is committed while
they run. The embedded SQLite registry is exported in this process, one county after another.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, text

from safetynet.audit.model import AuditEvent
from safetynet.db.engine import Database, create_database, require_current_schema
from safetynet.errors import InputError
from safetynet.intake import parse_month
from safetynet.policy.population import (
    FIELDS,
    Entity,
    Population,
    date_to_int,
    declare_all_fields,
)
from safetynet.registry.county_data import MANIFEST, CountyData, write_county, write_manifest
from safetynet.registry.fact_sources import (
    SOURCES,
    FromAssets,
    FromEnrolment,
    FromFacts,
    FromIncome,
    Native,
)
from safetynet.registry.facts import parse_values
from safetynet.registry.sql_columns import BOOL, DATE, INT, TEXT, read_columns

__all__ = [
    "CountyExport",
    "CountyMapper",
    "export_county",
    "export_snapshot",
    "read_county_from_registry",
    "registry_counties",
]

_IN_WORK = ("employed", "flexible")

# A person's membership as of :end: the one covering it, else an open one begun after it.
_MEMBERS = """
WITH members AS (
  SELECT m.person_id, m.household_id, m.relation
  FROM memberships m JOIN households h ON h.id = m.household_id
  WHERE h.region_code = :county
    AND ((m.start_date <= :end AND (m.end_date IS NULL OR m.end_date > :end))
      OR (m.end_date IS NULL AND m.start_date > :end AND NOT EXISTS (
            SELECT 1 FROM memberships o WHERE o.person_id = m.person_id
              AND o.start_date <= :end AND (o.end_date IS NULL OR o.end_date > :end))))
)
"""

_PERSONS = (
    _MEMBERS
    + """
SELECT mb.household_id, p.id, p.id_number, p.birth_date, p.sex, mb.relation,
       p.disability_category, p.disability_grade, p.has_serious_illness,
       p.self_care_items_failed, p.schooling, p.employment
FROM members mb JOIN persons p ON p.id = mb.person_id
ORDER BY mb.household_id, CASE WHEN mb.relation = 'head' THEN 0 ELSE 1 END, p.id
"""
)
_PERSON_COLUMNS = ("household_id", "id", "id_number", "birth_date", "sex", "relation",
                   "disability_category", "disability_grade", "has_serious_illness",
                   "self_care_items_failed", "schooling", "employment")  # fmt: skip

_HOUSEHOLDS = """
SELECT id, region_code, hukou_type FROM households WHERE region_code = :county ORDER BY id
"""

# Everyone who has been in one of the county's households: the members as of the month and
# perhaps some who have left (their rows are not in the snapshot and are dropped as read).
_IN_COUNTY = """
SELECT m.person_id FROM memberships m JOIN households h ON h.id = m.household_id
WHERE h.region_code = :county
"""

# The items on or before the month (a person's latest per kind is picked from them, ``_latest``).
_INCOME = f"""
SELECT i.person_id, i.kind, i.month, i.amount_fen FROM income_items i
WHERE i.month <= :month AND i.person_id IN ({_IN_COUNTY})
"""

_ASSETS = """
SELECT a.household_id, a.kind, SUM(a.value_fen), SUM(COALESCE(a.count, 0))
FROM assets a JOIN households h ON h.id = a.household_id
WHERE h.region_code = :county
GROUP BY a.household_id, a.kind
"""

_ENROLMENTS = """
SELECT e.household_id, e.program, e.amount_fen
FROM enrolments e JOIN households h ON h.id = e.household_id
WHERE h.region_code = :county AND e.start_date <= :end
  AND (e.end_date IS NULL OR e.end_date >= :end)
  AND NOT (e.status = 'ended' AND e.end_date IS NULL)
"""

# Every fact valid on or before the month's end (the one in force is picked by ``_latest``).
_PERSON_FACTS = f"""
SELECT f.person_id, f.field, f.value, f.valid_from, f.id FROM person_facts f
WHERE f.valid_from <= :end AND f.person_id IN ({_IN_COUNTY})
"""

_HOUSEHOLD_FACTS = """
SELECT f.household_id, f.field, f.value, f.valid_from, f.id
FROM household_facts f JOIN households h ON h.id = f.household_id
WHERE h.region_code = :county AND f.valid_from <= :end
"""

_PERSON_TYPES = (INT, INT, TEXT, DATE, TEXT, TEXT, TEXT, INT, BOOL, INT, TEXT, TEXT)
_FACT_COLUMNS = (("subject", INT), ("field", TEXT), ("value", TEXT), ("valid_from", DATE),
                 ("id", INT))  # fmt: skip


def _month_end(first: dt.date) -> dt.date:
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def registry_counties(conn: Connection) -> list[str]:
    """The region codes that have households, in order."""
    rows = conn.execute(text("SELECT DISTINCT region_code FROM households ORDER BY region_code"))
    return [str(r[0]) for r in rows]


def _code(name: str, value: Any) -> int:
    return FIELDS.get(name).choices.index(value)


# Native column value → the engine's column value, per field (registry.fact_sources).
_NATIVE_VALUE: Mapping[str, Callable[[Any], int | bool]] = {
    "birth_date": lambda day: date_to_int(_as_date(day)),
    "sex": lambda v: _code("sex", v),
    "relation": lambda v: _code("relation", v),
    "disability_category": lambda v: _code("disability_category", v),
    "disability_grade": int,
    "has_serious_illness": bool,
    "tekun_selfcare_items_failed": int,
    "education_stage": lambda v: _code("education_stage", v or "none"),
    "is_employed": lambda v: v in _IN_WORK,
    "hukou_type": lambda v: _code("hukou_type", v),
}


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def read_county_from_registry(conn: Connection, county: str, month: str) -> CountyData | None:
    """One county as of ``month`` (YYYY-MM), or None if no household has a member then.

    Each query's result is read as Arrow columns (``registry.sql_columns``: COPY on PostgreSQL,
    the driver's cursor on SQLite); the value in force of income and facts is picked here, in
    NumPy, from every row on or before the month (ADR 0028)."""
    declare_all_fields()
    first = dt.date.fromisoformat(f"{month}-01")
    args = {"county": county, "end": _month_end(first), "month": month}
    if conn.dialect.name == "postgresql":
        # The members' NOT EXISTS makes the planner's cost estimates large, which turns on JIT
        # compilation: about 0.6 s a query, for queries that run in a few seconds without it.
        conn.execute(text("SET LOCAL jit = off"))
        # The hashes of a county's members and its persons' sort fit in memory, not on disk.
        conn.execute(text("SET LOCAL work_mem = '64MB'"))
    people = read_columns(conn, _PERSONS, args, list(zip(_PERSON_COLUMNS, _PERSON_TYPES,
                                                         strict=True)))  # fmt: skip
    if not people.num_rows:
        return None
    member_of = _ints(people.column("household_id"))
    households = read_columns(conn, _HOUSEHOLDS, args,
                              [("id", INT), ("region_code", TEXT), ("hukou_type", TEXT)])  # fmt: skip
    all_ids = _ints(households.column("id"))
    keep = np.isin(all_ids, member_of)
    household_ids = all_ids[keep]
    household_cols = {"hukou_type": households.column("hukou_type").filter(pa.array(keep))}
    pop = Population(household_ids=[str(h) for h in household_ids])
    pop.household_of = np.searchsorted(household_ids, member_of).astype(np.int64)
    person_ids = _ints(people.column("id"))
    _fill_defaults(pop)
    _fill_native(pop, {n: people.column(n) for n in _PERSON_COLUMNS}, household_cols)
    rows = _Rows(person_ids, household_ids)
    income = read_columns(conn, _INCOME, args, [("person_id", INT), ("kind", TEXT),
                                                ("month", TEXT), ("amount_fen", INT)])  # fmt: skip
    _fill_income(pop, rows, income)
    del income
    assets = read_columns(conn, _ASSETS, args, [("household_id", INT), ("kind", TEXT),
                                                ("value_fen", INT), ("count", INT)])  # fmt: skip
    _fill_assets(pop, rows, assets)
    enrolments = read_columns(conn, _ENROLMENTS, args,
                              [("household_id", INT), ("program", TEXT), ("amount_fen", INT)])  # fmt: skip
    _fill_enrolments(pop, rows, enrolments)
    for entity, query in ((Entity.PERSON, _PERSON_FACTS), (Entity.HOUSEHOLD, _HOUSEHOLD_FACTS)):
        _fill_facts(pop, rows, entity, read_columns(conn, query, args, _FACT_COLUMNS))
    return CountyData(
        county=county,
        population=pop,
        household_id=household_ids,
        region=np.full(len(household_ids), county),
        person_id=person_ids,
        id_number=people.column("id_number").to_numpy(zero_copy_only=False),
    )


def _ints(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    values: np.ndarray = column.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return values


def _codes(column: pa.ChunkedArray | pa.Array) -> tuple[list[Any], np.ndarray]:
    """The distinct values of ``column`` (None for NULL) and each row's index into them."""
    if isinstance(column, pa.ChunkedArray):  # one dictionary for the whole column
        column = column.combine_chunks()
    encoded = pc.dictionary_encode(column, null_encoding="encode")
    indices = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return encoded.dictionary.to_pylist(), indices


def _latest(subject: np.ndarray, kind: np.ndarray, *newest_last: np.ndarray) -> np.ndarray:
    """The rows in force: of the rows of each (subject, kind), the last in the order of the
    ``newest_last`` keys (the first key first). They come by kind, then subject."""
    if not len(subject):
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((*reversed(newest_last), subject, kind))
    s, k = subject[order], kind[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = (s[1:] != s[:-1]) | (k[1:] != k[:-1])
    chosen: np.ndarray = order[last]
    return chosen


def _ranks(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Each row's rank among the column's distinct text values (their order as the key)."""
    values, at = _codes(column)
    rank = np.argsort(np.argsort(np.array(values, dtype=object), kind="stable"), kind="stable")
    ranked: np.ndarray = rank[at] if len(values) else at
    return ranked


class _Rows:
    """Row indexes of registry ids, for persons (in snapshot order) and households."""

    def __init__(self, person_ids: np.ndarray, household_ids: np.ndarray) -> None:
        self._ids = {Entity.PERSON: person_ids, Entity.HOUSEHOLD: household_ids}
        self._order = {e: np.argsort(ids, kind="stable") for e, ids in self._ids.items()}

    def of(self, entity: Entity, subject_ids: np.ndarray | Sequence[Any]) -> np.ndarray:
        """The row of each id; -1 where the id is not in the county's snapshot."""
        ids, order = self._ids[entity], self._order[entity]
        wanted = np.asarray(subject_ids, dtype=np.int64)
        if not len(ids) or not len(wanted):
            return np.full(len(wanted), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(ids, wanted, sorter=order), len(ids) - 1)
        rows = order[at]
        return np.where(ids[rows] == wanted, rows, -1).astype(np.int64)


def _columns(pop: Population, entity: Entity) -> MutableMapping[str, np.ndarray]:
    return pop.persons if entity is Entity.PERSON else pop.households


def _fill_defaults(pop: Population) -> None:
    """Every declared field at its default (required fields are native and filled next)."""
    for f in FIELDS.all():
        n = pop.n_persons if f.entity is Entity.PERSON else len(pop.household_ids)
        value = f.default_value() if f.default is not None else 0
        _columns(pop, f.entity)[f.name] = np.full(n, value, dtype=f.dtype())


def _fill_native(
    pop: Population,
    person_cols: Mapping[str, pa.ChunkedArray],
    household_cols: Mapping[str, pa.ChunkedArray],
) -> None:
    for name, source in SOURCES.items():
        if not isinstance(source, Native):
            continue
        f = FIELDS.get(name)
        raw = household_cols[source.column] if source.table == "households" else (
            person_cols[source.column])  # fmt: skip
        convert = _NATIVE_VALUE[name]
        values, at = _codes(raw)  # a county repeats few distinct values: each converted once
        converted = np.array([convert(v) for v in values], dtype=f.dtype())
        _columns(pop, f.entity)[name] = converted[at] if len(values) else converted


def _fill_income(pop: Population, rows: _Rows, items: pa.Table) -> None:
    person_ids = _ints(items.column("person_id"))
    kinds, kind_at = _codes(items.column("kind"))
    chosen = _latest(person_ids, kind_at, _ranks(items.column("month")))
    at = rows.of(Entity.PERSON, person_ids[chosen])
    kind_at, amounts = kind_at[chosen], _ints(items.column("amount_fen"))[chosen]
    for name, source in SOURCES.items():
        if isinstance(source, FromIncome) and source.kind in kinds:
            take = (kind_at == kinds.index(source.kind)) & (at >= 0)
            pop.persons[name][at[take]] = amounts[take]


def _fill_assets(pop: Population, rows: _Rows, totals: pa.Table) -> None:
    at = rows.of(Entity.HOUSEHOLD, _ints(totals.column("household_id")))
    kinds = totals.column("kind")
    values, counts = _ints(totals.column("value_fen")), _ints(totals.column("count"))
    for name, source in SOURCES.items():
        if isinstance(source, FromAssets):
            of_kind = pc.is_in(kinds, value_set=pa.array(source.kinds, type=pa.string()))
            take = of_kind.to_numpy(zero_copy_only=False) & (at >= 0)
            measure = values if source.measure == "value_fen" else counts
            np.add.at(pop.households[name], at[take], measure[take])


def _fill_enrolments(pop: Population, rows: _Rows, enrolments: pa.Table) -> None:
    at = rows.of(Entity.HOUSEHOLD, _ints(enrolments.column("household_id")))
    programs = enrolments.column("program")
    amounts = _ints(enrolments.column("amount_fen"))
    for name, source in SOURCES.items():
        if not isinstance(source, FromEnrolment):
            continue
        of_program = pc.equal(programs, source.program).to_numpy(zero_copy_only=False)
        take = of_program.astype(bool) & (at >= 0)
        value = np.zeros(len(pop.household_ids), dtype=np.int64)
        value[at[take]] = 1 if source.measure == "flag" else amounts[take]
        f = FIELDS.get(name)
        column = value if f.entity is Entity.HOUSEHOLD else value[pop.household_of]
        _columns(pop, f.entity)[name] = column.astype(f.dtype())


def _fill_facts(pop: Population, rows: _Rows, entity: Entity, facts: pa.Table) -> None:
    subject_ids = _ints(facts.column("subject"))
    names, name_at = _codes(facts.column("field"))
    valid_from = facts.column("valid_from").to_numpy(zero_copy_only=False).astype(np.int64)
    chosen = _latest(subject_ids, name_at, valid_from, _ints(facts.column("id")))
    at = rows.of(entity, subject_ids[chosen])
    # The facts in force come field by field: each field's are one slice.
    bounds = np.searchsorted(name_at[chosen], np.arange(len(names) + 1))
    values = facts.column("value").take(pa.array(chosen)).combine_chunks()
    columns = _columns(pop, entity)
    for code, name in enumerate(names):
        if not isinstance(SOURCES.get(name), FromFacts):
            continue  # a field no longer declared, or now kept natively: not an input
        start, stop = int(bounds[code]), int(bounds[code + 1])
        where, texts = at[start:stop], values.slice(start, stop - start)
        inside = where >= 0
        if not inside.all():
            where, texts = where[inside], texts.filter(pa.array(inside))
        columns[name][where] = parse_values(FIELDS.get(name), texts)


def _audit_head(conn: Connection) -> dict[str, Any] | None:
    last = conn.execute(
        text(f"SELECT id, hash FROM {AuditEvent.__tablename__} ORDER BY id DESC LIMIT 1")
    ).first()
    return None if last is None else {"sequence": int(last[0]), "hash": str(last[1])}


def _prepare(out: Path) -> None:
    """Create ``out``, or clear an earlier dataset there; refuse a folder holding anything else."""
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "is a file, not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MANIFEST).is_file():
            raise InputError(str(out), "is not empty and is not a snapshot; choose another --out")
        (out / MANIFEST).unlink()  # a half-written snapshot must not look complete
        for name in ("persons", "households"):
            shutil.rmtree(out / name, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)


J = TypeVar("J")
R = TypeVar("R")


class CountyMapper(Protocol):
    """Runs a pure county function over county jobs, yielding each result once as they finish
    (``batch.engines.LocalEngine`` and ``SparkEngine`` are such)."""

    def map_counties(self, fn: Callable[[J], R], jobs: Sequence[J]) -> Iterator[R]: ...


@dataclass(frozen=True)
class CountyExport:
    """One county's export, done by a worker that connects to the registry itself."""

    url: str  # with its password: the worker connects; never printed
    snapshot_id: str  # the export's transaction snapshot (pg_export_snapshot)
    county: str
    month: str
    out: str


_SNAPSHOT_ID = re.compile(r"[0-9A-F]+(-[0-9A-F]+)+")


def export_county(job: CountyExport) -> tuple[str, dict[str, Any] | None]:
    """Write one county as the registry stood in the export's snapshot; (the county, its counts,
    or None if it had no member that month)."""
    if not _SNAPSHOT_ID.fullmatch(job.snapshot_id):
        raise InputError("snapshot_id", f"{job.snapshot_id!r} is not a PostgreSQL snapshot id")
    db = create_database(job.url)
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            conn.execute(text(f"SET TRANSACTION SNAPSHOT '{job.snapshot_id}'"))
            data = read_county_from_registry(conn, job.county, job.month)
            if data is None:
                return job.county, None
            write_county(Path(job.out), data)
            counts = {"county": job.county, "households": len(data.household_id),
                      "persons": len(data.person_id)}  # fmt: skip
            return job.county, counts
    finally:
        db.dispose()


def export_snapshot(
    db: Database,
    month: str,
    out: Path,
    *,
    only: Sequence[str] | None = None,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    on_county: Callable[[str, int, int], None] | None = None,
    mapper: CountyMapper | None = None,
) -> dict[str, Any]:
    """Write the registry as of ``month`` (YYYY-MM) to ``out``, county by county, with its
    manifest; returns the manifest. Counties with no member that month are left out. With
    ``mapper``, on PostgreSQL, the counties are exported in parallel in one snapshot."""
    month = parse_month(month, "--month")
    require_current_schema(db)
    _prepare(out)
    found: dict[str, dict[str, Any] | None] = {}
    with db.engine.connect() as conn:
        parallel = mapper is not None and conn.dialect.name == "postgresql"
        if conn.dialect.name == "postgresql":  # one consistent view of every county
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        # First in the transaction, so the snapshot exported is the one its reads below see.
        shared = (
            str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()) if parallel else ""
        )
        known = registry_counties(conn)
        for county in only or ():
            if county not in known:
                raise InputError("--county", f"{county} has no household in the registry")
        chosen = list(dict.fromkeys(only)) if only else known
        head = _audit_head(conn)
        if mapper is not None and parallel:
            url = db.engine.url.render_as_string(hide_password=False)
            jobs = [CountyExport(url, shared, c, month, str(out.resolve())) for c in chosen]
            # The exported snapshot lives as long as this transaction: it stays open until
            # every county is written.
            for i, (county, counts) in enumerate(mapper.map_counties(export_county, jobs)):
                found[county] = counts
                if on_county is not None:
                    on_county(county, i + 1, len(chosen))
        else:
            for i, county in enumerate(chosen):
                data = read_county_from_registry(conn, county, month)
                found[county] = None
                if data is not None:
                    write_county(out, data)
                    found[county] = {"county": county, "households": len(data.household_id),
                                     "persons": len(data.person_id)}  # fmt: skip
                if on_county is not None:
                    on_county(county, i + 1, len(chosen))
    written = [counts for c in chosen if (counts := found.get(c)) is not None]
    manifest = {
        "source": "registry",
        "month": month,
        "created_at": clock().isoformat(),
        "audit_head": head,
        "counties": [c["county"] for c in written],
        "counts": written,
        "households": sum(c["households"] for c in written),
        "persons": sum(c["persons"] for c in written),
    }
    write_manifest(out, manifest)
    return manifest
