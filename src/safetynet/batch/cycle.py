"""The monthly cycle: department feeds → comparison → alerts → rules → payments.

Population work runs county by county as a pure function of the county's snapshot and feed files
(``cycle_county``): the feeds are validated with the vectorized validator, the accepted records are
compared with what the households declared, the alerts are raised, and every program of the rules
core is evaluated. Counties run in worker processes (``workers``), so memory stays bounded by the
largest counties in flight whatever the population. Each county's outputs are written to Parquet
atomically and the county is recorded as finished, so an interrupted cycle resumes with the next
county and never counts one twice.

Then the step across counties (a person paid in two regions), and the registry stage: alerts are
stored (idempotent per rule, subject and month; lifecycle in docs/monitoring.md), the payment roll
creates the month's instructions exactly once (docs/payments.md) and the bank files are written.
Each stage can also run alone: ``safetynet feeds load``, ``monitor run``, ``payments roll``,
``payments bank-file`` (docs/cycle.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import json
import os
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor
from safetynet.batch.engines import Engine, LocalEngine, SparkEngine
from safetynet.batch.runner import (
    CountyResult,
    ProgramTotals,
    evaluate_county,
    finished_counties,
    mark_finished,
    month_dir,
    parse_month,
    record_county,
    start_run,
    write_summary,
)
from safetynet.batch.synth_feeds import feed_path
from safetynet.db.calendar_years import added_years, forget_sync
from safetynet.db.engine import Database, require_current_schema
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.calendar import OfficialYear, install_added_years
from safetynet.domain.identity import mask_identity_number
from safetynet.errors import InputError
from safetynet.intake import write_quarantine
from safetynet.monitoring.alerts import duplicate_alerts, raise_alerts, recipients_of, store_alerts
from safetynet.monitoring.columnar import validate_columns
from safetynet.monitoring.compare import compare_county, month_end
from safetynet.monitoring.feeds import FEEDS
from safetynet.monitoring.records import FEED_RECORD_SCHEMA
from safetynet.payments.bankfile import BankFileReport, export_bank_files
from safetynet.payments.roll import roll_month
from safetynet.payments.subsidies import AwardMonthSubsidies, SubsidyCounts, award_month_subsidies
from safetynet.policy.engine import programs_awarded_by_run
from safetynet.policy.parameters import ParameterTree
from safetynet.registry.county_data import (
    choose_counties,
    read_county,
    read_manifest,
    write_parquet,
)
from safetynet.registry.county_data import counties as snapshot_counties
from safetynet.registry.model import Household

__all__ = [
    "BENEFIT_CODES",
    "OTHER_COUNTY_SCHEMA",
    "STAGES",
    "CountyCycle",
    "CycleReport",
    "CycleSettings",
    "FeedCount",
    "cycle_county",
    "feed_files",
    "run_cycle",
]

STAGES = ("feeds", "compare", "rules", "payments")
CYCLE_SUMMARY = "cycle.json"
SYSTEM = Actor(name="monthly-cycle", role="system")
OTHER_COUNTY_SCHEMA = FEED_RECORD_SCHEMA.append(pa.field("feed_county", pa.string())).append(
    pa.field("row", pa.int64())
)
BENEFIT_CODES = ("pension_benefit", "unemployment_benefit", "work_injury_benefit")


@dataclass
class FeedCount:
    kind: str
    file: str
    read: int
    accepted: int
    quarantined: int
    duplicates: int
    other_county: int = 0  # valid rows about persons not in this county (matched across counties)


@dataclass
class CountyCycle:
    """What one county's population work produced (counts only; the rows are in Parquet)."""

    county: str
    households: int
    persons: int
    feeds: list[FeedCount] = field(default_factory=list)
    records: int = 0
    differences: int = 0
    households_changed: int = 0  # households whose eligibility or amount the feeds change
    alerts: dict[str, int] = field(default_factory=dict)  # rule -> alerts
    recipients: int = 0
    programs: list[dict[str, Any]] = field(default_factory=list)  # runner.ProgramTotals fields
    seconds: dict[str, float] = field(default_factory=dict)  # stage -> seconds


