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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.batch.runner import evaluate_county, parse_month
from safetynet.db.bulk import insert_new
from safetynet.db.engine import Database, require_current_schema
from safetynet.errors import InputError
from safetynet.logs import logged_stage
from safetynet.policy.engine import caseload_programs, program
from safetynet.policy.population import FIELDS, Entity
from safetynet.registry.county_data import CountyData, choose_counties, read_county
from safetynet.registry.fact_sources import fact_fields
from safetynet.registry.facts import canonical_text, write_facts
from safetynet.registry.model import Asset, Enrolment, Household, IncomeItem, Membership, Person

__all__ = ["CaseloadReport", "Coverage", "caseload_coverage", "current_caseload", "load_caseload"]

SYSTEM = Actor(name="caseload-load", role="system")
CHUNK = 2_000  # rows per INSERT statement


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


# The partial unique indexes that are the natural keys of open memberships and current enrolments.
_PARTIAL = {"memberships": "end_date IS NULL", "enrolments": "status <> 'ended'"}


def _insert(
    session: Session, table: Any, rows: list[dict[str, Any]], key: Sequence[str]
) -> list[int]:
    """Insert ``rows`` in chunks, skipping those whose natural ``key`` exists; the ids of those
    that went in (RETURNING is exact, where rowcount is unreliable for executemany)."""
    added: list[int] = []
    for start in range(0, len(rows), CHUNK):
        added += [
            row[0]
            for row in insert_new(
                session, table, rows[start : start + CHUNK], key, table.c.id,
                index_where=_PARTIAL.get(table.name),
            )
        ]  # fmt: skip
    return added


