"""``safetynet demo``: the whole monthly job on a laptop, on the embedded SQLite database.

It builds the registry database, generates a synthetic population of two counties, enrols their
caseload (dibao, tekun and the pensions in payment) with social-security-card accounts, generates that month's department
feeds with planted discrepancies, and runs the monthly cycle: feeds validated row by row,
comparison, alerts, every program for every household, the payment roll and the bank files. A
simulated bank answers; the return file is reconciled; the demo prints what a county office would
want to see first: the alerts and whether they caught what was planted, the roll, "paid in full
and on time", and the ten largest monthly payments with their explanations.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from safetynet.audit.log import Actor
from safetynet.domain.money import format_yuan
from safetynet.policy.calculate import parameter_record

DEMO_MONTH = "2025-09"
DEMO_COUNTIES = ("310115", "310104")  # 上海市浦东新区 and 徐汇区: Shanghai's own standards
DEMO_PERSONS = 90_000  # through the front door (XLSX written, read, checked) in under 2 minutes
DEMO_SEED = 20250901
DEMO_ACTOR = Actor(name="demo", role="system")
DEMO_FALLBACKS = "demo"  # the illustrative locality shipped in the package (policy/localities)
MARKER = ".safetynet-demo"
"""Written in every folder the demo creates: the demo only ever deletes a folder that has it."""
Clock = Callable[[], dt.datetime]


def prepare_workdir(workdir: Path) -> None:
    """Empty ``workdir`` for a new run, deleting it only if an earlier demo created it.

    A new or empty folder is used as is; a folder with the demo's marker is replaced; anything
    else (a file, a folder of someone's data) is refused, so a mistyped ``--workdir`` never costs a
    user their files.
    """
    from safetynet.entrypoints.cli.paths import output_dir
    from safetynet.errors import InputError

    output_dir(workdir, "--workdir")
    if workdir.is_dir() and any(workdir.iterdir()):
        if not (workdir / MARKER).is_file():
            raise InputError(
                "--workdir",
                f"{workdir} already exists and was not created by the demo (it has no {MARKER} "
                "file); the demo only replaces its own folders: give a new or empty folder",
            )
        shutil.rmtree(workdir)
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / MARKER).write_text(
            "Created by `safetynet demo`; the next demo run with this --workdir replaces it.\n",
            encoding="utf-8",
        )
    except OSError as exc:
        raise InputError("--workdir", f"cannot create {workdir}: {exc.strerror}") from None


def _demo_audit_key(out: Console, url: Any) -> None:
    """The demo's own audit key beside its database, unless one is configured: an office sets
    its key up once (docs/audit.md); a demo must run with nothing set up."""
    from safetynet.audit.keys import SIBLING_KEYRING, add_key, load_keyring

    if load_keyring(url) is None:
        path = Path(url.database).parent / SIBLING_KEYRING
        add_key(path, "demo-1")
        out.print(f"Audit key created for the demo: {path}", markup=False)


@dataclass
class DemoMonth:
    """What the demo has built before the month's cycle: the registry (imported from the offices'
    files), its snapshot of the month and that month's department feeds."""

    db: Any
    month: str
    on: dt.date
    snapshot: Path
    feeds: Path
    results: Path
    planted: Any  # the discrepancies planted in the feeds (Arrow table)
    fallbacks: Mapping[str, Any]
    flagged: str
    clock: Clock


