"""Insurance histories of the synthetic population: the pension, unemployment and medical programs
find their people, and who is retired follows the 2024 retirement-age reform."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from safetynet.batch import synth, synth_calibration
from safetynet.policy.engine import Params, ProgramResult, Trace, compute, program
from safetynet.policy.population import Population
from safetynet.policy.programs.retirement_age import date_month_index, retirement
from safetynet.policy.screening import load_parameter_values
from safetynet.registry.county_data import CountyData

ON = dt.date(2025, 9, 1)
DISTRICT, COUNTY = "310104", "510121"  # 徐汇区 (mostly urban hukou), 金堂县 (mostly rural)
N = 60_000


@pytest.fixture(scope="module")
def district() -> CountyData:
    return synth.generate_county(DISTRICT, N, seed=3, on=ON)


@pytest.fixture(scope="module")
def county() -> CountyData:
    return synth.generate_county(COUNTY, N, seed=3, on=ON)


def run(data: CountyData, program_id: str) -> ProgramResult:
    lines = synth_calibration.dibao_lines(data.county, ON)
    fallbacks = {**load_parameter_values("demo"), **lines.fallbacks}
    params = Params(ON, data.county, fallbacks=fallbacks)
    return compute(program(program_id), data.population, params, Trace())


def paid(result: ProgramResult) -> np.ndarray:
    assert result.person_amount is not None
    return result.person_amount > 0


def test_most_urban_elderly_draw_an_employee_pension_most_rural_elderly_a_residents_one(
    district: CountyData, county: CountyData
) -> None:
    urban = synth.summary(district.population, ON)["pensions_60_plus_urban"]
    rural = synth.summary(county.population, ON)["pensions_60_plus_rural"]
    assert urban["employee"] >= 0.7
    assert rural["resident"] >= 0.7
    assert rural["employee"] <= 0.2
    for shares in (urban, rural):
        assert shares["none"] <= 0.06  # almost every elderly person draws some pension


@pytest.mark.parametrize("which", ["district", "county"])
def test_the_pension_programs_pay_the_pensioners_and_nobody_else(
    which: str, request: pytest.FixtureRequest
) -> None:
    data: CountyData = request.getfixturevalue(which)
    pop = data.population
    employee = paid(run(data, "employee_pension"))
    resident = paid(run(data, "resident_pension"))
    marked_e = pop.p("is_employee_pension_recipient")
    marked_r = pop.p("is_resident_pension_recipient")
    assert marked_e.sum() > 0
    assert marked_r.sum() > 0
    assert (employee[marked_e]).all()  # every pension in payment is computed positive
    assert (resident[marked_r]).all()
    assert not (employee & resident).any()  # never both
    # Paid but not yet marked: only those retiring this very month (awarded from the record).
    assert (employee & ~marked_e).sum() <= 0.02 * marked_e.sum()


def test_a_pension_in_payment_is_the_income_the_household_declares(district: CountyData) -> None:
    pop = district.population
    result = run(district, "employee_pension")
    assert result.person_amount is not None
    marked = pop.p("is_employee_pension_recipient") & (pop.p("pension_income") >= 100_00)
    computed = result.person_amount[marked].astype(np.float64)
    declared = pop.p("pension_income")[marked].astype(np.float64)
    # Awarded = income ÷ the yearly adjustments since retirement; indexed back, it is the income
    # up to the rounding of each adjustment (a few yuan).
    assert np.abs(computed - declared).max() <= 0.01 * declared.max()
    assert np.median(np.abs(computed / declared - 1)) <= 0.002


def test_who_is_retired_follows_the_2024_reform(district: CountyData) -> None:
    pop = district.population
    params = Params(ON, DISTRICT, fallbacks=load_parameter_values("demo"))
    r = retirement(pop, params, Trace())
    effective, delay = r.per_person(r.effective_at), r.per_person(r.delay_at)
    now = date_month_index(ON)
    pensioner = pop.p("is_employee_pension_recipient")
    assert (effective[pensioner] < now).all()  # retired before the month
    assert r.per_person(r.minimum_met_at)[pensioner].all()
    history = pop.p("employee_pension_insured")
    assert not (pensioner & ~history).any()
    # Persons with a history whose statutory month is still to come are not pensioners: under the
    # reform a man born in 1965-09 retires in 2025-09 + delay, after this month.
    assert not (pensioner & (effective > now)).any()
    delayed = pensioner & (delay > 0)
    assert delayed.any()  # 2025 retirees already retire some months later than before
    # Women retire from 50 (workers) or 55 (cadres): some pensioners are women under 60.
    age = pop.age(ON)
    assert (pensioner & (age < 60) & (pop.p("sex") == 1)).any()
    assert not (pensioner & (age < 60) & (pop.p("sex") == 0)).any()


def test_contribution_records_are_consistent_with_work(district: CountyData) -> None:
    pop = district.population
    age = pop.age(ON)
    months = pop.p("employee_pension_contribution_months") + pop.p("employee_pension_deemed_months")
    history = pop.p("employee_pension_insured")
    assert (months[~history] == 0).all()
    assert (months <= np.maximum(age - 16, 0) * 12 + 12).all()  # never more than a working life
    insured_worker = history & (pop.p("wage_income") > 0) & ~pop.p("employee_medical_retired")
    assert (
        pop.p("employee_pension_wage")[insured_worker] == pop.p("wage_income")[insured_worker]
    ).all()
    index = pop.p("employee_pension_average_index")[history]
    assert index.min() >= 6_000
    assert index.max() <= 30_000
    # Deemed months only for careers that began before personal accounts (1996).
    deemed = pop.p("employee_pension_deemed_months") > 0
    assert (age[deemed] >= 45).all()


def test_unemployment_pays_the_registered_with_enough_contribution_years(
    district: CountyData,
) -> None:
    pop = district.population
    registered = pop.p("unemployment_registered")
    assert registered.sum() > 50
    assert not (registered & pop.p("is_employed")).any()
    assert (pop.p("employee_pension_insured")[registered]).all()
    benefit = paid(run(district, "unemployment"))
    entitled = registered & (pop.p("unemployment_contribution_years") >= 1)
    assert benefit.sum() >= 0.8 * entitled.sum()
    assert not (benefit & ~registered).any()


def test_medical_insurance_finds_its_insured(district: CountyData) -> None:
    pop: Population = district.population
    employee = run(district, "employee_medical")
    resident = run(district, "resident_medical")
    insured = pop.p("medical_insured")
    assert 0.93 <= insured.mean() <= 0.97
    retired = pop.p("employee_medical_retired")
    assert (pop.p("medical_scheme")[retired] == 1).all()
    assert employee.outputs["insured_members"].sum() > 0.3 * pop.n_persons
    assert resident.eligible.sum() > 0
    assert paid(employee).sum() > 0  # hospital stays of the month are paid
    assert paid(resident).sum() > 0


@pytest.mark.parametrize("which", ["district", "county"])
def test_employee_pensions_are_in_the_bulletins_range(
    which: str, request: pytest.FixtureRequest
) -> None:
    # insurance.employee_pension_check in calibration.yaml: around the MOHRSS statistical
    # bulletin's national average of about 3,800 yuan a month (2023); before the fix 徐汇区's
    # pensions followed the household's drawn income (a Shanghai median over 7,000 yuan and
    # single pensions above 70,000 yuan a month).
    data: CountyData = request.getfixturevalue(which)
    pop = data.population
    pensions = pop.p("pension_income")[pop.p("is_employee_pension_recipient")] / 100
    check = synth.target("insurance.employee_pension_check")
    low, high = check["median"]
    assert low <= np.median(pensions) <= high
    low, high = check["p99"]
    assert low <= np.percentile(pensions, 99) <= high
    assert len(pensions) > 1_000
