"""Benchmark of bulk intake: a county's household list, payee accounts and contribution records,
each imported through the command line into a fresh registry, on PostgreSQL or SQLite.

Prepared, not timed: a synthetic population (``safetynet synth``, one county of ``--persons``,
seed 20250901), and from it the three input files as an office or agency delivers them
(bench/intake_data.py: the household list of every person with wages and deposits, one account
per household for the first ``--accounts`` households, ``--contributions`` monthly rows for the
persons of working age), each with a few planted bad rows. Then, timed, in one fresh registry
per repeat and in this order (each file needs the one before):

1. ``safetynet import households FILE`` (reading, every row checked, every household written);
2. ``safetynet payments accounts import FILE``;
3. ``safetynet contributions import FILE --set insurance.employee_pension.average_wage_monthly=…``.

Each command runs in its own process; the time includes start-up and imports (about 2 s), reading
the file, validation, writing and the quarantine file. Rows/s = rows of the file ÷ seconds.

    ./run bench intake                                   # 1 M persons, 100 k accounts, 10 M rows
    ./run bench intake --persons 200000 --accounts 20000 --contributions 1000000   # a quick look
    ./run bench intake --sqlite                          # the embedded registry instead
    ./run bench intake --only households --counties 10 --snapshot   # 10 M persons, then the snapshot

With ``--counties K`` the population is K counties of ``--persons`` each and every county's office
delivers its own household list: the K lists are imported in turn into the one registry (each
import timed; the table gives the slowest, the sum and the registry's size at the end), as a
province's counties would load theirs. ``--snapshot`` then times ``safetynet snapshot`` of the
month over the whole registry, one county at a time (``--workers 1``) and two at once.

The same commands time the code of another revision when its sources come first on the path
(``PYTHONPATH=/path/to/other/src ./run bench intake …``), which is how the "before" figures of
docs/performance.md were taken. Results go to stdout as Markdown and to
bench/results/intake-<date>.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import SAFETYNET, county_codes, run_stage
from environment import machine, revision
from intake_data import AVERAGE_WAGE_YUAN, write_accounts, write_contributions, write_households

ROOT = Path(__file__).resolve().parents[1]
MONTH = "2025-08"
MAINTENANCE = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_database() -> str:
    """A fresh, empty PostgreSQL database on the local service; its URL."""
    import psycopg

    name = f"safetynet_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(MAINTENANCE, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(MAINTENANCE, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Run:
    seconds: float
    cpu_seconds: float  # the command's own user + system time (not the database server's)
    peak_rss_mib: float
    load: float = 0.0  # 1-minute load average when the command ended (2 cores, shared machine)


@dataclass
class Timing:
    what: str
    rows: int
    runs: list[Run]

    @property
    def best(self) -> Run:
        return min(self.runs, key=lambda s: s.seconds)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (5 min {five:.2f})"


def _commands(files: dict[str, Path], url: str) -> dict[str, list[str]]:
    wage = f"insurance.employee_pension.average_wage_monthly={AVERAGE_WAGE_YUAN}"
    return {
        "households": ["import", "households", str(files["households"]), "--as-of",
                       "2025-09-01", "--month", MONTH, "--url", url, "--quiet"],
        "accounts": ["payments", "accounts", "import", str(files["accounts"]), "--url", url],
        "contributions": ["contributions", "import", str(files["contributions"]), "--as-of",
                          "2025-09-15", "--set", wage, "--url", url, "--quiet"],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--contributions", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="fresh registries, best counts")
    parser.add_argument(
        "--only",
        nargs="+",
        default=["households", "accounts", "contributions"],
        choices=["households", "accounts", "contributions"],
    )
    parser.add_argument("--seed", type=int, default=20250901)
    parser.add_argument("--sqlite", action="store_true", help="The embedded registry instead.")
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench-intake")
    parser.add_argument("--counties", type=int, default=1, help="counties of --persons each")
    parser.add_argument("--snapshot", action="store_true", help="then time safetynet snapshot")
    args = parser.parse_args()
    if args.counties > 1 or args.snapshot:
        if args.only != ["households"]:
            parser.error("--counties and --snapshot go with --only households")
        province(args)
        return
    os.environ.setdefault("SAFETYNET_AUDIT_KEY", f"bench:{secrets.token_hex(32)}")
    os.environ.setdefault("SAFETYNET_AUDIT_CHECKPOINTS", str(args.workdir / "audit.jsonl"))
    args.workdir.mkdir(parents=True, exist_ok=True)
    snapshot = args.workdir / "population"
    load_before = _load()
    run_stage(["synth", "--persons", str(args.persons), "--counties", county_codes(1)[0],
               "--seed", str(args.seed), "--out", str(snapshot), "--date", "2025-09-01",
               "--quiet"])  # fmt: skip
    files = {k: args.workdir / f"{k}.csv" for k in ("households", "accounts", "contributions")}
    # Each file needs the one before: the stages up to the last one asked for are prepared and run.
    order = ("households", "accounts", "contributions")
    needed = order[: 1 + max(order.index(k) for k in args.only)]
    writers = {
        "households": lambda: write_households(snapshot, files["households"], MONTH),
        "accounts": lambda: write_accounts(
            snapshot, files["accounts"], args.accounts, "2025-09-01"
        ),
        "contributions": lambda: write_contributions(
            snapshot, files["contributions"], args.contributions
        ),
    }
    rows = {k: writers[k]() for k in needed}
    timings = {k: Timing(k, rows[k], []) for k in rows}
    for i in range(args.repeat):
        url = (
            f"sqlite:///{args.workdir / f'registry-{i}.db'}" if args.sqlite else postgres_database()
        )
        try:
            subprocess.run(
                [SAFETYNET, "db", "upgrade", "--url", url], check=True, capture_output=True
            )
            for what, command in _commands(files, url).items():
                if what not in needed:
                    continue
                stage = _import(command)
                if what in args.only:
                    timings[what].runs.append(stage)
                print(
                    f"run {i + 1}: {what} {stage.seconds:.1f} s (load {_load()})", file=sys.stderr
                )
        finally:
            if args.sqlite:
                Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            else:
                drop_postgres_database(url)
    text = _report(args, [timings[k] for k in args.only], load_before)
    print(text)
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"intake-{dt.date.today()}.md").write_text(text + "\n", encoding="utf-8")
    shutil.rmtree(snapshot, ignore_errors=True)


def province(args: argparse.Namespace) -> None:
    """K counties' household lists imported in turn into one registry; then, if asked, the
    registry's snapshot of the month."""
    os.environ.setdefault("SAFETYNET_AUDIT_KEY", f"bench:{secrets.token_hex(32)}")
    os.environ.setdefault("SAFETYNET_AUDIT_CHECKPOINTS", str(args.workdir / "audit.jsonl"))
    args.workdir.mkdir(parents=True, exist_ok=True)
    population = args.workdir / "population"
    codes = county_codes(args.counties)
    load_before = _load()
    run_stage(["synth", "--persons", str(args.persons * args.counties), "--counties",
               ",".join(codes), "--seed", str(args.seed), "--out", str(population), "--date",
               "2025-09-01", "--quiet"])  # fmt: skip
    files = {c: args.workdir / f"households-{c}.csv" for c in codes}
    rows = {c: write_households(population, files[c], MONTH, county=c) for c in codes}
    shutil.rmtree(population, ignore_errors=True)
    url = f"sqlite:///{args.workdir / 'registry.db'}" if args.sqlite else postgres_database()
    lines = [
        f"# Intake benchmark, {args.counties} counties, {dt.date.today()}",
        "",
        f"- Machine: {machine()}; Python {sys.version.split()[0]}; revision {revision()}",
        f"- Registry: {'SQLite (embedded)' if args.sqlite else 'PostgreSQL (local service)'}; "
        f"{args.counties} counties of {args.persons:,} persons, each county's list imported in turn",
        f"- Load average before: {load_before}",
        "",
        "| County | Rows | Import | CPU of the command | Peak RSS | Load at the end |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    runs: list[Run] = []
    try:
        subprocess.run([SAFETYNET, "db", "upgrade", "--url", url], check=True, capture_output=True)
        for c in codes:
            command = ["import", "households", str(files[c]), "--as-of", "2025-09-01",
                       "--month", MONTH, "--url", url, "--quiet"]  # fmt: skip
            run = _import(command)
            runs.append(run)
            print(f"{c}: {run.seconds:.1f} s (load {_load()})", file=sys.stderr)
            lines.append(
                f"| {c} | {rows[c]:,} | {run.seconds:.1f} s | {run.cpu_seconds:.1f} s "
                f"| {run.peak_rss_mib:,.0f} MiB | {run.load:.1f} |"
            )
        total = sum(rows.values())
        seconds = sum(r.seconds for r in runs)
        lines += [
            "",
            f"All {args.counties} counties: {total:,} rows in {seconds:.1f} s "
            f"({total / seconds:,.0f} rows/s); slowest county {max(r.seconds for r in runs):.1f} s, "
            f"first {runs[0].seconds:.1f} s, last {runs[-1].seconds:.1f} s.",
        ]
        for workers in (1, 2) if args.snapshot else ():
            out = args.workdir / "snapshot"
            command = ["snapshot", "--month", "2025-09", "--out", str(out), "--url", url,
                       "--workers", str(workers), "--quiet"]  # fmt: skip
            run = _import(command)
            lines += [
                "",
                f"`safetynet snapshot --month 2025-09 --workers {workers}` of the whole registry: "
                f"{run.seconds:.1f} s ({total / run.seconds:,.0f} persons/s), CPU of the command "
                f"{run.cpu_seconds:.1f} s, peak RSS "
                f"{run.peak_rss_mib:,.0f} MiB, load at the end {run.load:.1f}.",
            ]
            shutil.rmtree(out, ignore_errors=True)
    finally:
        if args.sqlite:
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        else:
            drop_postgres_database(url)
        for path in files.values():
            path.unlink(missing_ok=True)
    lines.append(f"\nLoad average after: {_load()}")
    text = "\n".join(lines)
    print(text)
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"intake-{args.counties}-counties-{dt.date.today()}.md").write_text(
        text + "\n", encoding="utf-8"
    )


