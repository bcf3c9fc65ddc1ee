"""Benchmark of the full monthly cycle: feeds → comparison → alerts → rules → payments.

For each population size it prepares (not timed, reported):

1. a synthetic population in counties of ``--county-size`` persons (``safetynet synth``);
2. that month's department feeds for it, 14 kinds with planted discrepancies and bad rows
   (``safetynet synth-feeds``);
3. a registry database (PostgreSQL by default, a fresh database per size; ``--sqlite`` for the
   embedded one) holding the county's dibao and tekun caseload (``safetynet import caseload``) and
   their social-security-card accounts;

then times ``safetynet run-month`` with every stage — validate every feed row, compare, raise and
store alerts, evaluate every program for every household, roll the month's payment instructions
and write the bank files — in its own process. Peak RSS is the largest sum of the resident memory
of the command and its worker processes, sampled every 0.1 s.

    ./run bench cycle                        # 1 M and 10 M persons, two months each
    ./run bench cycle --persons 200000       # a quick look
    ./run bench cycle --months 1             # the first month of a fresh registry only

From the second month on the roll reads the instructions of the months paid before (ADR 0034);
each month's stage times are reported.

Results go to stdout as Markdown and to bench/results/cycle-<date>.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import FALLBACKS, SAFETYNET, Stage, county_codes, growth_line, run_stage
from environment import machine, revision

ROOT = Path(__file__).resolve().parents[1]
MAINTENANCE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass
class Row:
    persons: int
    counties: int
    feed_rows: int
    enrolments: int
    prepare: dict[str, Stage]
    cycle: Stage
    report: str
    later: list[tuple[str, Stage, str]]  # the months after the first: month, cycle, run report


def run_tree(args: list[str]) -> tuple[Stage, str]:
    """Run one CLI command; wall time and the peak RSS of it and its children together."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [SAFETYNET, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                total = root.memory_info().rss + sum(
                    c.memory_info().rss for c in root.children(recursive=True)
                )
            except psutil.Error:
                total = 0
            peak = max(peak, total)
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"safetynet {' '.join(args)} failed: {stderr}")
    return Stage(elapsed, peak / 2**20), stdout


def postgres_database() -> str:
    import psycopg

    name = f"safetynet_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return MAINTENANCE_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def following(month: str, count: int) -> list[str]:
    """The ``count`` months after ``month`` (YYYY-MM)."""
    year, number = map(int, month.split("-"))
    out = []
    for _ in range(count):
        year, number = year + number // 12, number % 12 + 1
        out.append(f"{year:04d}-{number:02d}")
    return out


def stage_times(run_report: str) -> str:
    """The run's "Stage times: …" line, without its label."""
    found = re.search(r"Stage times: (.*)", run_report)
    return found.group(1).strip() if found else "-"


