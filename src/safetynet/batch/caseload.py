"""Bring a snapshot's current caseload into the registry: the households that receive dibao or
tekun now, their members, and one active enrolment per household and program.

This is the initial load of an existing caseload (from a predecessor system or, for the demo and
the benchmarks, from a synthetic population): the snapshot's identifiers are the registry's, so
``household_id`` and ``person_id`` are written as they are and a later export of the registry
gives the same snapshot back. The monthly amount of each enrolment is the rules core's for the
load month, with the same parameters as the monthly run.

Each county is one transaction with one audit entry (``CaseloadLoaded``, counts only). Loading is
idempotent: rows whose key exists (household id, person id or identity number, open membership,
current enrolment) are left as they are and counted as already present, so a load interrupted at
any point is completed by running it again.

The rows are built column by column and appended set-based (``COPY`` on PostgreSQL, one
executemany of tuples per table on SQLite), as the bulk household import does; see "Loading a
county" below.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow.parquet as pq
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.batch.runner import evaluate_county, parse_month
from safetynet.db.bulk import copy_columns, read_frame, refresh_statistics, tables_checked_once
from safetynet.db.engine import Database, require_current_schema
from safetynet.errors import InputError
from safetynet.logs import logged_stage
from safetynet.policy.engine import caseload_programs, program
from safetynet.policy.population import FIELDS, Entity
from safetynet.registry.bulk_households import SET_BASED_FROM
from safetynet.registry.county_data import CountyData, choose_counties, read_county
from safetynet.registry.fact_sources import fact_fields
from safetynet.registry.facts import SUBJECT, copy_facts, fact_texts
from safetynet.registry.model import Enrolment

__all__ = ["CaseloadReport", "Coverage", "caseload_coverage", "current_caseload", "load_caseload"]

SYSTEM = Actor(name="caseload-load", role="system")


@dataclass
class CountyCaseload:
    county: str
    households: int = 0
    persons: int = 0
    enrolments: dict[str, int] = field(default_factory=dict)
    already_present: int = 0


@dataclass
class CaseloadReport:
    month: str
    counties: list[CountyCaseload] = field(default_factory=list)

    @property
    def households(self) -> int:
        return sum(c.households for c in self.counties)

    @property
    def persons(self) -> int:
        return sum(c.persons for c in self.counties)

    def enrolments(self, program: str) -> int:
        return sum(c.enrolments.get(program, 0) for c in self.counties)


def _choices(name: str) -> tuple[str, ...]:
    choices = FIELDS.get(name).choices
    assert choices is not None
    return tuple(choices)


def _labels(name: str, codes: np.ndarray, *, none: str | None = None) -> pl.Series:
    """The stored text of each code of the choice field ``name`` (``none``: a choice stored as
    NULL), one small lookup series gathered by the codes."""
    labels = [None if c == none else c for c in _choices(name)]
    return pl.Series(labels, dtype=pl.Utf8).gather(np.asarray(codes, np.int64))


def current_caseload(
    data: CountyData,
    on: dt.date,
    *,
    overrides: Mapping[str, Any] | None = None,
    fallbacks: Mapping[str, Any] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Each caseload program's monthly amount per household (the rules core's, on ``on``) and
    which households it pays now: marked as recipients in the snapshot with an amount above 0."""
    pop = data.population
    caseload = caseload_programs()
    result = evaluate_county(data, on, overrides=overrides, fallbacks=fallbacks, only=caseload)
    amounts = {p: np.zeros(pop.n_households, np.int64) for p in caseload}
    table = result.results
    households = table.column("household_id").to_numpy().astype(np.int64, copy=False)
    programs = table.column("program").to_numpy(zero_copy_only=False)
    paid = table.column("amount_fen").to_numpy().astype(np.int64, copy=False)
    order = np.argsort(data.household_id, kind="stable")
    rows = order[np.searchsorted(data.household_id, households, sorter=order)]
    for p in caseload:
        mine = programs == p
        amounts[p][rows[mine]] = paid[mine]
    enrolled = {p: program(p).info.recipient_households(pop) & (amounts[p] > 0) for p in caseload}
    return amounts, enrolled


