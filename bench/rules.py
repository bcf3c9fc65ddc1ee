"""Benchmark of the rules engine: one household in process, and whole populations in batch.

    ./run bench rules                       # 1 M and 10 M persons (chunks of 1 M), full report
    ./run bench rules --quick               # 100 k persons, 200 single-household runs (smoke test)
    ./run bench rules --persons 2000000 --chunk 500000 --repeat 3

(a) Single household, all programs: p50 / p95 latency of ``population_from_households`` on
    examples/dibao_household.json plus ``evaluate_all`` for every program, in process.
(b) Batch, for each size: a synthetic population (bench/population.py) processed in chunks, as the
    county runner will; per chunk, on the same arrays: every program, dibao alone, and the
    OpenFisca implementation of the dibao rule end to end (simulation built from the arrays, then
    calculated; bench/openfisca_dibao.py). OpenFisca's amounts must equal ours to the fen for every
    household it models, or the benchmark fails (exit status 1).

Parameters are the national tree plus examples/illustrative_locality.yaml as overrides. A program
that still lacks a parameter there (CoverageError) is skipped and reported as skipped. The table
is printed and written to bench/results/rules-<date>.md (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.metadata
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import yaml

import openfisca_dibao
from environment import machine, revision
from population import fields_defaulted, synthetic_population
from safetynet.errors import CoverageError
from safetynet.policy.calculate import read_json
from safetynet.policy.engine import Params, ProgramResult, evaluate_all, programs
from safetynet.policy.parameters import NATION, ParameterTree, coerce_value, default_tree
from safetynet.policy.population import Population, population_from_households

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "dibao_household.json"
LOCALITY = ROOT / "examples" / "illustrative_locality.yaml"
RESULTS = ROOT / "bench" / "results"
REGION = NATION
DEFAULT_DATE = dt.date(2026, 7, 1)
SEED = 20260701
TARGET_P50_MS = 5.0
TARGET_RATIO = 5.0

T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def peak_rss_mib() -> float:
    """The process's high-water mark of resident memory (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_overrides(tree: ParameterTree) -> dict[str, Any]:
    raw = yaml.safe_load(LOCALITY.read_text(encoding="utf-8")) or {}
    return {name: coerce_value(tree.spec(name), value, name) for name, value in raw.items()}


def fresh(pop: Population) -> Population:
    """The same arrays without cached derived data, so each timed run pays for its own."""
    return Population(
        persons=dict(pop.persons),
        households=dict(pop.households),
        household_of=pop.household_of,
        household_ids=pop.household_ids,
    )


def usable_programs(
    on: dt.date, overrides: Mapping[str, Any], seed: int
) -> tuple[list[str], dict[str, str]]:
    """Programs that run under the illustrative locality, and why the others are skipped."""
    probe = synthetic_population(20_000, seed=seed, on=on)
    example = population_from_households([read_json(EXAMPLE)])
    ok: list[str] = []
    skipped: dict[str, str] = {}
    for name in programs():
        try:
            for pop in (example, probe):
                evaluate_all(pop, on, REGION, overrides=overrides, only=[name])
        except CoverageError as exc:
            skipped[name] = str(exc).split(";")[0]
        else:
            ok.append(name)
    if "dibao" not in ok:
        raise SystemExit(f"dibao cannot run under {LOCALITY.name}: {skipped.get('dibao')}")
    return ok, skipped


# -- (a) one household --------------------------------------------------------------------------


@dataclass
class Latency:
    runs: int
    p50_ms: float
    p95_ms: float
    mean_ms: float
    programs: int


def single_household(
    on: dt.date, overrides: Mapping[str, Any], only: Sequence[str], runs: int
) -> Latency:
    household = read_json(EXAMPLE)

    def once() -> None:
        pop = population_from_households([household])
        evaluate_all(pop, on, REGION, overrides=overrides, only=only)

    for _ in range(min(50, runs)):  # warm up: imports, parameter tree, caches
        once()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        once()
        samples.append((time.perf_counter() - start) * 1000)
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return Latency(runs, statistics.median(samples), q[94], statistics.fmean(samples), len(only))


# -- (b) batch -----------------------------------------------------------------------------------


