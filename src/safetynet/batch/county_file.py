"""A synthetic county's household list, as the spreadsheet a county office delivers.

``write_county_file`` draws one county's population (``batch.synth.generate_county``) and writes
it one row per person: the registry's own columns under their Chinese headers
(``registry.imports.COLUMNS``: 户编号, 姓名, 身份证号, 与户主关系, 户籍地, ..., 月工资, 收入月份,
存款), then one column per program fact the county's population has (``registry.fact_columns``:
its Chinese label where it has one, else the field's English name). A household's facts and
assets are on its head's row; a blank cell is a fact not given (the field's default).

``bad_rows`` households get one deliberately bad row each — an identity number with a wrong
check digit, a relation no vocabulary knows, a negative wage — which ``safetynet import
households`` must quarantine with the whole household. Deterministic in (county, persons, seed,
month, bad_rows). Identity numbers are synthetic but valid (GB 11643 check digit).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xlsxwriter

from safetynet.batch.synth import generate_county
from safetynet.domain.identity import check_character
from safetynet.domain.money import format_yuan
from safetynet.errors import InputError
from safetynet.intake import parse_month
from safetynet.policy.population import FIELDS, Entity, Field, Kind, declare_all_fields
from safetynet.registry.county_data import CountyData
from safetynet.registry.fact_columns import FACT_LABELS, FACT_WORDS
from safetynet.registry.fact_sources import fact_fields
from safetynet.registry.imports import COLUMNS
from safetynet.registry.vocabulary import SYNONYMS

__all__ = [
    "BAD_ROW_KINDS",
    "CountyFile",
    "household_number",
    "write_county_data",
    "write_county_file",
]

BAD_ROW_KINDS = ("id_number", "relation", "wage_income")
"""What each bad row breaks, in turn: check digit, unknown relation, negative wage."""

_HEADER = {c.name: c.chinese[0] for c in COLUMNS}
_NATIVE = ("household_no", "name", "id_number", "relation", "region", "hukou_type",
           "disability_category", "disability_grade", "has_serious_illness",
           "self_care_items_failed", "schooling", "employment", "wage_income", "business_income",
           "property_income", "transfer_income", "pension_income", "income_month", "deposits",
           "vehicles", "properties")  # fmt: skip
# Snapshot field behind each native column (value columns of persons; assets of households).
_FIELD_OF = {"disability_category": "disability_category", "disability_grade": "disability_grade",
             "has_serious_illness": "has_serious_illness",
             "self_care_items_failed": "tekun_selfcare_items_failed",
             "schooling": "education_stage", "wage_income": "wage_income",
             "business_income": "business_income", "property_income": "property_income",
             "transfer_income": "transfer_income", "pension_income": "pension_income"}  # fmt: skip
_HOUSEHOLD_COLUMNS = {"deposits": "financial_assets", "vehicles": "vehicles", "properties": "homes"}


@dataclass
class CountyFile:
    """What was written: the file, its counts and the households made bad on purpose."""

    path: Path
    county: str
    households: int
    persons: int
    headers: list[str]
    bad_households: dict[str, str] = field(default_factory=dict)  # household_no -> what is bad


def _word(name: str, code: str) -> str:
    """The spreadsheet word of a stored code (the first Chinese synonym), else the code."""
    words = {**SYNONYMS.get(name, {}), **FACT_WORDS.get(name, {})}
    return next((w for w, c in words.items() if c == code and w), code)


def _cell(f: Field, value: Any, vocabulary: str | None = None) -> str:
    """A column value as an office types it."""
    if f.kind is Kind.MONEY:
        return format_yuan(int(value))
    if f.kind is Kind.BOOL:
        return "是" if value else "否"
    if f.kind is Kind.ENUM:
        return _word(vocabulary or f.name, f.choices[int(value)])
    return str(int(value))


def _fact_columns(data: CountyData) -> list[Field]:
    """The fact fields on which this county's population differs from the default somewhere."""
    pop = data.population
    chosen = []
    for f in FIELDS.all():
        if f.name not in fact_fields() or f.default is None:
            continue
        column = pop.p(f.name) if f.entity is Entity.PERSON else pop.h(f.name)
        if np.any(column != f.default_value()):
            chosen.append(f)
    return chosen


def household_number(household_id: int) -> str:
    """The county household number (户编号) a synthetic household carries in its county's file
    (and on its rolls)."""
    return f"H{household_id:06d}"


