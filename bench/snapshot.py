"""Benchmark of the registry's snapshot export (``safetynet snapshot``) on SQLite and PostgreSQL.

For each size it prepares (not timed, reported): a synthetic population in counties of
``--county-size`` persons (``safetynet synth``) and a registry holding all of it — every household
and person, their income, assets, the dibao and tekun caseload and the program facts
(``safetynet import caseload --everyone``). Then it times ``safetynet snapshot`` of the month,
``--runs`` times in its own process (the first run with cold caches of the database file, the best
of all runs), with the load average before each run and the peak RSS.

    ./run bench snapshot                              # 1 M persons, SQLite and PostgreSQL
    ./run bench snapshot --persons 200000 --sqlite    # a quick look

Results go to stdout as Markdown and to bench/results/snapshot-<date>.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import FALLBACKS, SAFETYNET, Stage, county_codes, run_stage
from cycle import drop_postgres_database, postgres_database
from environment import machine, revision

ROOT = Path(__file__).resolve().parents[1]


def _count(url: str, table: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


@dataclass
class Result:
    load: Stage  # the registry load (not timed in the figures)
    runs: list[tuple[Stage, float]]  # each export and the load average before it
    counts: dict[str, int]


def bench_backend(backend: str, snapshot: Path, folder: Path, month: str, runs: int) -> Result:
    url = f"sqlite:///{folder / 'registry.db'}" if backend == "sqlite" else postgres_database()
    try:
        subprocess.run([SAFETYNET, "db", "upgrade", "--url", url], check=True, capture_output=True)
        load = run_stage(
            ["import", "caseload", "--month", month, "--snapshot", str(snapshot),
             "--everyone", "--fallback-parameters", FALLBACKS, "--url", url, "--quiet"]
        )  # fmt: skip
        counts = {t: _count(url, t) for t in ("persons", "person_facts", "household_facts",
                                              "income_items", "enrolments")}  # fmt: skip
        timed: list[tuple[Stage, float]] = []
        for i in range(runs):
            before = os.getloadavg()[0]
            out = folder / f"snap-{backend}-{i}"
            args = ["snapshot", "--month", month, "--out", str(out), "--url", url, "--quiet"]
            timed.append((run_stage(args), before))
            shutil.rmtree(out)
    finally:
        if backend == "postgres":
            drop_postgres_database(url)
    return Result(load, timed, counts)


def report(persons: int, counties: int, month: str, rows: dict[str, Result]) -> str:
    lines = [
        f"Snapshot export of {persons:,} persons in {counties} counties, month {month}",
        f"({machine()}, revision {revision()}, {dt.date.today()}).",
        "",
        "| backend | load (untimed) | rows | first run | best run | persons/s (best) "
        "| peak RSS | load average |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for backend, result in rows.items():
        timed, counts = result.runs, result.counts
        best = min(s.seconds for s, _ in timed)
        loads = ", ".join(f"{load:.1f}" for _, load in timed)
        rows_text = ", ".join(f"{k} {v:,}" for k, v in counts.items())
        lines.append(
            f"| {backend} | {result.load.seconds:.0f} s | {rows_text} | "
            f"{timed[0][0].seconds:.1f} s | {best:.1f} s | {persons / best:,.0f} | "
            f"{max(s.peak_rss_mib for s, _ in timed):.0f} MiB | {loads} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--county-size", type=int, default=200_000)
    parser.add_argument("--month", default="2025-09")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sqlite", action="store_true", help="SQLite only")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    backends = ["sqlite"] if args.sqlite else ["postgres"] if args.postgres else [
        "sqlite", "postgres"]  # fmt: skip
    n_counties = max(1, -(-args.persons // args.county_size))
    with tempfile.TemporaryDirectory(prefix="bench-snapshot-") as tmp:
        folder = Path(tmp)
        os.environ.setdefault("SAFETYNET_AUDIT_KEY", f"bench:{secrets.token_hex(32)}")
        os.environ.setdefault("SAFETYNET_AUDIT_CHECKPOINTS", str(folder / "audit.jsonl"))
        snapshot = folder / "population"
        run_stage(["synth", "--persons", str(args.persons), "--counties",
                   ",".join(county_codes(n_counties)), "--seed", str(args.seed),
                   "--out", str(snapshot), "--date", f"{args.month}-01", "--quiet"])  # fmt: skip
        rows = {b: bench_backend(b, snapshot, folder, args.month, args.runs) for b in backends}
    text = report(args.persons, n_counties, args.month, rows)
    print(text)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"snapshot-{dt.date.today()}.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
