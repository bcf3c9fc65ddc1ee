"""A deterministic, calibrated synthetic population, generated county by county as columns.

``generate_county(county, n, seed=..., on=..., ...)`` builds one county's ``CountyData``: exactly
``n`` persons in households, with valid and unique identity numbers, every declared input field
filled, fully vectorized with NumPy (no per-person Python). It is a pure function of
(county, n, seed, on): the county's random generator is ``np.random.default_rng([seed, county])``.
``generate(out, persons, counties, seed=..., on=...)`` splits the persons evenly over the counties,
generates ONE county at a time and writes it with ``registry.county_data.write_county``, so memory is
bounded by the largest county, then writes the manifest.

The targets (household sizes, age structure, urban/rural income quintiles, income sources,
disability, hospital stays, planted cases) live in ``calibration.yaml`` next to this module, each
with its source and provenance; docs/synthetic-population.md describes every distribution. The
population is ILLUSTRATIVE: it looks like a Chinese county so that the rules take realistic
branches; it describes no real place.

How income is calibrated. Each household first gets *potential* incomes by source from its members
(wages for the employed, farming and business, pensions for the elderly, property, transfers).
Households are ranked within their hukou type by potential per-capita income plus noise; the rank
is mapped onto a target distribution whose five household quintile groups have the target
per-capita means (a log-normal fitted to the quintile means, corrected quintile by quintile). The
household's total is then shared among its members' potential sources in proportion (exactly, in
integer fen), so who earns what follows the household's composition while the distribution
follows the published quintiles.
"""

from __future__ import annotations

import datetime as dt
import functools
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from safetynet.batch import synth_calibration, synth_insurance
from safetynet.domain.regions import Region, RegionLevel, default_registry
from safetynet.errors import InputError
from safetynet.policy.population import (
    FIELDS,
    Entity,
    Field,
    Kind,
    Population,
    date_to_int,
    declare_all_fields,
)
from safetynet.registry.county_data import MANIFEST, CountyData, write_county, write_manifest

GENERATOR_VERSION = "2"
"""Bump when the same (county, n, seed, date) would give different data."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

Progress = Callable[[str, int, int], None]
"""Called after each county with (county code, persons, households)."""

# Household types (how the members relate to the head).
SINGLE, NUCLEAR, WITH_PARENTS, ELDER_HEAD, SKIPPED = range(5)

FINANCIAL_ASSETS_CAP_FEN = 5_000_000 * 100  # keeps every money column well inside int32
PER_CAPITA_CAP_YUAN = 2_000_000.0
MAX_SEQUENCE_PER_DAY = 500  # 3-digit sequences per (county, birth date, sex): 001..999 odd/even


# -- calibration targets -------------------------------------------------------------------------


@functools.cache
def calibration() -> dict[str, Any]:
    """``calibration.yaml``: {"version": ..., "targets": {name: {"value": ..., ...}}}."""
    text = (files("safetynet.batch") / "calibration.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def target(name: str) -> Any:
    return calibration()["targets"][name]["value"]


def income_year(on: dt.date) -> int:
    """The latest year with income targets before ``on`` (statistics of the previous year)."""
    years = sorted(int(y) for y in target("income.quintile_means.national"))
    earlier = [y for y in years if y < on.year]
    return earlier[-1] if earlier else years[0]


def quintile_targets(urban: bool, on: dt.date, scale: float = 1.0) -> list[float]:
    """Target per-capita disposable income of the five household quintile groups, yuan/year,
    times the county's income scale (``synth_calibration.income_scale``)."""
    kind = "urban" if urban else "rural"
    return [float(x) * scale for x in target(f"income.quintile_means.{kind}")[income_year(on)]]


@dataclass(frozen=True)
class IncomeCurve:
    """Per-capita income (yuan/year) as a function of the standard-normal score of a household."""

    mu: float
    sigma: float
    factors: tuple[float, float, float, float, float]  # per quintile group

    def __call__(self, z: FloatArray, quintile: IntArray) -> FloatArray:
        factor = np.asarray(self.factors)[quintile]
        value: FloatArray = np.exp(self.mu + self.sigma * z) * factor
        return value


_GRID = 4000


@functools.cache
def _normal_grid() -> FloatArray:
    nd = NormalDist()
    return np.array([nd.inv_cdf((k + 0.5) / _GRID) for k in range(_GRID)])


@functools.cache
def income_curve(means: tuple[float, ...]) -> IncomeCurve:
    """A log-normal whose quintile-group means match ``means``, up to per-group factors near 1."""
    z = _normal_grid()
    groups = np.arange(_GRID) * 5 // _GRID
    want = np.log(np.asarray(means) / np.mean(means))
    best: tuple[float, float] | None = None
    for step in range(360):
        sigma = 0.2 + 0.005 * step
        x = np.exp(sigma * z)
        got = np.log(np.bincount(groups, x) / (_GRID / 5))
        got -= np.log(x.mean())
        err = float(np.sum((got - want) ** 2))
        if best is None or err < best[0]:
            best = (err, sigma)
    assert best is not None
    sigma = best[1]
    x = np.exp(sigma * z)
    level = float(np.mean(means) / x.mean())
    group_means = np.bincount(groups, x * level) / (_GRID / 5)
    f = [float(v) for v in np.asarray(means) / group_means]
    return IncomeCurve(float(np.log(level)), sigma, (f[0], f[1], f[2], f[3], f[4]))


# -- counties ------------------------------------------------------------------------------------


