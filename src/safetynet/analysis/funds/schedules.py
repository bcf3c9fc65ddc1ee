"""The age schedules of a region, shipped as CSV files in ``safetynet/analysis/funds/data``.

Each file is ``<kind>_<region code>.csv``; its first line is ``# source: …`` (where the numbers come
from, with the provenance flag), then a header and one row per age 0–100 (100 = 100 and over;
fertility lists the mother's ages 15–49 only). Sex comes in the order (male, female).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources

import numpy as np
import numpy.typing as npt

from safetynet.errors import InputError

AGES = 101  # ages 0..100, the last one open (100 and over)
SEXES = ("male", "female")
KINDS = ("population", "mortality", "fertility", "migration", "insured")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Schedules:
    """A region's age schedules; arrays are indexed [sex, age] (sex 0 male, 1 female)."""

    region: str
    year: int  # the population is that at the end of this year; the projection starts the next
    population: IntArray  # persons at the end of ``year``
    mortality: FloatArray  # probability of dying within the year, q(x)
    fertility: FloatArray  # [age]: share of a year's births by the mother's age (sums to 1)
    migration: IntArray  # net migrants a year
    worker_profile: FloatArray  # relative share of each age insured as a worker
    retiree_profile: FloatArray  # relative share of each age drawing an employee pension
    sources: tuple[tuple[str, str], ...]  # (file, source line)


def _read(kind: str, region: str) -> tuple[str, list[dict[str, str]]]:
    name = f"{kind}_{region}.csv"
    path = resources.files("safetynet.analysis.funds") / "data" / name
    if not path.is_file():
        raise InputError(
            "--region",
            f"地区 {region} 没有人口年龄表 {name}; no age schedule {name} ships for region {region} "
            "(docs/funds.md lists the regions and how to add one)",
        )
    lines = path.read_text(encoding="utf-8").splitlines()
    source = lines[0].removeprefix("# source:").strip() if lines[0].startswith("#") else ""
    if not source:
        raise InputError(name, "the first line must be '# source: …'")
    rows = list(csv.DictReader(line for line in lines[1:] if line and not line.startswith("#")))
    return source, rows


def _number(row: dict[str, str], column: str, name: str, i: int) -> Decimal:
    try:
        return Decimal(row[column])
    except (KeyError, InvalidOperation, TypeError):
        raise InputError(
            f"{name} row {i + 2}", f"column {column!r} is missing or not a number"
        ) from None


def _by_age(rows: list[dict[str, str]], columns: tuple[str, ...], name: str) -> FloatArray:
    out = np.zeros((len(columns), AGES), dtype=np.float64)
    for i, row in enumerate(rows):
        age = int(_number(row, "age", name, i))
        if not 0 <= age < AGES:
            raise InputError(f"{name} row {i + 2}", f"age {age} is outside 0-100")
        for c, column in enumerate(columns):
            out[c, age] = float(_number(row, column, name, i))
    return out


def _year(region: str) -> int:
    name = f"population_{region}.csv"
    text = (resources.files("safetynet.analysis.funds") / "data" / name).read_text(encoding="utf-8")
    for line in text.splitlines()[:3]:
        if line.startswith("# year:"):
            return int(line.removeprefix("# year:").strip())
    raise InputError(name, "the second line must be '# year: YYYY' (the population's year end)")


def load_schedules(region: str) -> Schedules:
    """The shipped schedules of ``region`` (an error naming the missing file if there are none)."""
    read = {kind: _read(kind, region) for kind in KINDS}
    pop = _by_age(read["population"][1], ("male", "female"), "population")
    year = _year(region)
    q = _by_age(read["mortality"][1], ("q_male", "q_female"), "mortality")
    fert = _by_age(read["fertility"][1], ("share",), "fertility")[0]
    mig = _by_age(read["migration"][1], ("male", "female"), "migration")
    insured = _by_age(
        read["insured"][1],
        ("worker_male", "worker_female", "retiree_male", "retiree_female"),
        "insured",
    )
    if abs(fert.sum() - 1.0) > 1e-6:
        raise InputError(f"fertility_{region}.csv", f"the shares add up to {fert.sum():.6f}, not 1")
    if ((q < 0) | (q > 1)).any():
        raise InputError(f"mortality_{region}.csv", "a death probability lies outside 0-1")
    return Schedules(
        region=region,
        year=year,
        population=pop.astype(np.int64),
        mortality=q,
        fertility=fert,
        migration=mig.astype(np.int64),
        worker_profile=insured[:2],
        retiree_profile=insured[2:],
        sources=tuple((f"{kind}_{region}.csv", read[kind][0]) for kind in KINDS),
    )
