"""The registry as the monthly cycle's input: a county-partitioned snapshot of one month.

``export_snapshot`` writes, county by county (a county = the household's 6-digit region code),
every fact any program needs into the batch format (``registry.county_data``): each declared
field is taken from where ``registry.fact_sources`` says the registry keeps it. One county's rows
are in memory at a time; each county is a handful of SQL queries, never a whole-registry load.

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
from sqlalchemy import Connection, Date, TextClause, bindparam, text

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
from safetynet.registry.facts import parse_cached

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

_INCOME = (
    _MEMBERS
    + """
SELECT person_id, kind, amount_fen FROM (
  SELECT i.person_id, i.kind, i.amount_fen,
         ROW_NUMBER() OVER (PARTITION BY i.person_id, i.kind ORDER BY i.month DESC) AS latest
  FROM income_items i JOIN members mb ON mb.person_id = i.person_id
  WHERE i.month <= :month
) t WHERE latest = 1
"""
)

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

_PERSON_FACTS = (
    _MEMBERS
    + """
SELECT person_id, field, value FROM (
  SELECT f.person_id, f.field, f.value,
         ROW_NUMBER() OVER (PARTITION BY f.person_id, f.field
                            ORDER BY f.valid_from DESC, f.id DESC) AS latest
  FROM person_facts f JOIN members mb ON mb.person_id = f.person_id
  WHERE f.valid_from <= :end
) t WHERE latest = 1
"""
)

_HOUSEHOLD_FACTS = """
SELECT household_id, field, value FROM (
  SELECT f.household_id, f.field, f.value,
         ROW_NUMBER() OVER (PARTITION BY f.household_id, f.field
                            ORDER BY f.valid_from DESC, f.id DESC) AS latest
  FROM household_facts f JOIN households h ON h.id = f.household_id
  WHERE h.region_code = :county AND f.valid_from <= :end
) t WHERE latest = 1
"""


def _month_end(first: dt.date) -> dt.date:
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def _sql(query: str) -> TextClause:
    """The query with its date typed (SQLite stores ISO text, PostgreSQL a date)."""
    statement = text(query)
    return statement.bindparams(bindparam("end", type_=Date)) if ":end" in query else statement


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
    # SQLite through a text() query gives the stored ISO text, PostgreSQL a date.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def read_county_from_registry(conn: Connection, county: str, month: str) -> CountyData | None:
    """One county as of ``month`` (YYYY-MM), or None if no household has a member then."""
    declare_all_fields()
    first = dt.date.fromisoformat(f"{month}-01")
    args = {"county": county, "end": _month_end(first), "month": month}
    people = conn.execute(_sql(_PERSONS), args).all()
    if not people:
        return None
    person_cols = {name: [r[i] for r in people] for i, name in enumerate(_PERSON_COLUMNS)}
    member_of = np.array(person_cols["household_id"], dtype=np.int64)
    households = conn.execute(_sql(_HOUSEHOLDS), args).all()
    all_ids = np.array([r[0] for r in households], dtype=np.int64)
    keep = np.isin(all_ids, member_of)
    household_ids = all_ids[keep]
    household_cols = {"hukou_type": [r[2] for r, k in zip(households, keep, strict=True) if k]}
    pop = Population(household_ids=[str(h) for h in household_ids])
    pop.household_of = np.searchsorted(household_ids, member_of).astype(np.int64)
    person_ids = np.array(person_cols["id"], dtype=np.int64)
    _fill_defaults(pop)
    _fill_native(pop, person_cols, household_cols)
    rows = _Rows(person_ids, household_ids)
    _fill_income(pop, rows, conn.execute(_sql(_INCOME), args).all())
    _fill_assets(pop, rows, conn.execute(_sql(_ASSETS), args).all())
    _fill_enrolments(pop, rows, conn.execute(_sql(_ENROLMENTS), args).all())
    _fill_facts(pop, rows, Entity.PERSON, conn.execute(_sql(_PERSON_FACTS), args).all())
    _fill_facts(pop, rows, Entity.HOUSEHOLD, conn.execute(_sql(_HOUSEHOLD_FACTS), args).all())
    return CountyData(
        county=county,
        population=pop,
        household_id=household_ids,
        region=np.full(len(household_ids), county),
        person_id=person_ids,
        id_number=np.array(person_cols["id_number"], dtype=object),
    )


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
    pop: Population, person_cols: Mapping[str, list[Any]], household_cols: Mapping[str, list[Any]]
) -> None:
    for name, source in SOURCES.items():
        if not isinstance(source, Native):
            continue
        f = FIELDS.get(name)
        raw = household_cols[source.column] if source.table == "households" else (
            person_cols[source.column])  # fmt: skip
        convert = _NATIVE_VALUE[name]
        lookup = {v: convert(v) for v in set(raw)}  # a county repeats few distinct values
        _columns(pop, f.entity)[name] = np.array([lookup[v] for v in raw], dtype=f.dtype())


def _as_columns(rows: Sequence[Any], width: int) -> list[np.ndarray]:
    if not rows:
        return [np.zeros(0, dtype=object) for _ in range(width)]
    return [np.array(c, dtype=object) for c in zip(*rows, strict=True)]


def _fill_income(pop: Population, rows: _Rows, items: Sequence[Any]) -> None:
    person_ids, kinds, amounts = _as_columns(items, 3)
    at = rows.of(Entity.PERSON, person_ids)
    for name, source in SOURCES.items():
        if isinstance(source, FromIncome):
            take = (kinds == source.kind) & (at >= 0)
            pop.persons[name][at[take]] = amounts[take].astype(np.int64)


def _fill_assets(pop: Population, rows: _Rows, totals: Sequence[Any]) -> None:
    household_ids, kinds, values, counts = _as_columns(totals, 4)
    at = rows.of(Entity.HOUSEHOLD, household_ids)
    for name, source in SOURCES.items():
        if isinstance(source, FromAssets):
            take = np.isin(kinds, source.kinds) & (at >= 0)
            measure = values if source.measure == "value_fen" else counts
            np.add.at(pop.households[name], at[take], measure[take].astype(np.int64))


def _fill_enrolments(pop: Population, rows: _Rows, enrolments: Sequence[Any]) -> None:
    household_ids, programs, amounts = _as_columns(enrolments, 3)
    at = rows.of(Entity.HOUSEHOLD, household_ids)
    for name, source in SOURCES.items():
        if not isinstance(source, FromEnrolment):
            continue
        take = (programs == source.program) & (at >= 0)
        value = np.zeros(len(pop.household_ids), dtype=np.int64)
        value[at[take]] = 1 if source.measure == "flag" else amounts[take].astype(np.int64)
        f = FIELDS.get(name)
        column = value if f.entity is Entity.HOUSEHOLD else value[pop.household_of]
        _columns(pop, f.entity)[name] = column.astype(f.dtype())


def _fill_facts(pop: Population, rows: _Rows, entity: Entity, facts: Sequence[Any]) -> None:
    subject_ids, names, values = _as_columns(facts, 3)
    at = rows.of(entity, subject_ids)
    columns = _columns(pop, entity)
    for name in set(names.tolist()):
        if not isinstance(SOURCES.get(name), FromFacts):
            continue  # a field no longer declared, or now kept natively: not an input
        take = (names == name) & (at >= 0)
        distinct, inverse = np.unique(values[take].astype(str), return_inverse=True)
        parsed = np.array([parse_cached(name, v) for v in distinct.tolist()])
        columns[name][at[take]] = parsed[inverse] if len(distinct) else parsed


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