@dataclass
class SizeResult:
    persons: int
    households: int = 0
    chunks: int = 0
    generate_s: float = 0.0
    suite_s: float = 0.0
    dibao_s: float = 0.0
    of_build_s: float = 0.0
    of_calc_s: float = 0.0
    lean_build_s: float = 0.0
    lean_calc_s: float = 0.0
    compared: int = 0
    matched: int = 0
    not_modelled: int = 0
    eligible: int = 0
    peak_rss_mib: float = 0.0
    mismatches: list[str] = field(default_factory=list)

    @property
    def of_s(self) -> float:
        return self.of_build_s + self.of_calc_s

    @property
    def lean_s(self) -> float:
        return self.lean_build_s + self.lean_calc_s

    def rate(self, seconds: float) -> float:
        return self.persons / seconds if seconds else float("nan")


def best_time(fn: Callable[[], T], repeat: int) -> tuple[T, float]:
    """The result and the best (smallest) time of ``repeat`` runs: interference only adds time."""
    times = []
    out: T | None = None
    for _ in range(repeat):
        out, took = timed(fn)
        times.append(took)
    assert out is not None
    return out, min(times)


def bench_size(
    n: int,
    chunk: int,
    *,
    seed: int,
    on: dt.date,
    overrides: Mapping[str, Any],
    only: Sequence[str],
    system: Any,
    repeat: int,
) -> SizeResult:
    res = SizeResult(n)
    for index, start in enumerate(range(0, n, chunk)):
        size = min(chunk, n - start)
        pop, took = timed(partial(synthetic_population, size, seed=seed + index, on=on))
        res.generate_s += took
        res.chunks += 1
        res.households += pop.n_households
        bench_chunk(
            res, pop, start, on=on, overrides=overrides, only=only, system=system, repeat=repeat
        )
        del pop
        gc.collect()
        print(f"  {start + size:>12,} persons done", file=sys.stderr, flush=True)
    res.peak_rss_mib = peak_rss_mib()
    return res


def bench_chunk(
    res: SizeResult,
    pop: Population,
    offset: int,
    *,
    on: dt.date,
    overrides: Mapping[str, Any],
    only: Sequence[str],
    system: Any,
    repeat: int,
) -> None:
    """Time one chunk three ways on the same arrays and check OpenFisca against our dibao."""

    def ours(names: Sequence[str]) -> dict[str, ProgramResult]:
        return evaluate_all(fresh(pop), on, REGION, overrides=overrides, only=names)

    _, took = best_time(partial(ours, only), repeat)
    res.suite_s += took
    dibao, took = best_time(partial(ours, ["dibao"]), repeat)
    res.dibao_s += took
    runs = [openfisca_once(system, pop, on, lean=False) for _ in range(repeat)]
    res.of_build_s += min(build for _, build, _ in runs)
    res.of_calc_s += min(calc for _, _, calc in runs)
    builder = runs[-1][0]
    compare(res, dibao["dibao"], builder, pop, offset)
    runs = [openfisca_once(system, pop, on, lean=True) for _ in range(repeat)]
    res.lean_build_s += min(build for _, build, _ in runs)
    res.lean_calc_s += min(calc for _, _, calc in runs)
    lean = runs[-1][0]
    if not (
        np.array_equal(lean.amount, builder.amount)
        and np.array_equal(lean.eligible, builder.eligible)
    ):
        res.mismatches.append(f"chunk at person {offset}: the two OpenFisca builds disagree")


def openfisca_once(
    system: Any, pop: Population, on: dt.date, *, lean: bool
) -> tuple[openfisca_dibao.OpenFiscaResult, float, float]:
    """One OpenFisca run end to end: (result, seconds to build, seconds to calculate)."""
    simulation, build = timed(
        lambda: openfisca_dibao.build_simulation(system, fresh(pop), on, lean=lean)
    )
    result, calc = timed(lambda: openfisca_dibao.calculate(simulation, on))
    return result, build, calc