def _date(yyyymmdd: int) -> dt.date:
    return dt.date(yyyymmdd // 10000, yyyymmdd // 100 % 100, yyyymmdd % 100)


def _choices(name: str) -> tuple[str, ...]:
    choices = FIELDS.get(name).choices
    assert choices is not None
    return tuple(choices)


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
    cols = result.results.to_pydict()
    row_of = {int(h): i for i, h in enumerate(data.household_id)}
    for h, p, a in zip(cols["household_id"], cols["program"], cols["amount_fen"], strict=True):
        amounts[p][row_of[int(h)]] = a
    enrolled = {p: program(p).info.recipient_households(pop) & (amounts[p] > 0) for p in caseload}
    return amounts, enrolled


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
    hukou = np.array(_choices("hukou_type"))[pop.h("hukou_type")]
    household_rows = [
        {"id": int(data.household_id[i]), "region_code": str(data.region[i]),
         "household_no": f"S{int(data.household_id[i])}", "statistical_code": None,
         "hukou_type": str(hukou[i]), "created_at": now, "updated_at": now}
        for i in chosen
    ]  # fmt: skip
    members = pop.person_rows(chosen)
    sexes, relations = np.array(_choices("sex")), np.array(_choices("relation"))
    birth = pop.p("birth_date")[members]  # YYYYMMDD
    person_rows, membership_rows = [], []
    native = _native_person_columns(pop, members)
    for k, r in enumerate(members):
        hh = int(pop.household_of[r])
        person_rows.append(
            {"id": int(data.person_id[r]), "id_number": str(data.id_number[r]),
             "name": f"合成居民{int(data.person_id[r])}", "sex": str(sexes[pop.p("sex")[r]]),
             "birth_date": _date(int(birth[k])),
             "hukou_region_code": str(data.region[hh]), "hukou_type": str(hukou[hh]),
             "created_at": now, "updated_at": now, **{c: v[k] for c, v in native.items()}}
        )  # fmt: skip
        membership_rows.append(
            {"person_id": int(data.person_id[r]), "household_id": int(data.household_id[hh]),
             "relation": str(relations[pop.p("relation")[r]]), "start_date": on, "end_date": None}
        )  # fmt: skip
    enrolment_rows = [
        {"household_id": int(data.household_id[i]), "program": pid, "start_date": on,
         "end_date": None, "amount_fen": int(amounts[pid][i]), "status": "active", "version": 1}
        for pid in caseload
        for i in np.flatnonzero(enrolled[pid])
    ]  # fmt: skip
    new_households = _insert(session, Household.__table__, household_rows, ["id"])
    report.households = len(new_households)
    new_persons = _insert(session, Person.__table__, person_rows, ["id"])
    report.persons = len(new_persons)
    _insert(session, Membership.__table__, membership_rows, ["person_id"])
    for pid in caseload:
        rows = [r for r in enrolment_rows if r["program"] == pid]
        report.enrolments[pid] = len(
            _insert(session, Enrolment.__table__, rows, ["household_id", "program"])
        )
    _declared_facts(session, data, chosen, members, on, set(new_households))
    _program_facts(session, data, (set(new_persons), set(new_households)), on, now, snapshot)
    report.already_present = (
        len(household_rows)
        - report.households
        + len(enrolment_rows)
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


# snapshot income field -> registry income kind (docs/registry.md)
INCOME_KINDS = {
    "wage_income": "wage",
    "business_income": "business",
    "property_income": "property",
    "transfer_income": "transfer",
    "pension_income": "pension",
}


def _declared_facts(
    session: Session,
    data: Any,
    chosen: np.ndarray,
    members: np.ndarray,
    on: dt.date,
    new_households: set[int],
) -> None:
    """What the households declared, as the registry keeps it: each member's monthly income by
    kind for the load month (unique per person, kind and month) and, for households added now,
    their deposits, vehicles and homes."""
    pop = data.population
    month = f"{on:%Y-%m}"
    income_rows = []
    for name, kind in INCOME_KINDS.items():
        values = pop.p(name)[members]
        for k in np.flatnonzero(values > 0):
            income_rows.append(
                {"person_id": int(data.person_id[members[k]]), "kind": kind, "month": month,
                 "amount_fen": int(values[k])}
            )  # fmt: skip
    _insert(session, IncomeItem.__table__, income_rows, ["person_id", "kind", "month"])
    asset_rows = []
    financial, vehicles, homes = (pop.h(n) for n in ("financial_assets", "vehicles", "homes"))
    for i in chosen:
        household = int(data.household_id[i])
        if household not in new_households:
            continue
        base = {"household_id": household, "source": "caseload", "area_dm2": None,
                "description": f"declared, caseload load of {month}"}  # fmt: skip
        if financial[i] > 0:
            asset_rows.append(
                {**base, "kind": "deposits", "value_fen": int(financial[i]), "count": None}
            )
        if vehicles[i] > 0:
            asset_rows.append(
                {**base, "kind": "vehicle", "value_fen": 0, "count": int(vehicles[i])}
            )
        if homes[i] > 0:
            asset_rows.append({**base, "kind": "property", "value_fen": 0, "count": int(homes[i])})
    for start in range(0, len(asset_rows), CHUNK):
        session.execute(insert(Asset), asset_rows[start : start + CHUNK])


def _native_person_columns(pop: Any, members: np.ndarray) -> dict[str, list[Any]]:
    """The registry's own person columns (registry.fact_sources), for the chosen members."""
    stages = np.array(_choices("education_stage"))[pop.p("education_stage")[members]]
    return {
        "disability_category": np.array(_choices("disability_category"))[
            pop.p("disability_category")[members]].tolist(),
        "disability_grade": pop.p("disability_grade")[members].tolist(),
        "has_serious_illness": pop.p("has_serious_illness")[members].tolist(),
        "self_care_items_failed": pop.p("tekun_selfcare_items_failed")[members].tolist(),
        "schooling": [None if s == "none" else str(s) for s in stages],
        "employment": np.where(pop.p("is_employed")[members], "employed", "not_working").tolist(),
    }  # fmt: skip


def _program_facts(
    session: Session,
    data: Any,
    new: tuple[set[int], set[int]],
    on: dt.date,
    now: dt.datetime,
    snapshot: Path,
) -> None:
    """The facts of the persons and households added now that differ from their field's
    default, valid from the load month (source ``caseload:<snapshot folder>``)."""
    pop, source = data.population, f"caseload:{snapshot.name}"
    new_persons, new_households = new
    rows: list[dict[str, Any]] = []
    for name in sorted(fact_fields()):
        f = FIELDS.get(name)
        person = f.entity is Entity.PERSON
        values = pop.p(name) if person else pop.h(name)
        ids = data.person_id if person else data.household_id
        subject = "person_id" if person else "household_id"
        added = new_persons if person else new_households
        for i in np.flatnonzero(values != f.default_value()):
            if int(ids[i]) in added:
                rows.append({subject: int(ids[i]), "field": name, "valid_from": on,
                             "value": canonical_text(f, values[i]), "source": source})  # fmt: skip
    write_facts(session, rows, recorded_at=now)


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
