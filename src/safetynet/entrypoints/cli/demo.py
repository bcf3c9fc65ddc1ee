"""``safetynet demo``: the example households screened against every program, with explanations."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from safetynet.domain.money import format_yuan
from safetynet.policy.calculate import parameter_record, read_json
from safetynet.policy.engine import evaluate_all
from safetynet.policy.population import population_from_households
from safetynet.policy.screening import load_parameter_values, screen

DEMO_DATE = dt.date(2025, 9, 1)


def run_demo(out: Console, examples: Path, on: dt.date = DEMO_DATE) -> None:
    fallbacks = load_parameter_values(examples / "illustrative_locality.yaml")
    files = sorted(examples.glob("*.json"))
    out.rule("SafetyNet demo")
    out.print(
        f"Each example household is screened against every program (one-door screening) on {on}. "
        "Real regional standards are used where the region has them; where it has none, the "
        "[bold]illustrative[/bold] locality of examples/illustrative_locality.yaml fills in, and "
        "every such figure is flagged [I] in the explanation. [I] figures are not official.\n"
    )
    households = []
    for file in files:
        household = read_json(file)
        households.append(household)
        lines = screen(household, on, fallbacks=fallbacks)
        table = Table(title=f"{file.name} — region {household.get('region', '000000')}", box=None)
        table.add_column("program")
        table.add_column("eligible")
        table.add_column("amount", justify="right")
        for line in lines:
            if line.evaluation is None:
                table.add_row(line.program, "[yellow]undecided[/yellow]", line.problem[:70])
            elif line.eligible:
                unit = {"month": "/month", "year": "/year", "event": ""}[line.period]
                table.add_row(
                    line.program, "[green]yes[/green]", f"{format_yuan(line.amount_fen)}{unit}"
                )
        out.print(table)

    shown = next((i for i, f in enumerate(files) if f.name == "dibao_household.json"), 0)
    first = screen(households[shown], on, fallbacks=fallbacks, explain=True)
    dibao = next(line for line in first if line.program == "dibao")
    if dibao.evaluation is not None:
        out.print(f"\n[bold]Why: dibao for {files[shown].name}[/bold]")
        used = {r.name: r for r in dibao.evaluation.params.used()}
        for step in dibao.evaluation.trace.steps:
            out.print(f"  {step.label}: [bold]{step.value}[/bold]  {step.formula}")
            for name in step.parameters:
                if name in used:
                    rec = parameter_record(used[name])
                    out.print(
                        f"      {name} = {rec['value']} ({rec['level']}) — {rec['citation']}",
                        markup=False,
                    )

    # The same code, vectorized: the examples repeated into a batch of 100,000 households.
    repeat = max(1, 100_000 // len(households))
    pop = population_from_households(households).tile(repeat)
    started = time.perf_counter()
    results = {
        pid: int(np.sum(r.amount))
        for pid, r in evaluate_all(pop, on, "000000", fallbacks=fallbacks).items()
    }
    elapsed = time.perf_counter() - started
    out.print(
        f"\nBatch: {pop.n_households:,} households ({pop.n_persons:,} persons), "
        f"{len(results)} programs in {elapsed:.2f} s "
        f"({pop.n_persons / elapsed:,.0f} persons/s)."
    )
    for pid, total in sorted(results.items()):
        out.print(f"  {pid:<30} total {format_yuan(total):>18} yuan")
    out.print(
        "\nNext: `./run safetynet calc dibao --input examples/dibao_household.json --date 2025-09-01 "
        "--set assistance.dibao.standard_monthly_urban=1000 --explain`, "
        "`./run safetynet params show assistance.dibao.standard_monthly_urban --region 310000`, "
        "`./run safetynet cases run cases/`, docs/programs/."
    )


__all__ = ["run_demo"]
