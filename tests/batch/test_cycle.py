"""The monthly cycle: planted discrepancies are caught, nothing is counted or paid twice, an
interrupted run resumes, and worker processes change nothing in the results."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from rich.console import Console
from sqlalchemy import func, select

from safetynet.audit.log import Actor, verify
from safetynet.batch import synth
from safetynet.batch.caseload import load_caseload
from safetynet.batch.cycle import CycleReport, run_cycle
from safetynet.batch.runner import month_dir
from safetynet.batch.synth_accounts import write_synthetic_accounts
from safetynet.batch.synth_feeds import CAUGHT_BY_RULE, FeedRates, generate_feeds
from safetynet.bootstrap import bootstrap
from safetynet.cases.calendar_years import AddCalendarYear, add_calendar_year
from safetynet.db.calendar_years import forget_sync, sync_calendar
from safetynet.db.engine import Database
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.calendar import install_added_years, parse_official_year
from safetynet.domain.workdays import add_working_days
from safetynet.entrypoints.cli.batch_cli import print_report
from safetynet.errors import InputError
from safetynet.monitoring.alerts import rule_settings
from safetynet.monitoring.alerts_model import Alert
from safetynet.payments.accounts import import_accounts, read_accounts
from safetynet.payments.bankfile import describe_held
from safetynet.payments.holds import HELD_KINDS
from safetynet.payments.model import PayeeAccount, PaymentInstruction
from safetynet.policy.screening import load_parameter_values
from safetynet.registry.model import Enrolment
from tests.monitoring.test_alerts import notice_2027

ROOT = Path(__file__).resolve().parents[2]
FALLBACKS = load_parameter_values(ROOT / "examples" / "illustrative_locality.yaml")
COUNTIES = ["310115", "310104"]
MONTH = "2025-09"
ON = dt.date(2025, 9, 1)
MOMENT = dt.datetime(2025, 9, 28, 9, 0, tzinfo=dt.UTC)
ACTOR = Actor(name="test", role="payments_clerk")
ADMIN = Actor("admin_he", "administrator")


@pytest.fixture
def added_years_forgotten() -> Iterator[None]:
    """This process's calendar is the shipped one again after a test that adds a year."""
    yield
    install_added_years([])
    forget_sync()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cycle")
    synth.generate(root / "population", 12_000, COUNTIES, seed=3, on=ON)
    # More people paid in two regions than the default rate, so that a small population has some.
    rates = FeedRates(paid_in_two_regions=0.05)
    generate_feeds(root / "population", root / "feeds", MONTH, 3, rates=rates)
    return root / "population", root / "feeds"


def run(
    snapshot: Path, feeds: Path, out: Path, db: Database | None = None, **options: Any
) -> CycleReport:
    if db is None:
        options.setdefault("stages", ("feeds", "compare", "rules"))
    else:  # alerts stored through the bus place their payment holds
        options.setdefault("unit_of_work", bootstrap(db, clock=lambda: MOMENT).unit_of_work)
    return run_cycle(
        snapshot, MONTH, out, feeds=feeds, db=db, fallbacks=FALLBACKS,
        clock=lambda: MOMENT, **options,
    )  # fmt: skip


def alerts_by_household(folder: Path) -> set[tuple[str, int]]:
    tables = [pq.read_table(p) for p in sorted(folder.glob("county=*/alerts.parquet"))]
    tables.append(pq.read_table(folder / "duplicate_alerts.parquet"))
    return {
        (rule, household)
        for t in tables
        for rule, household in zip(
            t.column("rule").to_pylist(), t.column("household_id").to_pylist(), strict=True
        )
    }


