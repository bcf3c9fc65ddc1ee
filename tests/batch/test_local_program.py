"""A local subsidy with parameters for one county only never breaks the monthly run: it is paid in
that county and is "not eligible here", with the reason in the explanation, everywhere else."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from safetynet.batch import synth
from safetynet.batch.cycle import CycleSettings, run_cycle
from safetynet.batch.runner import month_dir, run_month
from safetynet.errors import CoverageError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import (
    Params,
    Program,
    ProgramInfo,
    ProgramResult,
    Tier,
    Trace,
    evaluate,
    evaluate_all,
    program,
    register,
    unregister,
)
from safetynet.policy.parameters import ParameterTree, shipped_tree_with
from safetynet.policy.population import Population
from safetynet.policy.screening import load_parameter_values
from safetynet.registry.county_data import read_county

ROOT = Path(__file__).resolve().parents[2]
FALLBACKS = load_parameter_values(ROOT / "examples" / "illustrative_locality.yaml")
PAYING, OTHERS = "310115", ("310104", "310110")
MONTH = "2025-09"
ON = dt.date(2025, 9, 1)
P = "welfare.local_winter_subsidy."

NATIONAL = """\
description: An illustrative local winter subsidy (test only); no national scheme.
amount_monthly:
  description: Monthly subsidy per household with an elderly member. Set locally only.
  unit: yuan/month
  provenance: I
  values:
    2020-01-01: null
  reference:
    - title: no national value (illustrative test program)
age_from:
  description: Age in completed years from which a member counts for the subsidy.
  unit: years
  provenance: I
  values:
    2020-01-01: 65
  reference:
    - title: illustrative test value
"""

LOCAL = """\
region: "310115"
name: 浦东新区
parameters:
  welfare.local_winter_subsidy.amount_monthly:
    provenance: I
    values:
      2024-01-01: 150
    reference:
      - title: illustrative county value (test only)
"""


class LocalWinterSubsidy(Program):
    id = "local_winter_subsidy"
    title = "Local winter subsidy (illustrative)"
    title_zh = "冬季补贴（示例）"
    info = ProgramInfo(
        Tier.WELFARE, "welfare.local_winter_subsidy", local_parameters=(P + "amount_monthly",)
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        elderly = pop.any_h(pop.age(p.on) >= p.int(P + "age_from"))
        amount = np.where(elderly, p.fen(P + "amount_monthly"), 0).astype(np.int64)
        t.step("amount", "Winter subsidy", amount, params=[P + "amount_monthly"])
        return ProgramResult(eligible=elderly, amount=amount)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> ParameterTree:
    folder = tmp_path_factory.mktemp("local-parameters")
    (folder / "welfare").mkdir()
    (folder / "welfare" / "local_winter_subsidy.yaml").write_text(NATIONAL, encoding="utf-8")
    (folder / "regions").mkdir()
    (folder / "regions" / f"{PAYING}.yaml").write_text(LOCAL, encoding="utf-8")
    return shipped_tree_with(folder)


@pytest.fixture
def registered() -> Iterator[Program]:
    register(LocalWinterSubsidy)
    yield program("local_winter_subsidy")
    unregister("local_winter_subsidy")


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("population")
    synth.generate(root, 6_000, [PAYING, *OTHERS], seed=5, on=ON)
    return root


def paid(folder: Path, county: str) -> list[int]:
    table = pq.read_table(folder / f"county={county}" / "results.parquet").to_pydict()
    return [
        a
        for p, a in zip(table["program"], table["amount_fen"], strict=True)
        if p == "local_winter_subsidy"
    ]


def subsidy_total(folder: Path, county: str) -> int:
    summary = json.loads((folder / f"county={county}" / "summary.json").read_text("utf-8"))
    return sum(r["amount_fen"] for r in summary if r["program"] == "local_winter_subsidy")


@pytest.mark.usefixtures("registered")
def test_the_monthly_run_pays_the_local_subsidy_in_its_county_alone(
    tree: ParameterTree, snapshot: Path, tmp_path: Path
) -> None:
    report = run_month(snapshot, MONTH, tmp_path / "run", fallbacks=FALLBACKS, tree=tree)
    assert sorted(r.county for r in report.finished) == sorted([PAYING, *OTHERS])
    folder = month_dir(tmp_path / "run", MONTH)
    assert paid(folder, PAYING)
    assert set(paid(folder, PAYING)) == {15_000}
    for county in OTHERS:
        assert paid(folder, county) == []
        assert subsidy_total(folder, county) == 0


@pytest.mark.usefixtures("registered")
def test_the_monthly_cycle_pays_it_there_too_and_other_programs_are_unchanged(
    tree: ParameterTree, snapshot: Path, tmp_path: Path
) -> None:
    settings = CycleSettings(stages=("rules",), workers=1, fallbacks=FALLBACKS, tree=tree)
    report = run_cycle(snapshot, MONTH, tmp_path / "cycle", settings)
    assert [c.county for c in report.counties] == sorted([PAYING, *OTHERS])
    folder = month_dir(tmp_path / "cycle", MONTH)
    assert subsidy_total(folder, PAYING) > 0
    assert all(subsidy_total(folder, c) == 0 for c in OTHERS)
    # The shipped programs pay what they pay without the local one.
    unregister("local_winter_subsidy")
    plain = run_month(snapshot, MONTH, tmp_path / "plain", fallbacks=FALLBACKS, only=[OTHERS[0]])
    register(LocalWinterSubsidy)
    dibao = {t.program: t.amount_fen for t in plain.finished[0].totals}["dibao"]
    cycle = {p["program"]: p["amount_fen"] for c in report.counties if c.county == OTHERS[0]
             for p in c.programs}  # fmt: skip
    assert cycle["dibao"] == dibao


def test_elsewhere_the_explanation_says_why_it_is_not_eligible(
    registered: Program, tree: ParameterTree, snapshot: Path
) -> None:
    data = read_county(snapshot, OTHERS[0])
    one = data.population.take(np.array([0]))
    ev = evaluate(registered, one, ON, OTHERS[0], explain=True, tree=tree, fallbacks=FALLBACKS)
    assert not ev.result.eligible[0]
    assert ev.result.amount[0] == 0
    step = next(s for s in ev.trace.steps if s.key == "not_available_here")
    assert "no local value of welfare.local_winter_subsidy.amount_monthly" in step.value
    assert step.parameters == [P + "amount_monthly"]
    every = evaluate_all(data.population, ON, OTHERS[0], tree=tree, fallbacks=FALLBACKS)
    assert not every["local_winter_subsidy"].eligible.any()


@pytest.mark.usefixtures("registered")
def test_a_missing_parameter_of_a_national_program_still_raises(
    tree: ParameterTree, snapshot: Path
) -> None:
    data = read_county(snapshot, OTHERS[0])
    with pytest.raises(CoverageError, match="dibao"):
        evaluate_all(data.population, ON, "000000", only=["dibao"], tree=tree)


def test_a_program_not_yet_in_force_is_not_eligible_with_its_reason() -> None:
    child = program("childcare_subsidy")
    household = {"members": [{"relation": "child", "birth_date": "2023-04-10", "sex": "female"}]}
    ev, _ = calculate(child, household, dt.date(2024, 6, 1), "000000")
    assert not ev.result.eligible.any()
    step = next(s for s in ev.trace.steps if s.key == "not_available_here")
    assert step.value.startswith("not in force on 2024-06-01")