@dataclass
class CycleReport:
    month: str
    out: Path
    counties: list[CountyCycle] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)  # counties finished by an earlier run
    duplicate_alerts: int = 0
    other_county_rows: int = 0  # valid feed rows about persons of another county of the snapshot
    unknown_person_rows: int = 0  # valid feed rows about persons of no county: quarantined
    stored_alerts: dict[tuple[str, str], int] = field(default_factory=dict)
    alerts_already_stored: int = 0
    alerts_outside_registry: int = 0  # households the registry does not hold: Parquet only
    holds_placed: int = 0  # payment holds placed by stop_next_payment alerts
    # program -> the month's awards decided by the rules run (the price subsidy)
    subsidies: dict[str, SubsidyCounts] = field(default_factory=dict)
    roll: Any = None  # payments.roll.RollReport
    bank_files: list[Any] = field(default_factory=list)  # payments.bankfile.BankFileReport
    seconds: dict[str, float] = field(default_factory=dict)


def feed_files(feeds: Path | None, county: str) -> dict[str, Path]:
    """The feed files of one county: ``FEEDS/<kind>/county=<code>/part-0.parquet``, the layout
    of ``safetynet synth-feeds`` (docs/cycle.md)."""

    if feeds is None:
        return {}
    found = {}
    for kind in FEEDS:
        path = feed_path(feeds, kind, county)
        if path.is_file():
            found[kind] = path
    return found


@dataclass(frozen=True)
class CountyJob:
    snapshot: Path
    feeds: Path | None
    county: str
    month: str
    folder: Path
    delivered_on: dt.date
    raised_on: dt.date
    stages: tuple[str, ...]
    overrides: Mapping[str, Any] | None
    fallbacks: Mapping[str, Any] | None
    # The calendar years an administrator added to the registry, read once by the parent: a
    # worker counts alerts' due dates on the same calendar as ``safetynet monitor run``. None:
    # no registry, the shipped years (and provisional ones) only.
    calendar_years: tuple[OfficialYear, ...] | None = None
    tree: ParameterTree | None = None  # None: the shipped parameters