def compare(
    res: SizeResult,
    ours: Any,
    theirs: openfisca_dibao.OpenFiscaResult,
    pop: Population,
    offset: int,
) -> None:
    """Every household OpenFisca models must get the same eligibility and amount, to the fen."""
    single = pop.sum_h(ours.person_amount) if ours.person_amount is not None else 0
    modelled = ~ours.outputs["in_gradual_exit"] & (single == 0)
    same = (ours.amount == theirs.amount) & (ours.eligible == theirs.eligible)
    res.compared += int(modelled.sum())
    res.matched += int((same & modelled).sum())
    res.not_modelled += int((~modelled).sum())
    res.eligible += int(ours.eligible.sum())
    for row in np.flatnonzero(modelled & ~same)[:5]:
        res.mismatches.append(
            f"chunk at person {offset}, household {row}: ours {int(ours.amount[row])} fen "
            f"(eligible {bool(ours.eligible[row])}), OpenFisca {int(theirs.amount[row])} fen "
            f"(eligible {bool(theirs.eligible[row])})"
        )


# -- report ---------------------------------------------------------------------------------------


def fmt_n(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000} M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000} k"
    return f"{n:,}"


def fmt_rate(r: float) -> str:
    return f"{r / 1e6:.2f} M/s" if r >= 1e6 else f"{r / 1e3:.0f} k/s"


