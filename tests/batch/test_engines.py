"""The same monthly cycle on every engine: worker processes and Apache Spark (``local[2]``) give
identical results — every household's amounts and explanations, every alert, the matches across
counties — and the registry is written exactly once whichever engine ran the counties.

Each test takes the ``engine`` fixture, so it runs once per engine (the Spark runs carry the
``spark`` marker: ``pytest -m "not spark"`` leaves them out)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from safetynet.audit.log import verify
from safetynet.batch import synth
from safetynet.batch.caseload import load_caseload
from safetynet.batch.cycle import CycleReport, run_cycle
from safetynet.batch.engines import Engine, LocalEngine, SparkEngine, make_engine
from safetynet.batch.runner import largest_monthly_payments, month_dir
from safetynet.batch.synth_feeds import FeedRates, generate_feeds
from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database
from safetynet.entrypoints.cli.main import app
from safetynet.errors import InputError
from safetynet.monitoring.alerts_model import Alert
from safetynet.payments.model import PaymentInstruction
from safetynet.policy.screening import load_parameter_values
from safetynet.registry.model import Enrolment
from tests.conftest import ON_SPARK, SPARK_SOCKETS

ROOT = Path(__file__).resolve().parents[2]
FALLBACKS = load_parameter_values(ROOT / "examples" / "illustrative_locality.yaml")
COUNTIES = ["310115", "310104", "310112"]
MONTH = "2025-09"
ON = dt.date(2025, 9, 1)
MOMENT = dt.datetime(2025, 9, 28, 9, 0, tzinfo=dt.UTC)
COUNTY_FILES = ("records", "other_county", "differences", "effects", "alerts", "recipients",
                "results", "person_results")  # fmt: skip
POPULATION_STAGES = ("feeds", "compare", "rules")


@pytest.fixture(params=["local", ON_SPARK])
def engine(request: pytest.FixtureRequest) -> Engine:
    if request.param == "local":
        return LocalEngine(workers=2)
    spark: SparkEngine = request.getfixturevalue("spark_engine")
    return spark


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("engines")
    synth.generate(root / "population", 6_000, COUNTIES, seed=5, on=ON)
    # More people paid in two regions than the default rate, so that a small population has some.
    rates = FeedRates(paid_in_two_regions=0.05)
    generate_feeds(root / "population", root / "feeds", MONTH, 5, rates=rates)
    return root / "population", root / "feeds"


def cycle(
    inputs: tuple[Path, Path], out: Path, engine: Engine | None, **options: Any
) -> CycleReport:
    snapshot, feeds = inputs
    return run_cycle(
        snapshot, MONTH, out, feeds=feeds, engine=engine, fallbacks=FALLBACKS,
        clock=lambda: MOMENT, **options,
    )  # fmt: skip


@pytest.fixture(scope="module")
def reference(
    inputs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, CycleReport]:
    """The cycle in this process, one county after another: what every engine must give."""
    out = tmp_path_factory.mktemp("reference")
    return out, cycle(inputs, out, LocalEngine(workers=1), stages=POPULATION_STAGES)


def sorted_alerts(table: pa.Table) -> pa.Table:
    keys = ["county", "rule", "subject", "household_id"]
    return table.sort_by([(k, "ascending") for k in keys])


def explained(snapshot: Path, out: Path) -> list[Any]:
    """The largest monthly payments with each step of their explanation."""
    return [
        (top.county, top.household_id, top.monthly_fen,
         [(e.program.id, [(s.label, str(s.value), s.formula) for s in e.trace.steps])
          for e in top.evaluations])
        for top in largest_monthly_payments(snapshot, out, MONTH, 5, fallbacks=FALLBACKS)
    ]  # fmt: skip


def counts(report: CycleReport) -> list[Any]:
    return [
        (c.county, c.households, c.persons, c.feeds, c.records, c.differences,
         c.households_changed, c.alerts, c.recipients, c.programs)
        for c in report.counties
    ]  # fmt: skip


def test_the_cycle_gives_the_same_results_on_every_engine(
    engine: Engine, inputs: tuple[Path, Path], reference: tuple[Path, CycleReport], tmp_path: Path
) -> None:
    ref_out, ref = reference
    report = cycle(inputs, tmp_path, engine, stages=POPULATION_STAGES)

    assert counts(report) == counts(ref)
    ours, theirs = month_dir(tmp_path, MONTH), month_dir(ref_out, MONTH)
    for county in COUNTIES:  # every household's amounts, every record, difference and alert
        for name in COUNTY_FILES:
            path = f"county={county}/{name}.parquet"
            assert pq.read_table(ours / path).equals(pq.read_table(theirs / path)), path
    # The step across counties: the same persons matched in other counties, the same unknown
    # persons quarantined, the same persons paid in two regions.
    assert (report.other_county_rows, report.unknown_person_rows, report.duplicate_alerts) == (
        ref.other_county_rows, ref.unknown_person_rows, ref.duplicate_alerts,
    )  # fmt: skip
    assert ref.duplicate_alerts > 0
    assert ref.other_county_rows > 0
    duplicates = pq.read_table(ours / "duplicate_alerts.parquet")
    assert sorted_alerts(duplicates).equals(
        sorted_alerts(pq.read_table(theirs / "duplicate_alerts.parquet"))
    )
    unknown = "quarantine-unknown-persons.csv"
    assert (ours / unknown).is_file() == (theirs / unknown).is_file()
    if (theirs / unknown).is_file():
        assert (ours / unknown).read_bytes() == (theirs / unknown).read_bytes()
    # The explanations of the largest payments, step by step.
    snapshot = inputs[0]
    assert explained(snapshot, tmp_path) == explained(snapshot, ref_out)


def test_the_registry_is_written_once_on_every_engine(
    engine: Engine,
    database: Database,
    inputs: tuple[Path, Path],
    reference: tuple[Path, CycleReport],
    tmp_path: Path,
) -> None:
    snapshot, _ = inputs
    load_caseload(database, snapshot, MONTH, fallbacks=FALLBACKS, everyone=True)
    uow = bootstrap(database, clock=lambda: MOMENT).unit_of_work
    report = cycle(inputs, tmp_path, engine, db=database, unit_of_work=uow)

    # Every alert the reference raised (county by county and across counties) is stored once.
    ref_folder = month_dir(reference[0], MONTH)
    expected = pa.concat_tables(
        [pq.read_table(ref_folder / f"county={c}" / "alerts.parquet") for c in COUNTIES]
        + [pq.read_table(ref_folder / "duplicate_alerts.parquet")]
    )
    with database.sessions() as session:
        stored = session.execute(select(Alert.rule, Alert.subject, Alert.county)).all()
        instructions = session.scalar(select(func.count()).select_from(PaymentInstruction))
        monthly = session.scalar(
            select(func.count())
            .select_from(PaymentInstruction)
            .where(PaymentInstruction.award_id.is_(None))
        )
        enrolments = session.scalar(select(func.count()).select_from(Enrolment))
    wanted = zip(
        *(expected.column(k).to_pylist() for k in ("rule", "subject", "county")), strict=True
    )
    assert sorted(tuple(a) for a in stored) == sorted(wanted)
    # One monthly instruction per enrolment; the one-off awards the run made (price subsidies)
    # are instructed by the same roll, once each.
    assert monthly == enrolments == report.roll.created
    assert instructions == monthly + report.roll.awards_created

    again = cycle(inputs, tmp_path, engine, db=database, unit_of_work=uow)
    assert again.resumed == sorted(COUNTIES)
    assert (again.stored_alerts, again.roll.created) == ({}, 0)
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == len(stored)
        assert session.scalar(select(func.count()).select_from(PaymentInstruction)) == instructions
        assert verify(session) == []


@pytest.mark.spark
@SPARK_SOCKETS
@pytest.mark.usefixtures("spark_engine")
def test_run_month_on_spark_prints_what_the_local_engine_prints(
    inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    snapshot, feeds = inputs
    fallbacks = ROOT / "examples" / "illustrative_locality.yaml"

    def run_month(engine: str, out: Path, *more: str) -> str:
        result = CliRunner().invoke(
            app,
            ["run-month", "--month", MONTH, "--snapshot", str(snapshot), "--feeds", str(feeds),
             "--out", str(out), "--no-registry", "--fallback-parameters", str(fallbacks),
             "--quiet", "--engine", engine, *more],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        return "\n".join(
            line for line in result.output.splitlines()
            if not line.startswith(("Stage times", "Results:", "Rows about", "Quarantined"))
        )  # fmt: skip

    local = run_month("local", tmp_path / "local", "--workers", "1")
    spark = run_month("spark", tmp_path / "spark", "--spark-master", "local[2]")
    assert "Rules run 2025-09" in spark
    assert "alerts across counties" in spark
    assert spark == local


def test_engine_options_are_checked() -> None:
    with pytest.raises(InputError, match="--engine"):
        make_engine("dask")
    with pytest.raises(InputError, match="--spark-master"):
        make_engine("local", master="local[2]")
    assert make_engine("spark", workers=1) == SparkEngine("local[1]")
