"""The registry's snapshot of a month: a population loaded into the registry comes back field for
field, county by county, as of the month; the manifest says what was exported."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, text

from safetynet.batch import synth
from safetynet.batch.caseload import load_caseload
from safetynet.batch.engines import LocalEngine
from safetynet.db.engine import Database
from safetynet.errors import InputError
from safetynet.policy.population import FIELDS, Entity
from safetynet.registry.county_data import read_county, read_manifest
from safetynet.registry.fact_sources import SOURCES, FromEnrolment
from safetynet.registry.facts import write_facts
from safetynet.registry.model import Household, IncomeItem, Membership, Person
from safetynet.registry.snapshot import CountyExport, export_county, export_snapshot
from tests.registry.helpers import family, id_number, person, run_import, write_csv

COUNTIES = ("310115", "420102")
MONTH, ON = "2025-09", dt.date(2025, 9, 1)
ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2025, 9, 10, 8, 0, tzinfo=dt.UTC)
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


def _at(snapshot: Path, county: str) -> tuple[dict[int, int], Any]:
    data = read_county(snapshot, county)
    return {int(p): i for i, p in enumerate(data.person_id)}, data


def test_the_values_in_force_at_the_month_end(database: Database, tmp_path: Path) -> None:
    """Facts and income as a user would read them: the latest on or before the month's end
    (the later recorded of two the same day), and a person who moved is in their new household."""
    rows = [*family("H1", 11), person("H2", id_number=id_number("19900303", 21))]
    run_import(database, write_csv(tmp_path / "h.csv", rows), lambda: NOW)
    with database.sessions.begin() as session:
        session.execute(text("UPDATE memberships SET start_date = :d"), {"d": dt.date(2020, 1, 1)})
        ids = {p.id_number: p.id for p in session.scalars(select(Person))}
        homes = {h.household_no: h.id for h in session.scalars(select(Household))}
        head, spouse = ids[id_number("19800101", 11)], ids[id_number("19820202", 12)]
        # The spouse moves to H2 on 20 September.
        session.execute(text("UPDATE memberships SET end_date = :d WHERE person_id = :p"),
                        {"d": dt.date(2025, 9, 20), "p": spouse})  # fmt: skip
        session.add(Membership(person_id=spouse, household_id=homes["H2"], relation="spouse",
                               start_date=dt.date(2025, 9, 20)))  # fmt: skip
        for kind, month, fen in (
            ("wage", "2025-07", 10_000),
            ("wage", "2025-09", 30_000),
            ("wage", "2025-10", 99_900),
            ("pension", "2025-06", 5_000),
        ):
            session.add(IncomeItem(person_id=head, kind=kind, month=month, amount_fen=fen))

        def fact(subject: str, sid: int, field: str, value: str, day: dt.date) -> dict[str, Any]:
            return {subject: sid, "field": field, "value": value, "valid_from": day,
                    "source": "assessment"}  # fmt: skip

        level, tenure = "ltc_disability_level", "housing_tenure"
        write_facts(session, [fact("person_id", head, level, "2", dt.date(2025, 3, 1)),
                              fact("person_id", head, level, "4", dt.date(2025, 8, 1)),
                              fact("household_id", homes["H1"], tenure, "rents",
                                   dt.date(2025, 1, 1)),
                              fact("household_id", homes["H1"], tenure, "owns",
                                   dt.date(2025, 9, 30))], recorded_at=NOW)  # fmt: skip
        # Recorded later for the same day: it is the one in force.
        write_facts(session, [fact("person_id", head, level, "5", dt.date(2025, 8, 1)),
                              fact("person_id", head, level, "1", dt.date(2025, 10, 1)),
                              fact("household_id", homes["H1"], tenure, "other",
                                   dt.date(2025, 10, 1))], recorded_at=NOW)  # fmt: skip
    tenure_f = FIELDS.get("housing_tenure")
    for month, wage, owns, spouse_home in (("2025-09", 30_000, "owns", "H2"),
                                           ("2025-08", 10_000, "rents", "H1")):  # fmt: skip
        export_snapshot(database, month, tmp_path / month)
        at, data = _at(tmp_path / month, "110105")
        pop = data.population
        assert pop.p("ltc_disability_level")[at[head]] == 5, month
        assert pop.p("wage_income")[at[head]] == wage, month
        assert pop.p("pension_income")[at[head]] == 5_000, month
        assert pop.p("wage_income")[at[spouse]] == 0, month
        h1 = int(np.flatnonzero(data.household_id == homes["H1"])[0])
        assert pop.h("housing_tenure")[h1] == tenure_f.code(owns), month
        assert data.household_id[pop.household_of[at[spouse]]] == homes[spouse_home], month
        assert pop.p("relation")[at[spouse]] == FIELDS.get("relation").code("spouse"), month
        assert sorted(data.person_id.tolist()) == sorted(ids.values())