# -- Loading a county ----------------------------------------------------------------------------
#
# Each table's rows are built as columns (NumPy arrays, one Polars frame per table) and appended
# with ``db.bulk.copy_columns``: COPY of CSV written by Polars on PostgreSQL, executemany of
# tuples on SQLite. The rows whose natural key the registry has already (household and person
# id, a person's open membership, a household's current enrolment in the program, a person's
# income of that kind in the month) are found first by one query per table over the county's id
# range and left out, which is what ``INSERT … ON CONFLICT DO NOTHING`` of every row did: on
# PostgreSQL the tables are locked against other writers (SHARE ROW EXCLUSIVE, until the county's
# transaction ends) so that nothing comes in between. Rows go in in the order the row-by-row
# loader inserted them, so the ids of the tables without a natural id are in the same order.

# Tables written with a natural key that a row may already have.
_KEYED = ("households", "persons", "memberships", "enrolments", "income_items")


def _ids_present(
    session: Session, table: str, column: str, ids: np.ndarray, where: str = "", extra: str = ""
) -> pl.DataFrame:
    """The rows of ``table`` (``column`` and ``extra``, text) whose ``column`` lies in the range
    of ``ids`` and that satisfy ``where``: read with COPY on PostgreSQL."""
    schema: dict[str, Any] = {column: pl.Int64}
    if extra:
        schema[extra] = pl.Utf8
    if not len(ids):
        return pl.DataFrame(schema=schema)
    condition = f" AND {where}" if where else ""
    query = (
        f"SELECT {', '.join(schema)} FROM {table} "
        f"WHERE {column} BETWEEN {int(ids.min())} AND {int(ids.max())}{condition}"
    )
    return read_frame(session, query, list(schema), schema)


def _absent(ids: np.ndarray, present: pl.DataFrame) -> np.ndarray:
    """For each of ``ids``: True where it is not in the first column of ``present``."""
    return ~np.isin(ids, present.to_series(0).to_numpy())


def _load_county(
    session: Session,
    county: str,
    snapshot: Path,
    on: dt.date,
    now: dt.datetime,
    fallbacks: Mapping[str, Any] | None,
    overrides: Mapping[str, Any] | None,
    everyone: bool,
) -> CountyCaseload:
    data = read_county(snapshot, county)
    if data.id_number is None:
        raise InputError(f"{snapshot}/county={county}", "persons have no id_number column")
    pop = data.population
    caseload = caseload_programs()  # ProgramInfo.caseload: dibao, tekun and the pensions
    amounts, enrolled = current_caseload(data, on, overrides=overrides, fallbacks=fallbacks)
    anyone = np.zeros(pop.n_households, np.bool_)
    for mask in enrolled.values():
        anyone |= mask
    chosen = np.arange(pop.n_households) if everyone else np.flatnonzero(anyone)
    report = CountyCaseload(county)
    if not len(chosen):
        return report
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"LOCK TABLE {', '.join(_KEYED)} IN SHARE ROW EXCLUSIVE MODE"))
    members = pop.person_rows(chosen)
    household_ids = data.household_id[chosen].astype(np.int64, copy=False)
    person_ids = data.person_id[members].astype(np.int64, copy=False)
    new_households = _absent(
        household_ids, _ids_present(session, "households", "id", household_ids)
    )
    new_persons = _absent(person_ids, _ids_present(session, "persons", "id", person_ids))
    report.households = int(new_households.sum())
    report.persons = int(new_persons.sum())
    with tables_checked_once(session, _WRITTEN, report.persons >= SET_BASED_FROM):
        _write_rows(session, data, (chosen, members), (new_households, new_persons), on, now)
        enrolments = _enrolment_frame(session, data, caseload, amounts, enrolled, report)
        copy_columns(session, "enrolments", enrolments, {"start_date": on, "end_date": None,
                                                         "status": "active", "version": 1})  # fmt: skip
        _declared_facts(session, data, (chosen, members), on, new_households)
        new = (_rows_marked(pop.n_persons, members[new_persons]),
               _rows_marked(pop.n_households, chosen[new_households]))  # fmt: skip
        _program_facts(session, data, new, on, now, snapshot)
    report.already_present = (
        len(chosen)
        - report.households
        + sum(int(enrolled[p].sum()) for p in caseload)
        - sum(report.enrolments.values())
    )
    append(
        session,
        actor=SYSTEM,
        command="LoadCaseload",
        event="CaseloadLoaded",
        entity="county",
        entity_id=county,
        after={"month": f"{on:%Y-%m}", "snapshot": str(snapshot), "households": report.households,
               "persons": report.persons, "enrolments": report.enrolments,
               "already_present": report.already_present},
        occurred_at=now,
    )  # fmt: skip
    return report