def county_region(code: str, field: str = "--counties") -> Region:
    """The county-level unit ``code``, or an InputError naming it."""
    registry = default_registry()
    if not isinstance(code, str) or not registry.contains(code.strip()):
        raise InputError(field, f"{code!r} is not a county code: {registry.explain_unknown(code)}")
    region = registry.get(code.strip())
    county_like = region.level is RegionLevel.COUNTY or (
        region.level is RegionLevel.CITY and not registry.children(region.code)
    )
    if not county_like:
        raise InputError(field, f"{code} ({region.name}) is a {region.level}, not a county")
    return region


def county_type(region: Region) -> str:
    """district (区), county_level_city (市) or county (县, 旗 and the rest)."""
    if region.name.endswith("区"):
        return "district"
    if region.name.endswith("市"):
        return "county_level_city"
    return "county"


def urban_share(county: str) -> float:
    shares = target("hukou.urban_share_by_county_type")
    return float(shares[county_type(county_region(county))])


def split_persons(persons: int, counties: Sequence[str]) -> list[int]:
    """Split evenly; the first ``persons % len(counties)`` counties get one more."""
    base, extra = divmod(persons, len(counties))
    return [base + (i < extra) for i in range(len(counties))]


# -- helpers -------------------------------------------------------------------------------------


def _code(name: str, choice: str) -> int:
    return FIELDS.get(name).code(choice)


def _pick(rng: np.random.Generator, probs: Sequence[float], n: int) -> IntArray:
    """Indices 0..len(probs)-1 drawn with ``probs`` (normalised)."""
    p = np.asarray(probs, dtype=np.float64)
    cdf = np.cumsum(p / p.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int64)


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> FloatArray:
    return rng.lognormal(np.log(median), sigma, n)


def _tri(rng: np.random.Generator, low: float, mode: float, high: float, n: int) -> FloatArray:
    return rng.triangular(low, mode, high, n)


def _fen(yuan: FloatArray) -> IntArray:
    return np.round(yuan * 100).astype(np.int64)


