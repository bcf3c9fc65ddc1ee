"""The monthly run: county by county, the same numbers as the engine, resumable, never twice."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from safetynet.audit.log import verify
from safetynet.batch.model import CountyProgramSummary, HouseholdResult, MonthlyRun
from safetynet.batch.runner import (
    evaluate_county,
    largest_monthly_payments,
    month_totals,
    run_month,
)
from safetynet.db.engine import Database
from safetynet.errors import InputError
from safetynet.policy.engine import evaluate_all
from safetynet.policy.population import population_from_households
from safetynet.policy.screening import load_parameter_values
from safetynet.registry.county_data import CountyData, read_county, write_county, write_manifest

ROOT = Path(__file__).resolve().parents[2]
FALLBACKS = load_parameter_values(ROOT / "examples" / "illustrative_locality.yaml")
COUNTIES = ("110105", "330102")
MONTH = "2025-09"


def example_households() -> list[dict[str, Any]]:
    households = []
    for path in sorted((ROOT / "examples").glob("*.json")):
        household = json.loads(path.read_text(encoding="utf-8"))
        household.pop("region", None)
        households.append(household)
    return households


def make_snapshot(root: Path, times: int = 3) -> dict[str, CountyData]:
    base = population_from_households(example_households())
    written = {}
    next_household, next_person = 1, 1
    for county in COUNTIES:
        pop = base.tile(times)
        n_h, n_p = pop.n_households, pop.n_persons
        data = CountyData(
            county=county,
            population=pop,
            household_id=np.arange(next_household, next_household + n_h, dtype=np.int64),
            region=np.array([county] * n_h),
            person_id=np.arange(next_person, next_person + n_p, dtype=np.int64),
            id_number=None,
        )
        next_household += n_h
        next_person += n_p
        write_county(root, data)
        written[county] = data
    write_manifest(root, {"counties": list(COUNTIES), "source": "example households, tiled"})
    return written


def test_snapshot_reads_back_as_the_same_columns(tmp_path: Path) -> None:
    written = make_snapshot(tmp_path)
    back = read_county(tmp_path, "110105")
    original = written["110105"].population
    assert list(back.household_id) == list(written["110105"].household_id)
    for name, column in original.persons.items():
        assert np.array_equal(back.population.p(name), column), name
    for name, column in original.households.items():
        assert np.array_equal(back.population.h(name), column), name


def test_county_function_gives_the_engines_numbers(tmp_path: Path) -> None:
    written = make_snapshot(tmp_path)
    data = written["330102"]
    on = dt.date(2025, 9, 1)
    result = evaluate_county(data, on, fallbacks=FALLBACKS)
    direct = evaluate_all(data.population, on, "330102", fallbacks=FALLBACKS)
    for totals in result.totals:
        res = direct[totals.program]
        assert totals.amount_fen == int(res.amount[res.eligible | (res.amount != 0)].sum())
        assert totals.households == int((res.eligible | (res.amount != 0)).sum())


def test_run_writes_parquet_and_registry_and_a_rerun_changes_nothing(
    tmp_path: Path, database: Database
) -> None:
    snapshot, out = tmp_path / "snap", tmp_path / "out"
    make_snapshot(snapshot)
    first = run_month(snapshot, MONTH, out, db=database, fallbacks=FALLBACKS)
    assert [r.county for r in first.finished] == list(COUNTIES)
    totals = month_totals(out, MONTH)
    assert totals["dibao"].households > 0
    with database.sessions() as session:
        run = session.scalars(select(MonthlyRun)).one()
        assert (run.status, run.counties_done) == ("finished", 2)
        rows = session.scalar(select(func.count()).select_from(HouseholdResult))
        summed = session.scalar(
            select(func.sum(CountyProgramSummary.amount_fen)).where(
                CountyProgramSummary.program == "dibao"
            )
        )
        assert summed == totals["dibao"].amount_fen
        assert verify(session) == []
    again = run_month(snapshot, MONTH, out, db=database, fallbacks=FALLBACKS)
    assert again.finished == []
    assert again.skipped == list(COUNTIES)
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(HouseholdResult)) == rows


def test_an_interrupted_run_resumes_with_the_next_county(
    tmp_path: Path, database: Database
) -> None:
    snapshot, out = tmp_path / "snap", tmp_path / "out"
    make_snapshot(snapshot)

    def crash_after_first(_county: str, done: int, _total: int) -> None:
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_month(
            snapshot, MONTH, out, db=database, fallbacks=FALLBACKS, on_county=crash_after_first
        )
    resumed = run_month(snapshot, MONTH, out, db=database, fallbacks=FALLBACKS)
    assert [r.county for r in resumed.finished] == ["330102"]
    assert resumed.skipped == ["110105"]
    fresh = run_month(snapshot, MONTH, tmp_path / "fresh", fallbacks=FALLBACKS)
    assert month_totals(out, MONTH) == month_totals(tmp_path / "fresh", MONTH)
    assert [r.county for r in fresh.finished] == list(COUNTIES)
    with database.sessions() as session:
        run = session.scalars(select(MonthlyRun)).one()
        assert (run.status, run.counties_done) == ("finished", 2)
        per_county = session.execute(
            select(HouseholdResult.county, func.count()).group_by(HouseholdResult.county)
        ).all()
        assert len(per_county) == 2


def test_largest_payments_come_with_explanations(tmp_path: Path) -> None:
    snapshot, out = tmp_path / "snap", tmp_path / "out"
    make_snapshot(snapshot, times=1)
    run_month(snapshot, MONTH, out, fallbacks=FALLBACKS)
    top = largest_monthly_payments(snapshot, out, MONTH, 3, fallbacks=FALLBACKS)
    assert len(top) == 3
    assert top[0].monthly_fen >= top[1].monthly_fen >= top[2].monthly_fen
    assert sum(int(e.result.amount[0]) for e in top[0].evaluations) == top[0].monthly_fen
    assert all(e.trace.steps for e in top[0].evaluations)


def test_unknown_county_and_bad_month_are_named(tmp_path: Path) -> None:
    make_snapshot(tmp_path / "snap", times=1)
    with pytest.raises(InputError, match="--county"):
        run_month(tmp_path / "snap", MONTH, tmp_path / "out", only=["999999"], fallbacks=FALLBACKS)
    with pytest.raises(InputError, match="--month"):
        run_month(tmp_path / "snap", "2025-13", tmp_path / "out", fallbacks=FALLBACKS)
    with pytest.raises(InputError, match=r"manifest\.json is missing"):
        run_month(tmp_path / "nothing", MONTH, tmp_path / "out", fallbacks=FALLBACKS)


def test_region_codes_without_sorting_strings_for_a_one_region_county() -> None:
    from safetynet.batch.runner import region_codes

    one = np.array(["510181"] * 5, dtype=object)
    assert region_codes(one)[0] == ["510181"]
    assert region_codes(one)[1].tolist() == [0] * 5
    mixed = np.array(["510182", "510181", "510182", "510104"], dtype=object)
    names, codes = region_codes(mixed)
    assert names == ["510104", "510181", "510182"]
    assert [names[c] for c in codes] == mixed.tolist()
    assert region_codes(np.array([510181, 510104]))[0] == ["510104", "510181"]
    assert region_codes(np.array([], dtype=object))[0] == []


def test_a_county_of_two_regions_gives_each_household_its_regions_numbers() -> None:
    """Households of a county in two regions (a district and a county-level city under one
    office, say) get their own region's amounts, in the county's order, persons included."""
    base = population_from_households(example_households()).tile(4)
    n = base.n_households
    region = np.array([COUNTIES[i % 2] for i in range(n)])
    data = CountyData(
        county="330102",
        population=base,
        household_id=np.arange(101, 101 + n, dtype=np.int64),
        region=region,
        person_id=np.arange(1001, 1001 + base.n_persons, dtype=np.int64),
        id_number=None,
    )
    on = dt.date(2025, 9, 1)
    result = evaluate_county(data, on, fallbacks=FALLBACKS)
    expected_h: list[tuple[int, str, bool, int]] = []
    expected_p: list[tuple[int, str, int]] = []
    paid_persons = 0
    for code in COUNTIES:
        rows = np.flatnonzero(region == code)
        part = base.take(rows)
        members = base.person_rows(rows)
        for pid, res in evaluate_all(part, on, code, fallbacks=FALLBACKS).items():
            for i in np.flatnonzero(res.eligible | (res.amount != 0)):
                expected_h.append(
                    (
                        int(data.household_id[rows[i]]),
                        pid,
                        bool(res.eligible[i]),
                        int(res.amount[i]),
                    )
                )
            if res.person_amount is not None:
                for j in np.flatnonzero(res.person_amount):
                    expected_p.append(
                        (int(data.person_id[members[j]]), pid, int(res.person_amount[j]))
                    )
                    paid_persons += 1
    got_h = list(zip(*(result.results.column(c).to_pylist() for c in
                       ("household_id", "program", "eligible", "amount_fen")), strict=True))  # fmt: skip
    got_p = list(zip(*(result.person_results.column(c).to_pylist() for c in
                       ("person_id", "program", "amount_fen")), strict=True))  # fmt: skip
    for rows_of in (got_h, got_p):  # each program's rows in the county's order
        for pid in {r[1] for r in rows_of}:
            ids = [r[0] for r in rows_of if r[1] == pid]
            assert ids == sorted(ids), pid
    assert sorted(got_h) == sorted(expected_h)
    assert sorted(got_p) == sorted(expected_p)
    assert paid_persons > 0
    by_program = {t.program: t for t in result.totals}
    assert by_program["dibao"].amount_fen == sum(r[3] for r in expected_h if r[1] == "dibao")
