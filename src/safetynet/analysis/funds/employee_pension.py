"""Projection of the urban employee basic pension fund (城镇职工基本养老保险基金), year by year.

State at the end of a year: the population by sex and single year of age; the insured workers by
retirement category (man / woman_55 / woman_50) and age, from the population, each age's insured
share (the shipped profile × a coverage level growing to a ceiling); the retirees by sex and age with
their average monthly pension; the fund balance.

In a year t: pensions in payment are indexed on 1 January; each cohort whose statutory retirement
month (the rules core's ``retirement_age``) falls in t contributes until that month and draws the
award the rules core's ``employee_pension`` computes for its representative worker from then on;
contributions = paying workers × contribution months × average base × (employer + individual rate);
income = contributions + fiscal subsidy + return on the opening balance; balance = opening + income
+ the net transfer of the national pooling (a province's; 0 for the nation) − expenditure. A
province's published income and expenditure leave the pooling transfers out (福建 2021: 562.49 +
729.17 − 594.91 = 696.75 亿, but the balance closed at 555.93 亿: the net payment to the central
adjustment went straight out of the balance), so the projection keeps them apart too. Deaths fall at
the end of the year. Money is integer fen. See docs/funds.md and ADR 0021.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from safetynet.analysis.funds.assumptions import EP, POP, F, Ledger, times
from safetynet.analysis.funds.population import advance, survive
from safetynet.analysis.funds.retirement import (
    GROUPS,
    MONTHS,
    SEX_OF_GROUP,
    Cohort,
    awards,
    retirement_months,
)
from safetynet.analysis.funds.scenario import Scenario
from safetynet.analysis.funds.schedules import AGES, FloatArray, IntArray, Schedules
from safetynet.domain.money import mul_ratio
from safetynet.errors import InputError
from safetynet.insurance.pooling import Province, central_adjustment
from safetynet.policy.parameters import ParameterTree, default_tree


@dataclass(frozen=True)
class Year:
    """One projected year (money in fen, counts in persons, at the end of the year)."""

    year: int
    population: int
    births: int
    deaths: int
    workers: int  # insured workers (参保职工)
    paying: int  # of whom pay in the year
    retirees: int  # insured retirees drawing a pension
    new_retirees: int
    new_award: int  # average monthly award of the year's new retirees (fen)
    average_pension: int  # average monthly pension in payment at the end of the year (fen)
    average_wage: int  # fen a year
    contribution_rate: Decimal
    indexation: Decimal
    contributions: int
    subsidy: int
    interest: int
    pooling_net: int  # national pooling: allocation − contribution (0 for the nation)
    pooling_contribution: int  # what the region pays into the pooling fund
    income: int  # contributions + subsidy + interest (the pooling transfers apart, as published)
    expenditure: int
    balance: int  # opening + income + pooling_net − expenditure

    @property
    def dependency(self) -> Decimal:
        """Insured workers per retiree (制度赡养比 inverted)."""
        return Decimal(self.workers) / Decimal(max(self.retirees, 1))


@dataclass
class Projection:
    region: str
    scenario: Scenario
    first_year: int
    opening_balance: int
    ledger: Ledger  # every parameter value read, for the list of assumptions
    years: list[Year] = field(default_factory=list)
    fund: str = "employee_pension"  # its parameters are insurance.funds.<fund>.*

    @property
    def exhaustion_year(self) -> int | None:
        """The first year whose closing balance is below zero (None: not within the horizon)."""
        return next((y.year for y in self.years if y.balance < 0), None)

    def year(self, year: int) -> Year:
        return next(y for y in self.years if y.year == year)


@dataclass
class _State:
    population: IntArray
    retirees: IntArray  # [sex, age]
    pension: IntArray  # [sex, age] average monthly pension (fen)
    coverage: float  # the scale applied to the worker profile
    balance: int
    wages: dict[int, int]  # year → average yearly wage (fen), history and projection


@dataclass(frozen=True)
class _Run:
    """What stays fixed through one projection."""

    sched: Schedules
    ledger: Ledger
    scenario: Scenario
    months: dict[tuple[int, int, int], int]  # (group, birth year, birth month) → retirement month
    national: Projection | None  # the nation's projection, for a province's pooling transfers

    def retire_index(self, group: int, year: int) -> IntArray:
        """[age, birth month − 1]: the retirement month of each twelfth of the cohorts aged
        0-100 at the end of ``year`` (born in ``year − age``)."""
        out = np.zeros((AGES, 12), dtype=np.int64)
        for a in range(AGES):
            for m in MONTHS:
                out[a, m - 1] = self.months.get((group, year - a, m), 0)
        return out


def _opening(run: _Run) -> _State:
    """The state at the end of the schedules' year, scaled to the published counts."""
    sched, ledger, base = run.sched, run.ledger, run.sched.year
    workers = int(ledger.value(F + "published_workers", base))
    retirees = int(ledger.value(F + "published_retirees", base))
    pop = sched.population
    share = _group_share(ledger, base)
    eligible = np.zeros((2, AGES))
    for g in range(len(GROUPS)):
        s = SEX_OF_GROUP[g]
        working = (run.retire_index(g, base) >= (base + 1) * 12).mean(axis=1)
        eligible[s] += share[g] * sched.worker_profile[s] * pop[s] * working
    coverage = workers / float(eligible.sum())
    raw = sched.retiree_profile * pop
    stock = np.rint(raw * (retirees / raw.sum())).astype(np.int64)
    pension = np.full((2, AGES), int(ledger.value(F + "initial_pension_monthly", base)))
    return _State(
        pop.copy(),
        stock,
        pension.astype(np.int64),
        coverage,
        int(ledger.value(F + "published_balance", base)),
        _wage_history(ledger, base),
    )


