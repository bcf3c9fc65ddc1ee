"""A reform over the registry: with no --snapshot, ``safetynet simulate`` takes the registry's
snapshot of the month (as ``run-month`` does) and simulates on it; the enrolled-only run counts
the households the registry has enrolled, and no other."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
from typer.testing import CliRunner

from safetynet.audit.log import Actor
from safetynet.batch.county_file import write_county_file
from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database
from safetynet.entrypoints.cli.main import app
from safetynet.registry.handlers import (
    EnrolHousehold,
    ImportHouseholds,
    enrol_household,
    import_households,
)
from safetynet.registry.imports import read_table, validate

COUNTY, MONTH, ON = "310115", "2025-09", dt.date(2025, 9, 1)
ACTOR = Actor("tester", "registry_clerk", COUNTY)
NOW = dt.datetime(2025, 9, 20, 9, 0, tzinfo=dt.UTC)
REFORM = f"""\
name: 浦东新区低保标准提高10%
changes:
  - parameter: assistance.dibao.standard_monthly_urban
    region: "{COUNTY}"
    from: 2025-07-01
    scale: 1.1
"""


def clock() -> dt.datetime:
    return NOW


def test_simulate_on_the_registrys_snapshot(database: Database, tmp_path: Path) -> None:
    written = write_county_file(tmp_path / "county.csv", COUNTY, 300, seed=3, month=MONTH)
    batch = validate(read_table(written.path), as_of=ON)
    with bootstrap(database, clock=clock).unit_of_work() as uow:
        import_households(ImportHouseholds(batch, ACTOR, ON, written.path.name), uow, clock)
    enrolled = sorted(h.household_no for h in batch.households)[:3]
    for no in enrolled:
        with bootstrap(database, clock=clock).unit_of_work() as uow:
            enrol_household(EnrolHousehold(COUNTY, no, "dibao", ON, 98_050, ACTOR), uow, clock)
    reform = tmp_path / "reform.yaml"
    reform.write_text(REFORM, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "simulate", "--reform", str(reform), "--month", MONTH, "--url", database.url,
        "--out", str(out), "--program", "dibao", "--enrolled-only", "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (out / f"month={MONTH}" / "snapshot" / "manifest.json").is_file()
    book = openpyxl.load_workbook(out / "simulation.xlsx", read_only=True)
    facts = {str(r[0]): r[1] for r in book["assumptions"].iter_rows(min_row=5, values_only=True)}
    assert facts["counties"] == COUNTY
    assert facts["households"] == len(batch.households)
    assert facts["enrolled caseload only"] == "yes"
    recipients = [[int(str(v)) for v in r[2:4]]
                  for r in book["recipients"].iter_rows(min_row=5, values_only=True)
                  if r[0] == COUNTY]  # fmt: skip
    for before, after in recipients:  # the caseload, no one else
        assert before <= len(enrolled)
        assert after <= len(enrolled)
    # the snapshot marks exactly the enrolled households as dibao's current recipients
    households = pq.read_table(out / f"month={MONTH}" / "snapshot" / "households")
    assert sum(households.column("is_dibao_recipient").to_pylist()) == len(enrolled)
