"""Benchmark of the rules core, whole process, from Parquet files (issue 15).

    ./run bench rules                    # the full table: 1 M and 5 M households, 10 M persons, …
    ./run bench rules --quick            # 100 k and 200 k households, 1 M persons (smoke test)
    ./run bench rules --households 1000000 --all-persons 0 --memory-persons 0 --repeat 3

Every batch figure is a separate process timed from its start to its results file written (start-up
and imports, reading Parquet, parameters, computing, writing results), on the same files:

(a) dibao at each size in ``--households``: SafetyNet's county function (``read_county`` +
    ``evaluate_county`` + the results Parquet, as ``run-month`` does), OpenFisca's documented
    ``SimulationBuilder`` route (bench/openfisca_dibao.py) and the rule written by hand in NumPy;
    every engine reads the same files, and every household OpenFisca models must get the same
    eligibility and amount from all three, to the fen, or the benchmark fails.
(b) peak memory, dibao, ``--memory-persons`` persons in one county (``VmHWM`` of each process).
(c) every program, ``--all-persons`` persons in counties of 1 M: ``safetynet run-month --stage
    rules --no-registry --workers 2`` as a user runs it, with the illustrative locality as
    fallbacks, then once without (the counties' local standards not loaded: probed).
(d) one household, every program: through ``screen`` (as the web form and ``safetynet screen``
    call it: a new household each call, parameter values kept between calls as in a server,
    ADR 0029) and through ``POST /calculate``; p50 / p95 / p99. The API is measured twice: with
    an in-process client (FastAPI's TestClient, one event loop) and through ``safetynet serve``
    started as an office starts it, over HTTP on loopback with one kept-alive connection (what a
    deployed client waits for).
(e) 10,000 households in one ``POST /calculate`` request, both ways.

Populations are the synthetic generator's (bench/population.py), one county of 1 M persons
generated once and repeated with new identifiers up to the size (cached under
bench/results/data/). Each process runs ``--repeat`` times: the first run and the best are both
reported. The table is printed and written to bench/results/rules-<date>.md (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from environment import free_port, machine, revision, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
DATA = RESULTS / "data"
EXAMPLE = ROOT / "examples" / "dibao_household.json"
LOCALITY = ROOT / "examples" / "illustrative_locality.yaml"  # the dibao comparison's overrides
COUNTY = "510181"  # 都江堰市: mixed urban and rural hukou
DATE = dt.date(2026, 7, 1)
SEED = 20260701
BASE_PERSONS = 1_000_000
ENGINES = ("safetynet", "openfisca", "numpy")


def load() -> tuple[float, float, float]:
    return os.getloadavg()


# -- data ----------------------------------------------------------------------------------------


def base_tables() -> tuple[pa.Table, pa.Table]:
    """One county of ``BASE_PERSONS`` persons, every column, generated once and cached."""
    persons, households = DATA / "base-persons.parquet", DATA / "base-households.parquet"
    if not (persons.is_file() and households.is_file()):
        from safetynet.batch import synth
        from safetynet.registry.county_data import population_to_tables

        print("generating the base county (once) ...", file=sys.stderr, flush=True)
        data = synth.generate_county(COUNTY, BASE_PERSONS, seed=SEED, on=DATE)
        data.id_number = None
        p, h = population_to_tables(data)
        DATA.mkdir(parents=True, exist_ok=True)
        pq.write_table(p, persons, compression="zstd")
        pq.write_table(h, households, compression="zstd")
    return pq.read_table(persons), pq.read_table(households)


def dibao_columns() -> tuple[list[str], list[str]]:
    """The person and household columns the dibao program reads (found by running it)."""
    from safetynet.batch import synth
    from safetynet.batch.runner import evaluate_county
    from safetynet.policy.population import Population
    from safetynet.policy.screening import load_parameter_values

    seen: set[tuple[str, str]] = set()
    p, h = Population.p, Population.h

    def spy_p(self: Population, name: str) -> np.ndarray:
        seen.add(("p", name))
        return p(self, name)

    def spy_h(self: Population, name: str) -> np.ndarray:
        seen.add(("h", name))
        return h(self, name)

    Population.p, Population.h = spy_p, spy_h  # type: ignore[method-assign]
    try:
        data = synth.generate_county(COUNTY, 20_000, seed=SEED, on=DATE)
        evaluate_county(data, DATE, overrides=load_parameter_values(LOCALITY), only=["dibao"])
    finally:
        Population.p, Population.h = p, h  # type: ignore[method-assign]
    return sorted(n for k, n in seen if k == "p"), sorted(n for k, n in seen if k == "h")


def write_snapshot(
    root: Path,
    base: tuple[pa.Table, pa.Table],
    households: int,
    columns: tuple[list[str], list[str]] | None,
    counties: Sequence[str] = (COUNTY,),
) -> int:
    """``households`` households in each of ``counties`` (the base repeated with new ids), only
    ``columns`` (all when None) besides the keys; returns the persons per county."""
    if (root / "manifest.json").is_file():
        return int(json.loads((root / "manifest.json").read_text())["persons_per_county"])
    persons, hh = base
    if columns is not None:
        persons = persons.select(["household_id", "person_id", *columns[0]])
        hh = hh.select(["household_id", "region", *columns[1]])
    base_hh = hh.column("household_id").to_numpy()
    base_of = np.searchsorted(base_hh, persons.column("household_id").to_numpy())
    tmp = root.with_name(root.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    n_persons = 0
    for county in counties:
        n_persons = 0
        folders = [tmp / kind / f"county={county}" for kind in ("persons", "households")]
        for folder in folders:
            folder.mkdir(parents=True)
        pw = pq.ParquetWriter(folders[0] / "part-0.parquet", persons.schema, compression="zstd")
        hw = pq.ParquetWriter(folders[1] / "part-0.parquet", hh.schema, compression="zstd")
        done = 0
        while done < households:
            take = min(hh.num_rows, households - done)
            rows = base_of < take
            p_part = persons.filter(pa.array(rows))
            h_part = hh.slice(0, take)
            new_hh = np.arange(done + 1, done + take + 1, dtype=np.int64)
            p_part = p_part.set_column(0, "household_id", pa.array(new_hh[base_of[rows]]))
            p_part = p_part.set_column(1, "person_id", pa.array(
                np.arange(n_persons + 1, n_persons + p_part.num_rows + 1, dtype=np.int64)))  # fmt: skip
            h_part = h_part.set_column(0, "household_id", pa.array(new_hh))
            pw.write_table(p_part)
            hw.write_table(h_part)
            done += take
            n_persons += p_part.num_rows
        pw.close()
        hw.close()
    import openfisca_dibao
    from safetynet.policy.engine import Params
    from safetynet.policy.screening import load_parameter_values

    values = openfisca_dibao.parameter_values(
        Params(DATE, COUNTY, None, load_parameter_values(LOCALITY))
    )
    (tmp / "dibao_parameters.json").write_text(json.dumps(values))
    manifest = {"source": "synthetic (bench/rules.py)", "counties": list(counties),
                "persons_per_county": n_persons, "households_per_county": households}  # fmt: skip
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
    shutil.rmtree(root, ignore_errors=True)
    tmp.replace(root)
    return n_persons


# -- whole-process runs --------------------------------------------------------------------------


@dataclass
class Run:
    wall_s: float
    phases: dict[str, float]
    peak_rss_mib: float
    totals: dict[str, list[int]]


@dataclass
class Timed:
    engine: str
    runs: list[Run] = field(default_factory=list)

    @property
    def first(self) -> Run:
        return self.runs[0]

    @property
    def best(self) -> Run:
        return min(self.runs, key=lambda r: r.wall_s)


def child(args: Sequence[str]) -> tuple[dict[str, Any], float]:
    """Run bench/rules_child.py; its JSON and its wall time from spawn to results written."""
    # An older checkout measured with ``PYTHONPATH=…/src ./run bench rules`` keeps its code here.
    inherited = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH), inherited]))}
    start = time.time()
    done = subprocess.run(
        [sys.executable, str(BENCH / "rules_child.py"), *args],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"rules_child {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found, found.get("end_epoch", time.time()) - start


def run_engine(
    engine: str, snapshot: Path, out: Path, repeat: int, *, every: bool = False
) -> Timed:
    timed = Timed(engine)
    for _ in range(repeat):
        args = [engine, str(snapshot), COUNTY, str(out), DATE.isoformat()]
        found, wall = child([*args, "--all"] if every else args)
        timed.runs.append(Run(wall, found["phases"], found["peak_rss_mib"], found["totals"]))
    return timed


@dataclass
class Compared:
    modelled: int
    matched: dict[str, int]
    totals_fen: dict[str, int]
    mismatches: list[str]


def compare(snapshot: Path, outs: dict[str, Path], work: Path) -> Compared:
    """Every household OpenFisca models: the same eligibility and amount from each engine."""
    check = work / "check.parquet"
    child(["safetynet", str(snapshot), COUNTY, str(check), DATE.isoformat(), "--check"])
    ref = pq.read_table(check)
    ids = ref.column("household_id").to_numpy()
    modelled = ref.column("modelled").to_numpy()
    matched, totals, mismatches = {}, {}, []
    for engine, path in outs.items():
        got = pq.read_table(path)
        amount = np.zeros(len(ids), np.int64)
        eligible = np.zeros(len(ids), np.bool_)
        rows = np.searchsorted(ids, got.column("household_id").to_numpy())
        amount[rows] = got.column("amount_fen").to_numpy()
        eligible[rows] = got.column("eligible").to_numpy()
        same = (amount == ref.column("amount_fen").to_numpy()) & (
            eligible == ref.column("eligible").to_numpy()
        )
        matched[engine] = int((same & modelled).sum())
        totals[engine] = int(amount[modelled].sum())
        for row in np.flatnonzero(modelled & ~same)[:3]:
            mismatches.append(f"{engine}: household {ids[row]} amount {amount[row]} fen")
    return Compared(int(modelled.sum()), matched, totals, mismatches)


# -- single households ---------------------------------------------------------------------------


def quantiles(samples: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), q[94], q[98]


def latency(fn: Callable[[], Any], runs: int) -> tuple[float, float, float, float]:
    """(first call, p50, p95, p99) in ms; the first call pays for imports and parameters."""
    start = time.perf_counter()
    fn()
    first = (time.perf_counter() - start) * 1000
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return (first, *quantiles(samples))


def api_client(work: Path) -> Any:
    from fastapi.testclient import TestClient

    from safetynet.db.engine import create_database
    from safetynet.entrypoints.api import InMemoryUserDirectory, Role, User, create_app

    db = create_database(f"sqlite:///{work / 'api.sqlite'}")  # POST /calculate records nothing
    users = InMemoryUserDirectory({"tok": User("bench", Role.INTAKE_CLERK, COUNTY)})
    return TestClient(create_app(db, users=users))


def households_json(n: int) -> list[dict[str, Any]]:
    """``n`` households for the API: the example household with varied incomes and ids."""
    base = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    found = []
    for i in range(n):
        hh = json.loads(json.dumps(base))
        hh["household_id"] = f"bench-{i}"
        hh["region"] = COUNTY
        hh["members"][0]["wage_income"] = f"{(i * 37) % 4000}.00"
        hh["members"][0].pop("id_number", None)
        hh["members"][0].update({"birth_date": "1985-03-01", "sex": "male"})
        found.append(hh)
    return found


@dataclass
class Single:
    screen: tuple[float, float, float, float]
    api: tuple[float, float, float, float]
    many_first_s: float
    many_best_s: float
    many_households: int
    served: Served | None = None


@dataclass
class Served:
    """The same requests through ``safetynet serve`` (uvicorn) over loopback HTTP."""

    api: tuple[float, float, float, float]
    many_first_s: float
    many_best_s: float


def singles(work: Path, runs: int, many: int) -> Single:
    from safetynet.policy.calculate import read_json
    from safetynet.policy.screening import load_parameter_values, screen

    household = read_json(EXAMPLE)
    household["region"] = COUNTY
    fallbacks = load_parameter_values("demo")
    screened = latency(lambda: screen(household, DATE, COUNTY, fallbacks=fallbacks), runs)
    # One client for the whole run, opened as a server runs: one event loop for every request
    # (without ``with``, TestClient starts a thread and a loop for each request, ≈ 1.4 ms that
    # no deployed server spends).
    with api_client(work) as client:
        found = _api_latencies(client, screened, runs, many)
    found.served = served(work, runs, many)
    return found


def served(work: Path, runs: int, many: int) -> Served:
    """``POST /calculate`` as a deployed office calls it: ``safetynet serve`` started as a user
    starts it (its own process: uvicorn, the users file, the audit key, its request log written
    to a file), and a client in this process on one kept-alive HTTP connection over loopback,
    timed from the request written to the whole answer read."""
    import http.client

    from safetynet.bootstrap import upgrade
    from safetynet.db.engine import create_database
    from safetynet.entrypoints.api import hash_token

    url = f"sqlite:///{work / 'serve.sqlite'}"
    db = create_database(url)
    upgrade(db)
    db.dispose()
    users = work / "users.yaml"
    users.write_text(f"users: [{{name: bench, role: intake_clerk, region: '{COUNTY}', "
                     f"token_sha256: {hash_token('tok')}}}]\n", encoding="utf-8")  # fmt: skip
    port = free_port()
    env = {**os.environ, "SAFETYNET_HOME": str(work / "serve-home"),
           "SAFETYNET_AUDIT_KEY": os.environ.get("SAFETYNET_AUDIT_KEY", "bench:" + "5a" * 32),
           "SAFETYNET_AUDIT_CHECKPOINTS": str(work / "checkpoints.jsonl")}  # fmt: skip
    log = (work / "serve.log").open("wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("safetynet")), "serve", "--url", url, "--users",
         str(users), "--port", str(port)], stdout=log, stderr=log, env=env,
    )  # fmt: skip
    try:
        wait_for_port(port, lambda: None if server.poll() is None else
                      f"safetynet serve stopped: {(work / 'serve.log').read_text()}")  # fmt: skip
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        headers = {"Authorization": "Bearer tok", "Content-Type": "application/json"}

        def post(body: bytes) -> bytes:
            conn.request("POST", "/calculate", body, headers)
            response = conn.getresponse()
            answer = response.read()
            assert response.status == 200, answer[:500]
            return answer

        one = json.loads(EXAMPLE.read_text())
        one["region"] = COUNTY
        single = json.dumps({"date": DATE.isoformat(), "fallback_parameters": "demo",
                             "households": [one]}).encode()  # fmt: skip
        api = latency(lambda: post(single), runs)
        big = json.dumps({"date": DATE.isoformat(), "fallback_parameters": "demo",
                          "households": households_json(many)}).encode()  # fmt: skip
        times = []
        for _ in range(5):
            start = time.perf_counter()
            answer = post(big)
            times.append(time.perf_counter() - start)
            assert len(json.loads(answer)["households"]) == many
        conn.close()
        return Served(api, times[0], min(times))
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def _api_latencies(
    client: Any, screened: tuple[float, float, float, float], runs: int, many: int
) -> Single:
    headers = {"Authorization": "Bearer tok"}
    body = {"date": DATE.isoformat(), "fallback_parameters": "demo",
            "households": [json.loads(EXAMPLE.read_text())]}  # fmt: skip
    body["households"][0]["region"] = COUNTY

    def one() -> None:
        response = client.post("/calculate", json=body, headers=headers)
        assert response.status_code == 200, response.text

    api = latency(one, runs)
    big = {
        "date": DATE.isoformat(),
        "fallback_parameters": "demo",
        "households": households_json(many),
    }
    times = []
    for _ in range(5):
        start = time.perf_counter()
        response = client.post("/calculate", json=big, headers=headers)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text[:500]
        assert len(response.json()["households"]) == many
    return Single(screened, api, times[0], min(times), many)


# -- report ---------------------------------------------------------------------------------------


def fmt_n(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000} M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000} k"
    return f"{n:,}"


def met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def phases(run: Run) -> str:
    p = run.phases
    names = ["start", "read", "parameters", "compute", "write"]
    parts, last = [], 0.0
    for name in names:
        parts.append(f"{p[name] - last:.2f}")
        last = p[name]
    return " / ".join(parts)


@dataclass
class Report:
    args: argparse.Namespace
    load_start: tuple[float, float, float]
    dibao: list[tuple[int, int, dict[str, Timed], Compared]] = field(default_factory=list)
    memory: tuple[int, dict[str, Timed]] | None = None
    every: tuple[int, list[float], float] | None = None
    single: Single | None = None
    skipped: list[str] = field(default_factory=list)

    def text(self) -> str:
        a = self.args
        end = load()
        lines = [
            f"# Rules core benchmark, whole process, {dt.date.today().isoformat()}",
            "",
            f"- Command: `{' '.join(['./run bench rules', *sys.argv[1:]])}`",
            f"- Machine: {machine()}",
            f"- Load average at the start {'/'.join(f'{x:.2f}' for x in self.load_start)}, "
            f"at the end {'/'.join(f'{x:.2f}' for x in end)} (1/5/15 min)",
            f"- Revision: {revision()}; rules date {DATE}, county {COUNTY}; dibao with "
            f"{LOCALITY.name} as overrides, every program and single households with the "
            f"illustrative locality 'demo' as fallbacks; synthetic population seed {SEED}",
            f"- Each process ran {a.repeat} time(s): first run and best run reported; times in "
            "seconds, phases start / read / parameters / compute / write",
            "",
            "## Targets (issue 15)",
            "",
            "| figure | target | measured | met? |",
            "|---|---|---|---|",
        ]
        lines += self.target_rows()
        lines += ["", "## Dibao, whole process, Parquet in → results out", ""]
        lines += [
            "| households | persons | engine | first run | best run | phases of the best | "
            "peak RSS | checked to the fen |",
            "|---:|---:|---|---:|---:|---|---:|---:|",
        ]
        for households, persons, timed, cmp in self.dibao:
            for engine in ENGINES:
                t = timed[engine]
                lines.append(
                    f"| {fmt_n(households)} | {persons:,} | {engine} | {t.first.wall_s:.2f} | "
                    f"{t.best.wall_s:.2f} | {phases(t.best)} | {t.best.peak_rss_mib:,.0f} MiB | "
                    f"{cmp.matched[engine]:,} / {cmp.modelled:,}, total "
                    f"{cmp.totals_fen[engine]:,} fen |"
                )
        for _, _, _, cmp in self.dibao:
            lines += [f"- MISMATCH {m}" for m in cmp.mismatches]
        if self.memory is not None:
            persons, timed = self.memory
            lines += ["", f"## Peak memory, dibao, {persons:,} persons in one county", ""]
            lines += ["| engine | peak RSS | wall |", "|---|---:|---:|"]
            for engine in ENGINES:
                best = timed[engine].best
                lines.append(f"| {engine} | {best.peak_rss_mib:,.0f} MiB | {best.wall_s:.2f} s |")
        if self.every is not None:
            persons, walls, unloaded = self.every
            lines += [
                "",
                f"## Every program, {persons:,} persons (counties of 1 M), `safetynet run-month "
                "--stage rules --no-registry --workers 2`",
                "",
                f"First run {walls[0]:.1f} s ({persons / walls[0] / 1e6:.2f} M persons/s), best "
                f"{min(walls):.1f} s ({persons / min(walls) / 1e6:.2f} M persons/s).",
                "",
                f"Without the illustrative locality (no `--fallback-parameters`: the counties' "
                f"local standards are not loaded, the missing values probed, ADR 0033): "
                f"{unloaded:.1f} s ({persons / unloaded / 1e6:.2f} M persons/s).",
            ]
        if self.single is not None:
            s = self.single
            lines += [
                "",
                "## One household, every program",
                "",
                "| path | first call | p50 | p95 | p99 |",
                "|---|---:|---:|---:|---:|",
                "| `screen` (a new household per call; parameter values kept, ADR 0029) | " + " | ".join(f"{x:.2f} ms" for x in s.screen) + " |",
                "| `POST /calculate` (in-process ASGI client, one event loop) | " + " | ".join(f"{x:.2f} ms" for x in s.api) + " |",
            ]  # fmt: skip
            if s.served is not None:
                lines.append("| `POST /calculate` through `safetynet serve` (HTTP on loopback, one "
                             "kept-alive connection) | " + " | ".join(f"{x:.2f} ms" for x in s.served.api) + " |")  # fmt: skip
            lines += [
                "",
                f"{s.many_households:,} households in one `POST /calculate`: in-process first "
                f"{s.many_first_s:.3f} s, best of 5 {s.many_best_s:.3f} s",
            ]
            if s.served is not None:
                lines[-1] += (f"; through `safetynet serve` first {s.served.many_first_s:.3f} s, "
                              f"best of 5 {s.served.many_best_s:.3f} s")  # fmt: skip
            lines[-1] += "."
        lines += [f"- skipped: {why}" for why in self.skipped]
        return "\n".join(lines) + "\n"

    def target_rows(self) -> list[str]:
        rows = []
        for households, _, timed, _ in self.dibao:
            ours = timed["safetynet"].best.wall_s
            of_ratio = timed["openfisca"].best.wall_s / ours
            np_ratio = ours / timed["numpy"].best.wall_s
            ok = of_ratio >= 5 and np_ratio <= 2
            rows.append(
                f"| dibao, {fmt_n(households)} households, whole process | ≥ 5× OpenFisca, "
                f"≤ 2× NumPy | {ours:.2f} s: {of_ratio:.2f}× faster than OpenFisca "
                f"({timed['openfisca'].best.wall_s:.2f} s), {np_ratio:.2f}× NumPy's time "
                f"({timed['numpy'].best.wall_s:.2f} s) | {met(ok)} |"
            )
        if self.every is not None:
            persons, walls, _ = self.every
            rate = persons / min(walls)
            rows.append(
                f"| every program, {fmt_n(persons)} persons, whole process | ≥ 5 M persons/s | "
                f"{rate / 1e6:.2f} M persons/s ({min(walls):.1f} s) | {met(rate >= 5e6)} |"
            )
        if self.memory is not None:
            persons, timed = self.memory
            ours, theirs = (
                timed["safetynet"].best.peak_rss_mib,
                timed["openfisca"].best.peak_rss_mib,
            )
            rows.append(
                f"| peak memory, dibao, {fmt_n(persons)} persons | ≤ OpenFisca's | {ours:,.0f} MiB "
                f"vs {theirs:,.0f} MiB ({ours / theirs:.2f}×) | {met(ours <= theirs)} |"
            )
        if self.single is not None:
            s = self.single
            paths = [("`screen`", s.screen), ("the API (in-process client)", s.api)]
            if s.served is not None:
                paths.append(("the API through `safetynet serve`", s.served.api))
            for label, q in paths:
                rows.append(
                    f"| one household, every program, {label} | p50 ≤ 2 ms, p99 ≤ 10 ms | "
                    f"p50 {q[1]:.2f} ms, p99 {q[3]:.2f} ms | {met(q[1] <= 2 and q[3] <= 10)} |"
                )
            many = [("in-process client", s.many_first_s, s.many_best_s)]
            if s.served is not None:
                many.append(("through `safetynet serve`", s.served.many_first_s,
                             s.served.many_best_s))  # fmt: skip
            for label, first, best in many:
                rows.append(
                    f"| {s.many_households:,} households in one API request, {label} | ≤ 0.5 s | "
                    f"{best:.3f} s (first {first:.3f} s) | {met(best <= 0.5)} |"
                )
        rows.append("| monthly cycle, 10 M persons, with its registry snapshot | ≤ 60 s | not "
                    "measured here (bench/cycle.py) | — |")  # fmt: skip
        return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--households", type=int, nargs="*", default=[1_000_000, 5_000_000])
    parser.add_argument("--memory-persons", type=int, default=15_000_000)
    parser.add_argument("--all-persons", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1000, help="single-household calls")
    parser.add_argument("--many", type=int, default=10_000, help="households in one request")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    if args.quick:
        args.households, args.memory_persons, args.all_persons = [100_000, 200_000], 0, 1_000_000
        args.runs = 200
    report = Report(args, load())
    base = base_tables()
    columns = dibao_columns()
    with tempfile.TemporaryDirectory(prefix="bench-rules-") as tmp:
        work = Path(tmp)
        for households in args.households:
            print(f"dibao, {households:,} households ...", file=sys.stderr, flush=True)
            snap = DATA / f"dibao-{households}"
            persons = write_snapshot(snap, base, households, columns)
            timed, outs = {}, {}
            for engine in ENGINES:
                outs[engine] = work / f"{engine}.parquet"
                timed[engine] = run_engine(engine, snap, outs[engine], args.repeat)
            report.dibao.append((households, persons, timed, compare(snap, outs, work)))
        if args.memory_persons:
            per = base[0].num_rows / base[1].num_rows
            households = int(args.memory_persons / per)
            print(f"memory, ~{args.memory_persons:,} persons ...", file=sys.stderr, flush=True)
            snap = DATA / f"dibao-{households}"
            persons = write_snapshot(snap, base, households, columns)
            report.memory = (persons, {e: run_engine(e, snap, work / f"m-{e}.parquet", 1)
                                       for e in ENGINES})  # fmt: skip
        if args.all_persons:
            report.every = every_program(args.all_persons, base, work, args.repeat)
        print("single households ...", file=sys.stderr, flush=True)
        report.single = singles(work, args.runs, args.many)
    text = report.text()
    print(text)
    out = (
        args.output
        or RESULTS / f"rules-{dt.date.today().isoformat()}{'-quick' if args.quick else ''}.md"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"written to {out}", file=sys.stderr)
    bad = [c for _, _, _, c in report.dibao if c.mismatches or len(set(c.matched.values())) != 1
           or min(c.matched.values()) != c.modelled]  # fmt: skip
    if bad:
        print("FAIL: the engines disagree (see MISMATCH lines)", file=sys.stderr)
        return 1
    return 0


def every_program(
    persons: int, base: tuple[pa.Table, pa.Table], work: Path, repeat: int
) -> tuple[int, list[float], float]:
    """Whole-process times of the rules stage over ``persons``: ``repeat`` runs with the
    illustrative locality as fallbacks (standards loaded), then one without (a region whose
    local standards are not loaded yet: the missing values probed, ADR 0033)."""
    per_county = base[1].num_rows  # households of the 1 M-person base county
    counties = max(1, round(persons / base[0].num_rows))
    names = [f"{COUNTY[:4]}{i:02d}" for i in range(counties)]
    snap = DATA / f"all-{counties}x{per_county}"
    print(
        f"every program, {counties} counties of {base[0].num_rows:,} persons ...",
        file=sys.stderr,
        flush=True,
    )
    total = write_snapshot(snap, base, per_county, None, names) * counties
    walls = []
    for fallbacks in [["--fallback-parameters", "demo"]] * repeat + [[]]:
        out = work / "run-month"
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).with_name("safetynet")), "run-month", "--month", DATE.strftime("%Y-%m"),
             "--snapshot", str(snap), "--out", str(out), "--no-registry", "--stage", "rules",
             "--workers", "2", *fallbacks, "--quiet", "--restart"],
            check=True, capture_output=True, env={**os.environ, "SAFETYNET_HOME": str(work / "home")},
        )  # fmt: skip
        walls.append(time.perf_counter() - start)
    return total, walls[:-1], walls[-1]


_ = Decimal  # money in the example household stays exact (read_json)

if __name__ == "__main__":
    sys.exit(main())
