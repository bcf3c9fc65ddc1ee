"""Benchmark of the county batch work: synthetic generation and the monthly run, at scale.

For each population size it generates a synthetic population of counties of ``--county-size``
persons (``safetynet synth``), then runs one month over it (``safetynet run-month``), each in its
own process so that the peak memory (RSS) of each stage is measured on its own. The run is timed
twice: Parquet results only, and Parquet plus the registry (SQLite: run, county summaries and one
row per household and program with a result).

    ./run bench batch                       # 1 M and 10 M persons
    ./run bench batch --persons 200000      # a quick look

Results go to stdout as Markdown and to bench/results/batch-<date>.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAFETYNET = str(Path(sys.executable).with_name("safetynet"))
FALLBACKS = str(ROOT / "examples" / "illustrative_locality.yaml")


@dataclass
class Stage:
    seconds: float
    peak_rss_mib: float


def run_stage(args: list[str]) -> Stage:
    """Run one CLI command in its own process; wall time and that process's peak RSS."""
    started = time.perf_counter()
    proc = subprocess.Popen([SAFETYNET, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"safetynet {' '.join(args)} failed: {stderr}")
    return Stage(elapsed, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


def county_codes(n: int) -> list[str]:
    """``n`` real county-level codes (Hebei, then Shanxi, … in code order)."""
    from safetynet.domain.regions import RegionLevel, default_registry

    codes = [r.code for r in default_registry().regions(RegionLevel.COUNTY)]
    return codes[:n]


@dataclass
class Row:
    persons: int
    counties: int
    generate: Stage
    run_parquet: Stage
    run_registry: Stage


def bench_size(persons: int, county_size: int, month: str, workdir: Path, seed: int) -> Row:
    n_counties = max(1, -(-persons // county_size))
    folder = workdir / f"p{persons}"
    if folder.exists():
        shutil.rmtree(folder)
    snapshot = folder / "population"
    codes = ",".join(county_codes(n_counties))
    generate = run_stage(
        ["synth", "--persons", str(persons), "--counties", codes, "--seed", str(seed),
         "--out", str(snapshot), "--date", f"{month}-01", "--quiet"]
    )  # fmt: skip
    common = ["run-month", "--month", month, "--snapshot", str(snapshot), "--quiet",
              "--fallback-parameters", FALLBACKS]  # fmt: skip
    parquet = run_stage([*common, "--out", str(folder / "results-parquet"), "--no-registry"])
    db_url = f"sqlite:///{folder / 'registry.db'}"
    subprocess.run([SAFETYNET, "db", "upgrade", "--url", db_url], check=True, capture_output=True)
    registry = run_stage([*common, "--out", str(folder / "results-registry"), "--url", db_url])
    shutil.rmtree(folder)
    return Row(persons, n_counties, generate, parquet, registry)


def growth_line(a_persons: int, a_seconds: float, b_persons: int, b_seconds: float) -> str:
    """How time per person grows from the smaller size to the larger one."""
    growth = (b_seconds / a_seconds) / (b_persons / a_persons)
    return f"Time per person, {b_persons:,} vs {a_persons:,}: {growth:.2f}× (1.00 = linear)."


def fmt_rate(persons: int, seconds: float) -> str:
    return f"{persons / seconds / 1e6:.2f} M/s" if seconds else "-"


def report(rows: list[Row], county_size: int, month: str) -> str:
    lines = [
        f"# Batch benchmark, {dt.date.today()}",
        "",
        f"- Machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}",
        f"- Counties of {county_size:,} persons; month {month}; every program; parameters: regional "
        f"values where the county has them, else the illustrative locality ({FALLBACKS}, [I])",
        "- Each stage runs in its own process; peak RSS is that process's high-water mark.",
        "",
        "| Persons | Counties | Generate | Gen. peak RSS | Monthly run (Parquet) | Persons/s | Run peak RSS | Monthly run (Parquet + registry) | Persons/s | Run peak RSS |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.persons:,} | {r.counties} | {r.generate.seconds:.1f} s | {r.generate.peak_rss_mib:,.0f} MiB "
            f"| {r.run_parquet.seconds:.1f} s | {fmt_rate(r.persons, r.run_parquet.seconds)} "
            f"| {r.run_parquet.peak_rss_mib:,.0f} MiB | {r.run_registry.seconds:.1f} s "
            f"| {fmt_rate(r.persons, r.run_registry.seconds)} | {r.run_registry.peak_rss_mib:,.0f} MiB |"
        )
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        lines += [
            "",
            growth_line(a.persons, a.run_parquet.seconds, b.persons, b.run_parquet.seconds),
        ]
    lines += [
        "",
        "Targets (issue 3): 10 M persons monthly run ≤ 3 minutes on 2 cores, peak RSS ≤ 6 GiB, "
        "time growing linearly with persons.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--county-size", type=int, default=1_000_000)
    parser.add_argument("--month", default="2025-09")
    parser.add_argument("--seed", type=int, default=20250901)
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench-batch")
    args = parser.parse_args()
    # Throwaway registries: a key of their own, never the office's (docs/audit.md).
    os.environ.setdefault("SAFETYNET_AUDIT_KEY", f"bench:{secrets.token_hex(32)}")
    os.environ.setdefault("SAFETYNET_AUDIT_CHECKPOINTS", str(args.workdir / "audit.jsonl"))
    rows = []
    for persons in args.persons:
        row = bench_size(persons, args.county_size, args.month, args.workdir, args.seed)
        print(f"{persons:,} persons done: run {row.run_parquet.seconds:.1f} s", file=sys.stderr)
        rows.append(row)
    text = report(rows, args.county_size, args.month)
    print(text)
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"batch-{dt.date.today()}.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
