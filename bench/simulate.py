"""Benchmark of reform simulation against one monthly rules run over the same population.

For each population size it generates a synthetic population in counties of ``--county-size``
persons (``safetynet synth``, not timed), then times, each in its own process:

1. ``safetynet run-month --stage rules --no-registry --workers 1``: one monthly rules run (every
   program for every household, results written to Parquet), in one process like the simulation;
2. ``safetynet simulate``: the baseline and a reform raising the first county's dibao standard by
   10 %, every program, with the XLSX and the charts written; once per engine of ``--engines``
   (``local:N``: N worker processes, ``local:1`` one county after another in the process;
   ``spark:MASTER``: Spark on MASTER, e.g. ``spark:local[2]``; default ``local:1``).

The target (issue 14): a reform ≤ 2 × the time of one monthly rules run. Peak RSS is each
process's high-water mark (not its worker processes' nor Spark's JVM).

    ./run bench simulate                       # 1 M persons
    ./run bench simulate --persons 1000000 10000000
    ./run bench simulate --engines local:1 local:2 'spark:local[2]'

Results go to stdout as Markdown and to bench/results/simulate-<date>.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import FALLBACKS, Stage, county_codes, run_stage
from environment import machine, revision

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Row:
    persons: int
    counties: int
    rules: Stage
    simulate: dict[str, Stage]  # engine → its run


def engine_options(engine: str) -> list[str]:
    """``local:N`` or ``spark:MASTER`` as ``safetynet simulate`` options."""
    name, _, where = engine.partition(":")
    if name == "local" and where.isdigit():
        return ["--engine", "local", "--workers", where]
    if name == "spark" and where:
        return ["--engine", "spark", "--spark-master", where]
    raise SystemExit(f"--engines: {engine!r} is neither local:N nor spark:MASTER")


def bench_size(
    persons: int, county_size: int, month: str, workdir: Path, seed: int, engines: list[str]
) -> Row:
    n_counties = max(1, -(-persons // county_size))
    folder = workdir / f"p{persons}"
    if folder.exists():
        shutil.rmtree(folder)
    snapshot = folder / "population"
    codes = county_codes(n_counties)
    run_stage(["synth", "--persons", str(persons), "--counties", ",".join(codes), "--seed",
               str(seed), "--out", str(snapshot), "--date", f"{month}-01", "--quiet"])  # fmt: skip
    reform = folder / "reform.yaml"
    # The illustrative locality answers where a county has no standard: the reform scales the
    # value in force at the county, so it is given there as the fallback's value × 1.1.
    reform.write_text(_reform(codes[0]), encoding="utf-8")
    rules = run_stage(["run-month", "--month", month, "--snapshot", str(snapshot), "--quiet",
                       "--stage", "rules", "--no-registry", "--workers", "1",
                       "--fallback-parameters", FALLBACKS, "--out", str(folder / "run")])  # fmt: skip
    simulate = {
        engine: run_stage(["simulate", "--reform", str(reform), "--month", month, "--snapshot",
                           str(snapshot), "--fallback-parameters", FALLBACKS, "--quiet",
                           *engine_options(engine), "--out", str(folder / f"simulation-{i}")])
        for i, engine in enumerate(engines)
    }  # fmt: skip
    shutil.rmtree(folder)
    return Row(persons, n_counties, rules, simulate)


def _reform(county: str) -> str:
    """A 10 % raise of ``county``'s standards: a value where the county's lineage has one, else
    the illustrative locality's value × 1.1 (a scale needs a value in force)."""
    import yaml

    fallback = yaml.safe_load(Path(FALLBACKS).read_text(encoding="utf-8"))
    lines = [f"name: raise {county}'s dibao standard by 10 % (benchmark)", "changes:"]
    for kind in ("urban", "rural"):
        yuan = fallback[f"assistance.dibao.standard_monthly_{kind}"]
        lines += [f"  - parameter: assistance.dibao.standard_monthly_{kind}",
                  f'    region: "{county}"', "    from: 2020-01-01",
                  f"    value: {round(yuan * 1.1, 2)}"]  # fmt: skip
    return "\n".join(lines) + "\n"


def report(rows: list[Row], county_size: int, month: str) -> str:
    lines = [
        f"# Reform simulation benchmark, {dt.date.today()}",
        "",
        f"- {machine()}; revision {revision()}",
        f"- Counties of {county_size:,} persons; month {month}; every program; regional values "
        f"where the county has them, else the illustrative locality [I]",
        "- Each command runs in its own process; peak RSS is that process's high-water mark; "
        f"load average at the end {os.getloadavg()[0]:.2f}.",
        "",
        "| Persons | Counties | Monthly rules run | Peak RSS | Engine | Reform simulation | "
        "Peak RSS | Ratio |",
        "|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        for engine, run in r.simulate.items():
            ratio = run.seconds / r.rules.seconds
            lines.append(
                f"| {r.persons:,} | {r.counties} | {r.rules.seconds:.1f} s | "
                f"{r.rules.peak_rss_mib:,.0f} MiB | {engine} | {run.seconds:.1f} s | "
                f"{run.peak_rss_mib:,.0f} MiB | {ratio:.2f}× |"
            )
    lines += ["", "Target (issue 14): a reform ≤ 2 × one monthly rules run."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--county-size", type=int, default=500_000)
    parser.add_argument("--month", default="2025-09")
    parser.add_argument("--seed", type=int, default=20250901)
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench-simulate")
    parser.add_argument("--engines", nargs="+", default=["local:1"],
                        help="local:N (N workers) or spark:MASTER, e.g. spark:local[2]")  # fmt: skip
    args = parser.parse_args()
    for engine in args.engines:
        engine_options(engine)  # checked before any work
    rows = [bench_size(p, args.county_size, args.month, args.workdir, args.seed, args.engines)
            for p in args.persons]  # fmt: skip
    text = report(rows, args.county_size, args.month)
    print(text)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"simulate-{dt.date.today()}.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
