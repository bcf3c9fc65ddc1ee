"""A synthetic county's current rolls (保障名册), as the office would deliver them.

For the demo and the tests: the households of a synthetic population that its recipient columns
mark as paid by a caseload program (dibao, tekun and the pensions in payment, as shipped) now,
with the rules core's monthly amount on the month, one row per household and program, in the roll format that
``safetynet import roll`` reads (registry/rolls.py: 户编号, 户籍地, 项目, 月保障金额, 起始日期).
The household numbers are those the county household file of the same population carries
(``household_number``), so that the roll names households the registry knows.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xlsxwriter

from safetynet.batch.caseload import current_caseload
from safetynet.batch.county_file import household_number
from safetynet.batch.runner import parse_month
from safetynet.domain.money import format_yuan
from safetynet.errors import InputError
from safetynet.policy.engine import program
from safetynet.registry.county_data import choose_counties, read_county

__all__ = ["ROLL_HEADERS", "household_number", "write_synthetic_roll"]

ROLL_HEADERS = ("户编号", "户籍地", "项目", "月保障金额", "起始日期")


def write_synthetic_roll(
    snapshot: Path,
    month: str,
    out: Path,
    *,
    only: Sequence[str] | None = None,
    fallbacks: Mapping[str, Any] | None = None,
    number: Callable[[int], str] = household_number,
) -> dict[str, int]:
    """Write the roll of every county of ``snapshot`` (CSV, or XLSX by the suffix); returns the
    households listed per program. Enrolments started on the month's first day."""
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError("--out", f"{out.name}: the roll is written as .csv or .xlsx")
    on = parse_month(month)
    rows: list[tuple[str, ...]] = []
    counts: dict[str, int] = {}
    for county in choose_counties(snapshot, only):
        data = read_county(snapshot, county)
        amounts, enrolled = current_caseload(data, on, fallbacks=fallbacks)
        for pid, paid in enrolled.items():
            title = program(pid).title_zh
            for i in np.flatnonzero(paid):
                rows.append(
                    (number(int(data.household_id[i])), str(data.region[i]), title,
                     format_yuan(int(amounts[pid][i])), on.isoformat())
                )  # fmt: skip
            counts[pid] = counts.get(pid, 0) + int(paid.sum())
    _write(out, rows, on)
    return counts


def _write(out: Path, rows: list[tuple[str, ...]], on: dt.date) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(ROLL_HEADERS)
            writer.writerows(rows)
        return
    book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    sheet = book.add_worksheet("保障名册")
    sheet.write_row(
        0, 0, [f"保障名册（{on:%Y年%m月}）"]
    )  # a title row above the header, as offices do
    sheet.write_row(1, 0, list(ROLL_HEADERS))
    for i, row in enumerate(rows, start=2):
        sheet.write_row(i, 0, list(row))
    book.close()