def _wage_history(ledger: Ledger, base: int) -> dict[int, int]:
    wage = int(ledger.value(F + "average_wage_yearly", base))
    past = ledger.ratio(F + "wage_growth_past", base)
    wages = {base: wage}
    for year in range(base - 1, 1949, -1):
        wages[year] = times(wages[year + 1], 1 / (1 + past), ledger.rounding)
    return wages


def _group_share(ledger: Ledger, year: int) -> tuple[float, float, float]:
    w50 = float(ledger.ratio(F + "woman_50_share", year))
    return (1.0, 1.0 - w50, w50)


@dataclass(frozen=True)
class _Flows:
    workers: int  # insured workers still working at the end of the year
    paying: int
    person_months: int  # contribution months paid in the year
    new: IntArray  # [group, age, birth month − 1] persons retiring in the year
    new_months: IntArray  # [group, age, birth month − 1] pension months drawn in the year
    cohorts: list[Cohort]  # the monthly cohorts retiring in the year


def _flows(run: _Run, state: _State, year: int) -> _Flows:
    """Insured workers of the year, their paid months, and the cohorts retiring in it."""
    ledger = run.ledger
    share = _group_share(ledger, year)
    ceiling = float(ledger.ratio(F + "coverage_ceiling", year))
    compliance = float(ledger.ratio(F + "compliance_rate", year))
    new = np.zeros((len(GROUPS), AGES, 12), dtype=np.int64)
    new_months = np.zeros((len(GROUPS), AGES, 12), dtype=np.int64)
    workers = paying = person_months = 0
    cohorts: list[Cohort] = []
    for g in range(len(GROUPS)):
        s = SEX_OF_GROUP[g]
        retire = run.retire_index(g, year - 1)
        rate = np.minimum(run.sched.worker_profile[s] * state.coverage, ceiling)
        twelfth = np.rint(state.population[s] * share[g] * rate / 12.0).astype(np.int64)
        insured = np.where(retire >= year * 12, twelfth[:, None], 0)
        pay = np.rint(insured * compliance).astype(np.int64)
        contrib = np.clip(retire - year * 12, 0, 12)
        leaving = (retire < (year + 1) * 12) & (insured > 0)
        new[g] = np.where(leaving, insured, 0)
        new_months[g] = np.where(leaving, 12 - contrib, 0)
        workers += int(insured[~leaving].sum())
        paying += int(pay.sum())
        person_months += int((pay * contrib).sum())
        for a, m in zip(*np.nonzero(leaving), strict=True):
            cohorts.append(Cohort(g, year - 1 - int(a), int(m) + 1, int(retire[a, m])))
    return _Flows(workers, paying, person_months, new, new_months, cohorts)


def _indexation(ledger: Ledger, scenario: Scenario, year: int) -> Decimal:
    table = ledger.maybe(EP + "indexation_rate_by_year", year)
    if table is not None and str(year) in table.value:
        return Decimal(table.value[str(year)])
    if table is not None and year > max(int(k) for k in table.value):
        if scenario.indexation is not None:
            return scenario.indexation
        return ledger.ratio(F + "indexation_rate_future", year)
    return ledger.ratio(F + "indexation_rate_early", year)


