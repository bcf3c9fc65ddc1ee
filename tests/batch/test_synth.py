"""The synthetic population: determinism, identity numbers, calibration, Parquet, the rules, the CLI."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from safetynet.batch import synth
from safetynet.domain.identity import Sex, parse_identity_number
from safetynet.errors import InputError
from safetynet.policy.engine import evaluate_all, programs
from safetynet.policy.population import FIELDS, Entity, Population, int_to_date
from safetynet.registry.county_data import CountyData, counties, read_county, read_manifest
from tests.policy.strategies import illustrative_overrides

ON = dt.date(2025, 9, 1)
DISTRICT, CITY, COUNTY = "510104", "510181", "510121"  # 锦江区, 都江堰市, 金堂县
N = 50_000


@pytest.fixture(scope="module")
def district() -> CountyData:
    return synth.generate_county(DISTRICT, N, seed=11, on=ON)


@pytest.fixture(scope="module")
def county() -> CountyData:
    return synth.generate_county(COUNTY, N, seed=11, on=ON)


def same_population(a: Population, b: Population) -> bool:
    if not np.array_equal(a.household_of, b.household_of):
        return False
    for mine, theirs in ((a.persons, b.persons), (a.households, b.households)):
        if mine.keys() != theirs.keys():
            return False
        for name, column in mine.items():
            if column.dtype != theirs[name].dtype or not np.array_equal(column, theirs[name]):
                return False
    return True


def test_same_seed_same_population_other_seed_other_population(district: CountyData) -> None:
    again = synth.generate_county(DISTRICT, N, seed=11, on=ON)
    assert same_population(district.population, again.population)
    assert district.id_number is not None
    assert again.id_number is not None
    assert np.array_equal(district.id_number, again.id_number)
    other = synth.generate_county(DISTRICT, N, seed=12, on=ON)
    assert not np.array_equal(district.population.p("birth_date"), other.population.p("birth_date"))
    assert not np.array_equal(
        district.population.p("wage_income"), other.population.p("wage_income")
    )


def test_exact_count_every_field_and_county_region(district: CountyData) -> None:
    pop = district.population
    assert pop.n_persons == N
    assert len(district.person_id) == N
    assert len(district.household_id) == pop.n_households
    assert (pop.ends - pop.starts).min() >= 1
    for f in FIELDS.all(Entity.PERSON):
        assert len(pop.persons[f.name]) == N, f.name
        assert pop.persons[f.name].dtype == f.dtype(), f.name
    for f in FIELDS.all(Entity.HOUSEHOLD):
        assert len(pop.households[f.name]) == pop.n_households, f.name
    assert set(district.region.tolist()) == {DISTRICT}
    # Every household has exactly one head, and it comes first.
    head = pop.p("relation") == FIELDS.get("relation").code("head")
    assert head.sum() == pop.n_households
    assert head[pop.starts].all()


def test_identity_numbers_valid_unique_and_consistent(district: CountyData) -> None:
    ids = district.id_number
    assert ids is not None
    assert len(np.unique(ids)) == N
    assert all(i.startswith(DISTRICT) for i in ids[:1000])
    pop = district.population
    male = FIELDS.get("sex").code("male")
    for row in np.random.default_rng(0).choice(N, 500, replace=False):
        ident = parse_identity_number(str(ids[row]))
        assert ident.birth_date == int_to_date(int(pop.p("birth_date")[row]))
        assert (ident.sex is Sex.MALE) == (pop.p("sex")[row] == male)


def test_identity_numbers_check_character_matches_the_reference_vectors() -> None:
    born = np.array([19491231, 18800101, 20000101], dtype=np.int32)
    ids = synth.identity_numbers("110105", born, np.array([False, True, True]))
    for value in ids:
        parse_identity_number(str(value))  # raises if the check character is wrong
    # GB 11643-1999 test vector (check character X): the first woman of that day.
    assert ids[0] == "11010519491231002X"


def shares_close(got: list[float], want: list[float], tolerance: float) -> None:
    for g, w in zip(got, want, strict=True):
        assert abs(g / w - 1) <= tolerance, (got, want)


def test_income_quintiles_match_the_calibration_targets(
    district: CountyData, county: CountyData
) -> None:
    for data in (district, county):
        stats = synth.summary(data.population, ON)
        for kind, urban in (("urban", True), ("rural", False)):
            got, want = stats[f"quintile_means_{kind}"], synth.quintile_targets(urban, ON)
            shares_close(got[1:], want[1:], 0.10)
            # The bottom group gives way to the dibao calibration (households above the target
            # caseload are lifted over the line): raised, never lowered, by at most 40 %.
            assert want[0] * 0.97 <= got[0] <= want[0] * 1.40, (kind, got, want)
        year = synth.income_year(ON)
        for kind in ("urban", "rural"):
            mean = synth.target(f"income.per_capita_disposable.{kind}")[year]
            assert abs(stats[f"mean_income_{kind}"] / mean - 1) <= 0.10
            for source, share in synth.target(f"income.source_shares.{kind}").items():
                assert abs(stats[f"source_shares_{kind}"][source] - share) <= 0.05, (kind, source)


def test_households_ages_disability_match_the_targets(district: CountyData) -> None:
    stats = synth.summary(district.population, ON)
    assert abs(stats["mean_household_size"] - synth.target("household.mean_size")) <= 0.1
    assert abs(stats["disability_prevalence"] - synth.target("disability.prevalence")) <= 0.01
    assert abs(stats["mean_age"] - synth.target("persons.mean_age")) <= 1.5
    ages = synth.target("persons.age_shares")
    assert abs(stats["share_60_plus"] - ages["age_60_plus"]) <= 0.02
    assert abs(stats["share_under_15"] - ages["under_15"]) <= 0.03
    grades = np.bincount(district.population.p("disability_grade"), minlength=5)[1:]
    want = synth.target("disability.grade_shares")
    for g in (1, 2, 3, 4):
        assert abs(grades[g - 1] / grades.sum() - want[g]) <= 0.03


def test_urban_share_follows_the_county_type(district: CountyData, county: CountyData) -> None:
    shares = synth.target("hukou.urban_share_by_county_type")
    got_district = synth.summary(district.population, ON)["urban_household_share"]
    got_county = synth.summary(county.population, ON)["urban_household_share"]
    assert abs(got_district - shares["district"]) <= 0.02
    assert abs(got_county - shares["county"]) <= 0.02
    assert synth.county_type(synth.county_region(CITY)) == "county_level_city"


def test_income_sources_add_up_to_the_household_total(district: CountyData) -> None:
    pop = district.population
    assert (pop.p("social_insurance_paid") <= pop.p("wage_income")).all()
    for name in synth.INCOME_FIELDS:
        assert (pop.p(name) >= 0).all(), name
    # Wages only for the employed; pensions beyond the resident minimum only for the elderly.
    assert not (pop.p("wage_income") > 0)[~pop.p("is_employed")].any()
    pc = synth.disposable_income_per_capita(pop)
    assert np.isfinite(pc).all()
    assert (pc > 0).all()


def test_dataset_on_disk_reads_back_identical(tmp_path: Path) -> None:
    out = tmp_path / "population"
    seen: list[tuple[str, int, int]] = []
    info = synth.generate(
        out,
        10_001,
        [DISTRICT, CITY, COUNTY],
        seed=5,
        on=ON,
        progress=lambda c, p, h: seen.append((c, p, h)),
    )
    assert [p for _, p, _ in seen] == [3334, 3334, 3333]
    assert counties(out) == sorted([DISTRICT, CITY, COUNTY])
    manifest = read_manifest(out)
    assert manifest == json.loads(json.dumps(info))
    assert manifest["seed"] == 5
    assert manifest["date"] == ON.isoformat()
    assert manifest["calibration_version"] == synth.calibration()["version"]
    assert manifest["generator_version"] == synth.GENERATOR_VERSION
    first_household, first_person = 1, 1
    all_ids: list[str] = []
    for code in [DISTRICT, CITY, COUNTY]:
        expected = synth.generate_county(
            code,
            manifest["counts"][code]["persons"],
            seed=5,
            on=ON,
            first_household_id=first_household,
            first_person_id=first_person,
        )
        back = read_county(out, code)
        assert same_population(back.population, expected.population)
        assert np.array_equal(back.household_id, expected.household_id)
        assert np.array_equal(back.person_id, expected.person_id)
        assert back.id_number is not None
        assert expected.id_number is not None
        assert back.id_number.tolist() == expected.id_number.tolist()
        assert back.region.tolist() == expected.region.tolist()
        assert manifest["counts"][code]["households"] == back.population.n_households
        first_household += back.population.n_households
        first_person += back.population.n_persons
        all_ids += back.id_number.tolist()
    assert first_person - 1 == 10_001
    assert len(set(all_ids)) == 10_001


def test_generate_replaces_a_dataset_but_not_other_folders(tmp_path: Path) -> None:
    out = tmp_path / "population"
    synth.generate(out, 300, [DISTRICT, COUNTY], seed=1, on=ON)
    synth.generate(out, 200, [CITY], seed=1, on=ON)
    assert counties(out) == [CITY]
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not a population dataset"):
        synth.generate(other, 100, [CITY], seed=1, on=ON)
    assert (other / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        (["510100"], "510100.*not a county"),
        (["999999"], "'999999' is not a county code"),
        ([DISTRICT, DISTRICT], "510104 appears more than once"),
    ],
)
def test_bad_counties_are_named(tmp_path: Path, codes: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        synth.generate(tmp_path / "x", 100, codes, seed=1, on=ON)


def test_every_program_runs_and_the_main_ones_find_households(district: CountyData) -> None:
    results = evaluate_all(district.population, ON, DISTRICT, overrides=illustrative_overrides())
    assert set(results) == set(programs())
    for name in (
        "dibao",
        "tekun",
        "childcare_subsidy",
        "medical_settlement",
        "advanced_age_allowance",
        "unemployment",
        "orphan_allowance",
        "unsupported_child_allowance",
    ):
        assert results[name].eligible.any(), name
    for name, result in results.items():
        assert len(result.eligible) == district.population.n_households, name


def test_bench_wrapper_uses_the_generator() -> None:
    # Imported by name: bench/rules.py imports the same file as the top-level module "population".
    bench = importlib.import_module("bench.population")
    pop = bench.synthetic_population(2_000, seed=3, on=ON)
    direct = synth.generate_county(bench.BENCH_COUNTY, 2_000, seed=3, on=ON).population
    assert same_population(pop, direct)
    assert "birth_date" not in bench.fields_defaulted()
    assert "disaster_displaced" in bench.fields_defaulted()


def test_cli_writes_the_dataset_and_names_a_bad_code(tmp_path: Path) -> None:
    from safetynet.entrypoints.cli.synth_cli import synth as command

    app = typer.Typer()
    app.command()(command)
    runner = CliRunner()
    out = tmp_path / "pop"
    args = ["--persons", "900", "--seed", "2", "--out", str(out), "--date", "2025-09-01", "--quiet"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "510104" in result.output
    assert "900 persons" in result.output
    assert counties(out) == sorted([DISTRICT, CITY, COUNTY])
    bad = runner.invoke(app, [*args, "--counties", "510104,123456"])
    assert bad.exit_code == 2
    assert "123456" in bad.output
