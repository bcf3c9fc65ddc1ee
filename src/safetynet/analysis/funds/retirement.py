"""Retirement months and pension awards of birth cohorts, from the rules core.

Nothing here restates a rule: the statutory retirement month comes from the ``retirement_age``
program (the 2024 reform's step rule and its parameters) and the award from the
``employee_pension`` program (basic, account and transitional pension), each evaluated for one
representative person of a cohort. A yearly cohort is split into twelve born on the first day of
each month, so that the reform's month-by-month delays reach the fund month by month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from safetynet.analysis.funds.assumptions import ACCOUNT, EP, F, Ledger, times
from safetynet.domain.money import fen_to_yuan
from safetynet.policy.engine import evaluate, program
from safetynet.policy.population import population_from_households

GROUPS = ("man", "woman_55", "woman_50")  # the rules core's retirement categories
SEX_OF_GROUP = (0, 1, 1)  # male, female, female
SEX_NAMES = ("male", "female")
MONTHS = range(1, 13)


def _person(group: int, birth_year: int, month: int, **facts: Any) -> dict[str, Any]:
    return {
        "members": [
            {
                "birth_date": f"{birth_year:04d}-{month:02d}-01",
                "sex": SEX_NAMES[SEX_OF_GROUP[group]],
                "pension_category": GROUPS[group],
                "employee_pension_insured": True,
                **facts,
            }
        ]
    }


def retirement_months(
    birth_years: range, on: dt.date, region: str, overrides: Mapping[str, Any], ledger: Ledger
) -> dict[tuple[int, int, int], int]:
    """(group, birth year, birth month) → statutory retirement month index (year × 12 + month − 1)."""
    keys = [(g, b, m) for g in range(len(GROUPS)) for b in birth_years for m in MONTHS]
    households = [_person(*key) for key in keys]
    pop = population_from_households(households)
    ev = evaluate(program("retirement_age"), pop, on, region, overrides=overrides, tree=ledger.tree)
    for used in ev.params.used():
        ledger.used.setdefault(f"{used.name}@{used.start}", used)
    months = ev.result.outputs["retirement_year_month"]
    return {
        key: (int(value) // 100) * 12 + int(value) % 100 - 1
        for key, value in zip(keys, months, strict=True)
    }


@dataclass(frozen=True)
class Career:
    """The representative worker of a cohort at retirement."""

    paid_months: int
    deemed_months: int
    account_balance: int  # fen
    average_index: Decimal


def career(
    birth_year: int, birth_month: int, retire_index: int, wages: Mapping[int, int], ledger: Ledger
) -> Career:
    """Contribution months and personal-account balance of a cohort's representative worker.

    Entry at ``entry_age``; service before ``account_start_year`` is deemed; afterwards
    ``contribution_density`` of the months are paid on Ī × the average wage, credited at the
    account share of the base and the published crediting rate (the assumed rates where none is
    published), with the same-year factor for credits of the year."""
    start_year = ledger.value(F + "account_start_year", _first(wages))
    entry = birth_year + int(ledger.value(F + "entry_age", _first(wages)))
    entry_index = entry * 12 + birth_month - 1
    account_index = start_year * 12
    density = ledger.ratio(F + "contribution_density", _first(wages))
    index = ledger.ratio(F + "average_index", _first(wages))
    deemed = max(0, min(account_index, retire_index) - entry_index)
    balance = 0
    paid = Decimal(0)
    for year in range(max(entry, start_year), retire_index // 12 + 1):
        first = max(year * 12, entry_index, account_index)
        last = min((year + 1) * 12, retire_index)
        months = Decimal(max(0, last - first)) * density  # expected months paid, not rounded
        if months <= 0:
            continue
        paid += months
        share = _account_share(ledger, year)
        credit = times(wages[year] * months * index * share, Decimal(1) / 12, ledger.rounding)
        rate = _crediting_rate(ledger, year)
        factor = Decimal(ledger.value(ACCOUNT + "current_year_credit_factor", max(year, 1998)))
        if year < retire_index // 12:
            interest = times(balance, rate, ledger.rounding)
            balance += interest + credit + times(credit, rate * factor, ledger.rounding)
        else:
            balance += credit
    return Career(round(paid), deemed, int(balance), index)


def _first(wages: Mapping[int, int]) -> int:
    """The year whose assumptions describe a career: the latest year with a wage."""
    return max(wages)


def _account_share(ledger: Ledger, year: int) -> Decimal:
    hit = ledger.maybe(ACCOUNT + "account_share_of_base", max(year, 1998))
    return Decimal(hit.value) if hit is not None else Decimal("0.08")


def _crediting_rate(ledger: Ledger, year: int) -> Decimal:
    hit = ledger.maybe(ACCOUNT + "crediting_rate", year)
    if hit is not None and hit.start is not None and hit.start.year == year:
        return Decimal(hit.value)
    name = "crediting_rate_early" if year < 2016 else "crediting_rate_future"
    return ledger.ratio(F + name, max(year, 2021))


@dataclass(frozen=True)
class Cohort:
    group: int
    birth_year: int
    birth_month: int
    retire_index: int


def awards(
    cohorts: list[Cohort],
    year: int,
    wages: Mapping[int, int],
    ledger: Ledger,
    overrides: Mapping[str, Any],
) -> list[int]:
    """The monthly pension (fen) the ``employee_pension`` program awards each cohort's worker
    retiring in ``year``, evaluated together on 1 December of the year.

    The region's average wage and pension base W (the previous year's average wage) are those of
    the projection; the transitional coefficient is the region's own or the fund assumption."""
    if not cohorts:
        return []
    coefficient = ledger.maybe(EP + "transitional_coefficient", year)
    values: dict[str, Any] = {
        EP + "average_wage_monthly": wages[year] // 12,
        EP + "pension_base_monthly": wages[year - 1] // 12,
        EP + "transitional_coefficient": coefficient.value
        if coefficient is not None
        else ledger.ratio(F + "transitional_coefficient", max(year, 2021)),
        **overrides,
    }
    people = []
    for c in cohorts:
        k = career(c.birth_year, c.birth_month, c.retire_index, wages, ledger)
        people.append(
            _person(
                c.group,
                c.birth_year,
                c.birth_month,
                employee_pension_contribution_months=k.paid_months,
                employee_pension_deemed_months=k.deemed_months,
                employee_pension_average_index=int(k.average_index * 10_000),
                employee_pension_account_balance=str(fen_to_yuan(k.account_balance)),
            )
        )
    ev = evaluate(
        program("employee_pension"),
        population_from_households(people),
        dt.date(year, 12, 1),
        ledger.region,
        overrides=values,
        tree=ledger.tree,
    )
    for used in ev.params.used():
        if used.level != "override":
            ledger.used.setdefault(f"{used.name}@{used.start}", used)
    return [int(v) for v in ev.result.amount]