def run_demo(
    out: Console,
    workdir: Path,
    *,
    persons: int = DEMO_PERSONS,
    counties: Sequence[str] = DEMO_COUNTIES,
    month: str = DEMO_MONTH,
) -> None:
    from safetynet.batch.cycle import run_cycle
    from safetynet.batch.runner import month_dir
    from safetynet.bootstrap import bootstrap
    from safetynet.entrypoints.cli.batch_cli import log_stages, print_report

    started = time.perf_counter()
    built = build_month(out, workdir, persons=persons, counties=counties, month=month)
    db, snapshot, results, clock = built.db, built.snapshot, built.results, built.clock
    bank = workdir / "bank"
    step = time.perf_counter()
    stages = ("feeds", "compare", "rules", "payments")
    report = run_cycle(
        snapshot, month, results, feeds=built.feeds, db=db, stages=stages, bank_files=bank,
        fallbacks=built.fallbacks, parameters_note=f"fallbacks from {built.flagged}", clock=clock,
        unit_of_work=bootstrap(db, clock=clock).unit_of_work,
    )  # fmt: skip
    log_stages(report)
    out.print(f"7. The month's cycle on the registry's snapshot ({_since(step)}):")
    print_report(out, report, stages)

    _planted_and_found(out, built.planted, month_dir(results, month))
    _eligible_and_enrolled(out, db, month_dir(results, month), month)
    _bank_round_trip(out, db, bank, workdir, month, built.on, clock)
    db.dispose()
    _largest_payments(out, snapshot, results, month, built.fallbacks)

    out.print(f"\nDone in {time.perf_counter() - started:.1f} s. Where to look next:")
    _next_steps(
        out,
        workdir,
        counties,
        f"the month's outputs, county by county: {results}/month={month}/ (Parquet: feed records, "
        "differences, alerts, results; quarantine CSVs with the reason of every rejected row)",
        f"the alerts and their lifecycle: safetynet monitor alerts --url sqlite:///{workdir.resolve()}/safetynet.db",
        f"the payment report: safetynet payments report --month {month} --url sqlite:///{workdir.resolve()}/safetynet.db",
        "one household, explained (from the repository): ./run safetynet calc dibao --input examples/dibao_household.json "
        "--date 2025-09-01 --set assistance.dibao.standard_monthly_urban=1000 --explain",
        "a parameter and its sources: ./run safetynet params show assistance.dibao.standard_monthly_urban --region 310115",
        "the cycle at scale: ./run bench cycle (docs/cycle.md, docs/performance.md)",
        "the rules, program by program: docs/programs/; every worked example: ./run safetynet cases run cases/",
    )