# Runs one command and reports (exit code, CPU seconds, peak RSS in KiB) of it alone. Linux keeps
# a process's peak RSS across fork and exec, so a command started directly by this process (which
# holds the generated files' frames) would report at least this process's peak: a small launcher
# started first gives the command a small parent.
_LAUNCHER = """
import json, os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump([os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime,
               usage.ru_maxrss], out)
"""


def _import(command: list[str]) -> Run:
    """Run one import in its own process: wall time, CPU and peak RSS of that process. Exit
    status 1 (rows quarantined: the planted bad rows) is the expected outcome; 2 or worse is a
    failure."""
    measures = Path(os.environ.get("TMPDIR", "/tmp")) / f"intake-{uuid.uuid4().hex}.json"
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, str(measures), SAFETYNET, *command],
        capture_output=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    code, cpu, peak_kib = json.loads(measures.read_text())
    measures.unlink()
    if code not in (0, 1) or proc.returncode != 0:
        raise SystemExit(f"safetynet {' '.join(command)} failed ({code}): {proc.stderr.decode()}")
    sys.stderr.write(proc.stdout.decode())
    return Run(elapsed, cpu, peak_kib / 1024, os.getloadavg()[0])


def _report(args: argparse.Namespace, timings: list[Timing], load_before: str) -> str:
    database = "SQLite (embedded)" if args.sqlite else "PostgreSQL (local service)"
    lines = [
        f"# Intake benchmark, {dt.date.today()}",
        "",
        f"- Machine: {machine()}; Python {sys.version.split()[0]}; revision {revision()}",
        f"- Registry: {database}; population {args.persons:,} persons in one county; "
        f"{args.repeat} fresh registr{'y' if args.repeat == 1 else 'ies'}",
        f"- Load average before: {load_before}; after: {_load()}",
        "",
        "| Import | Rows | First run | Best run | Rows/s (best) | CPU of the command (best run) "
        "| Peak RSS | Load (first, best) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in timings:
        best = t.best
        lines.append(
            f"| {t.what} | {t.rows:,} | {t.runs[0].seconds:.1f} s | {best.seconds:.1f} s "
            f"| {t.rows / best.seconds:,.0f} | {best.cpu_seconds:.1f} s "
            f"| {best.peak_rss_mib:,.0f} MiB | {t.runs[0].load:.1f}, {best.load:.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