# The tables written. From SET_BASED_FROM new persons in a county on PostgreSQL, their foreign keys
# are dropped before the rows go in and added again after (one validating join each instead of
# one trigger call per row: db.bulk.foreign_keys_checked_once, ADR 0015), as the bulk household
# import does.
_WRITTEN = ("households", "persons", "memberships", "enrolments", "income_items", "assets",
            "person_facts", "household_facts")  # fmt: skip


def _write_rows(
    session: Session,
    data: CountyData,
    rows: tuple[np.ndarray, np.ndarray],
    new: tuple[np.ndarray, np.ndarray],
    on: dt.date,
    now: dt.datetime,
) -> None:
    """The new ones among the chosen households (``rows``: their rows and their members' rows;
    ``new``: a mark per chosen household and per member), the new members, and an open
    membership for each member who has none."""
    pop = data.population
    (chosen, members), (new_households, new_persons) = rows, new
    stamps = {"created_at": now, "updated_at": now}
    households = pl.DataFrame(
        {"id": data.household_id[chosen].astype(np.int64, copy=False),
         "region_code": pl.Series(data.region[chosen], dtype=pl.Utf8),
         "hukou_type": _labels("hukou_type", pop.h("hukou_type")[chosen])}
    ).filter(pl.Series(new_households))  # fmt: skip
    households = households.select(
        "id", "region_code",
        pl.concat_str(pl.lit("S"), pl.col("id").cast(pl.Utf8)).alias("household_no"),
        pl.lit(None, pl.Utf8).alias("statistical_code"), "hukou_type",
    )  # fmt: skip
    copy_columns(session, "households", households, stamps)
    of_household = pop.household_of[members]
    people = _person_frame(data, members, of_household, new_persons)
    copy_columns(session, "persons", people, stamps)
    person_ids = data.person_id[members].astype(np.int64, copy=False)
    open_memberships = _ids_present(
        session, "memberships", "person_id", person_ids, "end_date IS NULL"
    )
    memberships = pl.DataFrame(
        {"person_id": person_ids,
         "household_id": data.household_id[of_household].astype(np.int64, copy=False),
         "relation": _labels("relation", pop.p("relation")[members])}
    ).filter(pl.Series(_absent(person_ids, open_memberships)))  # fmt: skip
    copy_columns(session, "memberships", memberships, {"start_date": on, "end_date": None})


def _rows_marked(n: int, rows: np.ndarray) -> np.ndarray:
    marked = np.zeros(n, np.bool_)
    marked[rows] = True
    return marked


