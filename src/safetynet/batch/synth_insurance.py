"""Insurance histories of the synthetic population: careers, retirement under the 2024 reform,
and the pension, medical and unemployment fields that follow from them.

A career is kept in summary, as the pension programs read it: when the person started to
contribute, how densely, how many months were paid and how many are deemed (service before
personal accounts), the average contribution index and the account. ``careers`` decides who has
an employee-pension history and who is retired in the month (the statutory month of
``retirement_age.statutory_retirement``, the 2024 reform's step rule, has passed and the minimum
contribution months are met); the generator gives those an employee pension as income.
``insurance_columns`` then writes the program inputs, consistent with the income the person
received: an employee pension in payment is awarded so that, indexed to the month by the yearly
adjustments, it is the person's ``pension_income``.

Every rate here is ILLUSTRATIVE [I] unless calibration.yaml gives a source.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from safetynet.errors import CoverageError
from safetynet.policy.engine import Params, Trace
from safetynet.policy.population import FIELDS, Population
from safetynet.policy.programs.retirement_age import (
    CATEGORIES,
    MAN,
    WOMAN_50,
    WOMAN_55,
    date_month_index,
    minimum_contribution_months,
    month_index,
    statutory_retirement,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

INDEX_UNIT = 10_000
SCHEME_YEAR = 2011  # the residents' pension reached the whole country (urban pilot 2011) [M]
SHORT_RECORD_SHARE = 0.03  # insured elderly with fewer than 15 years, not (yet) drawing [I]
ACCOUNTS_FROM = 1996 * 12  # personal accounts from January 1996: earlier service is deemed


def _target(name: str) -> Any:
    from safetynet.batch.synth import target  # the one calibration file (no import cycle)

    return target(name)


@dataclass
class Careers:
    """Per person: the employee-pension history and the retirement it leads to."""

    history: BoolArray  # ever insured in the employee pension
    category: IntArray  # retirement category code (retirement_age: 0 man, 1 woman_55, 2 woman_50)
    retirement: IntArray  # statutory retirement month index (0 without a history)
    start: IntArray  # first contribution month index
    density: FloatArray  # share of the months since the start that were contributed
    retired: BoolArray  # an employee pension in payment before this month
    retiring: BoolArray  # retires this month: the pension is awarded from the record now
    resident_insured_old: BoolArray  # 60+, no employee pension, insured in the residents' scheme
    grandfathered: BoolArray  # 60 or older when the residents' scheme began: no contributions due
    resident_pensioner: (
        BoolArray  # of those, draws the residents' pension (15 years or grandfathered)
    )

    @property
    def employee_pensioner(self) -> BoolArray:
        out: BoolArray = self.retired | self.retiring
        return out


def _months(start: IntArray, end: IntArray, density: FloatArray) -> tuple[IntArray, IntArray]:
    """Paid and deemed months between ``start`` and ``end`` at ``density`` (deemed before 1996)."""
    span = np.maximum(end - start, 0)
    before = np.clip(ACCOUNTS_FROM - start, 0, span)
    deemed = np.floor(before * density).astype(np.int64)
    paid = np.floor((span - before) * density).astype(np.int64)
    return paid, deemed


def careers(
    rng: np.random.Generator,
    pop: Population,
    on: dt.date,
    county: str,
    *,
    urban: BoolArray,
    working: BoolArray,
    insured_job: BoolArray,
) -> Careers:
    """Who has an employee-pension history, and who is retired by the reform's rule in the month.

    ``pop`` needs only ``birth_date`` and ``sex``; ``working`` marks persons of working age in
    work and ``insured_job`` those whose job is insured now (their history runs to today).
    """
    n = pop.n_persons
    born = month_index(pop.p("birth_date"))
    age = pop.age(on)
    female = pop.p("sex") == FIELDS.get("sex").code("female")
    rates: dict[str, float] = _target("insurance.employee_history_share")
    was_employee = rng.random(n) < np.where(urban, rates["urban"], rates["rural"])
    history = insured_job | (~working & (age >= 30) & was_employee)
    workers = float(_target("insurance.women_worker_category_share"))
    category = np.where(female, np.where(rng.random(n) < workers, WOMAN_50, WOMAN_55), MAN).astype(
        np.int64
    )
    p = Params(on, county)
    try:
        _, _, statutory = statutory_retirement(pop, p, Trace(), category, history)
    except CoverageError:  # a date before the reform's parameters: the original ages
        original = p.table("insurance.retirement_age.original_age_months")
        ages = np.asarray([int(original[k]) for k in CATEGORIES], dtype=np.int64)
        statutory = born + ages[category]
    now = date_month_index(on)
    start_age = np.where(urban, rng.uniform(18, 25, n), rng.uniform(20, 32, n))
    start = born + np.round(start_age * 12).astype(np.int64)
    density = rng.uniform(0.70, 1.0, n)
    paid, deemed = _months(start, np.minimum(statutory, now), density)
    minimum = minimum_contribution_months(p, statutory // 12)
    reached = history & (statutory <= now) & (paid + deemed >= minimum) & (statutory > start)
    retiring = reached & (statutory == now)
    retired = reached & ~retiring
    resident_share = float(_target("insurance.resident_pension_drawing_share"))
    resident = (age >= 60) & ~reached & (rng.random(n) < resident_share)
    grandfathered = resident & (age >= 60 + (on.year - SCHEME_YEAR))
    short = resident & ~grandfathered & (rng.random(n) < SHORT_RECORD_SHARE)
    return Careers(
        history=history,
        category=category,
        retirement=np.where(history, statutory, 0).astype(np.int64),
        start=start,
        density=density,
        retired=retired,
        retiring=retiring,
        resident_insured_old=resident,
        grandfathered=grandfathered,
        resident_pensioner=resident & ~short,
    )


def pensions_in_payment(
    rng: np.random.Generator, pensioner: BoolArray, urban_scale: float
) -> FloatArray:
    """The employee pension each pensioner receives this month (yuan; 0 for the others): drawn
    from the national distribution of ``insurance.employee_pension_monthly`` (a lognormal around
    the statistical bulletin's average), moved towards the locality's level by its urban income
    scale with a dampened elasticity [I]. A pension follows the pensioner's own record, never
    the household's income: before, it was a share of the household's drawn income and rich
    Shanghai households received 60-97 k yuan a month."""
    spec = _target("insurance.employee_pension_monthly")
    low, high = (float(x) for x in spec["regional_factor_bounds"])
    regional = min(max(urban_scale ** float(spec["regional_elasticity"]), low), high)
    drawn = rng.lognormal(np.log(float(spec["median"]) * regional), float(spec["sigma"]),
                          len(pensioner))  # fmt: skip
    floor = float(spec["minimum"])
    paid: FloatArray = np.where(pensioner, np.round(np.maximum(drawn, floor)), 0.0)
    return paid


def _indexation_factors(p: Params, retire_year: IntArray) -> FloatArray:
    """Product of (1 + yearly adjustment) for the years after ``retire_year`` up to the date."""
    try:
        rates = {int(y): Decimal(str(r)) for y, r in p.table(
            "insurance.employee_pension.indexation_rate_by_year").items()}  # fmt: skip
    except CoverageError:
        rates = {}
    factor = np.ones(len(retire_year))
    for year, rate in sorted(rates.items()):
        if year <= p.on.year:
            factor = np.where(retire_year < year, factor * (1 + float(rate)), factor)
    return factor


def insurance_columns(
    rng: np.random.Generator,
    c: Careers,
    pop: Population,
    on: dt.date,
    county: str,
    *,
    wage: IntArray,
    pension: IntArray,
    urban: BoolArray,
    claimant_pool: BoolArray,
) -> dict[str, np.ndarray]:
    """The insurance input fields of every person (fen for money), from their careers.

    ``wage`` is the gross wage and ``pension`` the employee pension received (both fen/month);
    ``claimant_pool`` marks persons of working age out of work and out of education, from whom
    the registered unemployed are drawn."""
    n = pop.n_persons
    age = pop.age(on)
    now = date_month_index(on)
    p = Params(on, county)
    end = np.where(c.employee_pensioner, c.retirement, now)
    # Persons out of work stopped contributing some years ago.
    stopped = c.history & ~c.employee_pensioner & (wage == 0)
    end = np.where(stopped, end - rng.integers(6, 120, n), end)
    end = np.where(c.history, np.minimum(end, c.retirement), end)  # never past retirement
    paid, deemed = _months(c.start, end, c.density)
    paid = np.where(c.history, paid, 0)
    deemed = np.where(c.history, deemed, 0)
    index = np.clip(rng.lognormal(0.0, 0.3, n) * np.where(urban, 1.0, 0.8), 0.6, 3.0)
    index_units = np.where(c.history, np.round(index * INDEX_UNIT), INDEX_UNIT).astype(np.int64)
    average_wage = int(_target("insurance.average_wage_monthly")) * 100
    growth = float(_target("insurance.account_growth_factor"))
    balance = np.round(paid * 0.08 * average_wage * index * growth).astype(np.int64)
    retire_year = c.retirement // 12
    awarded = np.where(
        c.retired, np.round(pension / _indexation_factors(p, retire_year)), 0
    ).astype(np.int64)
    awarded = np.where(c.retired, np.maximum(awarded, 100), 0)  # an award is never nothing

    # Residents' pension: the insured who draw it, or contribute towards it [I].
    years_possible = np.maximum(np.minimum(age - 16, on.year - SCHEME_YEAR), 0)
    resident_years = np.select(
        [c.grandfathered, c.resident_pensioner, c.resident_insured_old],
        [np.zeros(n, np.int64), 15 + rng.integers(0, 6, n), rng.integers(5, 15, n)],
        default=np.minimum(years_possible, rng.integers(0, 16, n)),
    ).astype(np.int64)
    young = (age >= 16) & (age < 60) & ~c.history & (rng.random(n) < 0.7)
    resident_insured = c.resident_insured_old | young
    resident_balance = np.where(
        resident_insured, resident_years * rng.uniform(150, 600, n) * 100, 0
    ).astype(np.int64)

    # Unemployment insurance: registered, involuntarily out of work, with their insured years.
    claim_share = float(_target("insurance.unemployment_registered_share"))
    claimant = claimant_pool & c.history & (rng.random(n) < claim_share)
    claim_years = np.minimum((paid + deemed) // 12, 30)

    coverage = float(_target("insurance.medical_coverage"))
    employee_scheme = (c.history & (wage > 0)) | c.employee_pensioner
    return {
        "employee_pension_insured": c.history,
        "pension_category": np.where(c.history, c.category + 1, 0).astype(np.int8),
        "employee_pension_contribution_months": paid.astype(np.int64),
        "employee_pension_deemed_months": deemed.astype(np.int64),
        "employee_pension_average_index": index_units,
        "employee_pension_deemed_index": index_units,
        "employee_pension_wage": np.where(c.history & ~c.employee_pensioner, wage, 0).astype(
            np.int64
        ),
        "employee_pension_account_balance": np.where(c.history, balance, 0).astype(np.int64),
        "employee_pension_awarded_monthly": awarded.astype(np.int64),
        "is_employee_pension_recipient": c.retired,
        "resident_pension_insured": resident_insured,
        "resident_pension_contribution_years": np.where(resident_insured, resident_years, 0),
        "resident_pension_account_balance": resident_balance,
        "resident_pension_grandfathered": c.grandfathered,
        "is_resident_pension_recipient": c.resident_pensioner,
        "medical_scheme": employee_scheme.astype(np.int8),
        "medical_insured": rng.random(n) < coverage,
        "employee_medical_retired": c.employee_pensioner,
        "unemployment_registered": claimant,
        "unemployment_involuntary": claimant,
        "unemployment_contribution_years": np.where(claimant, claim_years, 0).astype(np.int64),
        "unemployment_months_drawn": np.where(claimant, rng.integers(0, 6, n), 0).astype(np.int64),
    }


GENERATED_INSURANCE = frozenset(
    {
        "employee_pension_insured",
        "pension_category",
        "employee_pension_contribution_months",
        "employee_pension_deemed_months",
        "employee_pension_average_index",
        "employee_pension_deemed_index",
        "employee_pension_wage",
        "employee_pension_account_balance",
        "employee_pension_awarded_monthly",
        "is_employee_pension_recipient",
        "resident_pension_insured",
        "resident_pension_contribution_years",
        "resident_pension_account_balance",
        "resident_pension_grandfathered",
        "is_resident_pension_recipient",
        "medical_scheme",
        "medical_insured",
        "employee_medical_retired",
        "unemployment_registered",
        "unemployment_involuntary",
        "unemployment_contribution_years",
        "unemployment_months_drawn",
    }
)
"""The fields ``insurance_columns`` writes."""

__all__ = ["GENERATED_INSURANCE", "Careers", "careers", "insurance_columns"]