def cycle_county(job: CountyJob) -> CountyCycle:
    """One county's population work; writes its Parquet outputs into ``job.folder``."""

    clock = time.perf_counter()
    if job.calendar_years is not None:
        install_added_years(job.calendar_years)  # a no-op when already installed
    data = read_county(job.snapshot, job.county)
    on = parse_month(job.month)
    pop = data.population
    summary = CountyCycle(job.county, pop.n_households, pop.n_persons)
    target = job.folder / f"county={job.county}"
    target.mkdir(parents=True, exist_ok=True)
    summary.seconds["read"] = time.perf_counter() - clock

    if "feeds" in job.stages:
        clock = time.perf_counter()
        own = pa.array(data.id_number if data.id_number is not None else [], pa.string())
        parts, rows = [], []
        for kind, path in feed_files(job.feeds, job.county).items():
            checked = validate_columns(
                FEEDS[kind], pq.read_table(path), delivered_on=job.delivered_on
            )
            parts.append(checked.records)
            rows.append(checked.rows)
            summary.feeds.append(
                FeedCount(kind, str(path), checked.read, checked.accepted,
                          checked.quarantined_rows, checked.duplicates)
            )  # fmt: skip
            if checked.quarantine:
                write_quarantine(
                    checked.quarantine,
                    checked.texts.column_names,
                    target / f"quarantine-{kind}.csv",
                )
        every = pa.concat_tables(parts) if parts else FEED_RECORD_SCHEMA.empty_table()
        # A feed may name persons of another county: they are matched across counties
        # (``_across_counties``), and quarantined there only if no county knows them. One
        # lookup for all kinds: building the county's identity-number set is the costly part.
        mine = pc.is_in(every.column("id_number"), value_set=own)
        other = every.filter(pc.invert(mine))
        if other.num_rows:
            numbers = np.concatenate(rows) if rows else np.zeros(0, np.int64)
            other = other.append_column(
                "feed_county", pa.repeat(pa.scalar(job.county, pa.string()), other.num_rows)
            ).append_column("row", pa.array(numbers[~mine.to_numpy(False)], pa.int64()))
            elsewhere = dict(
                zip(
                    *np.unique(other.column("kind").to_numpy(False), return_counts=True),
                    strict=True,
                )
            )
            for count in summary.feeds:
                moved = int(elsewhere.get(count.kind, 0))
                count.accepted -= moved
                count.other_county = moved
        records = every.filter(mine)
        write_parquet(other if other.num_rows else OTHER_COUNTY_SCHEMA.empty_table(),
               target / "other_county.parquet")  # fmt: skip
        summary.records = records.num_rows
        write_parquet(records, target / "records.parquet")
        summary.seconds["feeds"] = time.perf_counter() - clock
    else:
        records = FEED_RECORD_SCHEMA.empty_table()

    if "compare" in job.stages:
        clock = time.perf_counter()
        comparison = compare_county(
            data, records, on, overrides=job.overrides, fallbacks=job.fallbacks
        )
        alerts = raise_alerts(
            comparison, job.raised_on, overrides=job.overrides, fallbacks=job.fallbacks
        )
        recipients = recipients_of(data)
        summary.differences = comparison.differences.num_rows
        effects = comparison.effects
        changed = effects.filter(effects.column("changed"))
        summary.households_changed = len(set(changed.column("household_id").to_pylist()))
        for rule in alerts.column("rule").to_pylist():
            summary.alerts[rule] = summary.alerts.get(rule, 0) + 1
        summary.recipients = recipients.num_rows
        write_parquet(comparison.differences, target / "differences.parquet")
        write_parquet(effects, target / "effects.parquet")
        write_parquet(alerts, target / "alerts.parquet")
        write_parquet(recipients, target / "recipients.parquet")
        summary.seconds["compare"] = time.perf_counter() - clock

    if "rules" in job.stages:
        clock = time.perf_counter()
        result = evaluate_county(
            data, on, overrides=job.overrides, fallbacks=job.fallbacks, tree=job.tree
        )
        write_parquet(result.results, target / "results.parquet")
        write_parquet(result.person_results, target / "person_results.parquet")
        summary.programs = [asdict(t) for t in result.totals]
        write_summary(target, result.totals)  # as the monthly run's, for runner.month_totals
        summary.seconds["rules"] = time.perf_counter() - clock

    (target / CYCLE_SUMMARY).write_text(json.dumps(asdict(summary), indent=1), encoding="utf-8")
    return summary


def read_summary(folder: Path, county: str) -> CountyCycle:
    raw = json.loads((folder / f"county={county}" / CYCLE_SUMMARY).read_text(encoding="utf-8"))
    raw["feeds"] = [FeedCount(**f) for f in raw["feeds"]]
    return CountyCycle(**raw)


def _population_work(
    jobs: list[CountyJob],
    engine: Engine,
    folder: Path,
    done: list[str],
    on_county: Callable[[str, int, int], None] | None,
    on_finished: Callable[[CountyCycle], None],
) -> list[CountyCycle]:
    """Each county's job on ``engine``; each summary recorded as it arrives, then the county
    counts as finished (``batch.engines``)."""
    finished: list[CountyCycle] = []
    summaries = engine.map_counties(cycle_county, jobs)
    try:
        for summary in summaries:
            on_finished(summary)
            finished.append(summary)
            done.append(summary.county)
            mark_finished(folder, done, jobs[0].stages)
            if on_county is not None:
                on_county(summary.county, len(finished), len(jobs))
    finally:
        if isinstance(summaries, Generator):  # an error here stops the counties in flight now
            summaries.close()
    return finished


