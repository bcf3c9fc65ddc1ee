"""The standard-setting check an office runs each year: a new local dibao standard from the local
per-capita consumption expenditure, and the months a price subsidy is triggered by the CPI.

The new standard is the previous year's per-capita consumption expenditure ÷ 12 × the locality's
share (``common.simulation.dibao_standard_consumption_ratio``, the usual 30–40 % rule), rounded
to the published unit; it comes back as a ``Reform`` (the urban and rural standards of the region
from the date it would take effect), so its cost and coverage are a simulation like any other.
The trigger months compare each month's released CPI rise with the price-subsidy triggers in
force (the local one, capped at the national one: ``programs.price_subsidy``).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from safetynet.analysis.reform import Change, Reform
from safetynet.analysis.tables import Table
from safetynet.domain.money import Rounding, div_round, ratio_parts, round_to_unit
from safetynet.domain.regions import default_registry
from safetynet.errors import CoverageError, InputError
from safetynet.policy.engine import Params, Trace
from safetynet.policy.parameters import ParameterTree, Resolved, default_tree
from safetynet.policy.programs.price_subsidy import capped_trigger

__all__ = ["CpiSeries", "StandardCheck", "load_cpi", "standard_check", "standard_tables"]

S = "common.simulation."
STANDARD = "assistance.dibao.standard_monthly_"
PS = "assistance.price_subsidy."
KINDS = ("urban", "rural")
CPI_COLUMNS = ("region", "month", "cpi_yoy", "food_cpi_yoy", "provenance", "source")


@dataclass(frozen=True)
class CpiRow:
    cpi: Decimal
    food: Decimal
    provenance: str
    source: str


@dataclass
class CpiSeries:
    """CPI rises by (region, month the index is for)."""

    rows: dict[tuple[str, str], CpiRow] = field(default_factory=dict)
    label: str = ""

    def find(self, region: str, month: str) -> tuple[str, CpiRow] | None:
        """The row of the most specific level of ``region``'s lineage that has one."""
        for code in reversed(default_registry().lineage_codes(region)):
            row = self.rows.get((code, month))
            if row is not None:
                return code, row
        return None


def load_cpi(path: Path | None = None) -> CpiSeries:
    """The shipped national series, or a file of the same columns; a bad row names its field."""
    if path is None:
        source = resources.files("safetynet.analysis") / "data" / "cpi_yoy.csv"
        text, label = source.read_text(encoding="utf-8"), "shipped national series"
    else:
        text, label = path.read_text(encoding="utf-8"), str(path)
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in CPI_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError("--cpi", f"缺少列 {missing}；missing columns {missing}")
    series = CpiSeries(label=label)
    for i, raw in enumerate(reader, start=2):
        month = raw["month"].strip()
        try:
            dt.date.fromisoformat(month + "-01")
        except ValueError:
            raise InputError("month", f"不是月份 {month!r}；not a month YYYY-MM", i) from None
        values = []
        for name in ("cpi_yoy", "food_cpi_yoy"):
            try:
                values.append(Decimal(raw[name].strip()))
            except InvalidOperation:
                raise InputError(name, f"不是数字 {raw[name]!r}；not a number", i) from None
        series.rows[(raw["region"].strip(), month)] = CpiRow(
            values[0], values[1], raw["provenance"].strip(), raw["source"].strip()
        )
    return series


@dataclass(frozen=True)
class ProposedStandard:
    kind: str  # urban or rural
    consumption_year_fen: int
    ratio: Decimal
    proposed_fen: int
    low_fen: int
    high_fen: int
    current_fen: int | None  # the standard in force on the effective date (None: none set)
    citations: tuple[str, ...]


@dataclass(frozen=True)
class TriggerMonth:
    release: str  # the month the index is released and the subsidy paid
    index_month: str
    level: str  # the region level whose figure answered ("" when none)
    cpi: Decimal | None
    food: Decimal | None
    cpi_trigger: Decimal
    food_trigger: Decimal
    triggered: bool
    provenance: str


@dataclass
class StandardCheck:
    region: str
    year: int
    effective: dt.date
    standards: list[ProposedStandard]
    triggers: list[TriggerMonth]
    cpi_label: str

    def reform(self) -> Reform:
        """The proposed standards as a reform of the region from the effective date."""
        changes = tuple(
            Change(STANDARD + s.kind, self.region, self.effective, s.proposed_fen)
            for s in self.standards
        )
        return Reform(f"{self.region} dibao standard from consumption, {self.year}", "", changes)


def _rounded(year_fen: int, ratio: Decimal, p: Params) -> int:
    """year ÷ 12 × ratio, rounded to the unit of published standards."""
    num, den = ratio_parts(ratio)
    mode = Rounding(p.value("common.rounding.mode"))
    monthly = int(div_round(year_fen * num, den * 12, mode))
    return int(round_to_unit(monthly, p.fen(S + "dibao_standard_rounding_unit"), mode))