def _wage(state: _State, ledger: Ledger, scenario: Scenario, year: int) -> int:
    published = ledger.own_year(F + "average_wage_yearly", year)
    if published is not None:
        wage = int(published)
    else:
        growth = scenario.wage_growth
        if growth is None:
            growth = ledger.ratio(F + "wage_growth", year)
        wage = times(state.wages[year - 1], 1 + growth, ledger.rounding)
    state.wages[year] = wage
    return wage


def _awards(run: _Run, flows: _Flows, state: _State, year: int) -> IntArray:
    """[group, age, birth month − 1]: the monthly award of each retiring cohort (fen)."""
    out = np.zeros_like(flows.new)
    overrides = run.scenario.overrides_on(dt.date(year, 1, 1))
    amounts = awards(flows.cohorts, year, state.wages, run.ledger, overrides)
    for c, amount in zip(flows.cohorts, amounts, strict=True):
        out[c.group, year - 1 - c.birth_year, c.birth_month - 1] = amount
    return out


def _pooling(run: _Run, year: int, wage: int, workers: int, retirees: int) -> tuple[int, int]:
    """The national pooling adjustment (全国统筹调剂; the central adjustment before 2022) of the
    year: (net transfer to the region, its contribution). For the nation the fund is shown and
    the net is 0; for a province the rest of the nation is taken from the national projection.
    Each side's headcount is its insured workers × its ``pooling_headcount_ratio``."""
    name = "pooling_contribution_ratio" if year >= 2022 else None
    ledger = run.ledger
    if name is None:
        ratio = ledger.ratio("insurance.central_adjustment.contribution_ratio", year)
        base = ledger.ratio("insurance.central_adjustment.wage_base_ratio", year)
    else:
        ratio = ledger.ratio(F + name, year)
        base = ledger.ratio(F + "pooling_wage_base_ratio", year)
    headcount = times(workers, ledger.ratio(F + "pooling_headcount_ratio", year), ledger.rounding)
    provinces = [Province(run.sched.region, wage, headcount, retirees)]
    if run.national is not None:
        nation = _nation(run.national, year)
        rest_workers = max(nation.workers - workers, 0)
        rest_share = run.national.ledger.ratio(F + "pooling_headcount_ratio", year)
        rest = times(rest_workers, rest_share, ledger.rounding)
        rest_retirees = max(nation.retirees - retirees, 0)
        provinces.append(Province("rest", nation.average_wage, rest, rest_retirees))
    result = central_adjustment(provinces, ratio=ratio, wage_base_ratio=base, mode=ledger.rounding)
    mine = result.provinces[0]
    return (mine.net if run.national is not None else 0), mine.contribution


@dataclass(frozen=True)
class _Nation:
    average_wage: int  # fen a year
    workers: int
    retirees: int


def _nation(national: Projection, year: int) -> _Nation:
    """The nation in ``year``: its projection, or, for its base year (the end of which the
    projection starts from), its published figures — a province whose schedules end a year before
    the nation's (Fujian: 2020) is pooled with them in its first year."""
    if year >= national.first_year:
        y = national.year(year)
        return _Nation(y.average_wage, y.workers, y.retirees)
    ledger = national.ledger
    names = ("average_wage_yearly", "published_workers", "published_retirees")
    values = [ledger.own_year(F + name, year) for name in names]
    if any(v is None for v in values):
        raise InputError(
            "--region",
            f"全国 {year} 年没有公布数据, 无法计算统筹调剂; the nation has no published figures "
            f"for {year} (its projection starts in {national.first_year}): the national pooling "
            "of that year cannot be computed",
        )
    wage, workers, retirees = (int(v) for v in values)
    return _Nation(wage, workers, retirees)


