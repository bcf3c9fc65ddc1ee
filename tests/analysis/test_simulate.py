"""Reform simulation: a reform that changes nothing changes nothing; a small population matches the
figures worked out by hand; raising one county's standard moves that county alone."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from safetynet.analysis.reform import parse_reform, reform_tree
from safetynet.analysis.simulate import COLUMNS, Options, Outcome, simulate, simulate_counties
from safetynet.analysis.tables import TOTAL, Table, simulation_tables
from safetynet.batch import synth
from safetynet.batch.engines import Engine, LocalEngine, SparkEngine
from safetynet.batch.runner import evaluate_county
from safetynet.entrypoints.cli.main import app
from safetynet.policy.parameters import default_tree
from safetynet.policy.screening import load_parameter_values
from safetynet.registry.county_data import read_county
from tests.analysis.conftest import MONTH, PUDONG, XUHUI, write_population
from tests.conftest import ON_SPARK, SPARK_SOCKETS

ROOT = Path(__file__).resolve().parents[2]
FALLBACKS = load_parameter_values(ROOT / "examples" / "illustrative_locality.yaml")
J = TypeVar("J")
R = TypeVar("R")
RAISE = {
    "name": "徐汇区低保标准提高10%",
    "changes": [
        {"parameter": f"assistance.dibao.standard_monthly_{kind}", "region": XUHUI,
         "from": "2025-07-01", "scale": 1.1}
        for kind in ("urban", "rural")
    ],
}  # fmt: skip


def by_key(tables: list[Table]) -> dict[str, Table]:
    return {t.key: t for t in tables}


def changes(table: Table) -> list[object]:
    """Every value of the table's change columns."""
    names = [c for c in table.columns if c.startswith("change") or c.startswith("newly")
             or c.startswith("losing") or c in ("winners", "losers")]  # fmt: skip
    return [v for c in names for v in table.column(c) if v != ""]


@pytest.fixture
def population(tmp_path: Path) -> Path:
    write_population(tmp_path)
    return tmp_path


def test_a_reform_that_changes_nothing_reports_zero_change_in_every_table(
    population: Path,
) -> None:
    # A dated change to the value already in force: the reform's tree answers like the baseline.
    same = parse_reform({"name": "no change", "changes": [
        {"parameter": "assistance.dibao.standard_monthly_urban", "region": "310000",
         "from": "2025-07-01", "value": 1650}]})  # fmt: skip
    for reform in (parse_reform({"name": "empty"}), same):
        opts = Options(MONTH, poverty_line_fen=180_000)
        tables = by_key(simulation_tables(simulate(population, reform, opts)))
        for key in ("cost", "recipients", "deciles", "poverty", "poverty_by_region", "inequality"):
            found = changes(tables[key])
            assert found, key
            assert all(v == 0 for v in found), (key, found)
        assert any(v != 0 for v in tables["cost"].column("baseline_fen")[:-1])


