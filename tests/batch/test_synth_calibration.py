"""The synthetic population looks like the country's caseloads: dibao and tekun eligibility under
each county's own standard at the published shares, and a caseload close to the eligible set."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from typer.testing import CliRunner

from safetynet.batch import synth, synth_calibration
from safetynet.batch.caseload import current_caseload
from safetynet.policy.engine import caseload_programs
from safetynet.policy.screening import load_parameter_values
from safetynet.registry.county_data import CountyData

ON = dt.date(2025, 9, 1)
SHANGHAI, RURAL_COUNTY = "310115", "510121"  # 浦东新区 (own standard), 金堂县 (national average)
N = 200_000


@pytest.fixture(scope="module")
def shanghai() -> CountyData:
    return synth.generate_county(SHANGHAI, N, seed=1, on=ON)


@pytest.fixture(scope="module")
def rural() -> CountyData:
    return synth.generate_county(RURAL_COUNTY, N, seed=1, on=ON)


def test_the_line_is_the_countys_own_standard_or_the_national_average() -> None:
    own = synth_calibration.dibao_lines(SHANGHAI, ON)
    assert (own.urban, own.rural, own.own) == (165_000, 165_000, True)  # 1,650 from 2025-07
    national = synth_calibration.dibao_lines(RURAL_COUNTY, ON)
    assert (national.urban, national.rural, national.own) == (81_800, 61_100, False)
    assert synth_calibration.income_scale(national) == (1.0, 1.0)
    urban_scale, _ = synth_calibration.income_scale(own)
    assert urban_scale == pytest.approx(1650 / 818)


def test_shanghai_aims_at_its_own_published_share_other_counties_at_the_national_one() -> None:
    assert synth_calibration.target_shares(SHANGHAI)["dibao"] == {"urban": 0.0126, "rural": 0.0126}
    assert synth_calibration.target_shares(RURAL_COUNTY)["dibao"] == {
        "urban": 0.0096,
        "rural": 0.0463,
    }


@pytest.mark.parametrize("which", ["shanghai", "rural"])
def test_eligible_shares_are_within_the_stated_tolerance_and_enrolment_follows(
    which: str, request: pytest.FixtureRequest
) -> None:
    data: CountyData = request.getfixturevalue(which)
    fallbacks = load_parameter_values("demo")
    rows = synth_calibration.calibration_table(data.population, data.county, ON, fallbacks)
    assert {(r.program, r.group) for r in rows} == {
        (p, g) for p in ("dibao", "tekun") for g in ("urban", "rural")
    }
    for row in rows:
        assert row.within, row
        # Take-up 95 %: the enrolled are the eligible less a few, never more.
        assert 0.85 * row.eligible <= row.enrolled <= row.eligible, row


def test_a_county_of_the_same_kind_without_the_calibration_would_be_far_off(
    rural: CountyData,
) -> None:
    # The calibration is what brings dibao down to the published share: the rural county's
    # bottom quintile alone is below the national average rural line.
    means = synth.quintile_targets(False, ON)
    assert means[0] / 12 < synth_calibration.national_average_lines()[1] / 100
    stats = synth.summary(rural.population, ON)
    assert stats["quintile_means_rural"][0] > means[0]  # lifted above the line where needed


@pytest.mark.parametrize("which", ["shanghai", "rural"])
def test_every_caseload_program_enrols_close_to_what_its_rules_find(
    which: str, request: pytest.FixtureRequest
) -> None:
    data: CountyData = request.getfixturevalue(which)
    # Run as the calibration assumes: the county's own dibao standard, else the national average
    # (a run with the demo locality's illustrative 1,000 / 800 would find more).
    lines = synth_calibration.dibao_lines(data.county, ON)
    fallbacks = {**load_parameter_values("demo"), **lines.fallbacks}
    amounts, enrolled = current_caseload(data, ON, fallbacks=fallbacks)
    assert {"dibao", "tekun", "employee_pension", "resident_pension"} <= set(caseload_programs())
    tekun = amounts["tekun"] > 0
    for program in caseload_programs():
        eligible = amounts[program] > 0
        if program == "dibao":
            eligible &= ~tekun  # supported as tekun, not also as dibao
        assert eligible.sum() > 0, program
        assert 0.90 <= enrolled[program].sum() / eligible.sum() <= 1.0, program
        assert not (enrolled[program] & ~(amounts[program] > 0)).any(), program


def test_same_seed_same_calibration() -> None:
    small = synth.generate_county(SHANGHAI, 20_000, seed=5, on=ON).population
    again = synth.generate_county(SHANGHAI, 20_000, seed=5, on=ON).population
    for name in ("wage_income", "pension_income", "transfer_income"):
        assert np.array_equal(small.p(name), again.p(name)), name
    assert np.array_equal(small.h("is_dibao_recipient"), again.h("is_dibao_recipient"))


def test_synth_check_prints_the_table_and_passes() -> None:
    from safetynet.entrypoints.cli.main import app

    result = CliRunner().invoke(
        app, ["synth-check", "--persons", "60000", "--counties", "310104"], env={"COLUMNS": "140"}
    )
    assert result.exit_code == 0, result.output
    assert "Calibration" in result.output
    assert "310104 dibao: target assistance.dibao.recipient_share_by_province" in result.output
    assert "employee_pension" in result.output
    bad = CliRunner().invoke(app, ["synth-check", "--counties", "999999"])
    assert bad.exit_code == 2
    assert "999999" in bad.output
