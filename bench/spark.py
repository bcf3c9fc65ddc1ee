"""Benchmark of the Spark engine against the local engine: the month's population stages.

For each population size it prepares (not timed, reported) a synthetic population in counties of
``--county-size`` persons and that month's department feeds, then times, each in its own process,
``safetynet run-month --no-registry`` with the feeds, comparison, alerts and rules stages and the
step across counties on:

- the local engine with 2 and with 1 worker processes;
- the Spark engine on ``local[2]`` and ``local[1]`` (Spark's own start-up included, and reported
  apart: the time of the population stage and of the step across counties as the command prints
  them).

    ./run bench spark                        # 1 M and 10 M persons
    ./run bench spark --persons 200000       # a quick look
    ./run bench spark --cores 2              # 2 cores only (local[2] and 2 workers)

Results go to stdout as Markdown and to bench/results/spark-<date>.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import FALLBACKS, SAFETYNET, county_codes, run_stage
from environment import machine, revision

ROOT = Path(__file__).resolve().parents[1]
ENGINES = [
    ("local", ["--engine", "local", "--workers", "2"], 2),
    ("spark", ["--engine", "spark", "--spark-master", "local[2]"], 2),
    ("local", ["--engine", "local", "--workers", "1"], 1),
    ("spark", ["--engine", "spark", "--spark-master", "local[1]"], 1),
]


@dataclass
class Run:
    engine: str
    cores: int
    seconds: float  # the whole command, start-up included
    stages: dict[str, float]  # as the command reports them


@dataclass
class Row:
    persons: int
    counties: int
    prepare: float
    runs: list[Run]


def run_month(args: list[str]) -> tuple[float, dict[str, float]]:
    started = time.perf_counter()
    done = subprocess.run([SAFETYNET, *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"safetynet {' '.join(args)} failed: {done.stderr[-3000:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("Stage times:"))
    stages = {m[0]: float(m[1]) for m in re.findall(r"([a-z ]+?) ([\d.]+) s", line[12:])}
    return elapsed, {k.strip(): v for k, v in stages.items()}


def bench_size(
    persons: int, county_size: int, month: str, workdir: Path, seed: int, cores: list[int]
) -> Row:
    n_counties = max(1, -(-persons // county_size))
    folder = workdir / f"p{persons}"
    if folder.exists():
        shutil.rmtree(folder)
    snapshot, feeds = folder / "population", folder / "feeds"
    codes = ",".join(county_codes(n_counties))
    started = time.perf_counter()
    run_stage(
        ["synth", "--persons", str(persons), "--counties", codes, "--seed", str(seed),
         "--out", str(snapshot), "--date", f"{month}-01", "--quiet"]
    )  # fmt: skip
    run_stage(
        ["synth-feeds", "--snapshot", str(snapshot), "--out", str(feeds), "--month", month,
         "--seed", str(seed)]
    )  # fmt: skip
    prepare = time.perf_counter() - started
    runs = []
    for i, (engine, options, n) in enumerate(ENGINES):
        if n not in cores:
            continue
        seconds, stages = run_month(
            ["run-month", "--month", month, "--snapshot", str(snapshot), "--feeds", str(feeds),
             "--out", str(folder / f"results-{i}"), "--no-registry", "--quiet",
             "--fallback-parameters", FALLBACKS, *options]
        )  # fmt: skip
        runs.append(Run(engine, n, seconds, stages))
        print(f"{persons:,} {engine} {n} cores: {seconds:.1f} s {stages}", file=sys.stderr)
    shutil.rmtree(folder)
    return Row(persons, n_counties, prepare, runs)


def report(rows: list[Row], county_size: int, month: str, load: str) -> str:
    lines = [
        f"# Spark engine benchmark, {dt.date.today()}",
        "",
        f"- Machine: {machine()}; Python {sys.version.split()[0]}; revision {revision()}",
        f"- Load average before / after: {load} / {os.getloadavg()}",
        f"- Counties of {county_size:,} persons; month {month}; feeds, comparison, alerts, every "
        "program, the step across counties; Parquet only (no registry).",
        "- Whole command: process start-up, Spark's JVM and session included. Population: the "
        "county stage as the command reports it; across: the step across counties.",
        "",
        "| Persons | Cores | Local: whole | Local: population | Local: across | Spark: whole "
        "| Spark: population | Spark: across | Spark / local |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        for cores in sorted({x.cores for x in r.runs}, reverse=True):
            local = next(x for x in r.runs if x.engine == "local" and x.cores == cores)
            spark = next(x for x in r.runs if x.engine == "spark" and x.cores == cores)
            lines.append(
                f"| {r.persons:,} | {cores} | {local.seconds:.1f} s "
                f"| {local.stages.get('population', 0):.1f} s "
                f"| {local.stages.get('across counties', 0):.1f} s | {spark.seconds:.1f} s "
                f"| {spark.stages.get('population', 0):.1f} s "
                f"| {spark.stages.get('across counties', 0):.1f} s "
                f"| {spark.seconds / local.seconds:.2f}× |"
            )
        one = next((x for x in r.runs if x.engine == "spark" and x.cores == 1), None)
        two = next((x for x in r.runs if x.engine == "spark" and x.cores == 2), None)
        if one is None or two is None:
            continue
        pop1, pop2 = one.stages.get("population", 0), two.stages.get("population", 0)
        lines += [
            "",
            f"{r.persons:,} persons, Spark 1 → 2 cores: population stage {pop1:.1f} s → "
            f"{pop2:.1f} s ({pop1 / pop2 if pop2 else 0:.2f}× faster); per core "
            f"{r.persons / pop1 if pop1 else 0:,.0f} persons/s on one core.",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--county-size", type=int, default=250_000)
    parser.add_argument("--cores", type=int, nargs="+", default=[2, 1], choices=[1, 2])
    parser.add_argument("--month", default="2025-09")
    parser.add_argument("--seed", type=int, default=20250901)
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench-spark")
    args = parser.parse_args()
    load = str(os.getloadavg())
    rows = [
        bench_size(persons, args.county_size, args.month, args.workdir, args.seed, args.cores)
        for persons in args.persons
    ]
    text = report(rows, args.county_size, args.month, load)
    print(text)
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"spark-{dt.date.today()}.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