def _rows(data: CountyData, month: str, facts: Sequence[Field]) -> list[list[str]]:
    pop = data.population
    rows = []
    for r in range(pop.n_persons):
        h = int(pop.household_of[r])
        head = r == pop.starts[h]
        value: dict[str, str] = {
            "household_no": household_number(int(data.household_id[h])),
            "name": f"居民{int(data.person_id[r])}",
            "id_number": str(data.id_number[r]) if data.id_number is not None else "",
            "relation": _cell(FIELDS.get("relation"), pop.p("relation")[r]),
            "region": data.county,
            "hukou_type": _cell(FIELDS.get("hukou_type"), pop.h("hukou_type")[h]),
            "employment": "就业" if pop.p("is_employed")[r] else "未就业",
            "income_month": month,
        }
        for column, name in _FIELD_OF.items():
            f = FIELDS.get(name)
            vocabulary = "schooling" if column == "schooling" else None
            cell = _cell(f, pop.p(name)[r], vocabulary)
            value[column] = "" if f.kind is Kind.MONEY and cell == "0.00" else cell
        for column, name in _HOUSEHOLD_COLUMNS.items():
            amount = pop.h(name)[h]
            value[column] = _cell(FIELDS.get(name), amount) if head and amount else ""
        row = [value[c] for c in _NATIVE]
        for f in facts:
            raw = pop.p(f.name)[r] if f.entity is Entity.PERSON else pop.h(f.name)[h]
            given = (f.entity is Entity.PERSON or head) and raw != f.default_value()
            row.append(_cell(f, raw) if given else "")
        rows.append(row)
    return rows


def _spoil(rows: list[list[str]], data: CountyData, bad_rows: int, seed: int) -> dict[str, str]:
    """Make one row of ``bad_rows`` households bad, each in the next of ``BAD_ROW_KINDS``."""
    pop = data.population
    if bad_rows > pop.n_households:
        raise InputError("--bad-rows", f"{bad_rows} is more than the {pop.n_households} households")
    rng = np.random.default_rng([seed, 12])
    chosen = np.sort(rng.choice(pop.n_households, size=bad_rows, replace=False))
    spoiled: dict[str, str] = {}
    for k, h in enumerate(chosen):
        row = rows[int(pop.starts[h])]
        kind = BAD_ROW_KINDS[k % len(BAD_ROW_KINDS)]
        column = _NATIVE.index(kind)
        if kind == "id_number":
            right = check_character(row[column][:17])
            row[column] = row[column][:17] + ("0" if right != "0" else "1")
        elif kind == "relation":
            row[column] = "邻居"
        else:
            row[column] = "-100.00"
        spoiled[row[0]] = kind
    return spoiled


def write_county_file(
    path: Path,
    county: str,
    persons: int,
    *,
    seed: int = 1,
    month: str = "2025-09",
    bad_rows: int = 0,
) -> CountyFile:
    """Write a synthetic county's household list to ``path`` (.csv or .xlsx)."""
    month = parse_month(month, "--month")
    _check(path, bad_rows)
    declare_all_fields()
    data = generate_county(county, persons, seed=seed, on=dt.date.fromisoformat(f"{month}-01"))
    return write_county_data(path, data, month=month, bad_rows=bad_rows, seed=seed)


def _check(path: Path, bad_rows: int) -> None:
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError("--out", f"{path.name}: expected a .csv or .xlsx file")
    if bad_rows < 0:
        raise InputError("--bad-rows", f"must be 0 or more, got {bad_rows}")


def write_county_data(
    path: Path, data: CountyData, *, month: str, bad_rows: int = 0, seed: int = 1
) -> CountyFile:
    """Write one county of a synthetic population (e.g. read from ``synth``'s snapshot) as its
    office's household list: the same rows ``write_county_file`` writes."""
    month = parse_month(month, "--month")
    _check(path, bad_rows)
    declare_all_fields()
    suffix = path.suffix.lower()
    facts = _fact_columns(data)
    headers = [_HEADER[c] for c in _NATIVE] + [(FACT_LABELS.get(f.name) or (f.name,))[0]
                                               for f in facts]  # fmt: skip
    rows = _rows(data, month, facts)
    spoiled = _spoil(rows, data, bad_rows, seed)
    if suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            writer.writerows(rows)
    else:
        # XlsxWriter, row by row in constant memory: a county of 100,000 rows in seconds.
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        sheet = book.add_worksheet("户籍人口")
        sheet.write_row(0, 0, headers)
        for i, row in enumerate(rows, start=1):
            for j, cell in enumerate(row):
                if cell:  # text cells: identity numbers keep every digit; blanks stay empty
                    sheet.write_string(i, j, cell)
        book.close()
    return CountyFile(path, data.county, data.population.n_households, data.population.n_persons,
                      headers, spoiled)  # fmt: skip
