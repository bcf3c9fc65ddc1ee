"""The monthly run: every program of the rules core over a snapshot, one county at a time.

``evaluate_county`` is a pure function of one county's snapshot, the month and the parameters: a
distributed engine can run it unchanged. ``run_month`` does the I/O around it: it reads each county
from the Parquet snapshot, writes the county's results to Parquet (atomically) and to the registry
(in one transaction, replacing any earlier results of that county for the month), and records the
county as finished, so an interrupted run resumes with the next county and never counts one twice.
Memory is bounded by the largest county, whatever the population.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from safetynet.domain.money import fen_to_yuan
from safetynet.errors import InputError
from safetynet.policy.engine import (
    Evaluation,
    Params,
    PartResult,
    Trace,
    evaluate,
    payable_part,
    programs,
)
from safetynet.policy.parameters import ParameterTree
from safetynet.policy.population import BoolArray, IntArray
from safetynet.registry.county_data import (
    CountyData,
    choose_counties,
    read_county,
    read_manifest,
    write_parquet,
)

if TYPE_CHECKING:  # the county function needs no database: a worker does not import one
    from sqlalchemy.orm import Session

    from safetynet.db.engine import Database

SYSTEM_ACTOR = {"name": "monthly-run", "role": "system"}  # who the audit log says ran the month
PROGRESS = "_progress.json"  # the finished counties of a month, with the stages that were run
RULES_ONLY = ("rules",)


def parse_month(value: str) -> dt.date:
    """'2025-09' → the first day of that month (the date the rules are applied on)."""
    try:
        year, month = (int(x) for x in value.split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        raise InputError("--month", f"{value!r} is not a month (YYYY-MM)") from None


@dataclass
class ProgramTotals:
    program: str
    period: str
    households: int
    persons: int
    amount_fen: int
    not_available: str = ""  # why the program is not eligible in the county ("" if it applies)


@dataclass
class CountyResult:
    """What one county's evaluation produced (pure data, nothing written yet)."""

    county: str
    households: int
    persons: int
    totals: list[ProgramTotals]
    results: pa.Table  # household_id, program, eligible, amount_fen: eligible rows only
    person_results: pa.Table  # person_id, program, amount_fen: non-zero person amounts only


def evaluate_county(
    data: CountyData,
    on: dt.date,
    *,
    overrides: Mapping[str, Any] | None = None,
    fallbacks: Mapping[str, Any] | None = None,
    only: Sequence[str] | None = None,
    tree: ParameterTree | None = None,
) -> CountyResult:
    """Every program (or those in ``only``) for every household of one county: a pure function
    of its inputs (``tree``: the parameters, the shipped ones by default). A program not in force
    in a region, or local-only without the region's value, is not eligible there (never an
    error: ``engine.compute``)."""
    pop = data.population
    chosen = {pid: prog for pid, prog in programs().items() if only is None or pid in only}
    names, codes = region_codes(data.region)
    pieces: dict[str, list[_Piece]] = {pid: [] for pid in chosen}
    for code, region in enumerate(names):
        # Households of one region share one parameter view; a county usually has one region.
        rows = members = None
        part = pop
        if len(names) > 1:
            rows = np.flatnonzero(codes == code)
            members = pop.person_rows(rows)
            part = pop.take(rows)
        params = Params(on, region, tree, overrides, fallbacks)
        trace = Trace()
        for pid, prog in chosen.items():
            found = payable_part(prog, part, params, trace)
            pieces[pid].append(_Piece.of(found, rows, members))
    sizes = pop.ends - pop.starts
    totals, tables, person_tables = [], [], []
    for pid, parts in pieces.items():
        res = _Piece.joined(parts)
        totals.append(
            ProgramTotals(
                pid,
                programs()[pid].period,
                len(res.households),
                int(sizes[res.households].sum()),
                int(res.amount.sum()),
                res.not_available,
            )
        )
        tables.append(
            pa.table(
                {
                    "household_id": data.household_id[res.households],
                    "program": pa.repeat(pa.scalar(pid, pa.string()), len(res.households)),
                    "eligible": res.eligible,
                    "amount_fen": res.amount,
                }
            )
        )
        if res.persons is not None and res.person_amount is not None:
            person_tables.append(
                pa.table(
                    {
                        "person_id": data.person_id[res.persons],
                        "program": pa.repeat(pa.scalar(pid, pa.string()), len(res.persons)),
                        "amount_fen": res.person_amount,
                    }
                )
            )
    empty_p = pa.table(
        {"person_id": pa.array([], pa.int64()), "program": pa.array([], pa.string()),
         "amount_fen": pa.array([], pa.int64())}
    )  # fmt: skip
    return CountyResult(
        county=data.county,
        households=pop.n_households,
        persons=pop.n_persons,
        totals=totals,
        results=pa.concat_tables(tables),
        person_results=pa.concat_tables(person_tables) if person_tables else empty_p,
    )