@dataclass(frozen=True)
class CycleSettings:
    """How a month's cycle runs (``run_cycle``): everything but the snapshot, month and output.

    ``feeds``: the department feed files (None: no feeds); ``db``: the registry (needed by the
    payments stage; without it alerts and totals stay in Parquet); ``only``: these counties;
    ``workers``: county processes (default: one per core, at most one per county);
    ``engine``: where the county work and the step across counties run (``batch.engines``;
    None: worker processes on this machine, ``LocalEngine(workers)``);
    ``delivered_on``/``raised_on``: default the month's last day; ``bank_files``: where the bank
    files go (None: none written); ``tree``: the parameters (the shipped ones by default; a
    deployment's own programs bring theirs); ``restart``: forget the counties already finished.
    """

    feeds: Path | None = None
    db: Database | None = None
    stages: Sequence[str] = STAGES
    only: Sequence[str] | None = None
    workers: int | None = None
    engine: Engine | None = None
    delivered_on: dt.date | None = None
    raised_on: dt.date | None = None
    bank_files: Path | None = None
    overrides: Mapping[str, Any] | None = None
    fallbacks: Mapping[str, Any] | None = None
    tree: ParameterTree | None = None
    restart: bool = False
    parameters_note: str = ""
    on_county: Callable[[str, int, int], None] | None = None
    on_stage: Callable[[str], None] | None = None
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    # The bus's unit of work on ``db`` (``safetynet.bootstrap``): the alerts stored through it
    # place their payment holds in the same transaction. Required with ``db``.
    unit_of_work: Callable[[], UnitOfWork] | None = None

    def stage(self, name: str) -> None:
        if self.on_stage is not None:
            self.on_stage(name)


@dataclass(frozen=True)
class _Plan:
    """What the checks of ``run_cycle`` settled before any work."""

    on: dt.date
    delivered_on: dt.date
    raised_on: dt.date
    chosen: list[str]
    folder: Path
    population_stages: tuple[str, ...]
    calendar_years: tuple[OfficialYear, ...] | None


def run_cycle(
    snapshot: Path,
    month: str,
    out: Path,
    settings: CycleSettings | None = None,
    **options: Any,
) -> CycleReport:
    """Run the month's cycle over ``snapshot``; resumable. See the module docstring.

    ``options`` are ``CycleSettings`` fields, replacing those of ``settings``."""
    s = replace(settings or CycleSettings(), **options)
    plan = _plan(snapshot, month, out, s)
    done = finished_counties(plan.folder, plan.population_stages)
    report = CycleReport(month, out, resumed=[c for c in plan.chosen if c in done])
    started = time.perf_counter()
    if plan.population_stages:
        _population(snapshot, month, plan, done, report, s)
    report.seconds["population"] = time.perf_counter() - started
    if "compare" in s.stages:
        _compare_across(snapshot, plan, report, s)
    if "payments" in s.stages and s.db is not None:
        _payments(s.db, month, plan.chosen, report, s)
    return report


def _plan(snapshot: Path, month: str, out: Path, s: CycleSettings) -> _Plan:
    """Check the request (stages, month, snapshot, counties, registry) before any work."""
    unknown = [x for x in s.stages if x not in STAGES]
    if unknown:
        raise InputError("--stage", f"{unknown[0]!r} is not a stage: one of {', '.join(STAGES)}")
    on = parse_month(month)
    last_day = month_end(on)
    read_manifest(snapshot)
    chosen = choose_counties(snapshot, s.only)
    if "compare" in s.stages and "feeds" not in s.stages and s.feeds is not None:
        raise InputError("--stage", "compare reads the feeds: run the feeds stage with it")
    if "payments" in s.stages and s.db is None:
        raise InputError("--url", "the payments stage needs the registry database")
    calendar_years = None
    if s.db is not None:
        require_current_schema(s.db)
        calendar_years = _registry_calendar(s.db)
    folder = month_dir(out, month)
    folder.mkdir(parents=True, exist_ok=True)
    population_stages = tuple(x for x in STAGES if x in s.stages and x != "payments")
    if s.restart:
        mark_finished(folder, [], population_stages)
    return _Plan(on, s.delivered_on or last_day, s.raised_on or last_day, chosen, folder,
                 population_stages, calendar_years)  # fmt: skip


