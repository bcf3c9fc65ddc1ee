"""Household economic status verification from the registry (家庭经济状况核对).

``load_county`` reads one county's snapshot from the system of record (households, open
memberships, persons, the latest income of each kind up to the month, assets, current enrolments)
as a ``CountyData``, and the accepted feed records of its persons in the long Arrow shape. The
comparison itself is ``monitoring.compare.compare_county``, the very function the batch path
calls: nothing of the rules is written here. ``household_report`` turns one household's part of
a ``Comparison`` into a JSON report (identity numbers masked) that is stored in
``verification_reports`` and attached to a case (docs/monitoring.md, "Verification").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.db.calendar_years import sync_calendar
from safetynet.db.engine import Database
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.identity import mask_identity_number
from safetynet.errors import InputError, UnknownNameError
from safetynet.monitoring.alerts import (
    StoreCounts,
    alert_counts,
    duplicate_alerts,
    raise_alerts,
    recipients_of,
    store_alerts,
)
from safetynet.monitoring.alerts_model import VerificationReport
from safetynet.monitoring.compare import (
    Comparison,
    compare_county,
    month_end,
)
from safetynet.monitoring.model import FeedRecord
from safetynet.monitoring.records import FEED_RECORD_SCHEMA
from safetynet.policy.population import FIELDS, Population, date_to_int, declare_all_fields
from safetynet.registry.county_data import CountyData
from safetynet.registry.model import Asset, Enrolment, Household, IncomeItem, Membership, Person

__all__ = [
    "INCOME_FIELDS",
    "KINDS",
    "CountyVerification",
    "MonitoringRun",
    "household_report",
    "load_county",
    "monitor_month",
    "registry_counties",
    "store_reports",
    "verify_county",
    "verify_household",
]

Clock = Callable[[], dt.datetime]
SYSTEM = Actor(name="monitoring", role="system")
# Every kind of feed the comparison reads (docs/feeds.md); a report lists each, with or without records.
KINDS = (
    "deaths",
    "births",
    "marriages",
    "hukou_moves",
    "vehicles",
    "real_estate",
    "business",
    "wages",
    "social_insurance",
    "bank_deposits",
    "hospital_bills",
    "disaster_victims",
    "unemployment_registration",
    "disability_certificates",
)
# registry income kind → the rules core's monthly income fact ("other" is not a counted item)
INCOME_FIELDS: Mapping[str, str] = {
    "wage": "wage_income",
    "business": "business_income",
    "property": "property_income",
    "transfer": "transfer_income",
    "pension": "pension_income",
}
MONITORED_PROGRAMS = ("rigid_expenditure", "temporary_assistance", "medical_assistance")


def _month_text(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _chunks(values: Sequence[int], size: int = 900) -> list[Sequence[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def load_county(
    session: Session, county: str, month: dt.date, household_ids: Sequence[int] | None = None
) -> tuple[CountyData, pa.Table]:
    """One county's registry snapshot at the end of ``month`` and its persons' feed records.
    ``household_ids`` narrows it to those households (a single case)."""
    declare_all_fields()
    end = month_end(month)
    hh_query = select(Household).where(Household.region_code == county).order_by(Household.id)
    if household_ids is not None:
        hh_query = hh_query.where(Household.id.in_(list(household_ids)))
    households = list(session.scalars(hh_query))
    ids = [h.id for h in households]
    members: list[tuple[Membership, Person]] = []
    for part in _chunks(ids):
        members += [
            (m, p)
            for m, p in session.execute(
                select(Membership, Person)
                .join(Person, Person.id == Membership.person_id)
                .where(
                    # Members not gone by the end of the month. The start is not checked: the
                    # registry dates a membership from the import that recorded it.
                    Membership.household_id.in_(list(part)),
                    or_(Membership.end_date.is_(None), Membership.end_date > end),
                )
            )
        ]
    order = {"head": 0}
    members.sort(key=lambda mp: (mp[0].household_id, order.get(mp[0].relation, 1), mp[1].id))
    with_members = sorted({m.household_id for m, _ in members})
    households = [h for h in households if h.id in set(with_members)]
    ids = [h.id for h in households]
    position = {h: i for i, h in enumerate(ids)}
    persons = [p for _, p in members]
    person_ids = [p.id for p in persons]
    pop = _population(session, households, members, position, month, end)
    data = CountyData(
        county=county,
        population=pop,
        household_id=np.asarray(ids, dtype=np.int64),
        region=np.asarray([h.region_code for h in households], dtype=object),
        person_id=np.asarray(person_ids, dtype=np.int64),
        id_number=np.asarray([p.id_number for p in persons], dtype=object),
    )
    return data, _records(session, person_ids, {p.id: p.id_number for p in persons}, end)


def _population(
    session: Session,
    households: list[Household],
    members: list[tuple[Membership, Person]],
    position: Mapping[int, int],
    month: dt.date,
    end: dt.date,
) -> Population:
    pop = Population()
    pop.household_of = np.asarray([position[m.household_id] for m, _ in members], dtype=np.int64)
    pop.households["hukou_type"] = np.asarray(
        [FIELDS.get("hukou_type").code(h.hukou_type) for h in households], dtype=np.int8
    )
    _person_fields(pop, members)
    _incomes(session, pop, [p for _, p in members], month)
    _assets(session, pop, position, len(households))
    _enrolments(session, pop, position, len(households), month, end)
    return pop


def _person_fields(pop: Population, members: list[tuple[Membership, Person]]) -> None:
    """The persons' registry fields, one column each."""
    f = FIELDS.get
    persons = [p for _, p in members]
    pop.persons["birth_date"] = np.asarray(
        [date_to_int(p.birth_date) for p in persons], dtype=np.int32
    )
    pop.persons["sex"] = np.asarray([f("sex").code(p.sex) for p in persons], dtype=np.int8)
    pop.persons["relation"] = np.asarray(
        [f("relation").code(m.relation) for m, _ in members], dtype=np.int8
    )
    pop.persons["disability_category"] = np.asarray(
        [f("disability_category").code(p.disability_category) for p in persons], dtype=np.int8
    )
    pop.persons["disability_grade"] = np.asarray(
        [p.disability_grade for p in persons], dtype=np.int64
    )
    pop.persons["has_serious_illness"] = np.asarray(
        [p.has_serious_illness for p in persons], dtype=np.bool_
    )
    pop.persons["is_employed"] = np.asarray(
        [p.employment in ("employed", "flexible") for p in persons], dtype=np.bool_
    )
    pop.persons["unemployment_registered"] = np.asarray(
        [p.employment == "unemployed" for p in persons], dtype=np.bool_
    )