def test_hand_computed_population(population: Path) -> None:
    """Shanghai's standard is 1,650 a month; Xuhui's raised by 10 % is 1,815.

    Xuhui: A (2 persons, 2,000) gets 2×1,650 − 2,000 = 1,300, then 2×1,815 − 2,000 = 1,630;
    C (3 persons, 4,500) gets 3×1,650 − 4,500 = 450, then 3×1,815 − 4,500 = 945; E (1 person,
    1,700) nothing, then 1,815 − 1,700 = 115; B (3,000) and F (assets too high) nothing.
    Xuhui: 1,750 → 2,690 yuan a month (+940); Pudong: D (2 persons, 1,500) 1,800 both times."""
    tables = by_key(simulation_tables(simulate(
        population, parse_reform(RAISE), Options(MONTH, programs=("dibao",),
                                                 poverty_line_fen=180_000))))  # fmt: skip
    cost = {(r["region"], r["program"]): r for r in tables["cost"].as_dicts()}
    assert cost[(XUHUI, "dibao")]["baseline_fen"] == 175_000
    assert cost[(XUHUI, "dibao")]["reform_fen"] == 269_000
    assert cost[(XUHUI, "dibao")]["change_year_fen"] == 94_000 * 12
    assert cost[(PUDONG, "dibao")]["change_fen"] == 0
    assert cost[(TOTAL, "dibao")]["change_fen"] == 94_000
    recipients = {(r["region"], r["program"]): r for r in tables["recipients"].as_dicts()}
    xuhui = recipients[(XUHUI, "dibao")]
    assert (xuhui["households_baseline"], xuhui["households_reform"]) == (2, 3)  # A, C; + E
    assert (xuhui["persons_baseline"], xuhui["persons_reform"]) == (5, 6)
    assert (xuhui["newly_covered_households"], xuhui["losing_households"]) == (1, 0)
    # Against a chosen line of 1,800 per person (10 persons in all):
    # before A, C (1,650 a head), E (1,700), F (1,000), D (1,650) are poor: 9 persons;
    # gap = [2·150 + 3·150 + 100 + 800 + 2·150] / 1,800 / 10 = 1,950/18,000 = 13/120.
    # After A, C, E have 1,815 a head: F and D are poor: gap = (800 + 300)/1,800/10 = 11/180.
    # Squared gap before: [2·150² + 3·150² + 100² + 800² + 2·150²]/1,800²/10 = 323/12,960.
    poverty = {(r["line"], r["measure"]): r for r in tables["poverty"].as_dicts()}
    chosen = "chosen line 180000 fen"
    assert poverty[(chosen, "headcount")]["baseline"] == Fraction(9, 10)
    assert poverty[(chosen, "headcount")]["reform"] == Fraction(3, 10)
    assert poverty[(chosen, "gap")]["baseline"] == Fraction(13, 120)
    assert poverty[(chosen, "gap")]["reform"] == Fraction(11, 180)
    assert poverty[(chosen, "squared_gap")]["baseline"] == Fraction(323, 12_960)
    # Against the local standard (the baseline's 1,650) only F is poor: Xuhui has 8 persons,
    # gap = (1,650 − 1,000)/1,650/8 = 13/264, unchanged by the reform.
    region = {(r["scope"], r["measure"]): r for r in tables["poverty_by_region"].as_dicts()}
    assert (
        region[(XUHUI, "gap")]["baseline"] == region[(XUHUI, "gap")]["reform"] == Fraction(13, 264)
    )
    deciles = tables["deciles"]
    assert sum(deciles.column("change_fen")) == 94_000
    assert sum(deciles.column("winners")) == 3  # A, C, E
    assert sum(deciles.column("losers")) == 0


def test_a_program_switched_off_pays_nobody_in_the_reform(population: Path) -> None:
    off = parse_reform({"name": "没有低保 (no dibao)", "programs": {"dibao": False}})
    outcome = simulate(population, off, Options(MONTH, programs=("dibao",)))
    xuhui = outcome.cells[(XUHUI, "dibao")]
    assert xuhui.amount_fen == [175_000, 0]  # A 1,300 + C 450, then nothing
    assert (xuhui.losing, xuhui.losing_persons) == (2, 5)


def test_take_up_and_the_enrolled_caseload(tmp_path: Path) -> None:
    """With take-up, only the enrolled and a drawn share of the newly entitled are paid, the same
    households in the baseline and the reform; the enrolled-only run counts the caseload alone."""
    write_population(tmp_path)
    reform = parse_reform(RAISE)
    full = simulate(tmp_path, reform, Options(MONTH, programs=("dibao",)))
    taken = simulate(tmp_path, reform, Options(MONTH, programs=("dibao",), take_up=True))
    enrolled = simulate(tmp_path, reform, Options(MONTH, programs=("dibao",), enrolled_only=True))
    # A is enrolled: 1,300 before, 1,630 after, whatever the draw; the others are drawn.
    assert enrolled.cells[(XUHUI, "dibao")].amount_fen == [130_000, 163_000]
    assert enrolled.cells[(XUHUI, "dibao")].households == [1, 1]
    assert (PUDONG, "dibao") not in enrolled.cells  # D is entitled but not enrolled
    for k in (0, 1):
        paid = taken.cells[(XUHUI, "dibao")].amount_fen[k]
        assert enrolled.cells[(XUHUI, "dibao")].amount_fen[k] <= paid
        assert paid <= full.cells[(XUHUI, "dibao")].amount_fen[k]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic")
    synth.generate(root, 6_000, [XUHUI, PUDONG], seed=7, on=dt.date(2025, 9, 1))
    return root