def _population(
    snapshot: Path, month: str, plan: _Plan, done: list[str], report: CycleReport, s: CycleSettings
) -> None:
    """Each county's population work (in worker processes), its totals to the registry."""
    jobs = [
        CountyJob(snapshot, s.feeds, c, month, plan.folder, plan.delivered_on, plan.raised_on,
                  plan.population_stages, s.overrides, s.fallbacks, plan.calendar_years, s.tree)
        for c in plan.chosen
        if c not in done
    ]  # fmt: skip
    s.stage("population")
    engine = s.engine or LocalEngine(s.workers)
    db, run_id = s.db, None
    if db is not None and "rules" in s.stages:
        with db.sessions.begin() as session:
            run_id = start_run(
                session, month, snapshot, s.parameters_note, len(plan.chosen), s.restart
            )

    def finished(summary: CountyCycle) -> None:
        """The county's program totals go to the registry before it counts as finished."""
        if db is None or run_id is None:
            return
        totals = [ProgramTotals(**t) for t in summary.programs]
        empty = pa.table({})
        result = CountyResult(summary.county, summary.households, summary.persons, totals,
                              empty, empty)  # fmt: skip
        with db.sessions.begin() as session:
            record_county(session, run_id, month, result, households=False)

    report.counties = [read_summary(plan.folder, c) for c in report.resumed]
    report.counties += _population_work(jobs, engine, plan.folder, done, s.on_county, finished)
    report.counties.sort(key=lambda c: c.county)


def _compare_across(snapshot: Path, plan: _Plan, report: CycleReport, s: CycleSettings) -> None:
    """The step across counties, then (with a registry) the alerts stored."""
    started = time.perf_counter()
    s.stage("across counties")
    if isinstance(s.engine, SparkEngine):  # the same step as Spark joins (batch.spark_across)
        from safetynet.batch.spark_across import (
            across_counties,
        )  # Spark only when the Spark engine runs (an optional extra)

        duplicates = across_counties(s.engine, snapshot, plan, s, report)
    else:
        duplicates = _across_counties(
            snapshot, plan.folder, plan.chosen, plan.on, plan.raised_on, s.overrides,
            s.fallbacks, report,
        )  # fmt: skip
    report.duplicate_alerts = duplicates.num_rows
    report.seconds["across counties"] = time.perf_counter() - started
    if s.db is not None:
        started = time.perf_counter()
        s.stage("alerts")
        _store_alerts(s, plan.folder, plan.chosen, duplicates, report)
        report.seconds["alerts"] = time.perf_counter() - started


def _payments(
    db: Database, month: str, chosen: Sequence[str], report: CycleReport, s: CycleSettings
) -> None:
    """The month's payment roll and, with ``bank_files``, each county's bank files."""

    started = time.perf_counter()
    s.stage("payments")
    # The roll and the bank files make and drop objects batch after batch; each full collection
    # of the garbage collector would also walk every object the earlier stages left in this
    # process. Those are set aside (not freed, not walked) until the stage ends (ADR 0036).
    gc.collect()
    gc.freeze()
    try:
        _award_subsidies(month, chosen, report, s)
        report.roll = roll_month(db, month, actor=SYSTEM, clock=s.clock)
        report.seconds["roll"] = time.perf_counter() - started
        if s.bank_files is not None:
            started = time.perf_counter()
            report.bank_files.extend(_export_counties(db, month, chosen, s.bank_files, s))
            report.seconds["bank files"] = time.perf_counter() - started
    finally:
        gc.unfreeze()