def _incomes(session: Session, pop: Population, persons: list[Person], month: dt.date) -> None:
    """Each person's income columns: the latest month on record up to the compared month, per
    person and income kind."""
    row_of = {p.id: i for i, p in enumerate(persons)}
    ids = list(row_of)
    latest: dict[tuple[int, str], tuple[str, int]] = {}
    for part in _chunks(ids):
        for item in session.scalars(
            select(IncomeItem).where(
                IncomeItem.person_id.in_(list(part)), IncomeItem.month <= _month_text(month)
            )
        ):
            key = (item.person_id, item.kind)
            if key not in latest or latest[key][0] < item.month:
                latest[key] = (item.month, item.amount_fen)
    for name in INCOME_FIELDS.values():
        pop.persons[name] = np.zeros(len(persons), dtype=np.int64)
    for (person_id, kind), (_, value) in latest.items():
        if kind in INCOME_FIELDS:
            pop.persons[INCOME_FIELDS[kind]][row_of[person_id]] += value


def _assets(session: Session, pop: Population, position: Mapping[int, int], n_h: int) -> None:
    """Each household's financial assets, vehicles and homes."""
    financial = np.zeros(n_h, dtype=np.int64)
    vehicles = np.zeros(n_h, dtype=np.int64)
    homes = np.zeros(n_h, dtype=np.int64)
    for part in _chunks(list(position)):
        for asset in session.scalars(select(Asset).where(Asset.household_id.in_(list(part)))):
            i = position[asset.household_id]
            if asset.kind in ("deposits", "securities"):
                financial[i] += asset.value_fen
            elif asset.kind == "vehicle":
                vehicles[i] += asset.count if asset.count is not None else 1
            elif asset.kind == "property":
                homes[i] += asset.count if asset.count is not None else 1
    pop.households["financial_assets"] = financial
    pop.households["vehicles"] = vehicles
    pop.households["homes"] = homes