def build_month(
    out: Console,
    workdir: Path,
    *,
    persons: int = DEMO_PERSONS,
    counties: Sequence[str] = DEMO_COUNTIES,
    month: str = DEMO_MONTH,
) -> DemoMonth:
    """Steps 1 to 6 of the demo: the registry database, the synthetic counties, the offices'
    household lists and rolls imported, an emergency case, the registry's snapshot of the month
    and its department feeds (``workdir`` emptied first; ``safetynet demo`` then runs the cycle)."""
    from safetynet.batch.registry_month import registry_snapshot
    from safetynet.batch.runner import parse_month
    from safetynet.batch.synth import generate
    from safetynet.batch.synth_feeds import generate_feeds
    from safetynet.bootstrap import upgrade
    from safetynet.db.engine import create_database
    from safetynet.domain.regions import default_registry
    from safetynet.policy.screening import fallback_label, load_parameter_values

    # Every argument is checked before the folder of an earlier run is replaced.
    on = parse_month(month)
    names = ", ".join(f"{c} {default_registry().full_name(c)}" for c in counties)
    fallbacks = load_parameter_values(DEMO_FALLBACKS)
    flagged = fallback_label(DEMO_FALLBACKS)
    prepare_workdir(workdir)
    out.rule("SafetyNet demo: one month's cycle for two counties")
    out.print(
        f"Counties {names}; month {month}; {persons:,} synthetic persons.\n"
        "The counties' own standards are used where the parameter files have them; everything a "
        f"region lacks comes from {flagged}, flagged [I] wherever shown. "
        "Synthetic people, illustrative figures: nothing here is an official amount.\n",
        markup=False,
    )

    db = create_database(f"sqlite:///{workdir / 'safetynet.db'}")
    _demo_audit_key(out, db.engine.url)
    clock = _clock(on)
    step = time.perf_counter()
    upgrade(db)
    out.print(f"1. Registry database created: {workdir / 'safetynet.db'} ({_since(step)})")

    step = time.perf_counter()
    synthetic = workdir / "synthetic"
    generate(synthetic, persons, list(counties), seed=DEMO_SEED, on=on)
    out.print(
        f"2. Synthetic counties drawn: {synthetic} — the people the offices' files describe "
        f"({_since(step)})"
    )

    step = time.perf_counter()
    offices = workdir / "offices"
    imported = _import_household_lists(db, synthetic, offices, month, on, clock)
    out.print(f"3. Household lists imported through the front door ({_since(step)}): {imported}")

    step = time.perf_counter()
    enrolled = _import_rolls(db, synthetic, workdir, month, fallbacks, clock)
    out.print(f"4. The current rolls imported: {enrolled} ({_since(step)})", markup=False)
    tid = _emergency_case(db, clock, on, counties[0])
    out.print(
        f"   An emergency temporary assistance case (track {tid}) approved through the workflow: "
        "1,000.00 yuan advanced first, the rest on the decision — paid by this month's roll."
    )

    step = time.perf_counter()
    results = workdir / "results"
    snapshot, taken = registry_snapshot(db, month, results)
    out.print(
        f"5. The registry's snapshot of {month}: {snapshot} — {_taken(taken)} ({_since(step)})"
    )

    step = time.perf_counter()
    feeds = workdir / "feeds"
    manifest = generate_feeds(snapshot, feeds, month, DEMO_SEED)
    planted = pq.read_table(feeds / "planted.parquet")
    rows = sum(c["rows"] for kind in manifest["files"].values() for c in kind.values())
    out.print(
        f"6. Department feeds of {month} written: {feeds} — {len(manifest['files'])} "
        f"kinds, {rows:,} rows, {planted.num_rows:,} planted discrepancies and a few bad rows "
        f"per file ({_since(step)})\n"
    )
    return DemoMonth(db, month, on, snapshot, feeds, results, planted, fallbacks, flagged, clock)


def _next_steps(out: Console, workdir: Path, counties: Sequence[str], *lines: str) -> None:
    """Where to look next; then the demo sign-ins and how to open the workbench."""
    for line in lines:
        out.print(f"  - {line}", markup=False)
    from safetynet.db.engine import create_database
    from safetynet.entrypoints.cli.web_demo import (
        ensure_demo_accounts,
        ensure_demo_citizen,
        print_citizen,
        print_workbench,
    )

    db = create_database(f"sqlite:///{workdir / 'safetynet.db'}")
    try:
        rows = ensure_demo_accounts(db, counties)
        citizen = ensure_demo_citizen(db, counties[0], workdir)
    finally:
        db.dispose()
    print_workbench(out, rows, "http://127.0.0.1:8000/ after: safetynet serve --demo")
    print_citizen(out, citizen, "http://127.0.0.1:8000/")


def _taken(manifest: Mapping[str, Any]) -> str:
    return (
        f"{manifest['households']:,} households, {manifest['persons']:,} persons in "
        f"{len(manifest['counties'])} counties, as the registry holds them"
    )


BAD_ROWS = 3  # households per county file made bad on purpose (the import must quarantine them)


