"""The registry's snapshot of a month: a population loaded into the registry comes back field for
field, county by county, as of the month; the manifest says what was exported."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from safetynet.batch import synth
from safetynet.batch.caseload import load_caseload
from safetynet.batch.engines import LocalEngine
from safetynet.db.engine import Database
from safetynet.errors import InputError
from safetynet.policy.population import FIELDS, Entity
from safetynet.registry.county_data import read_county, read_manifest
from safetynet.registry.fact_sources import SOURCES, FromEnrolment
from safetynet.registry.snapshot import CountyExport, export_county, export_snapshot

COUNTIES = ("310115", "420102")
MONTH, ON = "2025-09", dt.date(2025, 9, 1)
ROOT = Path(__file__).resolve().parents[2]
FALLBACKS = {"assistance.dibao.standard_monthly_urban": 100_000,
             "assistance.dibao.standard_monthly_rural": 80_000}  # fmt: skip


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("population")
    synth.generate(out, 600, COUNTIES, seed=5, on=ON)
    return out


def test_a_loaded_population_comes_back_field_for_field(
    database: Database, population: Path, tmp_path: Path
) -> None:
    load_caseload(database, population, MONTH, everyone=True, fallbacks=FALLBACKS)
    manifest = export_snapshot(database, MONTH, tmp_path / "snap")
    assert manifest["source"] == "registry"
    assert manifest["month"] == MONTH
    assert manifest["audit_head"]["sequence"] >= len(COUNTIES)  # one entry per county loaded
    assert [c["county"] for c in manifest["counts"]] == list(COUNTIES)
    assert read_manifest(tmp_path / "snap")["persons"] == 600
    enrolment_fields = {n for n, s in SOURCES.items() if isinstance(s, FromEnrolment)}
    for county in COUNTIES:
        made, back = read_county(population, county), read_county(tmp_path / "snap", county)
        assert np.array_equal(made.household_id, back.household_id)
        assert np.array_equal(np.sort(made.person_id), np.sort(back.person_id))
        order = np.argsort(back.person_id)[np.argsort(np.argsort(made.person_id))]
        for f in FIELDS.all():
            if f.name in enrolment_fields:
                continue  # the registry's enrolments, not the synthetic flags
            if f.entity is Entity.PERSON:
                want, got = made.population.p(f.name), back.population.p(f.name)[order]
            else:
                want, got = made.population.h(f.name), back.population.h(f.name)
            assert np.array_equal(want, got), (county, f.name)


def test_enrolments_give_the_recipient_flags_and_amounts(
    database: Database, population: Path, tmp_path: Path
) -> None:
    report = load_caseload(database, population, MONTH, everyone=True, fallbacks=FALLBACKS)
    export_snapshot(database, MONTH, tmp_path / "snap")
    enrolled = sum(read_county(tmp_path / "snap", c).population.h("is_dibao_recipient").sum()
                   for c in COUNTIES)  # fmt: skip
    assert enrolled == report.enrolments("dibao")
    for county in COUNTIES:
        pop = read_county(tmp_path / "snap", county).population
        assert np.all((pop.h("dibao_current_amount") > 0) == pop.h("is_dibao_recipient"))


def test_a_month_before_anyone_joined_and_an_unknown_county(
    database: Database, population: Path, tmp_path: Path
) -> None:
    load_caseload(database, population, MONTH, everyone=True, only=[COUNTIES[0]],
                  fallbacks={"assistance.dibao.standard_monthly_urban": 100_000,
                             "assistance.dibao.standard_monthly_rural": 80_000})  # fmt: skip
    with pytest.raises(InputError, match="420102 has no household"):
        export_snapshot(database, MONTH, tmp_path / "a", only=["420102"])
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="not a snapshot"):
        export_snapshot(database, MONTH, tmp_path / "b")


def _same_snapshot(a: Path, b: Path) -> None:
    assert read_manifest(a)["counts"] == read_manifest(b)["counts"]
    for county in read_manifest(a)["counties"]:
        one, other = read_county(a, county), read_county(b, county)
        assert np.array_equal(one.household_id, other.household_id)
        assert np.array_equal(one.person_id, other.person_id)
        assert np.array_equal(one.region, other.region)
        for f in FIELDS.all():
            column = "p" if f.entity is Entity.PERSON else "h"
            want = getattr(one.population, column)(f.name)
            got = getattr(other.population, column)(f.name)
            assert np.array_equal(want, got), (county, f.name)


def test_counties_exported_in_parallel_are_those_exported_one_by_one(
    database: Database, population: Path, tmp_path: Path
) -> None:
    load_caseload(database, population, MONTH, everyone=True, fallbacks=FALLBACKS)
    export_snapshot(database, MONTH, tmp_path / "one")
    ticks: list[str] = []
    manifest = export_snapshot(
        database, MONTH, tmp_path / "two", mapper=LocalEngine(workers=2),
        on_county=lambda county, _i, _n: ticks.append(county),
    )  # fmt: skip
    # On PostgreSQL two worker processes wrote the counties (in the order they finished); the
    # manifest lists them in the registry's order. The embedded registry: one after the other.
    assert sorted(ticks) == list(COUNTIES)
    assert manifest["counties"] == list(COUNTIES)
    _same_snapshot(tmp_path / "one", tmp_path / "two")


@pytest.mark.postgres
def test_a_county_worker_sees_the_registry_as_the_export_began(
    database: Database, population: Path, tmp_path: Path
) -> None:
    if database.dialect != "postgresql":
        pytest.skip("the shared snapshot is PostgreSQL's")
    load_caseload(database, population, MONTH, everyone=True, fallbacks=FALLBACKS)
    url = database.engine.url.render_as_string(hide_password=False)
    with database.engine.connect() as export:
        export.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        shared = str(export.execute(text("SELECT pg_export_snapshot()")).scalar_one())
        # A clerk's change committed while the export runs...
        with database.engine.begin() as clerk:
            clerk.execute(text("UPDATE assets SET value_fen = 0"))
        # ... is not seen by a county's worker, which takes the export's snapshot.
        county, counts = export_county(
            CountyExport(url, shared, COUNTIES[0], MONTH, str(tmp_path / "during"))
        )
        assert county == COUNTIES[0]
        assert counts is not None
    during = read_county(tmp_path / "during", COUNTIES[0]).population.h("financial_assets")
    assert during.sum() > 0
    export_snapshot(database, MONTH, tmp_path / "after", only=[COUNTIES[0]])
    after = read_county(tmp_path / "after", COUNTIES[0]).population.h("financial_assets")
    assert after.sum() == 0
    with pytest.raises(InputError, match="not a PostgreSQL snapshot id"):
        export_county(CountyExport(url, "x'; DROP TABLE persons; --", COUNTIES[0], MONTH, "z"))