def _cite(*resolved: Resolved) -> tuple[str, ...]:
    return tuple(f"{r.name}: {r.cite()}" for r in resolved)


def _proposed(kind: str, on: Params, effective: Params) -> ProposedStandard:
    consumption = on.resolve(S + f"per_capita_consumption_prev_year_{kind}")
    ratio = effective.resolve(S + "dibao_standard_consumption_ratio")
    band = effective.table(S + "dibao_standard_consumption_ratio_range")
    year_fen = int(consumption.value)
    try:
        current: int | None = effective.fen(STANDARD + kind)
    except CoverageError:
        current = None
    return ProposedStandard(
        kind=kind,
        consumption_year_fen=year_fen,
        ratio=Decimal(ratio.value),
        proposed_fen=_rounded(year_fen, Decimal(ratio.value), effective),
        low_fen=_rounded(year_fen, Decimal(band["low"]), effective),
        high_fen=_rounded(year_fen, Decimal(band["high"]), effective),
        current_fen=current,
        citations=_cite(consumption, ratio),
    )


def trigger_months(
    region: str, year: int, cpi: CpiSeries, tree: ParameterTree
) -> list[TriggerMonth]:
    """For each release month of ``year``: the previous month's CPI rise against the triggers."""
    found = []
    for month in range(1, 13):
        release = dt.date(year, month, 1)
        index = release - dt.timedelta(days=1)
        index_month = f"{index.year:04d}-{index.month:02d}"
        p = Params(release, region, tree)
        t = Trace()
        cpi_trigger = capped_trigger(p, t, PS + "cpi_trigger", "CPI")
        food_trigger = capped_trigger(p, t, PS + "food_cpi_trigger", "Food CPI")
        hit = cpi.find(region, index_month)
        if hit is None:
            found.append(TriggerMonth(release.isoformat()[:7], index_month, "", None, None,
                                      cpi_trigger, food_trigger, False, ""))  # fmt: skip
            continue
        level, row = hit
        triggered = row.cpi >= cpi_trigger or row.food >= food_trigger
        found.append(TriggerMonth(release.isoformat()[:7], index_month, level, row.cpi, row.food,
                                  cpi_trigger, food_trigger, triggered, row.provenance))  # fmt: skip
    return found


def standard_check(
    region: str,
    year: int,
    *,
    effective: dt.date | None = None,
    tree: ParameterTree | None = None,
    cpi: CpiSeries | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> StandardCheck:
    """The proposed standards of ``region`` for ``year`` (statistics as published by 1 January;
    in force from ``effective``, 1 July by default) and the year's trigger months. ``overrides``:
    values supplied for this calculation (``--set``: the locality's own statistics)."""
    tree = tree or default_tree()
    default_registry().get(region)  # an unknown code is an error naming it
    effective = effective or dt.date(year, 7, 1)
    on = Params(dt.date(year, 1, 1), region, tree, overrides)
    at = Params(effective, region, tree, overrides)
    try:
        standards = [_proposed(kind, on, at) for kind in KINDS]
    except CoverageError as exc:
        raise InputError("--year", f"该年无统计数据；{exc}") from None
    series = cpi or load_cpi()
    return StandardCheck(region, year, effective, standards,
                         trigger_months(region, year, series, tree), series.label)  # fmt: skip


def _ratio(value: Decimal | None) -> Any:
    return "" if value is None else value


def standard_tables(check: StandardCheck) -> list[Table]:
    """The check as plain tables: proposed standards, and the trigger months."""
    proposed = Table(
        "standard",
        f"Dibao standard for {check.region} from {check.effective.isoformat()}: "
        "per-capita consumption × share",
        ("hukou", "consumption_year_fen", "ratio", "proposed_fen", "low_share_fen",
         "high_share_fen", "current_fen", "change_fen", "source"),
        note="previous year's per-capita consumption expenditure ÷ 12 × share, rounded to the "
        "published unit; low/high: the usual range of shares",
    )  # fmt: skip
    for s in check.standards:
        change = "" if s.current_fen is None else s.proposed_fen - s.current_fen
        proposed.rows.append((s.kind, s.consumption_year_fen, s.ratio, s.proposed_fen, s.low_fen,
                              s.high_fen, "" if s.current_fen is None else s.current_fen, change,
                              "; ".join(s.citations)))  # fmt: skip
    triggers = Table(
        "price_subsidy_triggers",
        f"Price-subsidy trigger months {check.year} ({check.cpi_label})",
        ("release_month", "index_month", "level", "cpi_yoy", "food_cpi_yoy", "cpi_trigger",
         "food_cpi_trigger", "triggered", "provenance"),
        note="an index is released, and the subsidy it triggers paid, in the following month",
    )  # fmt: skip
    for m in check.triggers:
        triggers.rows.append((m.release, m.index_month, m.level or "no data", _ratio(m.cpi),
                              _ratio(m.food), m.cpi_trigger, m.food_trigger,
                              "yes" if m.triggered else "no", m.provenance))  # fmt: skip
    return [proposed, triggers]