def test_the_cycle_catches_every_planted_discrepancy_and_pays_once(
    database: Database, inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    snapshot, feeds = inputs
    load_caseload(database, snapshot, MONTH, fallbacks=FALLBACKS, everyone=True)
    accounts = tmp_path / "accounts.csv"
    written, missing = write_synthetic_accounts(database, accounts, ON, missing_share=0.05)
    imported = import_accounts(database, read_accounts(accounts), actor=ACTOR, clock=lambda: MOMENT)
    assert (imported.imported, imported.quarantined) == (written, 0)
    report = run(snapshot, feeds, tmp_path / "out", database, bank_files=tmp_path / "bank")
    folder = month_dir(tmp_path / "out", MONTH)

    # Every row is accounted for: accepted, another county's, or quarantined with a reason.
    for county in report.counties:
        for f in county.feeds:
            assert f.read == f.accepted + f.other_county + f.quarantined
            assert f.quarantined >= 3  # the generator plants bad rows in every file
    planted = pq.read_table(feeds / "planted.parquet").to_pylist()
    assert {p["discrepancy"] for p in planted} >= {"recipient_died", "paid_in_two_regions"}
    raised = alerts_by_household(folder)
    missed = [
        p for p in planted if (CAUGHT_BY_RULE[p["discrepancy"]], p["household_id"]) not in raised
    ]
    assert missed == []

    with database.sessions() as session:
        stored = session.scalar(select(func.count()).select_from(Alert))
        enrolments = session.scalar(select(func.count()).select_from(Enrolment))
        instructions = session.scalar(
            select(func.count())
            .select_from(PaymentInstruction)
            .where(PaymentInstruction.award_id.is_(None))
        )
        subsidies = session.scalar(
            select(func.count())
            .select_from(PaymentInstruction)
            .where(PaymentInstruction.program == "price_subsidy")
        )
        # A household without an account has each of its enrolments held (a pensioner couple on
        # dibao holds three instructions, not one).
        with_account = select(PayeeAccount.household_id)
        unpaid = session.execute(
            select(func.count())
            .select_from(Enrolment)
            .where(Enrolment.household_id.not_in(with_account))
        ).scalar_one()
    assert 0 < missing <= unpaid
    assert stored == sum(sum(c.alerts.values()) for c in report.counties) + report.duplicate_alerts
    assert instructions == enrolments
    # The demo locality's CPI triggers the price subsidy: awarded and paid once per household.
    assert subsidies == report.subsidies["price_subsidy"].recorded > 0
    assert report.roll.awards_created == subsidies
    # Held: the households without an account, and those of recipients the deaths feed reports
    # (their alert places a payment hold until the office resolves it).
    deaths = sum(c.alerts.get("death", 0) for c in report.counties)
    assert report.roll.held - report.roll.held_by_hold == unpaid
    assert 0 < report.roll.held_by_hold <= deaths
    # The run report says what keeps each held instruction (issue 10 item 8), not "no account"
    # for all of them.
    printed = StringIO()
    print_report(Console(file=printed, width=300), report, ())
    kinds = dict.fromkeys(HELD_KINDS, 0)
    for bank in report.bank_files:
        assert f"county {bank.county}: {describe_held(bank)}" in printed.getvalue()
        for kind, count in bank.held_by_kind:
            kinds[kind] += count
    # the month's price subsidies are held for the same reasons as the household's other payments
    held_awards = report.roll.awards_held
    assert kinds["no account"] + kinds["payment hold"] == (
        unpaid + report.roll.held_by_hold + held_awards
    )
    assert kinds["no account"] >= unpaid
    assert kinds["payment hold"] >= report.roll.held_by_hold
    assert "(no account)" not in printed.getvalue()
    bank_files = sorted((tmp_path / "bank").glob("*.txt"))
    assert [p.name for p in bank_files] == ["SN310104202509001.txt", "SN310115202509001.txt"]
    # exported side by side on PostgreSQL (ADR 0036), reported in the counties' order
    assert [bank.county for bank in report.bank_files] == sorted(COUNTIES)
    assert sum(file.count for bank in report.bank_files for file in bank.files) == sum(
        len(p.read_bytes().splitlines()) - 2 for p in bank_files
    )
    before = [p.read_bytes() for p in bank_files]

    again = run(snapshot, feeds, tmp_path / "out", database, bank_files=tmp_path / "bank")
    assert again.resumed == sorted(COUNTIES)
    assert again.stored_alerts == {}
    assert again.roll.created == 0
    assert (again.subsidies["price_subsidy"].recorded, again.roll.awards_created) == (0, 0)
    assert [p.read_bytes() for p in bank_files] == before
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == stored
        assert session.scalar(select(func.count()).select_from(PaymentInstruction)) == (
            instructions or 0
        ) + (subsidies or 0)
        assert verify(session) == []


def test_an_interrupted_cycle_resumes_with_the_next_county(
    inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    snapshot, feeds = inputs
    whole = run(snapshot, feeds, tmp_path / "whole", workers=1)

    class CrashError(Exception):
        pass

    def crash_after_first(county: str, *_: int) -> None:
        raise CrashError(county)

    with pytest.raises(CrashError):
        run(snapshot, feeds, tmp_path / "resumed", workers=1, on_county=crash_after_first)
    resumed = run(snapshot, feeds, tmp_path / "resumed", workers=1)
    assert len(resumed.resumed) == 1
    assert len(resumed.counties) == 2
    for a, b in zip(whole.counties, resumed.counties, strict=True):
        assert (a.county, a.records, a.differences, a.alerts, a.programs) == (
            b.county, b.records, b.differences, b.alerts, b.programs,
        )  # fmt: skip


def test_worker_processes_give_the_same_results(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    snapshot, feeds = inputs
    run(snapshot, feeds, tmp_path / "one", workers=1)
    run(snapshot, feeds, tmp_path / "two", workers=2)
    for county in COUNTIES:
        for name in ("records", "alerts", "results", "differences", "effects"):
            one = pq.read_table(
                month_dir(tmp_path / "one", MONTH) / f"county={county}" / f"{name}.parquet"
            )
            two = pq.read_table(
                month_dir(tmp_path / "two", MONTH) / f"county={county}" / f"{name}.parquet"
            )
            assert one.equals(two), (county, name)


def test_stages_and_inputs_are_checked(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    snapshot, feeds = inputs
    with pytest.raises(InputError, match="'audit' is not a stage"):
        run(snapshot, feeds, tmp_path, stages=("feeds", "audit"))
    with pytest.raises(InputError, match="payments stage needs the registry"):
        run(snapshot, feeds, tmp_path, stages=("payments",))
    with pytest.raises(InputError, match="110105 is not in the snapshot"):
        run(snapshot, feeds, tmp_path, only=["110105"])


def _children(pid: int) -> dict[int, str]:
    """The living processes whose parent is ``pid``: pid → command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # ended meanwhile
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        if int(ppid) == pid and state != "Z":
            found[int(entry.name)] = command
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"  # a zombie has ended, only not yet reaped


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_workers_end_with_a_killed_run_month(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    """SIGKILL of ``run-month`` in its population stage leaves no worker process behind."""
    snapshot, _ = inputs
    command = [
        sys.executable, "-c", "from safetynet.entrypoints.cli.main import main; main()",
        "run-month", "--month", MONTH, "--snapshot", str(snapshot), "--out", str(tmp_path),
        "--no-registry", "--workers", "2", "--quiet",
        "--fallback-parameters", str(ROOT / "examples" / "illustrative_locality.yaml"),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as sink:
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=sink)
    workers: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline and child.poll() is None:
            workers = {
                pid: line for pid, line in _children(child.pid).items() if "spawn_main" in line
            }
            time.sleep(0.05)
        assert len(workers) == 2, errors.read_text(errors="replace")
        time.sleep(1.0)  # the workers are importing or evaluating their county
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [pid for pid in workers if _alive(pid)]
        assert left == [], f"workers still running 5 s after their parent was killed: {left}"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.usefixtures("added_years_forgotten")
def test_workers_count_due_dates_on_the_years_added_to_the_registry(
    database: Database, inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    """A 2027 notice added to the registry (1-4 January off): the alerts the worker processes
    raise on 28 December 2026 are due on the dates ``monitor run`` gives (the registry's years
    installed), none of them provisional."""
    snapshot, feeds = inputs
    with UnitOfWork(database.sessions) as uow:
        add_calendar_year(uow, AddCalendarYear(ADMIN, parse_official_year(notice_2027())))
    install_added_years([])  # only the registry knows 2027 when the cycle starts
    forget_sync()
    raised_on = dt.date(2026, 12, 28)
    run(snapshot, feeds, tmp_path / "out", database, stages=("feeds", "compare"), workers=2,
        raised_on=raised_on)  # fmt: skip
    folder = month_dir(tmp_path / "out", MONTH)
    tables = [pq.read_table(p) for p in sorted(folder.glob("county=*/alerts.parquet"))]
    alerts = [a for t in tables for a in t.to_pylist()]
    alerts += pq.read_table(folder / "duplicate_alerts.parquet").to_pylist()

    # The calendar a monitor run counts on: the registry's years, as its unit of work syncs them.
    with database.sessions() as session:
        sync_calendar(session)
    due = {
        (county, rule): add_working_days(raised_on, s.sla)
        for county in COUNTIES
        for rule, s in rule_settings(raised_on, county, fallbacks=FALLBACKS).items()
    }
    assert [a for a in alerts if a["due_on"] != due[(a["county"], a["rule"])]] == []
    assert [a for a in alerts if a["due_basis"] is not None] == []
    in_2027 = {a["due_on"] for a in alerts if a["due_on"].year == 2027}
    # 10 working days: 29-31 December, 5-8 and 11-13 January (12 January on the provisional 2027).
    assert dt.date(2027, 1, 13) in in_2027
