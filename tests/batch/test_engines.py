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
from safetynet.batch.runner import month_dir
from safetynet.batch.synth_feeds import FeedRates, generate_feeds
from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database
from safetynet.entrypoints.cli.main import app
from safetynet.errors import InputError
from safetynet.monitoring.alerts_model import Alert
from safetynet.payments.model import PaymentInstruction
from safetynet.policy.screening import load_parameter_values
from safetynet.registry.model import Enrolment
from tests.batch.conftest import POPULATION_STAGES, assert_same_cycle
from tests.conftest import ON_SPARK, SPARK_SOCKETS

ROOT = Path(__file__).resolve().parents[2]
FALLBACKS = load_parameter_values(ROOT / "examples" / "illustrative_locality.yaml")
COUNTIES = ["310115", "310104", "310112"]
MONTH = "2025-09"
ON = dt.date(2025, 9, 1)
MOMENT = dt.datetime(2025, 9, 28, 9, 0, tzinfo=dt.UTC)


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


def test_the_cycle_gives_the_same_results_on_every_engine(
    engine: Engine, inputs: tuple[Path, Path], reference: tuple[Path, CycleReport], tmp_path: Path
) -> None:
    report = cycle(inputs, tmp_path, engine, stages=POPULATION_STAGES)
    assert_same_cycle(
        (tmp_path, report), reference, snapshot=inputs[0], month=MONTH, counties=COUNTIES,
        fallbacks=FALLBACKS,
    )  # fmt: skip
    # The small population has persons matched in other counties and paid in two regions.
    assert reference[1].duplicate_alerts > 0
    assert reference[1].other_county_rows > 0


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