def _enrolments(
    session: Session,
    pop: Population,
    position: Mapping[int, int],
    n_h: int,
    month: dt.date,
    end: dt.date,
) -> None:
    """Each household's active enrolments in the month: dibao (and its amount), tekun, and the
    monitored programmes."""
    dibao = np.zeros(n_h, dtype=np.bool_)
    tekun = np.zeros(n_h, dtype=np.bool_)
    monitored = np.zeros(n_h, dtype=np.bool_)
    amount = np.zeros(n_h, dtype=np.int64)
    for part in _chunks(list(position)):
        for e in session.scalars(
            select(Enrolment).where(
                Enrolment.household_id.in_(list(part)),
                Enrolment.status == "active",
                Enrolment.start_date <= end,
                or_(Enrolment.end_date.is_(None), Enrolment.end_date >= month.replace(day=1)),
            )
        ):
            i = position[e.household_id]
            if e.program == "dibao":
                dibao[i] = True
                amount[i] = e.amount_fen
            elif e.program == "tekun":
                tekun[i] = True
            elif e.program in MONITORED_PROGRAMS:
                monitored[i] = True
    pop.households["is_dibao_recipient"] = dibao
    pop.households["dibao_current_amount"] = amount
    pop.households["is_low_income_monitored"] = monitored
    # A tekun enrolment is the household's; its members are the persons supported.
    pop.persons["is_tekun_recipient"] = tekun[pop.household_of]


def _records(
    session: Session, person_ids: Sequence[int], numbers: Mapping[int, str], end: dt.date
) -> pa.Table:
    """The accepted feed records of these persons dated up to ``end`` (long shape)."""
    columns: dict[str, list[Any]] = {f.name: [] for f in FEED_RECORD_SCHEMA}
    optional = [name for name in ("region_code", "code", "grade") if hasattr(FeedRecord, name)]
    chosen = [
        FeedRecord.person_id,
        FeedRecord.kind,
        FeedRecord.event_date,
        FeedRecord.month,
        FeedRecord.reference,
        FeedRecord.amount_fen,
        FeedRecord.second_amount_fen,
        FeedRecord.area_dm2,
        *(getattr(FeedRecord, name) for name in optional),
    ]
    end_month = _month_text(end)
    for part in _chunks(list(person_ids)):
        query: Select[Any] = (
            select(*chosen)
            .where(
                FeedRecord.person_id.in_(list(part)),
                or_(FeedRecord.event_date.is_(None), FeedRecord.event_date <= end),
                or_(FeedRecord.month.is_(None), FeedRecord.month <= end_month),
            )
            .order_by(FeedRecord.delivery_id, FeedRecord.row_number)
        )
        for row in session.execute(query):
            values = row._mapping
            columns["id_number"].append(numbers[values["person_id"]])
            for name in columns:
                if name == "id_number":
                    continue
                columns[name].append(values.get(name))
    return pa.table(columns, schema=FEED_RECORD_SCHEMA)


# -- reports -------------------------------------------------------------------------------------


def household_report(comparison: Comparison, household_id: int) -> dict[str, Any]:
    """One household's verification report as JSON-able data (identity numbers masked)."""

    def rows(table: pa.Table) -> list[dict[str, Any]]:
        return list(table.filter(pc.field("household_id") == household_id).to_pylist())

    consulted = {r["kind"]: r["records"] for r in rows(comparison.consulted)}
    differences = []
    for d in rows(comparison.differences):
        reference = d["reference"]
        if d["kind"] == "vehicles":
            reference = None  # plates are never shown
        elif d["kind"] in ("births", "marriages") and reference is not None:
            reference = mask_identity_number(reference)
        differences.append(
            {
                "person": None if d["id_number"] is None else mask_identity_number(d["id_number"]),
                "person_id": d["person_id"],
                "source": d["kind"],
                "item": d["item"],
                "unit": d["unit"],
                "declared": d["declared"],
                "found": d["found"],
                "event_date": None if d["event_date"] is None else d["event_date"].isoformat(),
                "reference": reference,
                "code": d["code"],
                "amount_fen": d["amount_fen"],
            }
        )
    effects = [
        {
            "program": e["program"],
            "declared": {
                "eligible": e["declared_eligible"],
                "amount_fen": e["declared_amount_fen"],
            },
            "found": {"eligible": e["found_eligible"], "amount_fen": e["found_amount_fen"]},
            "changed": e["changed"],
        }
        for e in rows(comparison.effects)
    ]
    tests = rows(comparison.standard_tests)
    return {
        "household_id": household_id,
        "county": comparison.county,
        "month": _month_text(comparison.month),
        "sources": [{"kind": k, "records": consulted.get(k, 0)} for k in KINDS],
        "differences": differences,
        "effects": effects,
        "dibao_tests": tests[0] if tests else None,
        "changes_eligibility": any(
            e["declared"]["eligible"] != e["found"]["eligible"] for e in effects
        ),
        "changes_amount": any(e["changed"] for e in effects),
    }


