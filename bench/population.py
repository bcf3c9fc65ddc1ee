"""A deterministic synthetic population for benchmarks, generated directly as columns.

Everything here is ILLUSTRATIVE: the distributions are chosen to look roughly like a Chinese county
so that the rules take realistic branches, not to describe any real place. Nothing measured with it
says anything about real households; it exists to time the rules engine.

``synthetic_population(n_persons, seed=..., on=...)`` returns a ``Population`` of exactly
``n_persons`` persons, built with NumPy (``numpy.random.default_rng``) and no per-person Python,
so a million persons take well under a few seconds. The same (``n_persons``, ``seed``, ``on``)
always gives the same arrays.

Households (one row each)
    size        1-6 persons, P = .25/.29/.21/.13/.08/.04 (mean ≈ 2.62, close to the 2020 census
                average of 2.62); the last household is cut short so the total is exact.
    hukou_type  urban 65 %, rural 35 %.
    financial_assets  0 for 15 %; otherwise log-normal, median 30,000 yuan, σ = 1.4 (ln), capped
                at 5 million yuan (the OpenFisca comparison stores fen in int32).
    vehicles    urban: 0 / 1 / 2 with P = .60/.33/.07; rural: .78/.20/.02.
    homes       0 / 1 / 2 / 3 with P = .10/.72/.15/.03.

Persons
    relation    member 0 is the head; member 1 is the spouse (85 %), a parent (10 %) or a sibling
                (5 %); later members are children (75 %), parents (13 %) or grandchildren (12 %).
    age         head: 18-90, triangular with mode 45; single-person households: 50 % are 60+;
                spouse: head ± 3 years; child: head − 22..36; parent: head + 22..34;
                grandchild: head − 45..60; sibling: head ± 8 (clipped to 0-100).
    birth_date  ``on`` minus the age, with a uniform month and day (1-28).
    sex         50/50 for the head; a spouse has the other sex.
    excluded_reason  0.3 % of non-head members (prisoner, missing, ...), otherwise none.
    disability  4 % hold a certificate: category uniform over the seven categories, grade 1-4
                with P = .15/.25/.30/.30.
    has_serious_illness  2 % (6 % at 60+).
    work        ages 18-59: employed with P = .88 (urban) / .85 (rural), minus a third for the
                disabled; wage log-normal, median 4,500 yuan (urban) / 3,200 (rural), σ = .55
                (ln), at least 1,500 yuan.
    business_income  farming and small business, rural only: 45 % of working-age members and
                65 % of those 60+, log-normal median 1,000 yuan.
    pension_income  60+: urban 95 % (median 3,200 yuan), rural 30 % (median 1,500); others 0.
    resident_pension_central  60+ without a pension: 150 yuan (excluded from counted income).
    property_income  5 % of adults, log-normal median 300 yuan.
    transfer_income  support from relatives: 60 % of those 60+, 5 % of others, log-normal
                median 600 yuan.
    social_insurance_paid  urban employed: 10.5 % of the wage.
    support_paid_out  3 % of employed persons: log-normal median 300 yuan, at most the wage.
    excluded_income  under-18s: 10 % receive 100 yuan (childcare subsidy and the like).

With the illustrative standards (1,000 yuan urban, 800 rural, 300 yuan employment cost) about 7 %
of households have a per-capita counted income below the standard (5.6 % urban, 10 % rural; 2 %
have no counted income at all): elderly households without a pension, households with no one in
work, one low wage for many dependants. About 3 % pass the asset test too and are eligible.

Every other declared field (``FIELDS``), including those added later by other program modules,
gets its declared default, parsed with ``Field.parse``; a required field without a default that
this module does not know gets a neutral value (0, false, the first choice, or ``on`` for a date).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

from safetynet.policy.engine import programs
from safetynet.policy.population import FIELDS, Entity, Field, Kind, Population, date_to_int

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SIZE_PROBS = np.array([0.25, 0.29, 0.21, 0.13, 0.08, 0.04])
URBAN_SHARE = 0.65
FINANCIAL_ASSETS_CAP_YUAN = 5_000_000

# Fields this module fills with its own distributions; every other field gets its default.
GENERATED = frozenset(
    {
        "birth_date",
        "sex",
        "relation",
        "excluded_reason",
        "disability_category",
        "disability_grade",
        "has_serious_illness",
        "wage_income",
        "business_income",
        "property_income",
        "transfer_income",
        "pension_income",
        "resident_pension_central",
        "support_paid_out",
        "social_insurance_paid",
        "excluded_income",
        "is_employed",
        "hukou_type",
        "financial_assets",
        "vehicles",
        "homes",
    }
)


def household_sizes(rng: np.random.Generator, n_persons: int) -> IntArray:
    """Household sizes summing to exactly ``n_persons``."""
    mean = float(np.dot(np.arange(1, 7), SIZE_PROBS))
    guess = int(n_persons / mean * 1.02) + 16
    sizes = rng.choice(np.arange(1, 7, dtype=np.int64), size=guess, p=SIZE_PROBS)
    while int(sizes.sum()) < n_persons:  # rare: top up
        more = rng.choice(np.arange(1, 7, dtype=np.int64), size=guess // 10 + 16, p=SIZE_PROBS)
        sizes = np.concatenate([sizes, more])
    total = np.cumsum(sizes)
    last = int(np.searchsorted(total, n_persons))  # first household reaching n_persons
    sizes = sizes[: last + 1].copy()
    sizes[-1] -= int(total[last]) - n_persons
    return sizes


def _lognormal_fen(rng: np.random.Generator, median_yuan: float, sigma: float, n: int) -> IntArray:
    yuan = rng.lognormal(np.log(median_yuan), sigma, n)
    return np.round(yuan * 100).astype(np.int64)


def _code(name: str, choice: str) -> int:
    return FIELDS.get(name).code(choice)


def _neutral(f: Field, on: dt.date) -> int | bool:
    """A value for a required field that has no default and that this module does not generate."""
    if f.kind is Kind.BOOL:
        return False
    if f.kind is Kind.DATE:
        return date_to_int(on)
    if f.kind is Kind.ENUM:
        return 0
    return max(f.minimum or 0, 0)


def synthetic_population(n_persons: int, *, seed: int = 20260701, on: dt.date) -> Population:
    """``n_persons`` persons in households, as columns; deterministic in (n, seed, on)."""
    if n_persons <= 0:
        raise ValueError("n_persons must be positive")
    programs()  # import every program module, so that every field is declared
    rng = np.random.default_rng(seed)
    sizes = household_sizes(rng, n_persons)
    n_h = len(sizes)
    n = n_persons
    household_of = np.repeat(np.arange(n_h, dtype=np.int64), sizes)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    pos = np.arange(n, dtype=np.int64) - starts[household_of]

    # -- households --
    urban_h = rng.random(n_h) < URBAN_SHARE
    urban = urban_h[household_of]
    has_assets = rng.random(n_h) >= 0.15
    assets = (
        np.minimum(_lognormal_fen(rng, 30_000, 1.4, n_h), FINANCIAL_ASSETS_CAP_YUAN * 100)
        * has_assets
    )
    vehicles = np.where(
        urban_h,
        rng.choice(3, size=n_h, p=[0.60, 0.33, 0.07]),
        rng.choice(3, size=n_h, p=[0.78, 0.20, 0.02]),
    ).astype(np.int64)
    homes = rng.choice(4, size=n_h, p=[0.10, 0.72, 0.15, 0.03]).astype(np.int64)

    # -- relation --
    rel = {r: _code("relation", r) for r in ("head", "spouse", "child", "parent", "grandchild")}
    rel["sibling"] = _code("relation", "sibling")
    u = rng.random(n)
    second = np.where(u < 0.85, rel["spouse"], np.where(u < 0.95, rel["parent"], rel["sibling"]))
    later = np.where(u < 0.75, rel["child"], np.where(u < 0.88, rel["parent"], rel["grandchild"]))
    relation = np.where(pos == 0, rel["head"], np.where(pos == 1, second, later)).astype(np.int8)

    # -- ages --
    head_age_h = rng.triangular(18, 45, 90, n_h)
    single_old = (sizes == 1) & (rng.random(n_h) < 0.5)
    head_age_h = np.where(single_old, rng.uniform(60, 92, n_h), head_age_h)
    head_age = head_age_h[household_of]
    offset = np.select(
        [
            relation == rel["head"],
            relation == rel["spouse"],
            relation == rel["child"],
            relation == rel["parent"],
            relation == rel["grandchild"],
        ],
        [
            np.zeros(n),
            rng.normal(0, 3, n),
            -rng.uniform(22, 36, n),
            rng.uniform(22, 34, n),
            -rng.uniform(45, 60, n),
        ],
        default=rng.uniform(-8, 8, n),
    )
    age = np.clip(np.floor(head_age + offset), 0, 100).astype(np.int64)
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    # Born ``age`` years before ``on``; a birthday later in the year than ``on`` means one year more.
    birth_year = on.year - age - ((month * 100 + day) > (on.month * 100 + on.day))
    birth_date = (birth_year * 10000 + month * 100 + day).astype(np.int32)

    head_sex_h = rng.integers(0, 2, n_h)
    sex = np.where(relation == rel["spouse"], 1 - head_sex_h[household_of], rng.integers(0, 2, n))
    sex = np.where(pos == 0, head_sex_h[household_of], sex).astype(np.int8)

    excluded = (pos > 0) & (rng.random(n) < 0.003)
    excluded_reason = np.where(excluded, rng.integers(1, 5, n), 0).astype(np.int8)

    # -- disability and illness --
    disabled = rng.random(n) < 0.04
    category = np.where(disabled, rng.integers(1, 8, n), 0).astype(np.int8)
    grade = np.where(disabled, rng.choice(np.arange(1, 5), size=n, p=[0.15, 0.25, 0.30, 0.30]), 0)
    ill = rng.random(n) < np.where(age >= 60, 0.06, 0.02)

    # -- incomes (fen per month) --
    working_age = (age >= 18) & (age < 60)
    old = age >= 60
    p_work = np.where(urban, 0.88, 0.85) * np.where(disabled, 2 / 3, 1.0)
    employed = working_age & (rng.random(n) < p_work)
    wage = np.where(
        urban,
        _lognormal_fen(rng, 4_500, 0.55, n),
        _lognormal_fen(rng, 3_200, 0.55, n),
    )
    wage = np.maximum(wage, 150_000) * employed
    farming = ~urban & (working_age | old) & (rng.random(n) < np.where(old, 0.65, 0.45))
    business = _lognormal_fen(rng, 1_000, 0.7, n) * farming
    has_pension = old & (rng.random(n) < np.where(urban, 0.95, 0.30))
    pension = (
        np.where(urban, _lognormal_fen(rng, 3_200, 0.4, n), _lognormal_fen(rng, 1_500, 0.4, n))
        * has_pension
    )
    resident_central = np.where(old & ~has_pension, 15_000, 0).astype(np.int64)
    prop = _lognormal_fen(rng, 300, 1.0, n) * ((age >= 18) & (rng.random(n) < 0.05))
    transfer = _lognormal_fen(rng, 600, 0.7, n) * (rng.random(n) < np.where(old, 0.60, 0.05))
    contributions = np.where(urban & employed, (wage * 105 + 500) // 1000, 0).astype(np.int64)
    support = np.minimum(
        _lognormal_fen(rng, 300, 0.6, n) * (employed & (rng.random(n) < 0.03)), wage
    )
    excluded_income = np.where((age < 18) & (rng.random(n) < 0.10), 10_000, 0).astype(np.int64)

    pop = Population(household_ids=[])
    pop.household_of = household_of
    pop.persons.update(
        {
            "birth_date": birth_date,
            "sex": sex,
            "relation": relation,
            "excluded_reason": excluded_reason,
            "disability_category": category,
            "disability_grade": grade.astype(np.int64),
            "has_serious_illness": ill,
            "wage_income": wage.astype(np.int64),
            "business_income": business.astype(np.int64),
            "property_income": prop.astype(np.int64),
            "transfer_income": transfer.astype(np.int64),
            "pension_income": pension.astype(np.int64),
            "resident_pension_central": resident_central,
            "support_paid_out": support.astype(np.int64),
            "social_insurance_paid": contributions,
            "excluded_income": excluded_income,
            "is_employed": employed,
        }
    )
    pop.households.update(
        {
            "hukou_type": np.where(
                urban_h, _code("hukou_type", "urban"), _code("hukou_type", "rural")
            ).astype(np.int8),
            "financial_assets": assets.astype(np.int64),
            "vehicles": vehicles,
            "homes": homes,
        }
    )
    fill_defaults(pop, on)
    return pop


def fill_defaults(pop: Population, on: dt.date) -> None:
    """Give every declared field this module does not generate its declared default."""
    sizes = {Entity.PERSON: pop.n_persons, Entity.HOUSEHOLD: pop.n_households}
    for f in FIELDS.all():
        columns = pop.persons if f.entity is Entity.PERSON else pop.households
        if f.name in columns:
            continue
        value = _neutral(f, on) if f.default is None else f.parse(f.default, f.name)
        columns[f.name] = np.full(sizes[f.entity], value, dtype=f.dtype())


def fields_defaulted() -> list[str]:
    """Declared fields that the generator leaves at their default (for the report)."""
    return sorted(f.name for f in FIELDS.all() if f.name not in GENERATED)