def _import_household_lists(
    db: Any, synthetic: Path, offices: Path, month: str, on: dt.date, clock: Clock
) -> str:
    """Each county's office spreadsheet (XLSX, Chinese headers, a few bad rows) written from the
    synthetic county, then imported as a clerk would: good households in, bad ones quarantined."""
    from safetynet.bootstrap import bootstrap
    from safetynet.intake import default_quarantine_path, write_quarantine
    from safetynet.registry.county_data import counties
    from safetynet.registry.handlers import ImportHouseholds

    offices.mkdir(parents=True, exist_ok=True)
    bus = bootstrap(db, clock=clock)
    lines = []
    jobs = [(synthetic, county, offices, month, on) for county in counties(synthetic)]
    # Each office writes its spreadsheet and the clerk's checks run on it in parallel; the
    # imports then write to the one registry in turn. Workers are spawned, never forked: a fork
    # copies the parent's thread pools (Polars, DuckDB, a test runner's JVM) mid-flight, and a
    # child forked that way can die at once (seen in CI as BrokenProcessPool).
    workers = min(len(jobs), os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        checked = list(pool.map(_office_file, jobs))
    for path, headers, batch in checked:
        report = bus.handle(ImportHouseholds(batch, DEMO_ACTOR, on, path.name))
        quarantine = default_quarantine_path(path)
        write_quarantine(batch.quarantine, headers, quarantine)
        lines.append(
            f"{path.name}: {report.read:,} rows, {report.households_created:,} households "
            f"created, {report.quarantined} rows quarantined ({quarantine.name})"
        )
        for q in batch.quarantine[:2]:
            lines.append(f"  row {q.row}, {q.field}: {q.reason}")
    return "\n   " + "\n   ".join(lines)


def _office_file(job: tuple[Path, str, Path, str, dt.date]) -> tuple[Path, Any, Any]:
    """One county's office spreadsheet written from the synthetic county, then read and checked
    as the import does (in a worker process)."""
    from safetynet.batch.county_file import write_county_data
    from safetynet.registry.county_data import read_county
    from safetynet.registry.imports import read_table, validate

    synthetic, county, offices, month, on = job
    path = offices / f"{county}-households.xlsx"
    write_county_data(path, read_county(synthetic, county), month=month, bad_rows=BAD_ROWS,
                      seed=DEMO_SEED)  # fmt: skip
    table = read_table(path, None)
    return path, table.headers, validate(table, as_of=on)


def _import_rolls(
    db: Any, synthetic: Path, workdir: Path, month: str, fallbacks: Mapping[str, Any], clock: Clock
) -> str:
    """The counties' current rolls (保障名册) as the offices keep them, imported as enrolments;
    the rows of households quarantined from the household lists are quarantined in turn. Then
    the households' social-security-card accounts."""
    from safetynet.batch.synth_accounts import write_synthetic_accounts
    from safetynet.batch.synth_rolls import write_synthetic_roll
    from safetynet.bootstrap import bootstrap
    from safetynet.payments.accounts import import_accounts, read_accounts
    from safetynet.registry.rolls import ImportRoll, read_roll, validate_roll

    on = dt.date.fromisoformat(f"{month}-01")
    path = workdir / "offices" / "rolls.xlsx"
    write_synthetic_roll(synthetic, month, path, fallbacks=fallbacks)
    roll = validate_roll(read_roll(path), on)
    report = bootstrap(db, clock=clock).handle(ImportRoll(roll, DEMO_ACTOR, path.name))
    enrolled = ", ".join(f"{n:,} {p}" for p, n in sorted(report.enrolled.items()))
    accounts_file = workdir / "accounts.csv"
    write_synthetic_accounts(db, accounts_file, on, seed=DEMO_SEED)
    accounts = import_accounts(db, read_accounts(accounts_file), actor=DEMO_ACTOR, clock=clock)
    return (
        f"{enrolled} ({report.quarantined} roll rows quarantined: their households were not "
        f"imported); {accounts.imported:,} social-security-card accounts imported (a few "
        "households have none: their payments must be held)"
    )


def _emergency_case(db: Any, clock: Clock, on: dt.date, county: str) -> int:
    """Emergency temporary assistance (急难型临时救助) for a registered household of ``county``:
    lodged, accepted, 1,000.00 yuan advanced first (先行救助), investigated, verified and
    approved; returns the track id. Its advance and the rest are awards the roll pays once."""
    from sqlalchemy import select

    from safetynet.bootstrap import bootstrap
    from safetynet.cases import commands as c
    from safetynet.registry.model import Household

    with db.sessions() as session:
        household_no = session.scalars(
            select(Household.household_no)
            .where(Household.region_code == county)
            .order_by(Household.id)
        ).first()
    assert household_no is not None, "the county file imported no household"
    clerk = Actor("clerk_demo", "intake_clerk", county)
    reviewer = Actor("town_demo", "township_reviewer", county)
    investigator = Actor("inv_demo", "investigator", county)
    approver = Actor("county_demo", "county_approver", county)
    facts = {
        "region": county, "hukou_type": "urban", "temporary_assistance_type": "emergency",
        "members": [{"relation": "head", "birth_date": "1970-05-01", "sex": "male",
                     "wage_income": "3800.00", "is_employed": True}],
    }  # fmt: skip
    bus = bootstrap(db, clock=clock)
    day = on.replace(day=2)
    submitted = bus.handle(
        c.SubmitApplication(actor=clerk, on=day, household_region=county,
                            household_no=household_no, region=county, household=facts,
                            programs=("temporary_assistance",), emergency=True)
    )  # fmt: skip
    (tid,) = submitted.track_ids
    bus.handle(c.AcceptApplication(actor=clerk, on=day, application_id=submitted.entity_id))
    bus.handle(c.StartPayment(actor=reviewer, on=day, track_id=tid, advance_amount_fen=100_000))
    bus.handle(c.StartInvestigation(actor=investigator, on=day, track_id=tid,
                                    investigators=("inv_demo", "inv_demo2")))  # fmt: skip
    bus.handle(c.RecordHomeVisit(actor=investigator, on=day, track_id=tid, visitors=("inv_demo",)))
    bus.handle(c.AttachVerificationReport(actor=investigator, on=day, track_id=tid,
                                          report={"event": "fire"},
                                          cross_check_requested_on=day))  # fmt: skip
    bus.handle(c.ConfirmTrack(actor=approver, on=day + dt.timedelta(days=1), track_id=tid))
    return int(tid)


def _clock(on: dt.date) -> Clock:
    """The demo's clock: the month's last working days, so deadlines read naturally."""
    moment = dt.datetime(on.year, on.month, 28, 9, 0, tzinfo=dt.UTC)
    return lambda: moment


def _since(start: float) -> str:
    return f"{time.perf_counter() - start:.1f} s"


def _planted_and_found(out: Console, planted: Any, folder: Path) -> None:
    """For each kind of planted discrepancy: how many the alerts caught, by the expected rule."""
    from safetynet.batch.synth_feeds import CAUGHT_BY_RULE

    alerts = [pq.read_table(p) for p in sorted(folder.glob("county=*/alerts.parquet"))]
    duplicates = folder / "duplicate_alerts.parquet"
    if duplicates.is_file():
        alerts.append(pq.read_table(duplicates))
    raised = {
        (rule, household)
        for table in alerts
        for rule, household in zip(
            table.column("rule").to_pylist(), table.column("household_id").to_pylist(), strict=True
        )
    }
    table = Table(
        "planted discrepancy", "planted", "alert rule", "caught", title="Planted and found"
    )
    by_kind: dict[str, list[int]] = {}
    for what, household in zip(
        planted.column("discrepancy").to_pylist(),
        planted.column("household_id").to_pylist(),
        strict=True,
    ):
        counts = by_kind.setdefault(what, [0, 0])
        counts[0] += 1
        counts[1] += (CAUGHT_BY_RULE.get(what, ""), household) in raised
    for what in sorted(by_kind):
        n, caught = by_kind[what]
        table.add_row(what, f"{n:,}", CAUGHT_BY_RULE.get(what, "-"), f"{caught:,}")
    out.print(table)


def _eligible_and_enrolled(out: Console, db: Any, folder: Path, month: str) -> None:
    """Each caseload program: households the month's rules find eligible against those enrolled."""
    from safetynet.batch.caseload import caseload_coverage

    table = Table("program", "eligible (rules)", "enrolled (registry)", "enrolled ÷ eligible",
                  title=f"Eligible and enrolled, {month}")  # fmt: skip
    for row in caseload_coverage(db, folder):
        table.add_row(row.program, f"{row.eligible:,}", f"{row.enrolled:,}", f"{row.ratio:.1%}")
    out.print(table)


def _bank_round_trip(
    out: Console, db: Any, bank: Path, workdir: Path, month: str, on: dt.date, clock: Clock
) -> None:
    """The simulated bank answers; the return file is reconciled; paid in full and on time."""
    from safetynet.batch.synth_bank import simulate_bank_return
    from safetynet.payments.reconcile import reconcile_return_file
    from safetynet.payments.report import payment_report

    files = sorted(bank.glob("*.txt"))
    answer = simulate_bank_return(
        files, workdir / "bank-return.csv", on + dt.timedelta(days=7), seed=DEMO_SEED
    )
    result = reconcile_return_file(db, answer.path, actor=DEMO_ACTOR, clock=clock)
    out.print(
        f"\n8. The bank answered ({answer.path}): {answer.paid:,} booked, {answer.failed:,} "
        f"failed, and {answer.planted_bad_rows} rows planted to be refused. Reconciled: "
        f"paid {result.paid:,}, failed {result.failed:,} (sent again with the next bank file), "
        f"quarantined {result.quarantined:,}:",
        markup=False,
    )
    for line in result.quarantine[:5]:
        out.print(f"   row {line.row}, {line.field}: {line.reason}", markup=False)
    table = Table("county", "program", "payable", "amount (yuan)", "paid on time", "late",
                  "failed", "held", "awaiting bank", title=f"Paid in full and on time, {month}")  # fmt: skip
    for row in payment_report(db, month):
        table.add_row(
            row.county, row.program, f"{row.payable:,}", format_yuan(row.payable_fen),
            f"{row.paid_on_time:,}", f"{row.paid_late:,}", f"{row.failed:,}", f"{row.held:,}",
            f"{row.awaiting:,}",
        )  # fmt: skip
    out.print(table)
    pensions = [r for r in payment_report(db, month) if r.program.endswith("_pension")]
    if pensions:
        paid = sum(r.paid_on_time + r.paid_late for r in pensions)
        amount = sum(r.payable_fen for r in pensions)
        out.print(
            f"Pensions (employee and residents'): {paid:,} paid of "
            f"{sum(r.payable for r in pensions):,} payable, {format_yuan(amount)} yuan due.",
            markup=False,
        )


def _largest_payments(
    out: Console, snapshot: Path, results: Path, month: str, fallbacks: Mapping[str, Any]
) -> None:
    from safetynet.batch.runner import largest_monthly_payments

    out.print("\n[bold]The ten largest monthly payments, and why[/bold]")
    for rank, top in enumerate(
        largest_monthly_payments(snapshot, results, month, 10, fallbacks=fallbacks), 1
    ):
        out.print(
            f"\n{rank:>2}. household {top.household_id} (county {top.county}): "
            f"{format_yuan(top.monthly_fen)} yuan a month",
            markup=False,
        )
        for ev in top.evaluations:
            out.print(f"    {ev.program.id}: {format_yuan(int(ev.result.amount[0]))}", markup=False)
            used = {r.name: r for r in ev.params.used()}
            for s in ev.trace.steps:
                if not s.formula or _nothing(s.value):
                    continue
                cites = "; ".join(
                    f"{n} = {parameter_record(used[n])['value']} [{used[n].provenance}]"
                    for n in s.parameters
                    if n in used
                )
                out.print(f"      {s.label}: {s.value} ({s.formula}) {cites}", markup=False)


def _nothing(value: object) -> bool:
    """A step that adds nothing to the story (zero, false, or all zero)."""
    if isinstance(value, list):
        return all(_nothing(v) for v in value)
    return value in ("0.00", False, 0)