def store_reports(
    session: Session,
    reports: Sequence[Mapping[str, Any]],
    as_of: dt.date,
    *,
    actor: Actor,
    clock: Callable[[], dt.datetime],
) -> list[int]:
    """Store reports in the caller's transaction, with one audit entry; returns their ids.

    Reports are kept, never overwritten: a later run for the same household and date adds a
    new version (``version`` 2, 3, ...) beside the earlier ones.
    """
    if not reports:
        return []
    now = clock()
    households = [int(r["household_id"]) for r in reports]
    latest: dict[int, VerificationReport] = {}
    for part in _chunks(households):
        for found in session.scalars(
            select(VerificationReport)
            .where(
                VerificationReport.household_id.in_(list(part)),
                VerificationReport.as_of == as_of,
            )
            .order_by(VerificationReport.version)
        ):
            latest[found.household_id] = found
    stored: list[VerificationReport] = []
    versions = 0
    for report in reports:
        h = int(report["household_id"])
        earlier = latest.get(h)
        if earlier is not None and _same_report(earlier.report, report):
            stored.append(earlier)  # a repeated run found the same: nothing new to keep
            continue
        version = 1 if earlier is None else earlier.version + 1
        versions += version > 1
        row = VerificationReport(
            household_id=h,
            as_of=as_of,
            created_at=now,
            version=version,
            county=str(report["county"]),
            differences=len(report["differences"]),
            changes_eligibility=bool(report["changes_eligibility"]),
            report=dict(report) | {"version": version},
        )
        session.add(row)
        latest[h] = row
        stored.append(row)
    session.flush()
    for row in stored:
        if row.report.get("verification_report_id") != row.id:
            row.report = {**row.report, "verification_report_id": row.id}
    append(
        session,
        actor=actor,
        command="VerifyHouseholds",
        event="VerificationReportsStored",
        entity="verification_report",
        entity_id=stored[0].id
        if len(stored) == 1
        else f"{as_of.isoformat()}/{reports[0]['county']}",
        after={
            "as_of": as_of.isoformat(),
            "reports": len(stored),
            "new_versions": versions,
            "households": households[:50],
            "with_differences": sum(1 for r in reports if r["differences"]),
            "changing_eligibility": sum(1 for r in reports if r["changes_eligibility"]),
        },
        occurred_at=now,
    )
    return [row.id for row in stored]


