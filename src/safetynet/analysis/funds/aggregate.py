"""A simpler projection for the funds whose parameters support less detail: the resident pension,
the employee and resident basic medical insurance, and the long-term care pilots.

Two groups follow the projected population (the same cohort-component step as the employee
pension): payers (ages ``payer_min_age``–``payer_max_age``) and an older group (``older_age`` and
over), each also moved by ``coverage_growth``. The opening year's published figures fix an income
per paying unit and a cost per weighted person; these grow by ``income_growth`` and
``cost_growth``:

    income      = (payers + older_pay_weight × older) × income per unit
    expenditure = (payer_cost_weight × payers + older_cost_weight × older) × cost per unit
    balance     = opening + income − expenditure

The published income already holds fiscal subsidies and interest, so neither is added. Money in
integer fen; see docs/funds.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from safetynet.analysis.funds.assumptions import POP, Ledger, times
from safetynet.analysis.funds.employee_pension import Projection, Year
from safetynet.analysis.funds.population import advance
from safetynet.analysis.funds.scenario import Scenario
from safetynet.analysis.funds.schedules import AGES, FloatArray, IntArray, Schedules
from safetynet.errors import InputError
from safetynet.policy.parameters import ParameterTree, default_tree


@dataclass
class _Groups:
    population: IntArray
    payers: Decimal
    older: Decimal
    income_unit: Decimal  # fen per paying unit
    cost_unit: Decimal  # fen per weighted person
    balance: int


class _Fund:
    def __init__(self, fund: str, ledger: Ledger) -> None:
        self.prefix = f"insurance.funds.{fund}."
        self.ledger = ledger

    def ratio(self, name: str, year: int) -> Decimal:
        return self.ledger.ratio(self.prefix + name, year)

    def whole(self, name: str, year: int) -> int:
        return int(self.ledger.value(self.prefix + name, year))

    def window(self, population: IntArray, year: int) -> tuple[int, int]:
        """(persons of the payer ages, persons of the older ages)."""
        total = population.sum(axis=0)
        low, high = self.whole("payer_min_age", year), self.whole("payer_max_age", year)
        older = self.whole("older_age", year)
        return int(total[low : high + 1].sum()), int(total[older:AGES].sum())

    def paying_units(self, g: _Groups, year: int) -> Decimal:
        return g.payers + self.ratio("older_pay_weight", year) * g.older

    def cost_units(self, g: _Groups, year: int) -> Decimal:
        return (
            self.ratio("payer_cost_weight", year) * g.payers
            + self.ratio("older_cost_weight", year) * g.older
        )


def _step_population(sched: Schedules, ledger: Ledger, population: IntArray, year: int) -> IntArray:
    improvement = float(ledger.ratio(POP + "mortality_improvement", year))
    q: FloatArray = sched.mortality * (1.0 - improvement) ** (year - sched.year - 1)
    q[:, AGES - 1] = sched.mortality[:, AGES - 1]
    step = advance(
        population,
        q,
        sched.fertility,
        float(ledger.ratio(POP + "total_fertility_rate", year)),
        float(ledger.ratio(POP + "sex_ratio_at_birth", year)),
        sched.migration,
    )
    return step.population


def _opening(fund: _Fund, sched: Schedules, base: int) -> _Groups:
    population = sched.population.copy()
    for year in range(sched.year + 1, base + 1):
        population = _step_population(sched, fund.ledger, population, year)
    g = _Groups(
        population,
        Decimal(fund.whole("published_payers", base)),
        Decimal(fund.whole("published_older", base)),
        Decimal(0),
        Decimal(0),
        fund.whole("published_balance", base),
    )
    g.income_unit = Decimal(fund.whole("published_income", base)) / fund.paying_units(g, base)
    g.cost_unit = Decimal(fund.whole("published_expenditure", base)) / fund.cost_units(g, base)
    return g


def _year(fund: _Fund, sched: Schedules, g: _Groups, year: int) -> Year:
    ledger = fund.ledger
    before = fund.window(g.population, year)
    g.population = _step_population(sched, ledger, g.population, year)
    after = fund.window(g.population, year)
    coverage = 1 + fund.ratio("coverage_growth", year)
    g.payers = g.payers * after[0] / max(before[0], 1) * coverage
    g.older = g.older * after[1] / max(before[1], 1) * coverage
    g.income_unit *= 1 + fund.ratio("income_growth", year)
    g.cost_unit *= 1 + fund.ratio("cost_growth", year)
    income = times(fund.paying_units(g, year), g.income_unit, ledger.rounding)
    expenditure = times(fund.cost_units(g, year), g.cost_unit, ledger.rounding)
    g.balance += income - expenditure
    payers, older = round(g.payers), round(g.older)
    return Year(
        year=year,
        population=int(g.population.sum()),
        births=0,
        deaths=0,
        workers=payers,
        paying=payers,
        retirees=older,
        new_retirees=0,
        new_award=0,
        average_pension=0,
        average_wage=0,
        contribution_rate=Decimal(0),
        indexation=Decimal(0),
        contributions=income,
        subsidy=0,
        interest=0,
        pooling_net=0,
        pooling_contribution=0,
        income=income,
        expenditure=expenditure,
        balance=g.balance,
    )


def project_aggregate(
    fund: str,
    sched: Schedules,
    years: int,
    scenario: Scenario | None = None,
    *,
    tree: ParameterTree | None = None,
) -> Projection:
    """Project ``fund`` of ``sched.region`` for ``years`` years after its opening year."""
    if not 1 <= years <= 100:
        raise InputError("--years", f"预测年数应在 1-100; must be 1-100, got {years}")
    scenario = scenario or Scenario()
    tree = tree or default_tree()
    probe = Ledger(sched.region, tree, scenario.overrides_on, dt.date(sched.year + 1, 1, 1))
    base = int(probe.value(f"insurance.funds.{fund}.opening_year", sched.year + 1))
    if base < sched.year:
        raise InputError(
            f"insurance.funds.{fund}.opening_year",
            f"the opening year {base} is before the population's year {sched.year}",
        )
    first = base + 1
    ledger = Ledger(sched.region, tree, scenario.overrides_on, dt.date(first, 1, 1))
    f = _Fund(fund, ledger)
    groups = _opening(f, sched, base)
    out = Projection(sched.region, scenario, first, groups.balance, ledger, fund=fund)
    for year in range(first, first + years):
        out.years.append(_year(f, sched, groups, year))
    return out