def report(
    args: argparse.Namespace,
    latency: Latency,
    sizes: list[SizeResult],
    ok: list[str],
    skipped: Mapping[str, str],
) -> str:
    lines = [
        f"# Rules engine benchmark, {dt.date.today().isoformat()}",
        "",
        f"- Command: `{' '.join(['./run bench rules', *sys.argv[1:]])}`",
        f"- Machine: {machine()}; load average at the start {args.load[0]:.2f} / "
        f"{args.load[1]:.2f} / {args.load[2]:.2f}",
        f"- Python {platform.python_version()}, NumPy {np.__version__}, "
        f"openfisca-core {importlib.metadata.version('openfisca-core')}",
        f"- Revision: {revision()}",
        f"- Rules date {args.date.isoformat()}, region {REGION} with {LOCALITY.name} as overrides; "
        f"synthetic population seed {args.seed} (+ chunk index), chunks of {fmt_n(args.chunk)} persons",
        f"- Programs run ({len(ok)}): {', '.join(ok)}",
    ]
    if skipped:
        lines.append(
            f"- Programs skipped ({len(skipped)}), no local parameter in the illustrative locality:"
        )
        lines += [f"  - {name}: {why}" for name, why in skipped.items()]
    defaulted = fields_defaulted()
    lines.append(
        f"- Input fields left at their declared default ({len(defaulted)}): {', '.join(defaulted)}"
    )
    p50_ok = latency.p50_ms <= TARGET_P50_MS
    lines += [
        "",
        "## Single household, all programs (in process)",
        "",
        "| Runs | Programs | p50 | p95 | Mean | Target p50 ≤ 5 ms |",
        "|---:|---:|---:|---:|---:|:---|",
        f"| {latency.runs} | {latency.programs} | {latency.p50_ms:.2f} ms | {latency.p95_ms:.2f} ms | "
        f"{latency.mean_ms:.2f} ms | {'met' if p50_ok else 'NOT met'} |",
        "",
        "## Batch",
        "",
        "Time summed over the chunks, and persons per second. OpenFisca runs end to end: build the "
        "simulation from the arrays, then calculate (build + calculate). *Builder* is OpenFisca's "
        "documented SimulationBuilder route; *lean* sets ids and memberships directly, with no roles.",
        "",
        "| Persons | Households | Chunks | Generate | All programs (ours) | Dibao (ours) | "
        "OpenFisca dibao, builder | OpenFisca dibao, lean | Peak RSS |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sizes:
        lines.append(
            f"| {fmt_n(r.persons)} | {r.households:,} | {r.chunks} | {r.generate_s:.2f} s | "
            f"{r.suite_s:.2f} s, {fmt_rate(r.rate(r.suite_s))} | "
            f"{r.dibao_s:.2f} s, {fmt_rate(r.rate(r.dibao_s))} | "
            f"{r.of_s:.2f} s ({r.of_build_s:.2f} + {r.of_calc_s:.2f}), {fmt_rate(r.rate(r.of_s))} | "
            f"{r.lean_s:.2f} s ({r.lean_build_s:.2f} + {r.lean_calc_s:.2f}), "
            f"{fmt_rate(r.rate(r.lean_s))} | {r.peak_rss_mib:,.0f} MiB |"
        )
    lines += [
        "",
        "Speed-up (OpenFisca time ÷ our time; above 1 we are faster):",
        "",
        "| Persons | Dibao vs OpenFisca builder (target ≥ 5×) | All programs vs OpenFisca builder | "
        "Dibao vs OpenFisca lean | Dibao vs OpenFisca calculate only | Checked vs OpenFisca |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sizes:
        lines.append(
            f"| {fmt_n(r.persons)} | {r.of_s / r.dibao_s:.1f}× | {r.of_s / r.suite_s:.2f}× | "
            f"{r.lean_s / r.dibao_s:.1f}× | {r.of_calc_s / r.dibao_s:.2f}× | "
            f"{r.matched:,} / {r.compared:,} |"
        )
    ratio_ok = all(r.of_s / r.dibao_s >= TARGET_RATIO for r in sizes)
    suite_ok = all(r.of_s / r.suite_s >= TARGET_RATIO for r in sizes)
    lean_ok = all(r.lean_s / r.dibao_s >= TARGET_RATIO for r in sizes)
    lines += [
        "",
        f"Target batch ≥ {TARGET_RATIO:.0f}× OpenFisca end to end: dibao vs dibao (builder) "
        f"{'met' if ratio_ok else 'NOT met'}; dibao vs dibao (lean) {'met' if lean_ok else 'NOT met'}; "
        f"all {len(ok)} programs vs OpenFisca dibao alone {'met' if suite_ok else 'NOT met'}.",
        "",
        f"Each time is the best of {args.repeat} run(s) per chunk, summed over chunks. Load average "
        f"at the end {args.load_end[0]:.2f} / {args.load_end[1]:.2f} / {args.load_end[2]:.2f}. Peak RSS is the process high-water mark "
        "so far (ru_maxrss). 'Checked' counts households OpenFisca models (no single-person member "
        "payment, not in gradual exit) whose eligibility and amount equal ours to the fen; "
        + ", ".join(
            f"{fmt_n(r.persons)}: {r.not_modelled:,} not modelled, {r.eligible:,} eligible"
            for r in sizes
        )
        + ".",
    ]
    for r in sizes:
        lines += [f"- MISMATCH: {m}" for m in r.mismatches]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--persons", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--chunk", type=int, default=1_000_000, help="persons per county chunk")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per chunk (best)")
    parser.add_argument("--runs", type=int, default=1000, help="single-household runs (≥ 500)")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=DEFAULT_DATE)
    parser.add_argument("--quick", action="store_true", help="100 k persons, 200 runs: smoke test")
    parser.add_argument(
        "--output", type=Path, help="report file (default bench/results/rules-<date>.md)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.persons, args.runs = [100_000], 200
        args.chunk = min(args.chunk, 100_000)
    if args.chunk <= 0 or args.repeat <= 0 or any(n <= 0 for n in args.persons):
        parser.error("--persons, --chunk and --repeat must be positive")

    args.load = os.getloadavg()
    tree = default_tree()
    overrides = load_overrides(tree)
    ok, skipped = usable_programs(args.date, overrides, args.seed)
    for name, why in skipped.items():
        print(f"skipped {name}: {why}", file=sys.stderr)
    system = openfisca_dibao.build_system(Params(args.date, REGION, tree, overrides))

    print(f"single household, {len(ok)} programs, {args.runs} runs ...", file=sys.stderr)
    latency = single_household(args.date, overrides, ok, args.runs)
    sizes = []
    for n in args.persons:
        print(f"{n:,} persons in chunks of {min(args.chunk, n):,} ...", file=sys.stderr)
        sizes.append(
            bench_size(
                n,
                args.chunk,
                seed=args.seed,
                on=args.date,
                overrides=overrides,
                only=ok,
                system=system,
                repeat=args.repeat,
            )
        )
    args.load_end = os.getloadavg()
    text = report(args, latency, sizes, ok, skipped)
    print(text)
    out = (
        args.output
        or RESULTS / f"rules-{dt.date.today().isoformat()}{'-quick' if args.quick else ''}.md"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"written to {out}", file=sys.stderr)
    failed = [r for r in sizes if r.matched != r.compared or r.mismatches]
    if failed:
        print("FAIL: OpenFisca and our dibao disagree (see MISMATCH lines)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
