"""``safetynet demo``: the whole monthly job on a laptop, on the embedded SQLite database.

It builds the registry database, generates a synthetic county, runs every program for one month
county by county, and prints what a county office would want to see first: recipients and totals
per program, and the ten largest monthly payments with their explanations.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from safetynet.domain.money import format_yuan
from safetynet.policy.calculate import parameter_record

DEMO_MONTH = "2025-09"
DEMO_COUNTY = "310115"  # 上海市浦东新区: Shanghai's own standards where it has them
DEMO_PERSONS = 100_000
DEMO_SEED = 20250901


def run_demo(
    out: Console,
    workdir: Path,
    examples: Path,
    *,
    persons: int = DEMO_PERSONS,
    county: str = DEMO_COUNTY,
    month: str = DEMO_MONTH,
) -> None:
    from safetynet.batch.runner import (
        describe_totals,
        largest_monthly_payments,
        month_totals,
        parse_month,
        run_month,
    )
    from safetynet.batch.synth import generate
    from safetynet.domain.regions import default_registry
    from safetynet.policy.screening import load_parameter_values
    from safetynet.registry.db import bootstrap, upgrade

    started = time.perf_counter()
    fallback_file = examples / "illustrative_locality.yaml"
    fallbacks = load_parameter_values(fallback_file)
    name = default_registry().full_name(county)
    out.rule("SafetyNet demo: one month for one county")
    out.print(
        f"County {county} {name}, month {month}, {persons:,} synthetic persons.\n"
        "The county's own standards are used where the parameter files have them; everything the "
        f"region lacks comes from the ILLUSTRATIVE locality {fallback_file} and is flagged [I]. "
        "Synthetic people, illustrative figures: nothing here is an official amount.\n"
    )

    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    db = bootstrap(f"sqlite:///{workdir / 'safetynet.db'}")
    step = time.perf_counter()
    upgrade(db)
    out.print(
        f"1. Registry database created: {workdir / 'safetynet.db'} ({time.perf_counter() - step:.1f} s)"
    )

    step = time.perf_counter()
    snapshot = workdir / "population"
    generate(snapshot, persons, [county], seed=DEMO_SEED, on=parse_month(month))
    out.print(f"2. Synthetic population written: {snapshot} ({time.perf_counter() - step:.1f} s)")

    step = time.perf_counter()
    results = workdir / "results"
    report = run_month(
        snapshot, month, results, db=db, fallbacks=fallbacks,
        parameters_note=f"fallbacks from {fallback_file} [I]",
    )  # fmt: skip
    db.dispose()
    finished = report.finished[0]
    out.print(
        f"3. Month {month} evaluated: {finished.households:,} households, {finished.persons:,} persons, "
        f"{len(finished.totals)} programs ({time.perf_counter() - step:.1f} s); results in {results} "
        "and the registry\n"
    )

    table = Table(
        "program", "households", "persons", "amount (yuan)", "period", title=f"{name}, {month}"
    )
    for row in describe_totals(month_totals(results, month)):
        table.add_row(*row)
    out.print(table)

    out.print("\n[bold]The ten largest monthly payments, and why[/bold]")
    for rank, top in enumerate(
        largest_monthly_payments(snapshot, results, month, 10, fallbacks=fallbacks), 1
    ):
        out.print(
            f"\n{rank:>2}. household {top.household_id}: {format_yuan(top.monthly_fen)} yuan a month"
        )
        for ev in top.evaluations:
            out.print(f"    {ev.program.id}: {format_yuan(int(ev.result.amount[0]))}", markup=False)
            used = {r.name: r for r in ev.params.used()}
            for s in ev.trace.steps:
                if not s.formula or _nothing(s.value):
                    continue
                cites = "; ".join(
                    f"{n} = {parameter_record(used[n])['value']} [{used[n].provenance}]"
                    for n in s.parameters
                    if n in used
                )
                out.print(f"      {s.label}: {s.value} ({s.formula}) {cites}", markup=False)

    out.print(f"\nDone in {time.perf_counter() - started:.1f} s. Where to look next:")
    for line in (
        f"results by county and program: {results}/month={month}/ (Parquet) and the tables "
        "monthly_runs, county_program_summaries, household_results",
        "one household, explained: ./run safetynet calc dibao --input examples/dibao_household.json "
        "--date 2025-09-01 --set assistance.dibao.standard_monthly_urban=1000 --explain",
        "one-door screening of a household: ./run safetynet screen --input examples/tekun.json",
        "a parameter and its sources: ./run safetynet params show assistance.dibao.standard_monthly_urban --region 310115",
        "your own population: ./run safetynet synth --persons 1000000 --out var/population; "
        "./run safetynet run-month --month 2025-09",
        "the rules, program by program: docs/programs/; every worked example: ./run safetynet cases run cases/",
    ):
        out.print(f"  - {line}", markup=False)


def _nothing(value: object) -> bool:
    """A step that adds nothing to the story (zero, false, or all zero)."""
    if isinstance(value, list):
        return all(_nothing(v) for v in value)
    return value in ("0.00", False, 0)