def _person_frame(
    data: CountyData, members: np.ndarray, of_household: np.ndarray, new: np.ndarray
) -> pl.DataFrame:
    """The rows of the new ones among ``members``, with the registry's own person columns
    (registry.fact_sources)."""
    pop = data.population
    assert data.id_number is not None
    members, of_household = members[new], of_household[new]

    def person(name: str) -> np.ndarray:
        return np.asarray(pop.p(name)[members])

    frame = pl.DataFrame(
        {"id": data.person_id[members].astype(np.int64, copy=False),
         "id_number": pl.Series(data.id_number[members], dtype=pl.Utf8),
         "sex": _labels("sex", person("sex")),
         "birth": person("birth_date").astype(np.int64),  # YYYYMMDD
         "hukou_region_code": pl.Series(data.region[of_household], dtype=pl.Utf8),
         "hukou_type": _labels("hukou_type", pop.h("hukou_type")[of_household]),
         "disability_category": _labels("disability_category", person("disability_category")),
         "disability_grade": person("disability_grade").astype(np.int64),
         "has_serious_illness": person("has_serious_illness").astype(np.bool_),
         "self_care_items_failed": person("tekun_selfcare_items_failed").astype(np.int64),
         "schooling": _labels("education_stage", person("education_stage"), none="none"),
         "employment": np.where(person("is_employed"), "employed", "not_working")}
    )  # fmt: skip
    birth = pl.col("birth")
    return frame.select(
        "id", "id_number",
        pl.concat_str(pl.lit("合成居民"), pl.col("id").cast(pl.Utf8)).alias("name"),
        "sex", pl.date(birth // 10000, birth // 100 % 100, birth % 100).alias("birth_date"),
        "hukou_region_code", "hukou_type", "disability_category", "disability_grade",
        "has_serious_illness", "self_care_items_failed", "schooling", "employment",
    )  # fmt: skip


def _enrolment_frame(
    session: Session,
    data: CountyData,
    caseload: Sequence[str],
    amounts: Mapping[str, np.ndarray],
    enrolled: Mapping[str, np.ndarray],
    report: CountyCaseload,
) -> pl.DataFrame:
    """The enrolments of the households each caseload program pays now that have no current
    enrolment in it, program by program (counted in ``report``)."""
    ids = data.household_id.astype(np.int64, copy=False)
    current = _ids_present(
        session, "enrolments", "household_id", ids, "status <> 'ended'", extra="program"
    )
    parts = []
    for pid in caseload:
        rows = np.flatnonzero(enrolled[pid])
        held = current.filter(pl.col("program") == pid)
        rows = rows[_absent(ids[rows], held)]
        report.enrolments[pid] = len(rows)
        parts.append(
            pl.DataFrame({"household_id": ids[rows], "amount_fen": amounts[pid][rows]})
            .with_columns(pl.lit(pid, pl.Utf8).alias("program"))
        )  # fmt: skip
    return pl.concat(parts).select("household_id", "program", "amount_fen")


# snapshot income field -> registry income kind (docs/registry.md)
INCOME_KINDS = {
    "wage_income": "wage",
    "business_income": "business",
    "property_income": "property",
    "transfer_income": "transfer",
    "pension_income": "pension",
}
# (asset kind, household column, the column it fills: value or count), in the order written
_ASSETS = (("deposits", "financial_assets", "value_fen"), ("vehicle", "vehicles", "count"),
           ("property", "homes", "count"))  # fmt: skip


def _declared_facts(
    session: Session,
    data: CountyData,
    rows: tuple[np.ndarray, np.ndarray],
    on: dt.date,
    new_households: np.ndarray,
) -> None:
    """What the households declared, as the registry keeps it: each member's monthly income by
    kind for the load month (unique per person, kind and month) and, for households added now
    (``new_households``, one per chosen household), their deposits, vehicles and homes."""
    pop = data.population
    chosen, members = rows
    month = f"{on:%Y-%m}"
    person_ids = data.person_id[members].astype(np.int64, copy=False)
    held = _ids_present(
        session, "income_items", "person_id", person_ids, f"month = '{month}'", extra="kind"
    )
    parts = []
    for name, kind in INCOME_KINDS.items():
        values = pop.p(name)[members]
        declared = np.flatnonzero(values > 0)
        declared = declared[_absent(person_ids[declared], held.filter(pl.col("kind") == kind))]
        parts.append(
            pl.DataFrame({"person_id": person_ids[declared],
                          "amount_fen": values[declared].astype(np.int64)})
            .with_columns(pl.lit(kind, pl.Utf8).alias("kind"))
        )  # fmt: skip
    income = pl.concat(parts).select("person_id", "kind", "amount_fen")
    copy_columns(session, "income_items", income, {"month": month})
    new = chosen[new_households]
    assets = []
    for rank, (kind, column, fills) in enumerate(_ASSETS):
        values = pop.h(column)[new].astype(np.int64)
        has = np.flatnonzero(values > 0)
        amount = pl.col("declared")
        assets.append(
            pl.DataFrame({"at": has, "rank": np.full(len(has), rank, np.int64),
                          "household_id": data.household_id[new][has].astype(np.int64),
                          "declared": values[has]})
            .with_columns(
                pl.lit(kind, pl.Utf8).alias("kind"),
                (amount if fills == "value_fen" else pl.lit(0, pl.Int64)).alias("value_fen"),
                (amount if fills == "count" else pl.lit(None, pl.Int64)).alias("count"),
            )
        )  # fmt: skip
    frame = (
        pl.concat(assets).sort("at", "rank").select("household_id", "kind", "value_fen", "count")
    )
    copy_columns(
        session, "assets", frame,
        {"source": "caseload", "area_dm2": None, "description": f"declared, caseload load of {month}"},
    )  # fmt: skip


def _program_facts(
    session: Session,
    data: CountyData,
    new: tuple[np.ndarray, np.ndarray],
    on: dt.date,
    now: dt.datetime,
    snapshot: Path,
) -> None:
    """The facts of the persons and households added now (``new``: a mark per person and per
    household of the county) that differ from their field's default, valid from the load month
    (source ``caseload:<snapshot folder>``): the rows ``write_facts`` writes for them."""
    pop = data.population
    new_persons, new_households = new
    facts: dict[Entity, list[pl.DataFrame]] = {Entity.PERSON: [], Entity.HOUSEHOLD: []}
    for name in sorted(fact_fields()):
        f = FIELDS.get(name)
        person = f.entity is Entity.PERSON
        values = pop.p(name) if person else pop.h(name)
        ids = data.person_id if person else data.household_id
        rows = np.flatnonzero(
            (values != f.default_value()) & (new_persons if person else new_households)
        )
        facts[f.entity].append(
            pl.DataFrame({SUBJECT[f.entity]: ids[rows].astype(np.int64, copy=False),
                          "value": fact_texts(f, values[rows])})
            .with_columns(pl.lit(name, pl.Utf8).alias("field"))
        )  # fmt: skip
    for entity, parts in facts.items():
        frame = pl.concat(parts).select(SUBJECT[entity], "field", "value")
        copy_facts(session, entity, frame, valid_from=on, source=f"caseload:{snapshot.name}",
                   recorded_at=now)  # fmt: skip


def _advance_sequences(session: Session) -> None:
    """Explicit ids leave PostgreSQL's sequences behind: move them past the largest id."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in ("households", "persons"):
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
        )


@logged_stage("import caseload")
def load_caseload(
    db: Database,
    snapshot: Path,
    month: str,
    *,
    only: Sequence[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    fallbacks: Mapping[str, Any] | None = None,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    on_county: Callable[[str, int, int], None] | None = None,
    everyone: bool = False,
) -> CaseloadReport:
    """Load the caseload (dibao, tekun, pensions in payment) of each county of ``snapshot``, one
    transaction each.

    With ``everyone``, every household and person of the snapshot goes into the registry (the
    enrolments are still only the caseload's), so that monitoring can record alerts about
    households not yet helped."""
    on = parse_month(month)
    require_current_schema(db)
    chosen = choose_counties(snapshot, only)
    report = CaseloadReport(month)
    for i, county in enumerate(chosen):
        with db.sessions.begin() as session:
            report.counties.append(
                _load_county(session, county, snapshot, on, clock(), fallbacks, overrides, everyone)
            )
            _advance_sequences(session)
        if on_county is not None:
            on_county(county, i + 1, len(chosen))
    with db.sessions.begin() as session:  # planned as loaded, not as the empty tables they were
        refresh_statistics(session, *_WRITTEN)
    return report


@dataclass(frozen=True)
class Coverage:
    """A caseload program in one month: the households its rules find eligible (with an amount)
    and those enrolled in the registry (current enrolments)."""

    program: str
    eligible: int
    enrolled: int

    @property
    def ratio(self) -> float:
        return self.enrolled / self.eligible if self.eligible else 0.0


def caseload_coverage(db: Database, results: Path) -> list[Coverage]:
    """Eligible against enrolled for every caseload program, from a month's results folder
    (``results/month=M``, the rules run's ``results.parquet`` of each county) and the registry.

    A household eligible for both dibao and tekun counts for tekun only: a person supported as
    extremely poor is below the dibao line too, and is not also on dibao."""
    eligible: dict[str, set[int]] = {p: set() for p in caseload_programs()}
    for path in sorted(results.glob("county=*/results.parquet")):
        table = pq.read_table(path, columns=["household_id", "program", "eligible", "amount_fen"])
        cols = table.to_pydict()
        for h, p, ok, amount in zip(
            cols["household_id"], cols["program"], cols["eligible"], cols["amount_fen"],
            strict=True,
        ):  # fmt: skip
            if p in eligible and ok and amount > 0:
                eligible[p].add(int(h))
    if "dibao" in eligible and "tekun" in eligible:
        eligible["dibao"] -= eligible["tekun"]
    with db.sessions() as session:
        enrolled = dict(
            session.execute(
                select(Enrolment.program, func.count())
                .where(Enrolment.status != "ended")
                .group_by(Enrolment.program)
            ).all()
        )
    return [Coverage(p, len(eligible[p]), int(enrolled.get(p, 0))) for p in eligible]