@dataclass
class _Piece:
    """A program's result in one region of a county, kept for the households it concerns
    (eligible, or an amount) and the persons it pays, as indices into the county."""

    households: IntArray
    eligible: BoolArray
    amount: IntArray
    persons: IntArray | None  # None: the program pays households only
    person_amount: IntArray | None
    not_available: str

    @classmethod
    def of(cls, found: PartResult, rows: IntArray | None, members: IntArray | None) -> _Piece:
        """``found`` for the population of ``rows`` (its households in the county; None: the
        county itself) whose members are ``members``. A program computed for the households it
        concerns is searched among those only, not over the county."""
        res = found.result
        hit = np.flatnonzero(res.eligible | (res.amount != 0))
        households = hit if found.households is None else found.households[hit]
        persons = person_amount = None
        if res.person_amount is not None:
            paid = np.flatnonzero(res.person_amount)
            person_amount = res.person_amount[paid]
            persons = paid if found.persons is None else found.persons[paid]
            persons = persons if members is None else members[persons]
        households = households if rows is None else rows[households]
        return cls(households, res.eligible[hit], res.amount[hit], persons, person_amount,
                   res.not_available)  # fmt: skip

    @classmethod
    def joined(cls, pieces: Sequence[_Piece]) -> _Piece:
        """The pieces of every region of a county as one, in the county's order; the program
        is not available in the county only where it is available in none of its regions."""
        if len(pieces) == 1:
            return pieces[0]
        households = np.concatenate([p.households for p in pieces])
        order = np.argsort(households, kind="stable")
        paid = [(p.persons, p.person_amount) for p in pieces]
        persons = person_amount = None
        if all(ps is not None and pa_ is not None for ps, pa_ in paid):
            by_person = np.concatenate([ps for ps, _ in paid if ps is not None])
            keep = np.argsort(by_person, kind="stable")
            persons = by_person[keep]
            person_amount = np.concatenate([a for _, a in paid if a is not None])[keep]
        reasons = [p.not_available for p in pieces]
        return cls(
            households[order],
            np.concatenate([p.eligible for p in pieces])[order],
            np.concatenate([p.amount for p in pieces])[order],
            persons,
            person_amount,
            "; ".join(dict.fromkeys(reasons)) if all(reasons) else "",
        )