def _same_report(kept: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    bookkeeping = ("verification_report_id", "version")
    fresh: dict[str, Any] = json.loads(
        json.dumps({k: v for k, v in new.items() if k not in bookkeeping}, default=str)
    )
    return {k: v for k, v in kept.items() if k not in bookkeeping} == fresh


@dataclass
class CountyVerification:
    """A county's comparison from the registry and the reports stored from it."""

    data: CountyData
    comparison: Comparison
    report_ids: dict[int, int]  # household id → verification report id


def verify_county(
    db: Database,
    county: str,
    month: dt.date,
    *,
    as_of: dt.date | None = None,
    household_ids: Sequence[int] | None = None,
    overrides: Mapping[str, Any] | None = None,
    fallbacks: Mapping[str, Any] | None = None,
    programs: Sequence[str] | None = None,  # None: the monitored programs (ProgramInfo)
    actor: Actor = SYSTEM,
    clock: Callable[[], dt.datetime] | None = None,
    all_households: bool = False,
) -> CountyVerification:
    """Compare one county (or some of its households) from the registry with ``compare_county``
    and store a report for each household with a difference (every household if
    ``all_households``), in one transaction."""
    moment = clock or (lambda: dt.datetime.now(dt.UTC))
    with db.sessions.begin() as session:
        data, records = load_county(session, county, month, household_ids)
        if data.population.n_households == 0:
            where = (
                f"household {household_ids[0]}"
                if household_ids is not None and len(household_ids) == 1
                else f"county {county}"
            )
            raise InputError("household", f"{where} has no member in the registry")
        comparison = compare_county(
            data, records, month, overrides=overrides, fallbacks=fallbacks, programs=programs
        )
        if all_households:
            chosen = [int(h) for h in data.household_id]
        else:
            chosen = sorted(set(comparison.differences.column("household_id").to_pylist()))
        reports = [household_report(comparison, h) for h in chosen]
        ids = store_reports(session, reports, as_of or month_end(month), actor=actor, clock=moment)
    return CountyVerification(data, comparison, dict(zip(chosen, ids, strict=True)))


def verify_household(
    db: Database,
    household_id: int,
    on: dt.date,
    *,
    overrides: Mapping[str, Any] | None = None,
    fallbacks: Mapping[str, Any] | None = None,
    actor: Actor = SYSTEM,
    clock: Callable[[], dt.datetime] | None = None,
) -> dict[str, Any]:
    """Verify one household on ``on`` (the month of ``on`` is compared), store the report and
    return it (with ``verification_report_id``) for the case workflow to attach."""
    with db.sessions() as session:
        household = session.get(Household, household_id)
        if household is None:
            raise UnknownNameError("household", str(household_id))
        county = household.region_code
    result = verify_county(
        db,
        county,
        on.replace(day=1),
        as_of=on,
        household_ids=[household_id],
        overrides=overrides,
        fallbacks=fallbacks,
        actor=actor,
        clock=clock,
        all_households=True,
    )
    with db.sessions() as session:
        row = session.get(VerificationReport, result.report_ids[household_id])
        assert row is not None
        return dict(row.report)


# -- the monthly monitoring run ------------------------------------------------------------------


@dataclass
class MonitoringRun:
    """What one month's monitoring run did, over every county it covered."""

    month: str
    counties: list[str] = field(default_factory=list)
    households: int = 0
    persons: int = 0
    records: int = 0
    differences: int = 0
    reports: int = 0
    found: list[tuple[str, str, int]] = field(default_factory=list)  # county, rule, alerts found
    stored: StoreCounts = field(default_factory=StoreCounts)  # of which new (idempotent)


def registry_counties(db: Database) -> list[str]:
    with db.sessions() as session:
        return sorted(set(session.scalars(select(Household.region_code).distinct())))


def monitor_month(
    db: Database,
    month: dt.date,
    *,
    raised_on: dt.date,
    unit_of_work: Callable[[], UnitOfWork],
    counties: Sequence[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    fallbacks: Mapping[str, Any] | None = None,
    actor: Actor = SYSTEM,
    clock: Callable[[], dt.datetime] | None = None,
    on_county: Callable[[str, int, int], None] | None = None,
) -> MonitoringRun:
    """Compare each county from the registry, store its reports and alerts (one transaction per
    county), then the step across counties (duplicate payments). Running the same month again
    adds no alert and replaces the reports of the same date. ``unit_of_work``: the bus's
    (``bootstrap(db).unit_of_work``), whose followers place the payment holds of the alerts
    that stop the next payment."""
    moment = clock or (lambda: dt.datetime.now(dt.UTC))
    chosen = list(counties) if counties else registry_counties(db)
    run = MonitoringRun(_month_text(month))
    recipients: list[pa.Table] = []
    for i, county in enumerate(chosen):
        with unit_of_work() as uow:
            session = uow.session
            # Alerts' due dates follow the calendar years an administrator added.
            sync_calendar(session)
            data, records = load_county(session, county, month)
            if data.population.n_households == 0:
                if counties:
                    raise InputError(
                        "--county", f"{county} has no household with members in the registry"
                    )
                continue  # a region code households once had, now without members
            comparison = compare_county(
                data, records, month, overrides=overrides, fallbacks=fallbacks
            )
            found = raise_alerts(comparison, raised_on, overrides=overrides, fallbacks=fallbacks)
            households = sorted(set(comparison.differences.column("household_id").to_pylist()))
            reports = [household_report(comparison, h) for h in households]
            store_reports(session, reports, month_end(month), actor=actor, clock=moment)
            _merge(run.stored, store_alerts(uow, found, actor=actor, clock=moment))
            uow.commit()
        recipients.append(recipients_of(data))
        run.counties.append(county)
        run.households += data.population.n_households
        run.persons += data.population.n_persons
        run.records += comparison.records_matched
        run.differences += comparison.differences.num_rows
        run.reports += len(reports)
        run.found += alert_counts(found)
        if on_county is not None:
            on_county(county, i + 1, len(chosen))
    duplicates = duplicate_alerts(
        recipients, month, raised_on, overrides=overrides, fallbacks=fallbacks
    )
    if duplicates.num_rows:
        with unit_of_work() as uow:
            _merge(run.stored, store_alerts(uow, duplicates, actor=actor, clock=moment))
            uow.commit()
        run.found += alert_counts(duplicates)
    run.found.sort()
    return run


def _merge(total: StoreCounts, part: StoreCounts) -> None:
    for key, n in part.raised.items():
        total.raised[key] = total.raised.get(key, 0) + n
    total.repeated += part.repeated
    total.still_open += part.still_open
    total.holds_placed += part.holds_placed