def test_raising_one_countys_standard_moves_that_county_alone(synthetic: Path) -> None:
    opts = Options(MONTH, fallbacks=FALLBACKS)
    tables = by_key(simulation_tables(simulate(synthetic, parse_reform(RAISE), opts)))
    cost = {(r["region"], r["program"]): r for r in tables["cost"].as_dicts()}
    assert cost[(XUHUI, "dibao")]["reform_fen"] > cost[(XUHUI, "dibao")]["baseline_fen"]
    recipients = {(r["region"], r["program"]): r for r in tables["recipients"].as_dicts()}
    xuhui = recipients[(XUHUI, "dibao")]
    assert xuhui["households_reform"] > xuhui["households_baseline"]
    region = {(r["scope"], r["measure"]): r for r in tables["poverty_by_region"].as_dicts()}
    assert region[(XUHUI, "gap")]["reform"] < region[(XUHUI, "gap")]["baseline"]
    for row in tables["cost"].as_dicts():
        if row["region"] == PUDONG:
            assert row["change_fen"] == 0, row
    for row in tables["recipients"].as_dicts():
        if row["region"] == PUDONG:
            assert row["newly_covered_households"] == row["losing_households"] == 0, row
    for measure in ("headcount", "gap", "squared_gap"):
        assert region[(PUDONG, measure)]["change"] == 0


def test_skipping_programs_that_read_no_changed_value_changes_no_figure(synthetic: Path) -> None:
    """The reform run evaluates only the programs that read a changed parameter; every program
    evaluated in full under the reform's tree gives the same amounts."""
    reform = parse_reform(RAISE)
    outcome = simulate(synthetic, reform, Options(MONTH, fallbacks=FALLBACKS))
    on = dt.date(2025, 9, 1)
    tree = reform_tree(default_tree(), reform)
    for county in (XUHUI, PUDONG):
        full = evaluate_county(read_county(synthetic, county), on, fallbacks=FALLBACKS, tree=tree)
        for total in full.totals:
            cell = outcome.cells.get((county, total.program))
            reform_fen = cell.amount_fen[1] if cell else 0
            assert reform_fen == total.amount_fen, (county, total.program)


def test_take_up_draws_a_share_of_the_newly_entitled_the_same_way_every_time(
    synthetic: Path,
) -> None:
    reform = parse_reform(RAISE)
    opts = Options(MONTH, fallbacks=FALLBACKS, programs=("dibao",))
    full = simulate(synthetic, reform, opts).cells[(XUHUI, "dibao")]
    taken = [
        simulate(synthetic, reform, dataclasses.replace(opts, take_up=True)).cells[(XUHUI, "dibao")]
        for _ in range(2)
    ]
    assert taken[0] == taken[1]  # a draw per household and program, not a random one
    # dibao's take-up rate is 1/2: some, not all, of the newly entitled claim
    assert 0 < taken[0].newly_covered < full.newly_covered
    assert taken[0].amount_fen[1] - taken[0].amount_fen[0] < full.amount_fen[1] - full.amount_fen[0]


class Reversed:
    """An engine whose counties finish in the reverse order of the jobs."""

    name = "reversed"

    def map_counties(self, fn: Callable[[J], R], jobs: Sequence[J]) -> Iterator[R]:
        return iter([fn(job) for job in reversed(jobs)])