def household_sizes(rng: np.random.Generator, n_persons: int) -> IntArray:
    """Household sizes from the census distribution, summing to exactly ``n_persons``."""
    dist = target("household.size_distribution")
    values = np.array(sorted(dist), dtype=np.int64)
    probs = [float(dist[v]) for v in values]
    mean = float(np.dot(values, probs) / sum(probs))
    sizes = values[_pick(rng, probs, int(n_persons / mean * 1.03) + 16)]
    while int(sizes.sum()) < n_persons:  # rare: top up
        sizes = np.concatenate([sizes, values[_pick(rng, probs, len(sizes) // 10 + 16)]])
    total = np.cumsum(sizes)
    last = int(np.searchsorted(total, n_persons))  # first household reaching n_persons
    sizes = sizes[: last + 1].copy()
    sizes[-1] -= int(total[last]) - n_persons
    return sizes


def _dates_to_int(days: npt.NDArray[np.datetime64]) -> npt.NDArray[np.int32]:
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    mday = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    result: npt.NDArray[np.int32] = (years * 10000 + months * 100 + mday).astype(np.int32)
    return result


_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)


def identity_numbers(county: str, birth_date: np.ndarray, male: BoolArray) -> np.ndarray:
    """Valid GB 11643 numbers, unique within the county (str array of 18 characters).

    The sequence (positions 15-17) is odd for men and even for women, numbered by rank within
    (birth date, sex), so two persons never share a number.
    """
    n = len(birth_date)
    key = birth_date.astype(np.int64) * 2 + (~male)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    new_group = np.concatenate(([True], sorted_key[1:] != sorted_key[:-1]))
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - group_start
    if n and int(rank.max()) >= MAX_SEQUENCE_PER_DAY:
        raise InputError(
            county,
            f"more than {MAX_SEQUENCE_PER_DAY} persons of one sex born on one day: "
            "split the population over more counties",
        )
    sequence = 2 * rank + np.where(male, 1, 2)
    digits = np.empty((n, 18), dtype=np.uint8)
    digits[:, :6] = np.frombuffer(county.encode(), dtype=np.uint8) - 48
    bd = birth_date.astype(np.int64)
    for i in range(8):
        digits[:, 6 + i] = bd // 10 ** (7 - i) % 10
    for i in range(3):
        digits[:, 14 + i] = sequence // 10 ** (2 - i) % 10
    check = (digits[:, :17].astype(np.int64) @ _ID_WEIGHTS) % 11
    digits[:, :17] += 48
    digits[:, 17] = _ID_CHECK[check]
    return digits.view("S18").ravel().astype("U18")


# -- one county ----------------------------------------------------------------------------------


def generate_county(
    county: str,
    n_persons: int,
    *,
    seed: int,
    on: dt.date,
    first_household_id: int = 1,
    first_person_id: int = 1,
) -> CountyData:
    """One county's population: ``n_persons`` persons, deterministic in (county, n, seed, on)."""
    if n_persons <= 0:
        raise InputError("--persons", "the number of persons must be positive")
    region = county_region(county)
    declare_all_fields()
    rng = np.random.default_rng([seed, int(region.code)])
    lines = synth_calibration.dibao_lines(region.code, on)
    scale = synth_calibration.income_scale(lines)
    pop, tekun_h = _population(rng, n_persons, on, region.code, scale)
    _assistance_status(pop, rng, region.code, on, lines, tekun_h)
    n_h = pop.n_households
    born = pop.p("birth_date")
    male = pop.p("sex") == _code("sex", "male")
    return CountyData(
        county=region.code,
        population=pop,
        household_id=first_household_id + np.arange(n_h, dtype=np.int64),
        region=np.full(n_h, region.code),
        person_id=first_person_id + np.arange(n_persons, dtype=np.int64),
        id_number=identity_numbers(region.code, born, male),
    )


@dataclass
class _Members:
    """Per-person structure: who is who in the household, and how old."""

    household_of: IntArray
    pos: IntArray
    relation: IntArray
    age: FloatArray
    male: BoolArray
    htype: IntArray  # of the person's household


def _structure(
    rng: np.random.Generator, sizes: IntArray, n: int
) -> tuple[_Members, IntArray, FloatArray]:
    """Household types, relations, ages and sexes."""
    n_h = len(sizes)
    household_of = np.repeat(np.arange(n_h, dtype=np.int64), sizes)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    pos = np.arange(n, dtype=np.int64) - starts[household_of]

    # Household type by size [I]: nuclear, with the head's parents, elderly head with the next
    # two generations, skipped generation (grandparents and grandchildren).
    u = rng.random(n_h)
    htype = np.select(
        [
            sizes == 1,
            sizes == 2,
            sizes == 3,
        ],
        [
            np.full(n_h, SINGLE),
            np.where(u < 0.975, NUCLEAR, SKIPPED),
            np.select([u < 0.82, u < 0.95], [NUCLEAR, WITH_PARENTS], SKIPPED),
        ],
        default=np.select(
            [u < 0.56, u < 0.76, u < 0.96], [NUCLEAR, WITH_PARENTS, ELDER_HEAD], SKIPPED
        ),
    ).astype(np.int64)
    r = rng.random(n_h)
    couple = np.select(
        [htype == SKIPPED, sizes == 2], [(sizes >= 3) & (r < 0.7), r < 0.75], default=r < 0.88
    )
    couple &= sizes >= 2
    parents_h = np.where(sizes >= 5, 1 + (rng.random(n_h) < 0.5), 1)

    # Head's age [I], by type.
    old_single = rng.random(n_h) < 0.38
    head_age = np.select(
        [
            htype == SINGLE,
            (htype == NUCLEAR) & (sizes == 2) & couple,
            (htype == NUCLEAR) & (sizes == 2),
            htype == NUCLEAR,
            htype == WITH_PARENTS,
            htype == ELDER_HEAD,
        ],
        [
            np.where(old_single, _tri(rng, 60, 66, 98, n_h), _tri(rng, 18, 32, 60, n_h)),
            _tri(rng, 20, 57, 92, n_h),
            _tri(rng, 24, 45, 88, n_h),
            _tri(rng, 22, 40, 72, n_h),
            _tri(rng, 24, 34, 58, n_h),
            _tri(rng, 48, 58, 86, n_h),
        ],
        default=_tri(rng, 45, 58, 82, n_h),  # skipped generation
    )
    head_male = rng.random(n_h) < np.where(couple, 0.72, 0.5)

    rel = {r: _code("relation", r) for r in ("head", "spouse", "child", "parent", "grandchild")}
    rel["other"] = _code("relation", "other")
    h = household_of
    size_p, type_p, couple_p = sizes[h], htype[h], couple[h]
    n_parents = np.where(type_p == WITH_PARENTS, np.minimum(parents_h[h], size_p - 2), 0)
    relation = np.select(
        [
            pos == 0,
            (pos == 1) & couple_p,
            type_p == SKIPPED,
            (type_p == WITH_PARENTS) & (pos >= size_p - n_parents),
            (type_p == ELDER_HEAD) & (pos == 2),
            (type_p == ELDER_HEAD) & (pos == 3),
            type_p == ELDER_HEAD,
        ],
        [
            rel["head"],
            rel["spouse"],
            rel["grandchild"],
            rel["parent"],
            rel["child"],
            rel["other"],  # the child's spouse
            rel["grandchild"],
        ],
        default=rel["child"],
    ).astype(np.int64)

    hage = head_age[h]
    # Spouses: husbands about 2 years older than wives.
    gap = rng.normal(2.0, 3.0, n_h)
    spouse_age_h = np.maximum(head_age + np.where(head_male, -gap, gap), 18.0)
    # Children: the head was 20-38 at their birth; a young head has young children.
    child_age = hage - rng.uniform(20, 38, n)
    child_age = np.where(
        child_age < 0, rng.uniform(0, 1, n) * np.maximum(hage - 19, 0.2), child_age
    )
    # The adult child (ELDER_HEAD position 2) and their spouse.
    adult_child_h = np.maximum(head_age - rng.uniform(22, 32, n_h), 18.0)
    in_law_h = np.maximum(adult_child_h + rng.normal(0, 3, n_h), 18.0)
    grandchild_elder = adult_child_h[h] - rng.uniform(20, 34, n)
    grandchild_elder = np.where(grandchild_elder < 0, rng.uniform(0, 4, n), grandchild_elder)
    age = np.select(
        [
            relation == rel["head"],
            relation == rel["spouse"],
            relation == rel["parent"],
            relation == rel["other"],
            (relation == rel["child"]) & (type_p == ELDER_HEAD),
            (relation == rel["grandchild"]) & (type_p == SKIPPED),
            relation == rel["grandchild"],
        ],
        [
            hage,
            spouse_age_h[h],
            np.minimum(hage + rng.uniform(22, 34, n), 104.0),
            in_law_h[h],
            adult_child_h[h],
            rng.uniform(0, 17.9, n),
            grandchild_elder,
        ],
        default=child_age,
    )
    age = np.clip(age, 0.0, 104.9)

    male_share = float(target("persons.male_share"))
    male = np.select(
        [pos == 0, relation == rel["spouse"], relation == rel["other"]],
        [head_male[h], ~head_male[h], rng.random(n) < 0.5],
        default=rng.random(n) < male_share,
    ).astype(np.bool_)
    members = _Members(household_of, pos, relation, age, male, type_p)
    return members, htype, head_age


def _disability_and_illness(
    rng: np.random.Generator, age: IntArray
) -> tuple[npt.NDArray[np.int8], IntArray, BoolArray]:
    """Disability category and grade (certificate), and serious illness, by age."""
    n = len(age)
    # Prevalence rises with age [I]; scaled so that the expected prevalence is the target.
    dis_rate = np.select([age < 15, age < 60, age < 75], [0.012, 0.032, 0.12], 0.24)
    dis_rate = dis_rate * (float(target("disability.prevalence")) / max(dis_rate.mean(), 1e-9))
    disabled = rng.random(n) < dis_rate
    cats = target("disability.category_shares")
    category = np.where(
        disabled,
        1 + _pick(rng, [float(cats[c]) for c in FIELDS.get("disability_category").choices[1:]], n),
        0,
    ).astype(np.int8)
    grades = target("disability.grade_shares")
    grade = np.where(disabled, 1 + _pick(rng, [float(grades[g]) for g in (1, 2, 3, 4)], n), 0)
    ill_rates = target("illness.serious_prevalence")
    ill: BoolArray = rng.random(n) < np.where(
        age >= 60, float(ill_rates["age_60_plus"]), float(ill_rates["under_60"])
    )
    return category, grade.astype(np.int64), ill


def _education(
    rng: np.random.Generator, age: IntArray, urban: BoolArray
) -> tuple[npt.NDArray[np.int8], BoolArray]:
    """Education stage by age, and whether a rural pupil in compulsory education boards."""
    n = len(age)
    stage = {name: _code("education_stage", name) for name in FIELDS.get("education_stage").choices}
    r = rng.random(n)
    education = np.select(
        [
            (age >= 3) & (age <= 5) & (r < 0.90),
            (age >= 6) & (age <= 11) & (r < 0.995),
            (age >= 12) & (age <= 14) & (r < 0.99),
            (age >= 15) & (age <= 17) & (r < 0.55),
            (age >= 15) & (age <= 17) & (r < 0.90),
            (age >= 18) & (age <= 21) & (r < np.where(urban, 0.60, 0.40)),
        ],
        [
            stage["preschool"],
            stage["primary"],
            stage["junior_secondary"],
            stage["senior_high"],
            stage["secondary_vocational"],
            stage["higher_education"],
        ],
        default=stage["none"],
    ).astype(np.int8)
    compulsory = np.isin(education, (stage["primary"], stage["junior_secondary"]))
    boarding_p = np.where(education == stage["junior_secondary"], 0.5, 0.1)
    boarding: BoolArray = ~urban & compulsory & (rng.random(n) < boarding_p)
    return education, boarding


def _assets_and_housing(
    rng: np.random.Generator,
    per_capita: FloatArray,
    sizes: IntArray,
    urban_h: BoolArray,
    tekun_h: BoolArray,
) -> dict[str, np.ndarray]:
    """Financial assets, vehicles and housing of each household, correlated with its income
    rank [I]; a tekun household has no assets, no car and at most one home."""
    n_h = len(sizes)
    rank_u = np.empty(n_h)
    rank_u[np.argsort(per_capita, kind="stable")] = (np.arange(n_h) + 0.5) / n_h
    annual_h = per_capita * sizes
    assets_yuan = annual_h * _lognormal(rng, 0.9, 0.9, n_h) * (rng.random(n_h) >= 0.12)
    assets = np.minimum(_fen(assets_yuan), FINANCIAL_ASSETS_CAP_FEN)
    p_car = np.clip(0.05 + 0.75 * rank_u, 0, 0.95) * np.where(urban_h, 1.0, 0.8)
    vehicles = (rng.random(n_h) < p_car).astype(np.int64) + (
        rng.random(n_h) < 0.2 * rank_u**2
    ).astype(np.int64)
    tenure = np.where(
        urban_h,
        _pick(rng, [0.78, 0.17, 0.03, 0.02], n_h),
        _pick(rng, [0.96, 0.02, 0.005, 0.015], n_h),
    ).astype(np.int8)
    owns = tenure == 0
    homes = owns * (1 + (rng.random(n_h) < 0.35 * rank_u**2) + (rng.random(n_h) < 0.1 * rank_u**3))
    area = np.where(urban_h, _lognormal(rng, 36, 0.4, n_h), _lognormal(rng, 46, 0.4, n_h))
    dilapidated = owns & ~urban_h & (rng.random(n_h) < 0.005)
    assets[tekun_h] = 0
    vehicles[tekun_h] = 0
    homes = np.where(tekun_h, np.minimum(homes, 1), homes)
    return {
        "financial_assets": assets,
        "vehicles": vehicles,
        "homes": homes.astype(np.int64),
        "housing_tenure": tenure,
        "housing_floor_area_per_person": np.round(area).astype(np.int64),
        "housing_is_dilapidated": dilapidated,
    }


def _population(
    rng: np.random.Generator, n: int, on: dt.date, county: str, scale: tuple[float, float]
) -> tuple[Population, BoolArray]:
    """The county's persons and households, and which households are tekun (one elderly person
    without support); the assistance flags are set afterwards (``_assistance_status``)."""
    urban_p = urban_share(county)
    sizes = household_sizes(rng, n)
    n_h = len(sizes)
    m, htype, _ = _structure(rng, sizes, n)
    h = m.household_of

    # Birth dates from continuous ages: ``age`` years (of 365.2425 days) before ``on``.
    days = np.datetime64(on.isoformat(), "D") - np.floor(m.age * 365.2425 + 1).astype(
        "timedelta64[D]"
    )
    birth_date = _dates_to_int(days)
    age = (date_to_int(on) - birth_date.astype(np.int64)) // 10000  # completed years

    urban_h = rng.random(n_h) < urban_p
    urban = urban_h[h]

    category, grade, ill = _disability_and_illness(rng, age)
    disabled = grade > 0
    education, boarding = _education(rng, age, urban)
    in_education = education != _code("education_stage", "none")

    # -- work --
    working_age = (age >= 18) & (age < 60)
    p_work = np.where(m.male, 0.88, 0.72) * np.where(disabled, 0.5, 1.0) * np.where(ill, 0.5, 1.0)
    in_work = working_age & ~in_education & (rng.random(n) < p_work)
    wage_job = in_work & (rng.random(n) < np.where(urban, 0.88, 0.55))
    self_employed = in_work & ~wage_job
    old_farmer = ~urban & (age >= 60) & (age < 75) & (rng.random(n) < 0.4)
    insured = wage_job & (urban | (rng.random(n) < 0.3))

    # -- careers: who has an employee-pension history, who is retired under the 2024 reform --
    people = Population(
        persons={
            "birth_date": birth_date,
            "sex": np.where(m.male, _code("sex", "male"), _code("sex", "female")).astype(np.int8),
        },
        household_of=h,
    )
    careers = synth_insurance.careers(
        rng, people, on, county, urban=urban, working=in_work, insured_job=insured
    )
    employee_pension = careers.employee_pensioner
    in_work &= ~employee_pension  # a pensioner's wage job has ended
    wage_job &= in_work
    insured &= in_work
    self_employed = in_work & ~wage_job
    employed = in_work | old_farmer

    # -- potential incomes (yuan/month) by source: they set the rank and the split --
    wage_pot = np.where(urban, _lognormal(rng, 5_200, 0.6, n), _lognormal(rng, 3_600, 0.55, n))
    wage_pot *= wage_job
    business_pot = np.where(urban, _lognormal(rng, 5_000, 0.8, n), _lognormal(rng, 2_600, 0.8, n))
    business_pot *= self_employed | old_farmer
    old = age >= 60
    # An employee pension is the pensioner's own (fixed, as the central resident pension is),
    # never a share of the household's drawn income; other elderly may have a small pension
    # income of another kind, shared like every other source.
    employee_pension_yuan = synth_insurance.pensions_in_payment(rng, employee_pension, scale[0])
    pension_pot = np.where(~employee_pension & old, 60.0, 0.0)
    transfer_pot = np.where(urban, 700.0, 1_000.0) * _lognormal(rng, 1.0, 0.8, n)
    transfer_pot *= rng.random(n) < np.where(old, 0.6, np.where(urban, 0.06, 0.25))
    property_h = np.where(urban_h, 1_000.0, 300.0) * _lognormal(rng, 1.0, 1.2, n_h)
    property_h *= rng.random(n_h) < np.where(urban_h, 0.55, 0.25)
    property_pot = np.where(m.pos == 0, property_h[h], 0.0)

    # -- tekun: elderly living alone, no employee pension, no supporter; the target count --
    heads = np.flatnonzero(m.pos == 0)
    candidates = (htype == SINGLE) & (age[heads] >= 60) & ~employee_pension[heads]
    tekun_h = synth_calibration.tekun_persons(rng, candidates, urban_h, sizes, county)
    tekun = tekun_h[h]
    for arr in (wage_pot, business_pot, pension_pot, property_pot, employee_pension_yuan):
        arr[tekun] = 0.0
    transfer_pot[tekun] = 1.0
    employed &= ~tekun
    insured &= ~tekun
    wage_job &= ~tekun

    resident_central = np.where(
        careers.resident_pensioner, float(target("income.resident_pension_central")), 0.0
    )

    # -- rank within hukou type, map onto the calibrated distribution --
    shared_pot = wage_pot + business_pot + pension_pot + transfer_pot + property_pot
    potential_h = np.bincount(h, shared_pot + employee_pension_yuan, minlength=n_h)
    score = np.log(potential_h / sizes + 50.0) + rng.normal(0, 0.35, n_h)
    score[tekun_h] = -np.inf  # the poorest of their group
    central_fen = _fen(resident_central)
    employee_pension_fen = _fen(employee_pension_yuan)
    # paid whatever the household's rank: the floor of its income
    central_h = np.bincount(h, central_fen + employee_pension_fen, minlength=n_h).astype(np.int64)
    per_capita = np.zeros(n_h)
    group_rank = np.zeros(n_h)  # rank in the hukou group, 0..1
    for is_urban in (True, False):
        idx = np.flatnonzero(urban_h == is_urban)
        if len(idx) == 0:
            continue
        means = quintile_targets(is_urban, on, scale[0] if is_urban else scale[1])
        order = idx[np.argsort(score[idx], kind="stable")]
        z = np.sort(rng.standard_normal(len(idx)))
        quintile = np.arange(len(idx)) * 5 // len(idx)
        group_rank[order] = (np.arange(len(idx)) + 0.5) / len(idx)
        per_capita[order] = _rake(
            income_curve(tuple(means))(z, quintile),
            quintile,
            sizes[order],
            central_h[order] * 12 / 100 / sizes[order],
            means,
        )
    per_capita = np.minimum(per_capita, PER_CAPITA_CAP_YUAN)

    # Household total per month in fen, less the fixed pensions (central resident, employee).
    total_fen = np.round(per_capita * sizes / 12 * 100).astype(np.int64)
    pool = np.maximum(total_fen - central_h, 0)
    potentials = np.stack([wage_pot, business_pot, pension_pot, transfer_pot, property_pot], 1)
    no_potential = np.bincount(h, shared_pot, minlength=n_h) <= 0
    potentials[(m.pos == 0) & no_potential[h], 3] = 1.0  # support from relatives
    shares = _share_exactly(pool, _fen(potentials), h)
    wage_net, business, pension, transfer, prop = (shares[:, k] for k in range(5))
    pension = pension + employee_pension_fen

    si_rate = float(target("income.social_insurance_rate"))
    wage = np.where(insured, np.round(wage_net / (1 - si_rate)), wage_net).astype(np.int64)
    contributions = wage - wage_net

    housing = _assets_and_housing(rng, per_capita, sizes, urban_h, tekun_h)

    # -- low-income monitoring (the poorest tenth, half of them) [I]; dibao and tekun status is
    # set after the calibration (_assistance_status) --
    monitored_h = (group_rank < 0.10) & (rng.random(n_h) < 0.5)
    emergency_h = rng.random(n_h) < 0.002
    emergency_need = np.where(emergency_h, _fen(_lognormal(rng, 5_000, 0.8, n_h)), 0)
    ill_h = np.bincount(h, ill, minlength=n_h) > 0
    medical_oop = np.where(
        ill_h & (rng.random(n_h) < 0.5), _fen(_lognormal(rng, 20_000, 0.9, n_h)), 0
    )

    # -- hospital stays this month --
    rate = float(target("hospital.inpatient_rate")) / 12
    in_hospital = rng.random(n) < rate * np.where(age >= 60, 2.5, 0.67)
    cost = _lognormal(rng, float(target("hospital.in_policy_cost_median")), 0.9, n)
    hospital_level = 1 + _pick(rng, [0.25, 0.40, 0.35], n)

    # -- planted children: orphans and de-facto unsupported children in skipped generations --
    kids = target("planted.skipped_generation_children")
    child_skipped = (
        (m.htype == SKIPPED) & (m.relation == _code("relation", "grandchild")) & (age < 18)
    )
    r = rng.random(n)
    orphan = child_skipped & (r < float(kids["orphan"]))
    unsupported = child_skipped & ~orphan & (r < float(kids["orphan"]) + float(kids["unsupported"]))
    status = FIELDS.get("child_father_status")
    unsupported_kind = rng.integers(0, 3, n)  # dead + lost contact, both detained, ill + dead
    father = np.select(
        [orphan, unsupported & (unsupported_kind == 0), unsupported & (unsupported_kind == 1)],
        [status.code("dead"), status.code("dead"), status.code("imprisoned")],
        default=np.where(unsupported, status.code("seriously_ill"), 0),
    ).astype(np.int8)
    mother = np.select(
        [orphan, unsupported & (unsupported_kind == 0), unsupported & (unsupported_kind == 1)],
        [status.code("dead"), status.code("lost_contact"), status.code("imprisoned")],
        default=np.where(unsupported, status.code("dead"), 0),
    ).astype(np.int8)
    status_months = np.where(unsupported, rng.integers(12, 60, n), 0)

    insurance = synth_insurance.insurance_columns(
        rng, careers, people, on, county, wage=wage, pension=pension, urban=urban,
        claimant_pool=working_age & ~in_work & ~in_education,
    )  # fmt: skip

    pop = Population()
    pop.household_of = h
    pop.persons.update(
        {
            "birth_date": birth_date,
            "sex": np.where(m.male, _code("sex", "male"), _code("sex", "female")).astype(np.int8),
            "relation": m.relation.astype(np.int8),
            "disability_category": category,
            "disability_grade": grade.astype(np.int64),
            "has_serious_illness": ill,
            "is_employed": employed,
            "wage_income": wage,
            "social_insurance_paid": contributions.astype(np.int64),
            "business_income": business,
            "pension_income": pension,
            "resident_pension_central": central_fen,
            "transfer_income": transfer,
            "property_income": prop,
            "education_stage": education,
            "education_is_boarding": boarding,
            "medical_in_policy_cost": _fen(cost) * in_hospital,
            "medical_hospital_level": hospital_level.astype(np.int64),
            "child_father_status": father,
            "child_mother_status": mother,
            "child_father_status_months": status_months.astype(np.int64),
            "child_mother_status_months": status_months.astype(np.int64),
            "tekun_supporter_status": np.where(
                tekun, _code("tekun_supporter_status", "none"), 0
            ).astype(np.int8),
            **insurance,
        }
    )
    pop.households.update(
        {
            "hukou_type": np.where(
                urban_h, _code("hukou_type", "urban"), _code("hukou_type", "rural")
            ).astype(np.int8),
            **housing,
            "is_low_income_monitored": monitored_h,
            "temporary_assistance_type": np.where(
                emergency_h, _code("temporary_assistance_type", "emergency"), 0
            ).astype(np.int8),
            "temporary_assistance_need": emergency_need.astype(np.int64),
            "rigid_medical_oop_12m": medical_oop.astype(np.int64),
        }
    )
    fill_defaults(pop, on)
    return pop, tekun_h


def _assistance_status(
    pop: Population,
    rng: np.random.Generator,
    county: str,
    on: dt.date,
    lines: synth_calibration.DibaoLines,
    tekun_h: BoolArray,
) -> None:
    """Calibrate dibao eligibility to the target shares, then the registry's status: recipients
    with the take-up, half the dibao-marginal households registered, monitoring not for dibao."""
    result = synth_calibration.calibrate(pop, county, on, rng, lines, tekun_h)
    dibao = result.eligible & ~tekun_h
    synth_calibration.recipients(pop, rng, dibao, pop.to_p(tekun_h))
    marginal = result.outputs["is_dibao_marginal"].astype(np.bool_) & ~dibao
    pop.households["is_dibao_marginal_registered"] = marginal & (rng.random(pop.n_households) < 0.5)
    pop.households["is_low_income_monitored"] &= ~pop.h("is_dibao_recipient")


def _rake(
    per_capita: FloatArray,
    quintile: IntArray,
    sizes: IntArray,
    floor: FloatArray,
    means: Sequence[float],
) -> FloatArray:
    """Scale each quintile group so that its total income ÷ its members equals the target.

    The curve matches the group means household by household; the published means count persons
    (a group's income over its members), and no household gets less than ``floor`` (the central
    resident pension, paid whatever the rank), so a few rounds of raking close the gap.
    """
    want = np.asarray(means, dtype=np.float64)
    persons = np.bincount(quintile, sizes, minlength=5).astype(np.float64)
    value = per_capita
    for _ in range(4):
        effective = np.maximum(value, floor)
        got = np.bincount(quintile, effective * sizes, minlength=5) / np.maximum(persons, 1)
        factor = np.where(got > 0, want / np.where(got > 0, got, 1), 1.0)
        value = value * factor[quintile]
    result: FloatArray = np.maximum(value, floor)
    return result


def _share_exactly(total: IntArray, weights: IntArray, household_of: IntArray) -> IntArray:
    """Split each household's ``total`` over its members' weights (n × k), exactly in fen.

    Cumulative rounding: the j-th share is floor(T·C_j / S) − floor(T·C_{j−1} / S), where C is the
    running sum of the weights within the household and S their total, so the shares sum to T.
    A household whose weights are all zero gets nothing (the caller makes sure there is one).
    """
    n, k = weights.shape
    flat = weights.reshape(-1)
    owner = np.repeat(household_of, k)
    running = np.cumsum(flat)
    first = np.flatnonzero(np.concatenate(([True], owner[1:] != owner[:-1])))
    start = (running - flat)[first]  # households are never empty: one entry per household
    within = running - start[owner]
    within_before = within - flat
    whole = np.add.reduceat(flat, first)
    t = total[owner]
    s = np.maximum(whole[owner], 1)
    share: IntArray = (t * within // s - t * within_before // s).reshape(n, k)
    return share


def _neutral(f: Field, on: dt.date) -> int | bool:
    """A value for a required field that has no default and that this module does not generate."""
    if f.kind is Kind.BOOL:
        return False
    if f.kind is Kind.DATE:
        return date_to_int(on)
    if f.kind is Kind.ENUM:
        return 0
    return max(f.minimum or 0, 0)


def fill_defaults(pop: Population, on: dt.date) -> None:
    """Give every declared field this module does not generate its declared default."""
    sizes = {Entity.PERSON: pop.n_persons, Entity.HOUSEHOLD: pop.n_households}
    for f in FIELDS.all():
        columns = pop.persons if f.entity is Entity.PERSON else pop.households
        if f.name in columns:
            continue
        value = _neutral(f, on) if f.default is None else f.default_value()
        columns[f.name] = np.full(sizes[f.entity], value, dtype=f.dtype())


GENERATED = synth_insurance.GENERATED_INSURANCE | frozenset(
    {
        "birth_date",
        "sex",
        "relation",
        "disability_category",
        "disability_grade",
        "has_serious_illness",
        "is_employed",
        "wage_income",
        "social_insurance_paid",
        "business_income",
        "pension_income",
        "resident_pension_central",
        "transfer_income",
        "property_income",
        "education_stage",
        "education_is_boarding",
        "medical_in_policy_cost",
        "medical_hospital_level",
        "medical_scheme",
        "child_father_status",
        "child_mother_status",
        "child_father_status_months",
        "child_mother_status_months",
        "tekun_supporter_status",
        "unemployment_registered",
        "unemployment_involuntary",
        "unemployment_contribution_years",
        "unemployment_months_drawn",
        "hukou_type",
        "financial_assets",
        "vehicles",
        "homes",
        "housing_tenure",
        "housing_floor_area_per_person",
        "housing_is_dilapidated",
        "is_dibao_recipient",
        "is_dibao_marginal_registered",
        "is_low_income_monitored",
        "is_tekun_recipient",
        "temporary_assistance_type",
        "temporary_assistance_need",
        "rigid_medical_oop_12m",
    }
)
"""Fields this module draws from its own distributions; every other field gets its default."""


def fields_defaulted() -> list[str]:
    """Declared fields that the generator leaves at their default."""
    declare_all_fields()
    return sorted(f.name for f in FIELDS.all() if f.name not in GENERATED)


# -- statistics of a generated population (for the tests and the docs) ---------------------------

INCOME_FIELDS = (
    "wage_income",
    "business_income",
    "property_income",
    "transfer_income",
    "pension_income",
    "resident_pension_central",
)


def disposable_income_per_capita(pop: Population) -> FloatArray:
    """Per-capita disposable income of each household, yuan per year.

    Wages net of personal social-insurance contributions + net business + property + transfers +
    pensions (the central resident pension included), as the household survey counts them.
    """
    monthly = -pop.p("social_insurance_paid") - pop.p("support_paid_out")
    for name in INCOME_FIELDS:
        monthly = monthly + pop.p(name)
    sizes = pop.ends - pop.starts
    result: FloatArray = pop.sum_h(monthly) * 12 / 100 / sizes
    return result


def quintile_means(per_capita: FloatArray, sizes: IntArray) -> list[float]:
    """NBS-style: households ranked by per-capita income, five equal groups of households, each
    group's total income divided by its members."""
    order = np.argsort(per_capita, kind="stable")
    group = np.empty(len(order), dtype=np.int64)
    group[order] = np.arange(len(order)) * 5 // len(order)
    income = np.bincount(group, per_capita * sizes, minlength=5)
    persons = np.bincount(group, sizes, minlength=5)
    return [float(x) for x in income / persons]


def source_shares(pop: Population, households: BoolArray) -> dict[str, float]:
    """Shares of disposable income by source (wages net of contributions, business, property,
    transfers including pensions) over the persons of the given households."""
    m = pop.to_p(households)
    parts = {
        "wages": pop.p("wage_income") - pop.p("social_insurance_paid"),
        "business": pop.p("business_income"),
        "property": pop.p("property_income"),
        "transfers": pop.p("transfer_income")
        + pop.p("pension_income")
        + pop.p("resident_pension_central")
        - pop.p("support_paid_out"),
    }
    sums = {k: float(v[m].sum()) for k, v in parts.items()}
    total = sum(sums.values()) or 1.0
    return {k: v / total for k, v in sums.items()}


def summary(pop: Population, on: dt.date) -> dict[str, Any]:
    """The generated counterparts of the calibration targets."""
    sizes = pop.ends - pop.starts
    age = pop.age(on)
    urban_h = pop.h("hukou_type") == _code("hukou_type", "urban")
    pc = disposable_income_per_capita(pop)
    out: dict[str, Any] = {
        "persons": pop.n_persons,
        "households": pop.n_households,
        "mean_household_size": float(sizes.mean()),
        "mean_age": float(age.mean()),
        "share_under_15": float((age < 15).mean()),
        "share_60_plus": float((age >= 60).mean()),
        "share_65_plus": float((age >= 65).mean()),
        "male_share": float((pop.p("sex") == _code("sex", "male")).mean()),
        "urban_household_share": float(urban_h.mean()),
        "disability_prevalence": float((pop.p("disability_grade") > 0).mean()),
    }
    elderly = age >= 60
    employee = pop.p("is_employee_pension_recipient")
    resident = pop.p("is_resident_pension_recipient")
    for name, mask in (("urban", urban_h), ("rural", ~urban_h)):
        old = elderly & pop.to_p(mask)
        if old.any():
            out[f"pensions_60_plus_{name}"] = {
                "employee": float((employee & old).sum() / old.sum()),
                "resident": float((resident & old).sum() / old.sum()),
                "none": float((old & ~employee & ~resident).sum() / old.sum()),
            }
        if mask.sum() >= 5:
            out[f"quintile_means_{name}"] = quintile_means(pc[mask], sizes[mask])
            out[f"mean_income_{name}"] = float((pc[mask] * sizes[mask]).sum() / sizes[mask].sum())
            out[f"source_shares_{name}"] = source_shares(pop, mask)
    return out


# -- the whole dataset ---------------------------------------------------------------------------


def generate(
    out: Path,
    persons: int,
    counties: Sequence[str],
    *,
    seed: int,
    on: dt.date,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write a population of ``persons`` split evenly over ``counties`` to ``out``; the manifest.

    One county is generated, written and dropped before the next, so memory is bounded by the
    largest county. ``out`` must be empty, absent, or an earlier dataset (which is replaced).
    """
    if not counties:
        raise InputError("--counties", "at least one county code is required")
    codes = [county_region(c).code for c in counties]
    duplicated = sorted({c for c in codes if codes.count(c) > 1})
    if duplicated:
        raise InputError("--counties", f"{', '.join(duplicated)} appears more than once")
    if persons < len(codes):
        raise InputError("--persons", f"{persons} persons cannot fill {len(codes)} counties")
    _prepare(out)
    counts: dict[str, dict[str, Any]] = {}
    next_household, next_person = 1, 1
    for code, n in zip(codes, split_persons(persons, codes), strict=True):
        data = generate_county(
            code,
            n,
            seed=seed,
            on=on,
            first_household_id=next_household,
            first_person_id=next_person,
        )
        write_county(out, data)
        n_h = data.population.n_households
        counts[code] = {
            "name": default_registry().full_name(code),
            "type": county_type(county_region(code)),
            "persons": n,
            "households": n_h,
        }
        next_household += n_h
        next_person += n
        del data
        if progress is not None:
            progress(code, n, n_h)
    info: dict[str, Any] = {
        "source": "synthetic",
        "generator": "safetynet.batch.synth",
        "generator_version": GENERATOR_VERSION,
        "calibration_version": calibration()["version"],
        "seed": seed,
        "date": on.isoformat(),
        "income_year": income_year(on),
        "split": "even",
        "persons": persons,
        "households": next_household - 1,
        "counties": codes,
        "counts": counts,
    }
    write_manifest(out, info)
    return info


def _prepare(out: Path) -> None:
    """Make ``out`` ready: create it, or clear an earlier dataset; refuse anything else."""
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "is a file, not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MANIFEST).is_file():
            raise InputError(
                str(out), "is not empty and is not a population dataset; choose another --out"
            )
        (out / MANIFEST).unlink()  # a half-written dataset must not look complete
        for name in ("persons", "households"):
            if (out / name).is_dir():
                shutil.rmtree(out / name)
    out.mkdir(parents=True, exist_ok=True)
