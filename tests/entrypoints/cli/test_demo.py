"""``safetynet demo`` from any folder, and a --workdir that is only ever deleted if the demo made it;
the month's population stages on the demo's registry snapshot give the same results on every
engine (issue 16's acceptance: ``run-month --engine spark`` as ``--engine local``)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from safetynet.batch.cycle import CycleReport, run_cycle
from safetynet.batch.engines import Engine, LocalEngine, SparkEngine
from safetynet.entrypoints.cli.demo import (
    DEMO_COUNTIES,
    MARKER,
    DemoMonth,
    build_month,
    prepare_workdir,
)
from safetynet.entrypoints.cli.main import app
from tests.batch.conftest import POPULATION_STAGES, assert_same_cycle
from tests.conftest import SPARK_SOCKETS

SAFETYNET = str(Path(sys.executable).parent / "safetynet")


def test_demo_works_from_a_folder_outside_the_repository(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    home = tmp_path / "home"
    env = {**os.environ, "SAFETYNET_HOME": str(home)}
    done = subprocess.run(
        [SAFETYNET, "demo", "--persons", "3000"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "Paid in full and on time, 2025-09" in done.stdout
    # Eligible against enrolled for every caseload program, and the pensions paid (issue 12).
    assert "Eligible and enrolled, 2025-09" in done.stdout
    for program in ("dibao", "tekun", "employee_pension", "resident_pension"):
        assert f"│ {program}" in done.stdout, program
    assert "Pensions (employee and residents'):" in done.stdout
    # Through the front door: the offices' spreadsheets imported with their bad rows quarantined,
    # the rolls imported, the month run on the registry's own snapshot, a one-off award paid.
    assert "Household lists imported through the front door" in done.stdout
    assert "310115-households.xlsx" in done.stdout
    assert "rows quarantined" in done.stdout
    assert "The current rolls imported:" in done.stdout
    assert "The registry's snapshot of 2025-09" in done.stdout
    assert "│ 310115 │ tempo" in done.stdout  # temporary assistance in the payment report
    assert "illustrative locality 'demo' shipped with SafetyNet [I]" in done.stdout
    # It ends with how to open the workbench and a demo sign-in for each role.
    assert "safetynet serve --demo" in done.stdout
    for role in ("intake_clerk", "investigator", "township_reviewer", "county_approver"):
        assert f"demo.{role}" in done.stdout, role
    # ... and one citizen: a dibao head given a mobile number, the number masked on screen.
    citizen = (home / "demo" / "demo-citizen.txt").read_text(encoding="utf-8")
    number = citizen.split("identity number: ")[1].split()[0]
    assert "A citizen (居民) signs in on a phone" in done.stdout
    assert number[:3] + "*" * 11 + number[-4:] in done.stdout
    assert number not in done.stdout
    # Its files go to the SafetyNet home, not the working directory.
    assert (home / "demo" / "safetynet.db").is_file()
    assert (home / "demo" / MARKER).is_file()
    assert (home / "demo" / "offices" / "310115-households.quarantine.csv").is_file()
    assert list(elsewhere.iterdir()) == []


def test_a_folder_the_demo_did_not_create_is_refused_and_kept(tmp_path: Path) -> None:
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.docx").write_text("years of work", encoding="utf-8")
    result = CliRunner().invoke(app, ["demo", "--workdir", str(precious), "--persons", "300"])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "--workdir" in result.output
    assert "was not created by the demo" in result.output
    assert (precious / "chapter1.docx").read_text(encoding="utf-8") == "years of work"

    a_file = tmp_path / "notes.txt"
    a_file.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(app, ["demo", "--workdir", str(a_file)])
    assert result.exit_code == 2
    assert "is a file" in result.output
    assert a_file.read_text(encoding="utf-8") == "x"


def test_a_folder_the_demo_created_is_replaced_and_a_new_or_empty_one_used(tmp_path: Path) -> None:
    earlier = tmp_path / "demo"
    prepare_workdir(earlier)
    (earlier / "safetynet.db").write_text("an earlier run", encoding="utf-8")
    prepare_workdir(earlier)
    assert sorted(p.name for p in earlier.iterdir()) == [MARKER]

    empty = tmp_path / "empty"
    empty.mkdir()
    prepare_workdir(empty)
    assert (empty / MARKER).is_file()
    prepare_workdir(tmp_path / "new" / "deeper")
    assert (tmp_path / "new" / "deeper" / MARKER).is_file()


@pytest.fixture(scope="module")
def demo_month(tmp_path_factory: pytest.TempPathFactory) -> DemoMonth:
    """The demo's registry (the offices' files imported), its snapshot of the month and the
    month's feeds, built once, as small as the demo's own tests run it."""
    workdir = tmp_path_factory.mktemp("demo-month") / "demo"
    built = build_month(Console(file=io.StringIO()), workdir, persons=3000)
    built.db.dispose()
    return built


def population_stages(built: DemoMonth, engine: Engine, out: Path) -> tuple[Path, CycleReport]:
    report = run_cycle(
        built.snapshot, built.month, out, feeds=built.feeds, engine=engine,
        fallbacks=built.fallbacks, clock=built.clock, stages=POPULATION_STAGES,
    )  # fmt: skip
    return out, report


@pytest.mark.spark
@SPARK_SOCKETS
def test_the_demo_month_is_the_same_on_spark_as_on_the_local_engine(
    demo_month: DemoMonth, spark_engine: SparkEngine, tmp_path: Path
) -> None:
    """``run-month --engine spark`` against ``--engine local`` (here one worker: the counties one
    after another in this process) on the demo's population: every household's amounts and
    explanations, the alerts and the step across counties."""
    local = population_stages(demo_month, LocalEngine(workers=1), tmp_path / "local")
    spark = population_stages(demo_month, spark_engine, tmp_path / "spark")
    assert_same_cycle(
        spark, local, snapshot=demo_month.snapshot, month=demo_month.month,
        counties=DEMO_COUNTIES, fallbacks=demo_month.fallbacks,
    )  # fmt: skip
    report = local[1]
    assert [c.county for c in report.counties] == sorted(DEMO_COUNTIES)
    assert all(sum(c.alerts.values()) > 0 for c in report.counties)
    # The demo's feeds name persons no county knows: the step across counties quarantines them.
    assert report.unknown_person_rows > 0
