"""One timed process of ``bench/rules.py``: read a county's Parquet files, calculate, write results.

    python bench/rules_child.py ENGINE SNAPSHOT COUNTY OUT DATE [--all] [--check]

ENGINE is ``safetynet`` (the county function the monthly run uses: ``read_county``,
``evaluate_county``, results written as the run writes them), ``openfisca`` (the dibao rule of
bench/openfisca_dibao.py built through OpenFisca's documented ``SimulationBuilder``) or ``numpy``
(the same rule written by hand). Each reads only its own inputs from the same files and writes
``household_id, eligible, amount_fen`` for the eligible households. The process prints one JSON
line: the time of each phase since the interpreter started, the totals, and its peak resident
memory (``VmHWM``, the kernel's high-water mark for this program). ``--check`` (untimed) writes, for
SafetyNet's dibao, which households the OpenFisca rule models (no single-person member payment,
not in gradual exit) so the parent can compare to the fen.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # as early as the interpreter lets us: start-up is counted below

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

PERSON_INPUTS = (
    "wage_income",
    "business_income",
    "property_income",
    "transfer_income",
    "pension_income",
    "support_paid_out",
    "social_insurance_paid",
    "excluded_reason",
)
HOUSEHOLD_INPUTS = ("financial_assets", "vehicles", "homes")
P = "assistance.dibao."
# The parameters of the comparison: the illustrative locality as overrides (OpenFisca's rule
# implements the fixed employment cost it sets), as in bench/openfisca_dibao.py.
LOCALITY = Path(__file__).resolve().parent.parent / "examples" / "illustrative_locality.yaml"


def peak_rss_mib() -> float:
    """This process's high-water mark of resident memory: ``VmHWM``, which starts afresh at
    ``exec`` (``ru_maxrss`` would still carry the parent's at the fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def since() -> float:
    return time.perf_counter() - STARTED


def _files(snapshot: Path, county: str) -> tuple[Path, Path]:
    return (
        snapshot / "persons" / f"county={county}" / "part-0.parquet",
        snapshot / "households" / f"county={county}" / "part-0.parquet",
    )


def run_safetynet(
    snapshot: Path, county: str, out: Path, on: Any, only: list[str] | None
) -> dict[str, Any]:
    phases: dict[str, float] = {}
    from safetynet.batch.runner import evaluate_county
    from safetynet.policy.parameters import default_tree
    from safetynet.policy.screening import load_parameter_values
    from safetynet.registry.county_data import read_county, write_parquet

    phases["start"] = since()
    data = read_county(snapshot, county)
    phases["read"] = since()
    tree = default_tree()
    overrides = load_parameter_values(LOCALITY)
    phases["parameters"] = since()
    result = evaluate_county(data, on, overrides=overrides, only=only, tree=tree)
    phases["compute"] = since()
    write_parquet(result.results, out)
    phases["write"] = since()
    totals = {t.program: [t.households, t.amount_fen] for t in result.totals}
    return {"phases": phases, "totals": totals, "persons": data.population.n_persons}


def _params_json(snapshot: Path) -> dict[str, Any]:
    values: dict[str, Any] = json.loads((snapshot / "dibao_parameters.json").read_text())
    return values


def run_openfisca(snapshot: Path, county: str, out: Path, on: Any) -> dict[str, Any]:
    phases: dict[str, float] = {}
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    from openfisca_core.simulations import SimulationBuilder

    import openfisca_dibao as of

    phases["start"] = since()
    persons_file, households_file = _files(snapshot, county)
    persons = pq.read_table(persons_file, columns=["household_id", *PERSON_INPUTS])
    households = pq.read_table(
        households_file, columns=["household_id", "hukou_type", *HOUSEHOLD_INPUTS]
    )
    hh_ids = households.column("household_id").to_numpy()
    household_of = np.searchsorted(hh_ids, persons.column("household_id").to_numpy())
    phases["read"] = since()
    values = _params_json(snapshot)
    system = of.build_system_from_values(values)
    phases["parameters"] = since()
    n_p, n_h = persons.num_rows, households.num_rows
    builder = SimulationBuilder()
    builder.create_entities(system)
    builder.declare_person_entity("person", np.arange(n_p))
    group = builder.declare_entity("household", np.arange(n_h))
    first = np.concatenate(([True], household_of[1:] != household_of[:-1]))
    builder.join_with_persons(group, household_of, (~first).astype(np.int64))  # 0 = head
    simulation = builder.build(system)
    period = of.period_of(on)
    for name in PERSON_INPUTS:
        simulation.set_input(name, period, persons.column(name).to_numpy())
    simulation.set_input("is_urban", period, households.column("hukou_type").to_numpy() == 0)
    for name in HOUSEHOLD_INPUTS:
        simulation.set_input(name, period, households.column(name).to_numpy())
    result = of.calculate(simulation, on)
    phases["compute"] = since()
    chosen = result.eligible | (result.amount != 0)
    table = pa.table({"household_id": hh_ids[chosen], "eligible": result.eligible[chosen],
                      "amount_fen": result.amount[chosen]})  # fmt: skip
    pq.write_table(table, out, compression="zstd")
    phases["write"] = since()
    totals = {"dibao": [int(chosen.sum()), int(result.amount.sum())]}
    return {"phases": phases, "totals": totals, "persons": n_p}


def run_numpy(snapshot: Path, county: str, out: Path) -> dict[str, Any]:
    """The dibao difference rule by hand: the same arithmetic as bench/openfisca_dibao.py."""
    phases: dict[str, float] = {}
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    phases["start"] = since()
    persons_file, households_file = _files(snapshot, county)
    persons = pq.read_table(persons_file, columns=["household_id", *PERSON_INPUTS])
    households = pq.read_table(
        households_file, columns=["household_id", "hukou_type", *HOUSEHOLD_INPUTS]
    )
    hh_ids = households.column("household_id").to_numpy()
    p_hh = persons.column("household_id").to_numpy()
    phases["read"] = since()
    v = _params_json(snapshot)
    phases["parameters"] = since()
    col = {name: persons.column(name).to_numpy() for name in PERSON_INPUTS}
    wage = col["wage_income"]
    income = (wage - np.minimum(wage, v["employment_cost_fixed_monthly"]) + col["business_income"]
              + col["property_income"] + col["transfer_income"] + col["pension_income"]
              - col["support_paid_out"] - col["social_insurance_paid"])  # fmt: skip
    member = col["excluded_reason"] == 0
    starts = np.flatnonzero(np.concatenate(([True], p_hh[1:] != p_hh[:-1])))
    hh_income = np.maximum(np.add.reduceat(np.where(member, income, 0), starts), 0)
    members = np.add.reduceat(member.astype(np.int64), starts)
    urban = households.column("hukou_type").to_numpy() == 0
    standard = np.where(urban, v["standard_monthly_urban"], v["standard_monthly_rural"])
    line = standard * members
    assets_ok = (
        (households.column("financial_assets").to_numpy() <= v["financial_assets_months"] * line)
        & (households.column("vehicles").to_numpy() <= v["max_vehicles"])
        & (households.column("homes").to_numpy() <= v["max_homes"])
    )
    eligible = (members > 0) & (hh_income < line) & assets_ok
    amount = np.where(eligible, line - hh_income, 0)
    phases["compute"] = since()
    chosen = eligible | (amount != 0)
    table = pa.table({"household_id": hh_ids[chosen], "eligible": eligible[chosen],
                      "amount_fen": amount[chosen]})  # fmt: skip
    pq.write_table(table, out, compression="zstd")
    phases["write"] = since()
    return {"phases": phases, "totals": {"dibao": [int(chosen.sum()), int(amount.sum())]},
            "persons": len(p_hh)}  # fmt: skip


def check_safetynet(snapshot: Path, county: str, out: Path, on: Any) -> dict[str, Any]:
    """Untimed: which households the OpenFisca rule models, and our dibao for each."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from safetynet.policy.engine import Params, Trace, compute, program
    from safetynet.policy.screening import load_parameter_values
    from safetynet.registry.county_data import read_county

    data = read_county(snapshot, county)
    pop = data.population
    params = Params(on, str(data.region[0]), None, load_parameter_values(LOCALITY))
    res = compute(program("dibao"), pop, params, Trace())
    single = pop.sum_h(res.person_amount) if res.person_amount is not None else 0
    modelled = ~res.outputs["in_gradual_exit"] & (single == 0)
    pq.write_table(pa.table({"household_id": data.household_id, "modelled": modelled,
                             "eligible": res.eligible, "amount_fen": res.amount}), out)  # fmt: skip
    return {"modelled": int(modelled.sum()), "households": pop.n_households}


def main(argv: list[str]) -> int:
    import datetime as dt

    engine, snapshot, county, out, date = argv[:5]
    on = dt.date.fromisoformat(date)
    root, target = Path(snapshot), Path(out)
    if "--check" in argv:
        found = check_safetynet(root, county, target, on)
    elif engine == "safetynet":
        found = run_safetynet(root, county, target, on, None if "--all" in argv else ["dibao"])
    elif engine == "openfisca":
        found = run_openfisca(root, county, target, on)
    elif engine == "numpy":
        found = run_numpy(root, county, target)
    else:
        raise SystemExit(f"unknown engine {engine}")
    found["peak_rss_mib"] = peak_rss_mib()
    found["end_epoch"] = time.time()
    sys.stdout.write(json.dumps(found) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
