"""Benchmark: employee pensions from full monthly contribution histories, at scale.

    ./run bench pension                          # 1 M and 10 M insured persons (chunks of 100 k)
    ./run bench pension --quick                  # 100 k persons in chunks of 50 k (smoke test)
    ./run bench pension --persons 2000000 --chunk 50000

For each size, in its own process (so that its peak RSS is its own), synthetic insured persons are
generated chunk by chunk, each with a full monthly history (an int64 matrix of persons × 480 months,
January 1985 to December 2024, 0 = no contribution), and for each chunk are timed:

1. **history summary**: ``safetynet.insurance.history.summarize_batch`` — contribution months N,
   gaps, the exact average contribution index Ī and the personal account with yearly crediting;
2. **pension program**: ``population_from_batch`` + the ``employee_pension`` program over it
   (``evaluate_all(only=["employee_pension"])``, vectorized, no trace).

Generation is timed apart and not counted in persons/s. Each chunk is freed before the next, so
memory stays bounded by the chunk. A sample of persons of every chunk (``--check`` per chunk) is
recomputed one by one with ``summarize`` + ``pension_inputs`` and ``calculate`` (the per-person
path): any difference to the fen makes the benchmark exit with status 1.

Synthetic data (all **illustrative** [I], deterministic from ``--seed`` + chunk index):
- sex 55 % men (category man), 45 % women, half woman_55 and half woman_50; retirement month uniform
  over 2010-01..2024-12 at the pre-reform age (60 / 55 / 50), birth date derived from it;
- career of 15–40 years (uniform) ending the month before retirement, cut at January 1985;
- a person index, log-normal around 1 (σ 0.35), clipped to 0.6–3.0, drifting ±5 % a year; the
  base is index × W of the year, in whole yuan, clamped to 60–300 % of W, constant within a year;
- one gap of 1–36 months for 30 % of persons (a second one for a third of those);
- W (average monthly wage, one series for everyone) = 100 yuan × 1.125^(year − 1985);
- account credit = base × ``insurance.pension_account.account_share_of_base`` (8 % from 2006,
  11 % before; the 11 % of 1998 is used for 1985–1997 too [I]);
- crediting rates: ``insurance.pension_account.crediting_rate`` (national, 2016–2024) and 3 % [I]
  for 1985–2015 (provincial rates in reality); factor 0.5415 (the parameter).
The program runs on 2025-01-01 for region 000000 with W of 2024 as ``pension_base_monthly`` and
``average_wage_monthly`` (overrides [I]). Persons below the minimum contribution years (180 months)
are "contributing" (no award) — the program decides that, as for anyone.

Results: a Markdown table on stdout and in bench/results/pension-<date>.md (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from environment import machine, revision
from safetynet.domain.money import mul_ratio
from safetynet.errors import CoverageError
from safetynet.insurance.history import (
    CREDITING_RATE,
    CURRENT_YEAR_FACTOR,
    MonthlyContribution,
    pension_inputs,
    pensions_from_batch,
    population_from_batch,
    summarize,
    summarize_batch,
)
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Params, program
from safetynet.policy.parameters import NATION

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SEED = 20260701
FIRST_YEAR, LAST_YEAR = 1985, 2024
FIRST_MONTH, AS_OF = f"{FIRST_YEAR}-01", f"{LAST_YEAR}-12"
N_MONTHS = (LAST_YEAR - FIRST_YEAR + 1) * 12  # 480
ON = dt.date(2025, 1, 1)
EARLY_RATE = Decimal("0.03")  # [I] crediting rate for 1985-2015 (provincial in reality)
ACCOUNT_SHARE = "insurance.pension_account.account_share_of_base"
CATEGORY_CODES = {"man": 1, "woman_55": 2, "woman_50": 3}  # pension_category field codes

IntArray = npt.NDArray[np.int64]


def wage_series() -> dict[int, int]:
    """W in fen for each year (whole yuan) [I]."""
    return {y: round(100 * 1.125 ** (y - FIRST_YEAR)) * 100 for y in range(FIRST_YEAR, 2026)}


WAGES = wage_series()
OVERRIDES: dict[str, Any] = {
    "insurance.employee_pension.pension_base_monthly": WAGES[LAST_YEAR],
    "insurance.employee_pension.average_wage_monthly": WAGES[LAST_YEAR],
}


@dataclass
class Rules:
    wages: IntArray  # per column
    rates: dict[int, Decimal]
    factor: Decimal
    shares: list[Decimal]  # per column


def rules() -> Rules:
    rates: dict[int, Decimal] = {}
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        try:
            rates[year] = Params(dt.date(year, 1, 1), NATION).ratio(CREDITING_RATE)
        except CoverageError:
            rates[year] = EARLY_RATE
    factor = Params(dt.date(LAST_YEAR, 1, 1), NATION).ratio(CURRENT_YEAR_FACTOR)
    shares = []
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        on = dt.date(max(year, 1998), 1, 1)
        shares += [Params(on, NATION).ratio(ACCOUNT_SHARE)] * 12
    wages = np.repeat(
        np.asarray([WAGES[y] for y in range(FIRST_YEAR, LAST_YEAR + 1)], dtype=np.int64), 12
    )
    return Rules(wages, rates, factor, shares)


@dataclass
class Chunk:
    bases: IntArray
    birth_date: npt.NDArray[np.int32]
    sex: npt.NDArray[np.int8]
    category: npt.NDArray[np.int8]


def generate(n: int, seed: int) -> Chunk:
    """``n`` insured persons with full monthly histories (see the module docstring)."""
    rng = np.random.default_rng(seed)
    female = rng.random(n) < 0.45
    woman_50 = female & (rng.random(n) < 0.5)
    category = np.where(
        female,
        np.where(woman_50, CATEGORY_CODES["woman_50"], CATEGORY_CODES["woman_55"]),
        CATEGORY_CODES["man"],
    ).astype(np.int8)
    age_years = np.where(female, np.where(woman_50, 50, 55), 60)
    retire = rng.integers(2010 * 12, LAST_YEAR * 12 + 12, n)  # month index of retirement
    born = retire - age_years * 12
    day = rng.integers(1, 29, n)
    birth_date = ((born // 12) * 10000 + (born % 12 + 1) * 100 + day).astype(np.int32)
    start0 = FIRST_YEAR * 12
    end = retire - 1 - start0  # last contributed column
    begin = np.maximum(0, end - rng.integers(180, 481, n) + 1)
    gap1 = np.where(rng.random(n) < 0.3, rng.integers(begin, end + 1), -1)
    len1 = rng.integers(1, 37, n)
    gap2 = np.where((gap1 >= 0) & (rng.random(n) < 1 / 3), rng.integers(begin, end + 1), -1)
    len2 = rng.integers(1, 37, n)
    index = np.clip(np.exp(rng.normal(0.0, 0.35, n)), 0.6, 3.0)
    bases = np.zeros((n, N_MONTHS), dtype=np.int64)
    for k, year in enumerate(range(FIRST_YEAR, LAST_YEAR + 1)):
        w = WAGES[year] // 100  # yuan
        drift = np.clip(index * (1 + 0.05 * rng.standard_normal(n)), 0.6, 3.0)
        yuan = np.clip(np.rint(drift * w), -(-w * 6 // 10), w * 3).astype(np.int64)
        for c in range(k * 12, k * 12 + 12):
            paid = (c >= begin) & (c <= end)
            paid &= ~((c >= gap1) & (c < gap1 + len1))
            paid &= ~((c >= gap2) & (c < gap2 + len2))
            bases[:, c] = np.where(paid, yuan * 100, 0)
    sex = female.astype(np.int8)  # field codes: 0 male, 1 female
    return Chunk(bases, birth_date, sex, category)


@dataclass
class ChunkResult:
    generate: float
    summarize: float
    program: float
    awards: int
    fallbacks: int
    gap_persons: int
    checked: int
    mismatches: int
    amount_sum: int


def check(chunk: Chunk, r: Rules, batch: Any, amounts: IntArray, rows: IntArray) -> int:
    """Recompute ``rows`` one person at a time (summarize + calculate); count differences."""
    wrong = 0
    for row in rows:
        records = [
            MonthlyContribution(
                f"{(FIRST_YEAR * 12 + c) // 12:04d}-{c % 12 + 1:02d}",
                int(chunk.bases[row, c]),
                int(mul_ratio(int(chunk.bases[row, c]), r.shares[c])),
            )
            for c in np.flatnonzero(chunk.bases[row] > 0)
        ]
        s = summarize(
            records,
            as_of=AS_OF,
            crediting_rate=r.rates.__getitem__,
            current_year_factor=lambda _y: r.factor,
            average_wage=lambda _region, m: WAGES[int(m[:4])],
        )
        inputs = pension_inputs(s)
        same = (
            s.months == batch.months[row]
            and s.gap_months == batch.gap_months[row]
            and inputs["employee_pension_average_index"] == batch.average_index[row]
            and s.account_balance_fen == batch.account_balance_fen[row]
        )
        born = int(chunk.birth_date[row])
        member = {
            "birth_date": f"{born // 10000:04d}-{born // 100 % 100:02d}-{born % 100:02d}",
            "sex": "female" if chunk.sex[row] else "male",
            "pension_category": {v: k for k, v in CATEGORY_CODES.items()}[int(chunk.category[row])],
            "employee_pension_insured": True,
            **inputs,
        }
        ev, _ = calculate(
            program("employee_pension"),
            {"region": NATION, "members": [member]},
            ON,
            overrides=OVERRIDES,
            explain=False,
        )
        same = same and int(ev.result.amount[0]) == int(amounts[row])
        wrong += not same
    return wrong


def run_size(persons: int, chunk: int, seed: int, checks: int) -> dict[str, Any]:
    r = rules()
    out: list[ChunkResult] = []
    for i, lo in enumerate(range(0, persons, chunk)):
        n = min(chunk, persons - lo)
        t0 = time.perf_counter()
        data = generate(n, seed + i)
        t1 = time.perf_counter()
        batch = summarize_batch(
            data.bases,
            r.wages,
            first_month=FIRST_MONTH,
            as_of=AS_OF,
            crediting_rates=r.rates,
            current_year_factor=r.factor,
            account_share=r.shares,
        )
        t2 = time.perf_counter()
        pop = population_from_batch(batch, data.birth_date, data.sex, category=data.category)
        result = pensions_from_batch(pop, ON, NATION, overrides=OVERRIDES)
        t3 = time.perf_counter()
        amounts = np.asarray(result.amount, dtype=np.int64)
        rows = np.random.default_rng(seed + i).choice(n, size=min(checks, n), replace=False)
        out.append(
            ChunkResult(
                generate=t1 - t0,
                summarize=t2 - t1,
                program=t3 - t2,
                awards=int((amounts > 0).sum()),
                fallbacks=batch.exact_fallbacks,
                gap_persons=int((batch.gap_months > 0).sum()),
                checked=len(rows),
                mismatches=check(data, r, batch, amounts, rows),
                amount_sum=int(amounts.sum()),
            )
        )
        del data, batch, pop, result, amounts
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux → MiB
    total = {k: sum(getattr(c, k) for c in out) for k in asdict(out[0])}
    return {"persons": persons, "chunks": len(out), "peak_rss_mib": rss, **total}


def size_label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000} M"
    if n % 1_000 == 0:
        return f"{n // 1_000} k"
    return f"{n:,}"


def rate(persons: int, seconds: float) -> str:
    r = persons / seconds if seconds > 0 else float("inf")
    return f"{r / 1e6:.2f} M/s" if r >= 1e6 else f"{r / 1e3:.0f} k/s"


def report(args: argparse.Namespace, rows: list[dict[str, Any]], load: tuple[float, ...]) -> str:
    import importlib.metadata

    command = "./run bench pension" + (" --quick" if args.quick else "")
    if not args.quick and (args.persons != [1_000_000, 10_000_000] or args.chunk != 100_000):
        command += f" --persons {' '.join(map(str, args.persons))} --chunk {args.chunk}"
    lines = [
        f"# Pension benchmark, {dt.date.today().isoformat()}",
        "",
        f"- Command: `{command}`",
        f"- Machine: {machine()}; load average at the start "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}, at the end "
        f"{load[3]:.2f} / {load[4]:.2f} / {load[5]:.2f}",
        f"- Python {platform.python_version()}, NumPy {importlib.metadata.version('numpy')}",
        f"- Revision: {revision()}",
        f"- Histories: {N_MONTHS} months ({FIRST_MONTH}..{AS_OF}) of int64 per person, chunks of "
        f"{size_label(args.chunk)} persons; seed {args.seed} (+ chunk index); program on "
        f"{ON.isoformat()}, region {NATION}, W = {WAGES[LAST_YEAR] // 100} yuan [I]",
        "",
        "Time summed over the chunks; persons/s = persons ÷ (history summary + pension program).",
        "",
        "| Persons | Chunks | Generate (not counted) | History summary | Pension program "
        "| Total | Persons/s | Peak RSS | Awards | Ī by Fraction | Checked one by one |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        n = row["persons"]
        work = row["summarize"] + row["program"]
        lines.append(
            f"| {size_label(n)} | {row['chunks']} | {row['generate']:.1f} s "
            f"| {row['summarize']:.1f} s, {rate(n, row['summarize'])} "
            f"| {row['program']:.1f} s, {rate(n, row['program'])} "
            f"| {work:.1f} s | **{rate(n, work)}** | {row['peak_rss_mib']:,.0f} MiB "
            f"| {row['awards']:,} ({row['awards'] / n:.1%}) | {row['fallbacks']:,} "
            f"| {row['checked'] - row['mismatches']:,} / {row['checked']:,} equal |"
        )
    lines += [
        "",
        "Awards: persons whose pension the program computes (the rest have fewer than 180 "
        "contribution months, gaps included, and are still contributing). *Ī by Fraction*: "
        "persons whose exact index the integer bounds could not settle (summed with Fraction).",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--persons", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--check", type=int, default=20, help="persons checked one by one per chunk"
    )
    parser.add_argument("--quick", action="store_true", help="100 k persons, chunks of 50 k")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:  # one size in this process: print its numbers as JSON
        print(json.dumps(run_size(args.worker, args.chunk, args.seed, args.check)))
        return 0
    if args.quick:
        args.persons, args.chunk = [100_000], 50_000
    load_start = os.getloadavg()
    rows = []
    for persons in args.persons:
        command = [sys.executable, __file__, "--worker", str(persons), "--chunk", str(args.chunk)]
        command += ["--seed", str(args.seed), "--check", str(args.check)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            return 1
        rows.append(json.loads(done.stdout))
        print(f"{size_label(persons)} persons done", file=sys.stderr)
    text = report(args, rows, (*load_start, *os.getloadavg()))
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if args.quick else ""
    (RESULTS / f"pension-{dt.date.today().isoformat()}{suffix}.md").write_text(text)
    if any(row["mismatches"] for row in rows):
        print("MISMATCH: the batch differs from the per-person calculation", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
