"""Reform simulation: baseline and reform over the same population, county by county.

For each county of a snapshot, the batch runner's county function (``batch.runner.
evaluate_county``) runs with the shipped parameters, program by program, and again with the
reform's tree for the programs that read a value the reform changes there; the two results are
reduced at once to sums by region and program and to a few integers per household (members,
equivalence weight, income before benefits, benefits before and after, the local line), so memory
holds one county's population per worker and a few columns per household, whatever the population
(docs/analysis.md, ADR 0020). Money stays in integer fen throughout.

The county work is one pure function of a picklable job (``simulate_county``): an engine
(``batch.engines``) runs it in this process, in worker processes or on Spark, and the counties'
outcomes are added up in the snapshot's county order (``combine``), so every engine gives the same
figures, to the fen.

Take-up (``take_up``): a household already enrolled in a program (its recipients column) claims;
one newly entitled claims with the program's take-up rate (``common.simulation.take_up``, by
region), drawn once per household and program from a hash of the household's identifier, so the
baseline and the reform draw the same households. ``enrolled_only``: only the enrolled caseload
counts — what the payment roll would see.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zlib
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from safetynet.analysis.reform import Reform, reform_tree, switched_off_without_parameter
from safetynet.batch.engines import Engine, LocalEngine
from safetynet.batch.runner import evaluate_county, parse_month
from safetynet.domain.regions import default_registry
from safetynet.errors import CoverageError
from safetynet.policy.common import dibao_standard
from safetynet.policy.engine import Params, Program, Tier, programs
from safetynet.policy.parameters import NATION, ParameterTree, Resolved, default_tree
from safetynet.policy.population import IntArray, Population
from safetynet.registry.county_data import CountyData, choose_counties, read_county, read_manifest

__all__ = [
    "CountyJob",
    "Options",
    "Outcome",
    "combine",
    "county_outcome",
    "simulate",
    "simulate_counties",
    "simulate_county",
]

INCOME_ITEMS = (
    "wage_income",
    "business_income",
    "property_income",
    "transfer_income",
    "pension_income",
    "resident_pension_central",
)
DEDUCTED_ITEMS = ("support_paid_out", "social_insurance_paid")
CASH_TIERS = (Tier.ASSISTANCE, Tier.WELFARE)  # pensions in payment are already in pension_income
TAKE_UP = "common.simulation.take_up"
SCALE = "common.simulation.equivalence_scale"
_HASH_BITS = 53
COLUMNS = ("region", "size", "weight", "income", "before", "after", "dibao_line")


@dataclass(frozen=True)
class Options:
    """How a simulation is run (every table says which)."""

    month: str
    take_up: bool = False
    enrolled_only: bool = False
    poverty_line_fen: int | None = None  # a chosen line per person per month, beside the local one
    programs: tuple[str, ...] | None = None  # None: every program
    counties: tuple[str, ...] | None = None
    fallbacks: Mapping[str, Any] | None = None  # illustrative values where a region has none


@dataclass
class Cell:
    """Sums of one (region, program): baseline and reform."""

    households: list[int] = field(default_factory=lambda: [0, 0])
    persons: list[int] = field(default_factory=lambda: [0, 0])
    amount_fen: list[int] = field(default_factory=lambda: [0, 0])
    newly_covered: int = 0  # households
    newly_covered_persons: int = 0
    losing: int = 0
    losing_persons: int = 0


@dataclass
class Outcome:
    """What a simulation found: sums by region and program, and per household the columns the
    distributional tables are computed from."""

    reform: Reform
    options: Options
    snapshot: str
    on: dt.date
    scale: str
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)
    population: dict[str, list[int]] = field(default_factory=dict)  # region → [households, persons]
    counties: list[str] = field(default_factory=list)
    not_available: dict[str, set[str]] = field(default_factory=dict)  # program → reasons
    # per household, all counties (concatenated at the end)
    region: np.ndarray = field(default_factory=lambda: np.array([], dtype="U6"))
    size: IntArray = field(default_factory=lambda: np.array([], np.int64))
    weight: IntArray = field(default_factory=lambda: np.array([], np.int64))
    income: IntArray = field(default_factory=lambda: np.array([], np.int64))
    before: IntArray = field(default_factory=lambda: np.array([], np.int64))
    after: IntArray = field(default_factory=lambda: np.array([], np.int64))
    dibao_line: IntArray = field(default_factory=lambda: np.array([], np.int64))


@dataclass
class _County:
    """One county's per-household columns before they are joined to the others'."""

    region: np.ndarray
    size: IntArray
    weight: IntArray
    income: IntArray
    before: IntArray
    after: IntArray
    dibao_line: IntArray


@dataclass(frozen=True)
class CountyJob:
    """One county of a simulation, as a worker receives it: only picklable data (the snapshot's
    path, the county's code, the reform and the options as values). The worker builds the
    parameter trees itself (the shipped tree is loaded once per process)."""

    snapshot: Path
    county: str
    reform: Reform
    options: Options
    tree: ParameterTree | None = None  # None: the shipped parameters


def simulate(
    snapshot: Path,
    reform: Reform,
    options: Options,
    *,
    tree: ParameterTree | None = None,
    engine: Engine | None = None,
    on_county: Callable[[str, int, int], None] | None = None,
) -> Outcome:
    """Baseline and reform over every county of ``snapshot`` (a Parquet snapshot: the
    registry's own or a synthetic population), each county on ``engine`` (default: one after
    another in this process; ``batch.engines``). The counties' results are combined in the
    snapshot's county order, whatever order they finish in: every engine gives the same
    outcome."""
    read_manifest(snapshot)
    chosen = list(dict.fromkeys(choose_counties(snapshot, options.counties)))
    jobs = [CountyJob(snapshot, county, reform, options, tree) for county in chosen]
    found: dict[str, Outcome] = {}
    results = (engine or LocalEngine(workers=1)).map_counties(simulate_county, jobs)
    try:
        for part in results:
            found[part.counties[0]] = part
            if on_county is not None:
                on_county(part.counties[0], len(found), len(jobs))
    finally:
        if isinstance(results, Generator):  # an error here stops the counties in flight now
            results.close()
    on = parse_month(options.month)
    scale = _scale(tree or default_tree(), on)
    parts = [found[county] for county in chosen]
    return combine(parts, reform, options, on, scale, source=str(snapshot))


def simulate_county(job: CountyJob) -> Outcome:
    """One county's outcome (its sums and its per-household columns): the pure function each
    engine runs, in this process, in a worker process or in a Spark task."""
    base = job.tree or default_tree()
    data = read_county(job.snapshot, job.county)
    return county_outcome(data, job.reform, job.options, base, reform_tree(base, job.reform))


def simulate_counties(
    counties: Iterable[CountyData],
    reform: Reform,
    options: Options,
    *,
    tree: ParameterTree | None = None,
    source: str = "",
) -> Outcome:
    """``simulate`` over an iterable of ``CountyData`` (one county in memory at a time), in this
    process."""
    base = tree or default_tree()
    changed = reform_tree(base, reform)
    on = parse_month(options.month)
    parts = [county_outcome(data, reform, options, base, changed) for data in counties]
    return combine(parts, reform, options, on, _scale(base, on), source=source)


def county_outcome(
    data: CountyData, reform: Reform, options: Options, base: ParameterTree,
    changed: ParameterTree,
) -> Outcome:  # fmt: skip
    """The outcome of one county alone: ``combine`` adds the counties' outcomes up."""
    on = parse_month(options.month)
    out = Outcome(reform, options, "", on, _scale(base, on), counties=[data.county])
    part = _county(data, on, base, changed, out)
    for name in COLUMNS:
        setattr(out, name, getattr(part, name))
    return out


def combine(
    parts: Sequence[Outcome], reform: Reform, options: Options, on: dt.date, scale: str,
    *, source: str = "",
) -> Outcome:  # fmt: skip
    """The counties' outcomes added up, in the order given (sums in integers: the same whatever
    the grouping; per-household columns concatenated in that order)."""
    out = Outcome(reform, options, source, on, scale)
    for part in parts:
        out.counties.extend(part.counties)
        for key, cell in part.cells.items():
            _add_cell(out.cells.setdefault(key, Cell()), cell)
        for code, (households, persons) in part.population.items():
            acc = out.population.setdefault(code, [0, 0])
            acc[0] += households
            acc[1] += persons
        for pid, reasons in part.not_available.items():
            out.not_available.setdefault(pid, set()).update(reasons)
    for name in COLUMNS:
        columns = [getattr(p, name) for p in parts]
        if columns:
            setattr(out, name, np.concatenate(columns))
    return out


def _add_cell(acc: Cell, cell: Cell) -> None:
    for k in (0, 1):
        acc.households[k] += cell.households[k]
        acc.persons[k] += cell.persons[k]
        acc.amount_fen[k] += cell.amount_fen[k]
    acc.newly_covered += cell.newly_covered
    acc.newly_covered_persons += cell.newly_covered_persons
    acc.losing += cell.losing
    acc.losing_persons += cell.losing_persons


def _scale(tree: ParameterTree, on: dt.date) -> str:
    return str(tree.resolve(SCALE, on, ["000000"]).value)


def _county(
    data: CountyData, on: dt.date, base: ParameterTree, changed: ParameterTree, out: Outcome
) -> _County:
    # Region codes as fixed-width text: sorting them (np.unique, here and in the county
    # function) is many times quicker than sorting Python strings.
    data = dataclasses.replace(data, region=np.asarray(data.region).astype("U6"))
    opts, pop, regions = out.options, data.population, _Regions(data.region)
    amounts = _evaluate(data, on, base, changed, out)
    size = (pop.ends - pop.starts).astype(np.int64)
    claims = _Claims(data, on, base, opts)
    benefits = [np.zeros(pop.n_households, np.int64), np.zeros(pop.n_households, np.int64)]
    every = sorted(set(amounts[0]) | set(amounts[1]))
    for pid in every:
        prog = programs()[pid]
        claim = claims.of(prog)
        paid = []
        for k in (0, 1):
            amount, covered = amounts[k].get(pid, (None, None))
            if amount is None or covered is None:
                amount = np.zeros(pop.n_households, np.int64)
                covered = np.zeros(pop.n_households, np.bool_)
            covered = covered & claim
            amount = np.where(claim, amount, 0)
            paid.append(covered)
            if prog.period == "month" and prog.info.tier in CASH_TIERS:
                benefits[k] += amount
            _add_cells(out, regions, pid, k, covered, amount, size)
        _add_coverage(out, regions, pid, paid[0], paid[1], size)
    for code, rows in regions:
        acc = out.population.setdefault(code, [0, 0])
        acc[0] += len(_in(size, rows))
        acc[1] += int(_in(size, rows).sum())
    return _County(
        region=data.region,
        size=size,
        weight=_weights(pop, on, out.scale, size),
        income=_income(pop),
        before=benefits[0],
        after=benefits[1],
        dibao_line=_dibao_line(data, on, base, opts.fallbacks),
    )


@dataclass
class _Recording(ParameterTree):
    """The shipped tree, noting the name of every parameter looked up."""

    read: set[str] = field(default_factory=set)

    def resolve(
        self, name: str, on: dt.date, lineage: Sequence[str],
        overrides: Mapping[str, Any] | None = None,
    ) -> Resolved:  # fmt: skip
        self.read.add(name)
        return super().resolve(name, on, lineage, overrides)


def _evaluate(
    data: CountyData, on: dt.date, base: ParameterTree, changed: ParameterTree, out: Outcome
) -> list[dict[str, tuple[IntArray, np.ndarray]]]:
    """The county's baseline and reform amounts per program.

    The baseline runs program by program, noting the parameters each one reads; the reform runs
    only the programs that read a parameter the reform changes where the county lies. A program
    is a deterministic function of its inputs and of the values it reads, so one that reads no
    changed value follows the same path and gives the same result: it is not run twice."""
    opts = out.options
    recording = _Recording(specs=base.specs, levels=base.levels, region_names=base.region_names)
    chosen = opts.programs or tuple(programs())
    baseline: dict[str, tuple[IntArray, np.ndarray]] = {}
    reads: dict[str, set[str]] = {}
    for pid in chosen:
        recording.read = set()
        run = evaluate_county(data, on, fallbacks=opts.fallbacks, only=(pid,), tree=recording)
        _note_not_available(out, run.totals)
        baseline.update(_amounts(data, run.results))
        reads[pid] = recording.read
    here = _changed_here(out.reform, data)
    off = switched_off_without_parameter(out.reform)
    rerun = tuple(p for p in chosen if p not in off and reads[p] & here)
    reform = {p: v for p, v in baseline.items() if p not in off and p not in rerun}
    if rerun:
        run = evaluate_county(data, on, fallbacks=opts.fallbacks, only=rerun, tree=changed)
        _note_not_available(out, run.totals)
        reform.update(_amounts(data, run.results))
    return [baseline, reform]


def _note_not_available(out: Outcome, totals: Sequence[Any]) -> None:
    for t in totals:
        if t.not_available:
            out.not_available.setdefault(t.program, set()).add(t.not_available)


def _changed_here(reform: Reform, data: CountyData) -> set[str]:
    """The parameters the reform changes at a level of one of the county's regions."""
    levels = {code for r in np.unique(data.region) for code in lineage(str(r))}
    names = {c.parameter for c in reform.changes if c.region in levels}
    known = programs()
    return names | {known[p].info.in_force for p in reform.switched if known[p].info.in_force}


def _amounts(data: CountyData, results: pa.Table) -> dict[str, tuple[IntArray, np.ndarray]]:
    """Per program: the amount of every household of the county and whether it is covered
    (eligible or paid)."""
    n = data.population.n_households
    if results.num_rows == 0:
        return {}
    rows = np.searchsorted(data.household_id, results.column("household_id").to_numpy())
    # the program column dictionary-encoded (hashing, not sorting Python strings)
    names = results.column("program").combine_chunks().dictionary_encode()
    inverse = names.indices.to_numpy(zero_copy_only=False)
    amounts = results.column("amount_fen").to_numpy()
    found: dict[str, tuple[IntArray, np.ndarray]] = {}
    for i, pid in enumerate(names.dictionary.to_pylist()):
        mine = inverse == i
        amount = np.zeros(n, np.int64)
        covered = np.zeros(n, np.bool_)
        amount[rows[mine]] = amounts[mine]
        covered[rows[mine]] = True
        found[str(pid)] = (amount, covered)
    return found


class _Regions:
    """The regions of one county's households: each code with its rows (None: every row, the
    usual county of one region), found once so no step sorts the region column again."""

    def __init__(self, region: np.ndarray) -> None:
        codes = np.unique(region)
        self.parts: list[tuple[str, np.ndarray | None]] = (
            [(str(codes[0]), None)] if len(codes) == 1 else [(str(c), region == c) for c in codes]
        )

    def __iter__(self) -> Any:
        return iter(self.parts)


def _in(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    return values if rows is None else values[rows]


def _add_cells(
    out: Outcome, regions: _Regions, pid: str, k: int, covered: np.ndarray, amount: IntArray,
    size: IntArray,
) -> None:  # fmt: skip
    for code, rows in regions:
        mine = _in(covered, rows)
        households, total = int(mine.sum()), int(_in(amount, rows).sum())
        if households == 0 and total == 0 and (code, pid) not in out.cells:
            continue
        cell = out.cells.setdefault((code, pid), Cell())
        cell.households[k] += households
        cell.persons[k] += int(_in(size, rows)[mine].sum())
        cell.amount_fen[k] += total


def _add_coverage(
    out: Outcome, regions: _Regions, pid: str, before: np.ndarray, after: np.ndarray,
    size: IntArray,
) -> None:  # fmt: skip
    for code, rows in regions:
        b, a, n = _in(before, rows), _in(after, rows), _in(size, rows)
        gained, lost = a & ~b, b & ~a
        if not (gained.any() or lost.any()):
            continue
        cell = out.cells.setdefault((code, pid), Cell())
        cell.newly_covered += int(gained.sum())
        cell.newly_covered_persons += int(n[gained].sum())
        cell.losing += int(lost.sum())
        cell.losing_persons += int(n[lost].sum())


class _Claims:
    """Which households claim a program: everyone (entitlement), or under take-up and the
    enrolled-caseload view the enrolled plus a drawn share of the others."""

    def __init__(self, data: CountyData, on: dt.date, tree: ParameterTree, opts: Options) -> None:
        self.data, self.on, self.tree, self.opts = data, on, tree, opts

    def of(self, prog: Program) -> np.ndarray:
        pop, n = self.data.population, self.data.population.n_households
        enrolled = prog.info.recipient_households(pop) if prog.info.recipients else None
        if self.opts.enrolled_only:
            return enrolled if enrolled is not None else np.zeros(n, np.bool_)
        if not self.opts.take_up:
            return np.ones(n, np.bool_)
        drawn = self._drawn(prog.id)
        return drawn | enrolled if enrolled is not None else drawn

    def _drawn(self, pid: str) -> np.ndarray:
        claim = np.zeros(self.data.population.n_households, np.bool_)
        u = _uniform(self.data.household_id, pid)
        for region in np.unique(self.data.region):
            rows = self.data.region == region
            rate = take_up_rate(self.tree, self.on, str(region), pid)
            threshold = int(rate * (1 << _HASH_BITS))
            claim[rows] = u[rows] < threshold
        return claim


def lineage(region: str) -> list[str]:
    return [NATION] if region == NATION else default_registry().lineage_codes(region)


def take_up_rate(tree: ParameterTree, on: dt.date, region: str, pid: str) -> Decimal:
    """The program's take-up rate in ``region`` on ``on`` (the table's ``default`` row if the
    program has none)."""
    table = Params(on, region, tree).table(TAKE_UP)
    rate = Decimal(table.get(pid, table.get("default", 1)))
    return min(max(rate, Decimal(0)), Decimal(1))


def _uniform(household_id: np.ndarray, pid: str) -> np.ndarray:
    """A draw in [0, 2^53) per household and program: splitmix64 of the identifier and the
    program (deterministic, the same in the baseline and the reform)."""
    salt = np.uint64(zlib.crc32(pid.encode()))
    with np.errstate(over="ignore"):
        x = household_id.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + salt
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(64 - _HASH_BITS)).astype(np.int64)


def _income(pop: Population) -> IntArray:
    """Household income per month before the programs' cash benefits (fen)."""
    total = np.zeros(pop.n_persons, np.int64)
    for name in INCOME_ITEMS:
        total += pop.p(name)
    for name in DEDUCTED_ITEMS:
        total -= pop.p(name)
    return pop.sum_h(total).astype(np.int64)


def _weights(pop: Population, on: dt.date, scale: str, size: IntArray) -> IntArray:
    """Each household's equivalence weight × 10."""
    if scale == "per_capita":
        return size * 10
    born_by = (on.year - 14) * 10_000 + on.month * 100 + on.day
    adult = pop.p("birth_date") <= born_by
    adults = pop.count_h(adult).astype(np.int64)
    children = size - adults
    first = np.where(adults > 0, 10, 0)
    weight: IntArray = first + 5 * np.maximum(adults - 1, 0) + 3 * children
    weight += np.where(adults > 0, 0, 7)
    return weight


def _dibao_line(
    data: CountyData, on: dt.date, tree: ParameterTree, fallbacks: Mapping[str, Any] | None
) -> IntArray:
    """The baseline's local dibao standard per person per month of each household (0 where the
    region has none): the line poverty is measured against, before and after alike."""
    line = np.zeros(data.population.n_households, np.int64)
    for region in np.unique(data.region):
        rows = np.flatnonzero(data.region == region)
        part = data.population.take(rows)
        try:
            line[rows] = dibao_standard(part, Params(on, str(region), tree, None, fallbacks))
        except CoverageError:
            continue
    return line