def bench_size(
    persons: int,
    county_size: int,
    month: str,
    workdir: Path,
    seed: int,
    sqlite: bool,
    months: int = 1,
) -> Row:
    n_counties = max(1, -(-persons // county_size))
    folder = workdir / f"p{persons}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    snapshot, feeds = folder / "population", folder / "feeds"
    codes = ",".join(county_codes(n_counties))
    prepare = {
        "population": run_stage(
            ["synth", "--persons", str(persons), "--counties", codes, "--seed", str(seed),
             "--out", str(snapshot), "--date", f"{month}-01", "--quiet"]
        ),
        "feeds": run_stage(
            ["synth-feeds", "--snapshot", str(snapshot), "--out", str(feeds), "--month", month,
             "--seed", str(seed)]
        ),
    }  # fmt: skip
    url = f"sqlite:///{folder / 'registry.db'}" if sqlite else postgres_database()
    try:
        subprocess.run([SAFETYNET, "db", "upgrade", "--url", url], check=True, capture_output=True)
        prepare["caseload"] = run_stage(
            ["import", "caseload", "--month", month, "--snapshot", str(snapshot),
             "--fallback-parameters", FALLBACKS, "--url", url, "--quiet"]
        )  # fmt: skip
        accounts = folder / "accounts.csv"
        prepare["accounts"] = run_stage(
            ["synth-accounts", "--out", str(accounts), "--valid-from", f"{month}-01",
             "--seed", str(seed), "--url", url]
        )  # fmt: skip
        run_stage(["payments", "accounts", "import", str(accounts), "--url", url])
        cycle, stdout = run_tree(
            ["run-month", "--month", month, "--snapshot", str(snapshot), "--feeds", str(feeds),
             "--out", str(folder / "results"), "--bank-files", str(folder / "bank"),
             "--fallback-parameters", FALLBACKS, "--url", url, "--quiet"]
        )  # fmt: skip
        enrolments = _count(url, "SELECT count(*) FROM enrolments")
        # The months after: the same registry, its instructions of every earlier month in it
        # (a roll reads them; the first month of a fresh registry has none).
        later = []
        for next_month in following(month, months - 1):
            next_feeds = folder / f"feeds-{next_month}"
            run_stage(
                ["synth-feeds", "--snapshot", str(snapshot), "--out", str(next_feeds),
                 "--month", next_month, "--seed", str(seed)]
            )  # fmt: skip
            later.append(
                (next_month, *run_tree(
                    ["run-month", "--month", next_month, "--snapshot", str(snapshot),
                     "--feeds", str(next_feeds), "--out", str(folder / "results"),
                     "--bank-files", str(folder / "bank"), "--fallback-parameters", FALLBACKS,
                     "--url", url, "--quiet"]
                ))
            )  # fmt: skip
    finally:
        if not sqlite:
            drop_postgres_database(url)
    manifest = json.loads((feeds / "manifest.json").read_text(encoding="utf-8"))
    feed_rows = sum(c["rows"] for kind in manifest["files"].values() for c in kind.values())
    shutil.rmtree(folder)
    return Row(persons, n_counties, feed_rows, enrolments, prepare, cycle, stdout, later)


def _count(url: str, query: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(query)).scalar_one())
    finally:
        engine.dispose()


def rate(persons: int, seconds: float) -> str:
    return f"{persons / seconds / 1e3:,.0f} k/s" if seconds else "-"


def report(rows: list[Row], county_size: int, month: str, sqlite: bool) -> str:
    database = "SQLite (embedded)" if sqlite else "PostgreSQL 15 (local service)"
    lines = [
        f"# Monthly cycle benchmark, {dt.date.today()}",
        "",
        f"- Machine: {machine()}; Python {sys.version.split()[0]}; revision {revision()}",
        f"- Counties of {county_size:,} persons; month {month}; registry: {database}",
        "- Timed: `safetynet run-month` with every stage (14 feed kinds validated row by row, "
        "comparison, alerts raised and stored, all 25 programs for every household, payment "
        "roll, bank files), workers = CPU count. Peak RSS: the command and its workers together.",
        "",
        "| Persons | Counties | Feed rows | Enrolments | Cycle | Persons/s | Peak RSS | "
        "Prepare: population | feeds | caseload |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        p = r.prepare
        lines.append(
            f"| {r.persons:,} | {r.counties} | {r.feed_rows:,} | {r.enrolments:,} "
            f"| {r.cycle.seconds:.1f} s | {rate(r.persons, r.cycle.seconds)} "
            f"| {r.cycle.peak_rss_mib / 1024:.2f} GiB | {p['population'].seconds:.1f} s "
            f"| {p['feeds'].seconds:.1f} s | {p['caseload'].seconds:.1f} s |"
        )
    lines += ["", "Stage times, month by month on the same registry:", ""]
    for r in rows:
        lines.append(f"- {r.persons:,} persons, {month}: {stage_times(r.report)}")
        for later_month, stage, run_report in r.later:
            lines.append(
                f"- {r.persons:,} persons, {later_month}: cycle {stage.seconds:.1f} s; "
                f"{stage_times(run_report)}"
            )
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        lines += ["", growth_line(a.persons, a.cycle.seconds, b.persons, b.cycle.seconds)]
    lines += [
        "",
        "Target (issue 5): 10 M persons ≤ 3 minutes on 2 cores, peak RSS ≤ 6 GiB, linear growth.",
        "",
        "Run report of the largest size:",
        "",
        "```",
        rows[-1].report.rstrip(),
        "```",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--county-size", type=int, default=500_000)
    parser.add_argument("--month", default="2025-09")
    parser.add_argument("--seed", type=int, default=20250901)
    parser.add_argument("--sqlite", action="store_true", help="The embedded registry instead.")
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench-cycle")
    parser.add_argument(
        "--months",
        type=int,
        default=2,
        help="Consecutive months run on the same registry (from the second on, the roll reads "
        "the months paid before).",
    )
    args = parser.parse_args()
    # Throwaway registries: a key of their own, never the office's (docs/audit.md).
    os.environ.setdefault("SAFETYNET_AUDIT_KEY", f"bench:{secrets.token_hex(32)}")
    os.environ.setdefault("SAFETYNET_AUDIT_CHECKPOINTS", str(args.workdir / "audit.jsonl"))
    rows = []
    for persons in args.persons:
        row = bench_size(
            persons,
            args.county_size,
            args.month,
            args.workdir,
            args.seed,
            args.sqlite,
            max(1, args.months),
        )
        print(f"{persons:,} persons: cycle {row.cycle.seconds:.1f} s", file=sys.stderr)
        rows.append(row)
    text = report(rows, args.county_size, args.month, args.sqlite)
    print(text)
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"cycle-{dt.date.today()}.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