def _export_counties(
    db: Database, month: str, chosen: Sequence[str], out: Path, s: CycleSettings
) -> list[BankFileReport]:
    """Each county's bank files, in the counties' order. On PostgreSQL several counties at once
    on threads, as many as the cycle's workers: each county's export is its own transaction on
    its own rows, and while one county's statements run on the server another's Python work
    (reading, checking, writing the files) goes on. On SQLite one after another: it writes one
    transaction at a time anyway."""

    def export(county: str) -> BankFileReport:
        return export_bank_files(db, month, county, out, actor=SYSTEM, clock=s.clock)

    threads = min(len(chosen), s.workers or os.cpu_count() or 1)
    if db.dialect != "postgresql" or threads < 2:
        return [export(county) for county in chosen]
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bank-files") as pool:
        return list(pool.map(export, chosen))


def _award_subsidies(
    month: str, chosen: Sequence[str], report: CycleReport, s: CycleSettings
) -> None:
    """The month's awards of the programs no case decides (the price subsidy): every household
    the county's rules run found eligible, once per household and month, before the roll pays
    them (``payments.subsidies``); one transaction per county and program."""
    folder = month_dir(report.out, month)
    if s.unit_of_work is None:
        raise ValueError("run_cycle with a registry needs the bus's unit_of_work (bootstrap)")
    for program in programs_awarded_by_run():
        counts = report.subsidies.setdefault(program, SubsidyCounts())
        for county in chosen:
            path = folder / f"county={county}" / "results.parquet"
            if not path.exists():  # the rules stage has not run for the county
                continue
            table = pq.read_table(path, columns=["household_id", "program", "amount_fen"])
            mine = table.filter(
                pc.and_(pc.equal(table["program"], program), pc.greater(table["amount_fen"], 0))
            )
            if not mine.num_rows:
                continue
            awards = list(
                zip(mine["household_id"].to_pylist(), mine["amount_fen"].to_pylist(), strict=True)
            )
            command = AwardMonthSubsidies(
                program=program, month=month, county=county, awards=awards, actor=SYSTEM
            )
            with s.unit_of_work() as uow:
                done = award_month_subsidies(command, uow, s.clock)
            counts.recorded += done.recorded
            counts.recorded_fen += done.recorded_fen
            counts.present += done.present
            counts.outside_registry += done.outside_registry


def _registry_calendar(db: Database) -> tuple[OfficialYear, ...]:
    """The calendar years added to the registry, installed in this process (the step across
    counties and the stored alerts) and passed to the workers (``CountyJob.calendar_years``)."""

    with db.sessions() as session:
        years = tuple(added_years(session))
    install_added_years(years)
    forget_sync()
    return years