def region_codes(region: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The distinct region codes of a county's households, in ascending order, and each
    household's index among them (int32). A county usually has one region: that is checked in
    one pass, and the strings are sorted only when there are several."""
    n = len(region)
    if n == 0:
        return [], np.zeros(0, np.int32)
    if region.dtype.kind in "iu":  # already integer region codes
        first = region[0]
        if bool((region == first).all()):
            return [f"{int(first):06d}"], np.zeros(n, np.int32)
        values, codes = np.unique(region, return_inverse=True)
        return [f"{int(v):06d}" for v in values], codes.astype(np.int32)
    first = region[0]
    if bool((region == first).all()):
        return [str(first)], np.zeros(n, np.int32)
    encoded = pa.array(region, pa.string()).dictionary_encode()
    found = [str(v) for v in encoded.dictionary.to_pylist()]
    order = np.argsort(np.array(found, dtype=object))
    rank = np.empty(len(found), np.int32)
    rank[order] = np.arange(len(found), dtype=np.int32)
    codes = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    return [found[i] for i in order], codes


# -- the run: I/O around the pure county function ------------------------------------------------


@dataclass
class RunReport:
    month: str
    snapshot: Path
    out: Path
    finished: list[CountyResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # finished by an earlier, interrupted run


def month_dir(out: Path, month: str) -> Path:
    return out / f"month={month}"


def finished_counties(folder: Path, stages: Sequence[str] | None = None) -> list[str]:
    """The counties an earlier run of the month finished; with ``stages``, only if that run ran
    the same stages (a run of other stages starts afresh)."""
    path = folder / PROGRESS
    if not path.is_file():
        return []
    progress = json.loads(path.read_text(encoding="utf-8"))
    if stages is not None and progress.get("stages", ["rules"]) != list(stages):
        return []
    done: list[str] = progress["finished"]
    return done


def mark_finished(folder: Path, done: list[str], stages: Sequence[str]) -> None:
    tmp = folder / (PROGRESS + ".tmp")
    tmp.write_text(json.dumps({"finished": done, "stages": list(stages)}), encoding="utf-8")
    tmp.replace(folder / PROGRESS)


def write_summary(target: Path, totals: Sequence[ProgramTotals]) -> None:
    """The county's program totals, as ``month_totals`` reads them."""
    summary = [t.__dict__ for t in totals]
    (target / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")


def _write_parquet(folder: Path, result: CountyResult) -> None:
    target = folder / f"county={result.county}"
    target.mkdir(parents=True, exist_ok=True)
    write_parquet(result.results, target / "results.parquet")
    write_parquet(result.person_results, target / "person_results.parquet")
    write_summary(target, result.totals)


def start_run(
    session: Session, month: str, snapshot: Path, note: str, total: int, restart: bool
) -> int:
    from sqlalchemy import (
        select,
    )  # the county function stays free of the database (start-up, ADR 0022)

    from safetynet.audit.log import (
        Actor,
        append,
    )  # the county function stays free of the database (start-up, ADR 0022)
    from safetynet.batch.model import (
        MonthlyRun,
    )  # the county function stays free of the database (start-up, ADR 0022)

    run = session.scalar(select(MonthlyRun).where(MonthlyRun.month == month))
    now = dt.datetime.now(dt.UTC)
    if run is not None and restart:
        session.delete(run)
        session.flush()
        run = None
    if run is None:
        run = MonthlyRun(
            month=month,
            snapshot=str(snapshot),
            parameters_note=note,
            status="running",
            counties_total=total,
            counties_done=0,
            started_at=now,
        )
        session.add(run)
        session.flush()
        append(session, actor=Actor(**SYSTEM_ACTOR), command="RunMonth", event="MonthlyRunStarted",
               entity="monthly_run", entity_id=run.id,
               after={"month": month, "snapshot": str(snapshot), "counties": total})  # fmt: skip
    return run.id


def record_county(
    session: Session, run_id: int, month: str, result: CountyResult, *, households: bool
) -> None:
    """Replace the county's rows for this run, in the caller's transaction."""
    from sqlalchemy import (
        delete,
        insert,
        select,
    )  # the county function stays free of the database (start-up, ADR 0022)

    from safetynet.audit.log import (
        Actor,
        append,
    )  # the county function stays free of the database (start-up, ADR 0022)
    from safetynet.batch.model import (
        CountyProgramSummary,
        HouseholdResult,
        MonthlyRun,
    )  # the county function stays free of the database (start-up, ADR 0022)

    session.execute(delete(CountyProgramSummary).where(
        CountyProgramSummary.run_id == run_id, CountyProgramSummary.county == result.county))  # fmt: skip
    session.execute(delete(HouseholdResult).where(
        HouseholdResult.run_id == run_id, HouseholdResult.county == result.county))  # fmt: skip
    session.execute(
        insert(CountyProgramSummary),
        [{"run_id": run_id, "county": result.county, **t.__dict__} for t in result.totals],
    )
    if households and result.results.num_rows:
        cols = result.results.to_pydict()
        rows = [
            {"run_id": run_id, "county": result.county, "household_id": h, "program": p,
             "eligible": e, "amount_fen": a}
            for h, p, e, a in zip(cols["household_id"], cols["program"], cols["eligible"],
                                  cols["amount_fen"], strict=True)
        ]  # fmt: skip
        session.execute(insert(HouseholdResult), rows)
    run = session.get(MonthlyRun, run_id)
    assert run is not None
    done = session.scalars(
        select(CountyProgramSummary.county).where(CountyProgramSummary.run_id == run_id).distinct()
    ).all()
    run.counties_done = len(done)
    if run.counties_done == run.counties_total:
        run.status = "finished"
        run.finished_at = dt.datetime.now(dt.UTC)
    append(session, actor=Actor(**SYSTEM_ACTOR), command="RunMonth", event="CountyEvaluated",
           entity="monthly_run", entity_id=run_id,
           after={"month": month, "county": result.county, "households": result.households,
                  "programs": {t.program: [t.households, t.amount_fen] for t in result.totals}})  # fmt: skip


def run_month(
    snapshot: Path,
    month: str,
    out: Path,
    *,
    db: Database | None = None,
    only: Sequence[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    fallbacks: Mapping[str, Any] | None = None,
    parameters_note: str = "",
    restart: bool = False,
    household_rows: bool = True,
    on_county: Callable[[str, int, int], None] | None = None,
    tree: ParameterTree | None = None,
) -> RunReport:
    """Run every program over each county of ``snapshot`` for ``month``, resuming where it stopped."""
    on = parse_month(month)
    read_manifest(snapshot)
    chosen = choose_counties(snapshot, only)
    folder = month_dir(out, month)
    folder.mkdir(parents=True, exist_ok=True)
    if restart:
        mark_finished(folder, [], RULES_ONLY)
    done = finished_counties(folder, RULES_ONLY)
    run_id = None
    if db is not None:
        from safetynet.db.engine import (
            require_current_schema,
        )  # the county function stays free of the database (start-up, ADR 0022)

        require_current_schema(db)
        with db.sessions.begin() as session:
            run_id = start_run(session, month, snapshot, parameters_note, len(chosen), restart)
    report = RunReport(month, snapshot, out, skipped=[c for c in chosen if c in done])
    todo = [c for c in chosen if c not in done]
    for i, county in enumerate(todo):
        result = evaluate_county(
            read_county(snapshot, county), on, overrides=overrides, fallbacks=fallbacks, tree=tree
        )
        _write_parquet(folder, result)
        if db is not None and run_id is not None:
            with db.sessions.begin() as session:
                record_county(session, run_id, month, result, households=household_rows)
        done.append(county)
        mark_finished(folder, done, RULES_ONLY)
        report.finished.append(result)
        if on_county is not None:
            on_county(county, i + 1, len(todo))
    return report


# -- reading results back ------------------------------------------------------------------------


def month_totals(out: Path, month: str) -> dict[str, ProgramTotals]:
    """Totals per program over every finished county of the month (from the Parquet results)."""
    folder = month_dir(out, month)
    totals: dict[str, ProgramTotals] = {}
    for county in finished_counties(folder):
        path = folder / f"county={county}" / "summary.json"
        if not path.is_file():  # a cycle that did not run the rules stage
            continue
        for row in json.loads(path.read_text(encoding="utf-8")):
            t = totals.setdefault(
                row["program"], ProgramTotals(row["program"], row["period"], 0, 0, 0)
            )
            t.households += row["households"]
            t.persons += row["persons"]
            t.amount_fen += row["amount_fen"]
    return totals


@dataclass
class LargestPayment:
    county: str
    household_id: int
    monthly_fen: int
    evaluations: list[Evaluation]


def largest_monthly_payments(
    snapshot: Path,
    out: Path,
    month: str,
    n: int = 10,
    *,
    overrides: Mapping[str, Any] | None = None,
    fallbacks: Mapping[str, Any] | None = None,
) -> list[LargestPayment]:
    """The ``n`` households with the largest monthly total, each re-evaluated with explanations."""
    folder = month_dir(out, month)
    monthly = {pid for pid, prog in programs().items() if prog.period == "month"}
    best: list[tuple[int, str, int]] = []
    for county in finished_counties(folder):
        path = folder / f"county={county}" / "results.parquet"
        if not path.is_file():  # a cycle that did not run the rules stage
            continue
        table = pq.read_table(path).to_pydict()
        per_household: dict[int, int] = {}
        for h, p, a in zip(
            table["household_id"], table["program"], table["amount_fen"], strict=True
        ):
            if p in monthly:
                per_household[h] = per_household.get(h, 0) + a
        best += [(amount, county, h) for h, amount in per_household.items()]
    best.sort(key=lambda x: (-x[0], x[1], x[2]))
    on = parse_month(month)
    found = []
    for amount, county, h in best[:n]:
        data = read_county(snapshot, county)
        row = int(np.searchsorted(data.household_id, h))
        one = data.population.take(np.array([row]))
        region = str(data.region[row])
        evs = [
            evaluate(prog, one, on, region, overrides=overrides, fallbacks=fallbacks, explain=True)
            for pid, prog in programs().items()
            if pid in monthly
        ]
        found.append(LargestPayment(county, h, amount, [e for e in evs if e.result.amount[0] > 0]))
    return found


def describe_totals(totals: Mapping[str, ProgramTotals]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    unit = {"month": "per month", "year": "per year", "event": "one-off"}
    for pid in sorted(totals):
        t = totals[pid]
        amount = f"{fen_to_yuan(t.amount_fen):,.2f}"
        rows.append((pid, f"{t.households:,}", f"{t.persons:,}", amount, unit[t.period]))
    return rows