def _step(run: _Run, state: _State, year: int) -> Year:
    ledger, scenario = run.ledger, run.scenario
    index = _indexation(ledger, scenario, year)
    state.pension = np.asarray(mul_ratio(state.pension, 1 + index, ledger.rounding), np.int64)
    state.coverage *= 1.0 + float(ledger.ratio(F + "coverage_growth", year))
    wage = _wage(state, ledger, scenario, year)
    flows = _flows(run, state, year)
    award = _awards(run, flows, state, year)
    rate = ledger.ratio(EP + "employer_rate", year) + ledger.ratio(EP + "individual_rate", year)
    base = times(wage, ledger.ratio(F + "contribution_base_ratio", year) / 12, ledger.rounding)
    contributions = times(flows.person_months * base, rate, ledger.rounding)
    stock_pay = int((state.retirees * state.pension).sum()) * 12
    new_pay = int((flows.new * award * flows.new_months).sum())
    expenditure = stock_pay + new_pay
    subsidy = times(expenditure, ledger.ratio(F + "fiscal_subsidy_share", year), ledger.rounding)
    interest = times(state.balance, ledger.ratio(F + "fund_return_rate", year), ledger.rounding)
    pooling_net, pooling_contribution = _pooling(
        run, year, wage, flows.workers, int(state.retirees.sum()) + int(flows.new.sum())
    )
    income = contributions + subsidy + interest
    state.balance += income + pooling_net - expenditure
    new_count = int(flows.new.sum())
    new_award = int((flows.new * award).sum()) // max(new_count, 1)
    _retire_and_age(run, state, flows, award, year)
    births, deaths = _advance_population(run, state, year)
    retirees = int(state.retirees.sum())
    return Year(
        year=year,
        population=int(state.population.sum()),
        births=births,
        deaths=deaths,
        workers=flows.workers,
        paying=flows.paying,
        retirees=retirees,
        new_retirees=new_count,
        new_award=new_award,
        average_pension=int((state.retirees * state.pension).sum()) // max(retirees, 1),
        average_wage=wage,
        contribution_rate=rate,
        indexation=index,
        contributions=contributions,
        subsidy=subsidy,
        interest=interest,
        pooling_net=pooling_net,
        pooling_contribution=pooling_contribution,
        income=income,
        expenditure=expenditure,
        balance=state.balance,
    )


def _mortality(run: _Run, year: int) -> FloatArray:
    sched = run.sched
    improvement = float(run.ledger.ratio(POP + "mortality_improvement", year))
    q: FloatArray = sched.mortality * (1.0 - improvement) ** (year - sched.year - 1)
    q[:, AGES - 1] = sched.mortality[:, AGES - 1]
    return q


def _retire_and_age(run: _Run, state: _State, flows: _Flows, award: IntArray, year: int) -> None:
    """New retirees join their sex and age with their award; then a year of deaths and ageing."""
    for g in range(len(GROUPS)):
        s = SEX_OF_GROUP[g]
        joining = flows.new[g].sum(axis=1)
        bringing = (flows.new[g] * award[g]).sum(axis=1)
        total = state.retirees[s] + joining
        paid = state.retirees[s] * state.pension[s] + bringing
        state.pension[s] = np.where(total > 0, paid // np.maximum(total, 1), state.pension[s])
        state.retirees[s] = total
    survivors = survive(state.retirees, _mortality(run, year))
    moved = np.zeros_like(state.pension)
    moved[:, 1:] = state.pension[:, :-1]
    old = state.retirees[:, AGES - 1] + state.retirees[:, AGES - 2]
    top = state.retirees[:, AGES - 1] * state.pension[:, AGES - 1]
    top += state.retirees[:, AGES - 2] * state.pension[:, AGES - 2]
    moved[:, AGES - 1] = np.where(old > 0, top // np.maximum(old, 1), state.pension[:, AGES - 1])
    state.retirees = survivors
    state.pension = moved


def _advance_population(run: _Run, state: _State, year: int) -> tuple[int, int]:
    step = advance(
        state.population,
        _mortality(run, year),
        run.sched.fertility,
        float(run.ledger.ratio(POP + "total_fertility_rate", year)),
        float(run.ledger.ratio(POP + "sex_ratio_at_birth", year)),
        run.sched.migration,
    )
    state.population = step.population
    return step.births, step.deaths


def project(
    sched: Schedules,
    years: int,
    scenario: Scenario | None = None,
    *,
    tree: ParameterTree | None = None,
    national: Projection | None = None,
) -> Projection:
    """Project the fund of ``sched.region`` for ``years`` years after the schedules' year; a
    province's pooling transfers need the ``national`` projection of the same years (a year
    before the nation's first is taken from the nation's published figures)."""
    if not 1 <= years <= 100:
        raise InputError("--years", f"预测年数应在 1-100; must be 1-100, got {years}")
    scenario = scenario or Scenario()
    first = sched.year + 1
    last = first + years - 1
    ledger = Ledger(
        sched.region, tree or default_tree(), scenario.overrides_on, dt.date(first, 1, 1)
    )
    on = dt.date(last, 12, 1)
    births = range(first - AGES - 1, last - 15)
    months = retirement_months(births, on, sched.region, scenario.overrides_on(on), ledger)
    run = _Run(sched, ledger, scenario, months, national)
    state = _opening(run)
    out = Projection(sched.region, scenario, first, state.balance, ledger)
    for year in range(first, last + 1):
        out.years.append(_step(run, state, year))
    return out