def _across_counties(
    snapshot: Path,
    folder: Path,
    chosen: Sequence[str],
    on: dt.date,
    raised_on: dt.date,
    overrides: Mapping[str, Any] | None,
    fallbacks: Mapping[str, Any] | None,
    report: CycleReport,
) -> pa.Table:
    """One pass over all counties: feed rows about persons of another county are matched (the
    rest are quarantined as unknown persons), and a person paid in two counties — as a recipient
    in both, or a recipient in one with a social-insurance benefit paid in another — or by two
    exclusive programs raises a supervision alert in the county that pays them."""

    recipients = pa.concat_tables(
        [pq.read_table(folder / f"county={c}" / "recipients.parquet") for c in chosen]
    )
    other_parts = [
        pq.read_table(path)
        for c in chosen
        if (path := folder / f"county={c}" / "other_county.parquet").is_file()
    ]
    other = pa.concat_tables(other_parts) if other_parts else OTHER_COUNTY_SCHEMA.empty_table()
    entries = [recipients]
    if other.num_rows:
        known = pa.concat_tables(
            [
                pq.read_table(snapshot / "persons" / f"county={c}" / "part-0.parquet",
                              columns=["id_number", "person_id", "household_id"])
                for c in snapshot_counties(snapshot)
            ]
        )  # fmt: skip
        matched = pc.is_in(other.column("id_number"), value_set=known.column("id_number"))
        unknown = other.filter(pc.invert(matched))
        report.other_county_rows += other.num_rows - unknown.num_rows
        report.unknown_person_rows += unknown.num_rows
        _write_unknown(folder / "quarantine-unknown-persons.csv", unknown)
        benefits = other.filter(
            pc.and_(matched, pc.is_in(other.column("code"), pa.array(BENEFIT_CODES)))
        )
        if benefits.num_rows:
            who = known.take(pc.index_in(benefits.column("id_number"), known.column("id_number")))
            entries.append(
                pa.table(
                    {"county": benefits.column("feed_county"),
                     "household_id": who.column("household_id"),
                     "person_id": who.column("person_id"),
                     "id_number": benefits.column("id_number"),
                     "program": benefits.column("code")},
                    schema=recipients.schema,
                )
            )  # fmt: skip
    duplicates = duplicate_alerts(entries, on, raised_on, overrides=overrides, fallbacks=fallbacks)
    # Each county acts on the payments it makes: keep the alerts of the counties paying them.
    paying = pc.is_in(
        pc.binary_join_element_wise(
            duplicates.column("county"),
            pc.cast(duplicates.column("household_id"), pa.string()),
            ":",
        ),
        value_set=pc.binary_join_element_wise(
            recipients.column("county"),
            pc.cast(recipients.column("household_id"), pa.string()),
            ":",
        ),
    )
    duplicates = duplicates.filter(paying)
    write_parquet(duplicates, folder / "duplicate_alerts.parquet")
    return duplicates


def _write_unknown(path: Path, unknown: pa.Table) -> None:
    """Feed rows whose person no county of the snapshot knows, with the reason."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["feed_county", "kind", "row", "field", "reason", "id_number"])
        for row in unknown.select(["feed_county", "kind", "row", "id_number"]).to_pylist():
            writer.writerow([row["feed_county"], row["kind"], row["row"], "id_number",
                             "unknown person", mask_identity_number(row["id_number"])])  # fmt: skip
    tmp.replace(path)


def _registered(session: Session, household_ids: Sequence[int]) -> set[int]:

    wanted = sorted(set(household_ids))
    found: set[int] = set()
    for start in range(0, len(wanted), 5_000):
        chunk = wanted[start : start + 5_000]
        found.update(session.scalars(select(Household.id).where(Household.id.in_(chunk))))
    return found


def _store_alerts(
    s: CycleSettings,
    folder: Path,
    chosen: Sequence[str],
    duplicates: pa.Table,
    report: CycleReport,
) -> None:
    """Each county's alerts in one transaction, with the payment holds they place; a re-run
    stores nothing twice. Alerts about households the registry does not hold stay in the county's
    alerts.parquet and are counted."""
    if s.unit_of_work is None:
        raise ValueError("run_cycle with a registry needs the bus's unit_of_work (bootstrap)")
    for county in chosen:
        alerts = pq.read_table(folder / f"county={county}" / "alerts.parquet")
        if "due_basis" not in alerts.column_names:  # written by a release without it
            alerts = alerts.append_column("due_basis", pa.nulls(alerts.num_rows, pa.string()))
        mine = duplicates.filter(pc.equal(duplicates.column("county"), county))
        alerts = pa.concat_tables([alerts, mine])
        with s.unit_of_work() as uow:
            held = _registered(uow.session, alerts.column("household_id").to_pylist())
            inside = pc.is_in(alerts.column("household_id"), pa.array(sorted(held), pa.int64()))
            report.alerts_outside_registry += alerts.num_rows - pc.sum(inside).as_py()
            counts = store_alerts(uow, alerts.filter(inside), actor=SYSTEM, clock=s.clock)
            uow.commit()
        for key, n in counts.raised.items():
            report.stored_alerts[key] = report.stored_alerts.get(key, 0) + n
        report.alerts_already_stored += counts.repeated + counts.still_open
        report.holds_placed += counts.holds_placed
