"""Regenerate the age schedules of the fund projections (src/safetynet/analysis/funds/data): the
nation (000000) and Fujian (福建省, 350000).

Run: ``.venv/bin/python tools/funds_schedules.py``. The schedules are APPROXIMATIONS (provenance I),
written down here so anyone can see, and redo, how they were made.

The nation:

- mortality q(x) by sex: infant mortality 5.4 ‰ (2020), a Gompertz–Makeham hazard from age 1 whose
  level is solved so that life expectancy at birth equals the 2020 census figures (men 75.37, women
  80.88 years; 第七次全国人口普查, 国家统计局). Not the published single-year life table.
- population at the end of 2021 by single year of age and sex: births of each calendar year (the
  yearbook series as remembered, rounded to 10 thousand) survived to 2021 with that life table and
  the sex ratio at birth, then scaled so the age bands and the sex totals equal the 2021 statistical
  communiqué (国家统计局 2022-02-28): 141,260 万; men 72,311 万, women 68,949 万; 0–15 26,302 万,
  16–59 88,222 万, 60+ 26,736 万 (65+ 20,056 万).
- fertility: the share of births by the mother's age 15–49 (a gamma-shaped curve peaking at 28);
  the level (the total fertility rate) is a dated parameter.
- net migration of the nation: 0 at every age.
- insurance profiles: the relative share of each age insured as a worker or drawing an employee
  pension (a trapezoid / a decline with age); scaled at run time to the published totals.

Fujian (base year 2020: the population at the end of 2020, the projection starts in 2021 and its
first year is checked against the 2021 fund figures of 福建统计年鉴2022, table 10-7):

- population at the end of 2020: the national single-year shape of 2020 (the same births series and
  life table, survived to 2020) raked to the age bands and sex totals of Fujian's 7th census
  (2020-11-01, 福建省第七次全国人口普查主要数据: 4154.01 万; men 2146.68 万, women 2007.33 万;
  0-14 802.52 万, 15-59 2687.70 万, 60+ 663.79 万 of whom 65+ 461.00 万), every band scaled by
  4161 ÷ 4154.01 to the year-end total (the 2021 statistical communiqué: 4187 万 at the end of 2021,
  26 万 more than a year before). Fujian's own single-year census table was not at hand.
- mortality: the national Gompertz–Makeham table re-levelled so that life expectancy at birth is
  0.36 years higher for each sex (Fujian 78.29 against the nation's 77.93; the Fujian figure read in a
  secondary list, M).
- fertility: the national age pattern; the level is Fujian's own dated total_fertility_rate in
  regions/350000.yaml (calibrated to the 34.5 万 births of 2021).
- net migration: 17.74 万 a year (2021: growth 26 万 less natural growth 8.26 万, 第一财经 reading the
  2021 communiqué), held constant (the census decade 2010-2020 grew 464.59 万, 46 万 a year all
  told; 2021 grew 26 万: migration has slowed, and the 2021 figure is taken), spread over ages with a young-adult pattern (I: a gamma-shaped curve peaking at 23 plus accompanying children),
  58.2 % men (the census sex ratio 139.49 of inter-provincial in-migrants).
- insurance profiles: the national shapes, except that the insured share of workers falls from age
  42 by 5 % of the top a year (the nation: from 45 by 3 %): a younger insured workforce, set so that
  the projected retirees grow about as published (169.13 万 at the end of 2021 in the yearbook;
  183.21 万 in May 2023 and 207.33 万 in February 2025 in the monthly figures of 福建省人力资源和
  社会保障厅) (I).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src/safetynet/analysis/funds/data"
AGES = range(101)  # 100 = 100 and over
E0 = {"male": 75.37, "female": 80.88}
Q0 = 0.0054
SRB = 111.3

BIRTHS = {  # 10 thousand births by calendar year (approximate)
    **dict.fromkeys(range(1921, 1950), 1300),
    **dict.fromkeys(range(1950, 1958), 2050),
    1958: 1900, 1959: 1650, 1960: 1390, 1961: 1190, 1962: 2460, 1963: 2950, 1964: 2730,
    1965: 2700, 1966: 2580, 1967: 2560, 1968: 2760, 1969: 2690, 1970: 2740, 1971: 2570,
    1972: 2560, 1973: 2460, 1974: 2230, 1975: 2100, 1976: 1850, 1977: 1790, 1978: 1740,
    1979: 1730, 1980: 1780, 1981: 2070, 1982: 2240, 1983: 2050, 1984: 2050, 1985: 2200,
    1986: 2380, 1987: 2520, 1988: 2460, 1989: 2400, 1990: 2390, 1991: 2260, 1992: 2120,
    1993: 2130, 1994: 2100, 1995: 2060, 1996: 2070, 1997: 2040, 1998: 1990, 1999: 1910,
    2000: 1770, 2001: 1700, 2002: 1650, 2003: 1600, 2004: 1590, 2005: 1620, 2006: 1590,
    2007: 1600, 2008: 1610, 2009: 1590, 2010: 1590, 2011: 1600, 2012: 1640, 2013: 1640,
    2014: 1690, 2015: 1660, 2016: 1790, 2017: 1720, 2018: 1520, 2019: 1470, 2020: 1200,
    2021: 1062,
}  # fmt: skip
BANDS = [(0, 15, 26302), (16, 59, 88222), (60, 64, 26736 - 20056), (65, 100, 20056)]
SEX_TOTAL = {"male": 72311, "female": 68949}


def qx(level: float) -> list[float]:
    out = [Q0]
    for x in range(1, 101):
        hazard = 0.0002 + level * math.exp(0.095 * (x + 0.5))
        out.append(min(1.0, 1 - math.exp(-hazard)))
    out[100] = 1.0
    return out


def e0(q: list[float]) -> float:
    alive, years = 1.0, 0.0
    for x in range(101):
        dead = alive * q[x]
        years += alive - dead / 2 if x < 100 else alive / (-math.log(1 - min(q[99], 0.99)))
        alive -= dead
    return years


def solve(target: float) -> list[float]:
    lo, hi = 1e-7, 1e-3
    for _ in range(80):
        mid = math.sqrt(lo * hi)
        if e0(qx(mid)) > target:
            lo = mid
        else:
            hi = mid
    return [round(v, 6) for v in qx(math.sqrt(lo * hi))]


FUJIAN = "350000"
FUJIAN_YEAR = 2020
FUJIAN_TOTAL = 4161  # 万, end of 2020: 4187 (end of 2021) − 26 (the year's growth)
FUJIAN_CENSUS = 4154.01  # 万, 2020-11-01
FUJIAN_BANDS = [(0, 14, 802.52), (15, 59, 2687.70), (60, 64, 663.79 - 461.00), (65, 100, 461.00)]
FUJIAN_SEX = {"male": 2146.68, "female": 2007.33}
FUJIAN_E0_GAP = 78.29 - 77.93  # Fujian's life expectancy above the nation's (2020)
FUJIAN_MIGRANTS = 17.74  # 万 a year
FUJIAN_MALE_MIGRANTS = 139.49 / (100 + 139.49)
FUJIAN_FALL_FROM, FUJIAN_FALL = 42, 0.05  # a younger insured workforce than the nation's


def population(
    q: dict[str, list[float]],
    year: int = 2021,
    bands: Sequence[tuple[int, int, float]] = BANDS,
    sex_total: Mapping[str, float] = SEX_TOTAL,
) -> dict[str, list[float]]:
    """Single years of age at the end of ``year`` (万): the births of each calendar year survived
    with the life table, then raked to the age bands and the sex totals."""
    share = {"male": SRB / (100 + SRB), "female": 100 / (100 + SRB)}
    pop = {s: [0.0] * 101 for s in q}
    for born, births in BIRTHS.items():
        age = year - born
        if age < 0:
            continue
        for s in q:
            alive = births * share[s]
            for x in range(age):
                alive *= 1 - q[s][x]
            pop[s][min(age, 100)] += alive
    for _ in range(50):  # fit the bands, then the sex totals
        for lo, hi, total in bands:
            have = sum(pop[s][a] for s in pop for a in range(lo, hi + 1))
            for s in pop:
                for a in range(lo, hi + 1):
                    pop[s][a] *= total / have
        for s in pop:
            factor = sex_total[s] / sum(pop[s])
            pop[s] = [v * factor for v in pop[s]]
    return pop


def fertility() -> list[tuple[int, float]]:
    raw = [(a, (a - 14) ** 5 * math.exp(-(a - 14) / 2.8)) for a in range(15, 50)]
    total = sum(v for _, v in raw)
    shares = [(a, round(v / total, 5)) for a, v in raw]
    drift = round(1 - sum(v for _, v in shares), 5)
    shares[13] = (shares[13][0], round(shares[13][1] + drift, 5))
    return shares


def profile_worker(age: int, sex: str, fall_from: int = 45, fall: float = 0.03) -> float:
    """Relative insured share of an age: rising to 25, flat, then falling by ``fall`` of the top a
    year from ``fall_from`` down to a quarter of it."""
    if age < 16 or age > 69:
        return 0.0
    top = 0.62 if sex == "male" else 0.55
    if age < 25:
        return round(top * (age - 15) / 10, 4)
    if age < fall_from:
        return top
    return round(top * max(0.25, 1 - (age - fall_from) * fall), 4)


def profile_retiree(age: int, sex: str) -> float:
    start = 60 if sex == "male" else 50
    if age < start:
        return 0.0
    return round(max(0.25, 0.62 - (age - 60) * 0.008), 4)


def write(name: str, source: str, header: str, rows: list[str], year: int = 0) -> None:
    dated = f"# year: {year}\n" if year else ""
    text = f"# source: {source}\n{dated}{header}\n" + "\n".join(rows) + "\n"
    (OUT / name).write_text(text, encoding="utf-8")


def migration_shape(age: int) -> float:
    """Relative net migrants of an age: young adults (gamma-shaped, peak 23) and their children."""
    adults = (age - 14) ** 3 * math.exp(-(age - 14) / 3.0) if 14 < age < 60 else 0.0
    children = 0.15 * 90 * math.exp(-age / 4.0) if age < 15 else 0.0
    return adults + children


def migrants(total: float, male_share: float) -> dict[str, list[int]]:
    """``total`` 万 net migrants a year by sex and age, whole persons."""
    raw = [migration_shape(a) for a in AGES]
    scale = total * 10_000 / sum(raw)
    return {
        "male": [round(v * scale * male_share) for v in raw],
        "female": [round(v * scale * (1 - male_share)) for v in raw],
    }


def insured_rows(fall_from: int = 45, fall: float = 0.03) -> list[str]:
    return [
        f"{a},{profile_worker(a, 'male', fall_from, fall)},"
        f"{profile_worker(a, 'female', fall_from, fall)},"
        f"{profile_retiree(a, 'male')},{profile_retiree(a, 'female')}"
        for a in AGES
    ]


def fujian() -> None:
    """The five schedules of Fujian (350000), end of 2020."""
    note = "[I: approximation, made by tools/funds_schedules.py]"
    q = {s: solve(E0[s] + FUJIAN_E0_GAP) for s in ("male", "female")}
    write(
        f"mortality_{FUJIAN}.csv",
        "the national Gompertz–Makeham table (第七次全国人口普查 life expectancy men 75.37, women "
        f"80.88) re-levelled +{FUJIAN_E0_GAP:.2f} years for each sex: Fujian's life expectancy 78.29 "
        "against the nation's 77.93 (2020; the Fujian figure read in a secondary list [M]) "
        f"{note}",
        "age,q_male,q_female",
        [f"{a},{q['male'][a]:.6f},{q['female'][a]:.6f}" for a in AGES],
    )
    grow = FUJIAN_TOTAL / FUJIAN_CENSUS
    bands = [(lo, hi, total * grow) for lo, hi, total in FUJIAN_BANDS]
    sexes = {s: total * grow for s, total in FUJIAN_SEX.items()}
    pop = population(q, FUJIAN_YEAR, bands, sexes)
    write(
        f"population_{FUJIAN}.csv",
        "福建省第七次全国人口普查主要数据 (福建省统计局, 2021-05-20; read in a news copy [M]): "
        "4154.01 万 on 2020-11-01, men 2146.68 万, women 2007.33 万, 0-14 802.52 万, 15-59 "
        "2687.70 万, 60+ 663.79 万, 65+ 461.00 万; scaled to 4161 万 at the end of 2020 (福建省2021年"
        "国民经济和社会发展统计公报: 4187 万 at the end of 2021, 26 万 more); single years from the "
        f"national shape of 2020 raked to these bands {note}; persons at the end of 2020",
        "age,male,female",
        [f"{a},{round(pop['male'][a] * 10_000)},{round(pop['female'][a] * 10_000)}" for a in AGES],
        year=FUJIAN_YEAR,
    )
    write(
        f"fertility_{FUJIAN}.csv",
        "share of births by the mother's age: the national pattern (gamma-shaped, peak 28), scaled "
        f"by Fujian's dated total fertility rate (regions/350000.yaml) {note}",
        "age,share",
        [f"{a},{v:.5f}" for a, v in fertility()],
    )
    moved = migrants(FUJIAN_MIGRANTS, FUJIAN_MALE_MIGRANTS)
    write(
        f"migration_{FUJIAN}.csv",
        "net migration 17.74 万 a year (2021: growth 26 万 less natural growth 8.26 万; 第一财经 "
        "2022-03-14 reading 福建省2021年国民经济和社会发展统计公报 [M]); 58.2 % men (census sex ratio "
        f"139.49 of inter-provincial in-migrants); a young-adult age pattern peaking at 23 {note}",
        "age,male,female",
        [f"{a},{moved['male'][a]},{moved['female'][a]}" for a in AGES],
    )
    write(
        f"insured_{FUJIAN}.csv",
        "relative shares of each age insured as a worker (参保职工) or drawing an employee pension "
        f"(离退休人员): the national shapes, the workers' falling from 42 by 5 % of the top a year (a younger insured workforce, set so the retirees grow about as published: 169.13 万 at the end of 2021, 183.21 万 in May 2023, 207.33 万 in February 2025); scaled at run time to Fujian's published totals {note}",
        "age,worker_male,worker_female,retiree_male,retiree_female",
        insured_rows(FUJIAN_FALL_FROM, FUJIAN_FALL),
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    q = {s: solve(E0[s]) for s in ("male", "female")}
    note = "[I: approximation, made by tools/funds_schedules.py]"
    write(
        "mortality_000000.csv",
        "第七次全国人口普查 2020 life expectancy at birth (men 75.37, women 80.88) and infant "
        f"mortality 5.4 ‰ (国家统计局), Gompertz–Makeham fit, not the published table {note}",
        "age,q_male,q_female",
        [f"{a},{q['male'][a]:.6f},{q['female'][a]:.6f}" for a in AGES],
    )
    pop = population(q)
    write(
        "population_000000.csv",
        "2021年国民经济和社会发展统计公报 (国家统计局, 2022-02-28): total, sex and age bands; "
        f"single years reconstructed from annual births and the fitted life table {note}; "
        "persons at the end of 2021",
        "age,male,female",
        [f"{a},{round(pop['male'][a] * 10_000)},{round(pop['female'][a] * 10_000)}" for a in AGES],
        year=2021,
    )
    write(
        "fertility_000000.csv",
        "share of births by the mother's age (gamma-shaped, peak 28), scaled by the dated total "
        f"fertility rate (第七次全国人口普查 1.3) {note}",
        "age,share",
        [f"{a},{v:.5f}" for a, v in fertility()],
    )
    write(
        "migration_000000.csv",
        f"net migration of the nation taken as 0 at every age (international migration is small) {note}",
        "age,male,female",
        [f"{a},0,0" for a in AGES],
    )
    write(
        "insured_000000.csv",
        "relative shares of each age insured as a worker (参保职工) or drawing an employee pension "
        f"(离退休人员); scaled at run time to the published totals {note}",
        "age,worker_male,worker_female,retiree_male,retiree_female",
        insured_rows(),
    )
    fujian()


if __name__ == "__main__":
    main()