def assert_same(ours: Outcome, theirs: Outcome) -> None:
    """Every sum and every per-household column, and so every table, equal to the fen."""
    assert ours.counties == theirs.counties
    assert ours.cells == theirs.cells
    assert list(ours.cells) == list(theirs.cells)
    assert ours.population == theirs.population
    assert ours.not_available == theirs.not_available
    for name in COLUMNS:
        mine, other = getattr(ours, name), getattr(theirs, name)
        assert mine.dtype == other.dtype, name
        assert np.array_equal(mine, other), name
    assert simulation_tables(ours) == simulation_tables(theirs)


@pytest.fixture(params=["local-2", "reversed", ON_SPARK])
def engine(request: pytest.FixtureRequest) -> Engine:
    if request.param == "local-2":
        return LocalEngine(workers=2)
    if request.param == "reversed":
        return Reversed()
    spark: SparkEngine = request.getfixturevalue("spark_engine")
    return spark


@pytest.fixture(scope="module")
def reference(synthetic: Path) -> Outcome:
    """One county after another in this process: what every engine must give."""
    opts = Options(MONTH, fallbacks=FALLBACKS, take_up=True, poverty_line_fen=180_000)
    return simulate(synthetic, parse_reform(RAISE), opts, engine=LocalEngine(workers=1))


def test_every_engine_gives_the_same_outcome(
    engine: Engine, synthetic: Path, reference: Outcome
) -> None:
    """Worker processes, counties finishing in any order, and Spark (``local[2]``): every table
    (cost by program and region, recipients, deciles, poverty, Gini) equal to the fen."""
    ticks: list[tuple[str, int, int]] = []
    outcome = simulate(
        synthetic, reference.reform, reference.options, engine=engine,
        on_county=lambda code, i, total: ticks.append((code, i, total)),
    )  # fmt: skip
    assert_same(outcome, reference)
    assert sorted(code for code, _, _ in ticks) == sorted([XUHUI, PUDONG])
    assert [(i, total) for _, i, total in ticks] == [(1, 2), (2, 2)]
    # the reference is the same as adding up the counties in memory, one after another
    in_memory = simulate_counties(
        (read_county(synthetic, c) for c in reference.counties), reference.reform,
        reference.options, source=str(synthetic),
    )  # fmt: skip
    assert_same(in_memory, reference)


def simulate_cli(population: Path, reform: Path, *more: str) -> Any:
    return CliRunner().invoke(
        app, ["simulate", "--reform", str(reform), "--month", MONTH, "--snapshot",
              str(population), "--quiet", *more],
    )  # fmt: skip


@pytest.fixture
def reform_file(tmp_path: Path) -> Path:
    path = tmp_path / "reform.yaml"
    path.write_text(yaml.safe_dump(RAISE, allow_unicode=True), encoding="utf-8")
    return path


def test_simulate_takes_the_engine_options(population: Path, reform_file: Path) -> None:
    one = simulate_cli(population, reform_file, "--engine", "local", "--workers", "1")
    assert one.exit_code == 0, one.output
    two = simulate_cli(population, reform_file, "--workers", "2")
    assert two.exit_code == 0, two.output
    assert two.output == one.output
    bad = simulate_cli(population, reform_file, "--engine", "dask")
    assert bad.exit_code != 0
    assert "is not an engine" in bad.output
    bad = simulate_cli(population, reform_file, "--spark-master", "local[2]")
    assert bad.exit_code != 0
    assert "only with --engine spark" in bad.output


@pytest.mark.spark
@SPARK_SOCKETS
@pytest.mark.usefixtures("spark_engine")
def test_simulate_on_spark_prints_what_the_local_engine_prints(
    population: Path, reform_file: Path
) -> None:
    local = simulate_cli(population, reform_file, "--workers", "1")
    spark = simulate_cli(population, reform_file, "--engine", "spark", "--spark-master",
                         "local[2]")  # fmt: skip
    assert spark.exit_code == 0, spark.output
    assert "dibao" in spark.output
    assert spark.output == local.output
