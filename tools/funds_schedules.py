"""Regenerate the national age schedules of the fund projections (src/safetynet/analysis/funds/data).

Run: ``.venv/bin/python tools/funds_schedules.py``. The schedules are APPROXIMATIONS (provenance I),
written down here so anyone can see, and redo, how they were made:

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
"""

from __future__ import annotations

import math
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


def population(q: dict[str, list[float]]) -> dict[str, list[float]]:
    share = {"male": SRB / (100 + SRB), "female": 100 / (100 + SRB)}
    pop = {s: [0.0] * 101 for s in q}
    for year, births in BIRTHS.items():
        age = 2021 - year
        for s in q:
            alive = births * share[s]
            for x in range(age):
                alive *= 1 - q[s][x]
            pop[s][min(age, 100)] += alive
    for _ in range(50):  # fit the bands, then the sex totals
        for lo, hi, total in BANDS:
            have = sum(pop[s][a] for s in pop for a in range(lo, hi + 1))
            for s in pop:
                for a in range(lo, hi + 1):
                    pop[s][a] *= total / have
        for s in pop:
            factor = SEX_TOTAL[s] / sum(pop[s])
            pop[s] = [v * factor for v in pop[s]]
    return pop


def fertility() -> list[tuple[int, float]]:
    raw = [(a, (a - 14) ** 5 * math.exp(-(a - 14) / 2.8)) for a in range(15, 50)]
    total = sum(v for _, v in raw)
    shares = [(a, round(v / total, 5)) for a, v in raw]
    drift = round(1 - sum(v for _, v in shares), 5)
    shares[13] = (shares[13][0], round(shares[13][1] + drift, 5))
    return shares


def profile_worker(age: int, sex: str) -> float:
    if age < 16 or age > 69:
        return 0.0
    top = 0.62 if sex == "male" else 0.55
    if age < 25:
        return round(top * (age - 15) / 10, 4)
    if age < 45:
        return top
    return round(top * max(0.25, 1 - (age - 45) * 0.03), 4)


def profile_retiree(age: int, sex: str) -> float:
    start = 60 if sex == "male" else 50
    if age < start:
        return 0.0
    return round(max(0.25, 0.62 - (age - 60) * 0.008), 4)


def write(name: str, source: str, header: str, rows: list[str], year: int = 0) -> None:
    dated = f"# year: {year}\n" if year else ""
    text = f"# source: {source}\n{dated}{header}\n" + "\n".join(rows) + "\n"
    (OUT / name).write_text(text, encoding="utf-8")


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
        [
            f"{a},{profile_worker(a, 'male')},{profile_worker(a, 'female')},"
            f"{profile_retiree(a, 'male')},{profile_retiree(a, 'female')}"
            for a in AGES
        ],
    )


if __name__ == "__main__":
    main()
