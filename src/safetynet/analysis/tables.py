"""The tables of a reform simulation, as plain data: what the CLI prints, the XLSX holds, the charts
draw and an analyst's web page renders (``simulation_tables``).

Money is integer fen; ratios are ``Fraction`` (display rounds them, nothing else does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from safetynet.analysis.measures import Poverty, decile_of, equivalised, gini, poverty
from safetynet.analysis.simulate import Outcome
from safetynet.policy.engine import programs

__all__ = ["Table", "simulation_tables"]

PER_YEAR = {"month": 12, "year": 1, "event": 12}  # an event program's month, times twelve
TOTAL = "total"


@dataclass
class Table:
    """One table: ``key`` names its XLSX sheet (≤ 31 characters)."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    note: str = ""

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [r[i] for r in self.rows]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]


def simulation_tables(outcome: Outcome) -> list[Table]:
    """Every table of the simulation, in reading order (the first one says what was run)."""
    return [
        assumptions_table(outcome),
        cost_table(outcome),
        recipients_table(outcome),
        deciles_table(outcome),
        poverty_table(outcome),
        poverty_by_region_table(outcome),
        inequality_table(outcome),
    ]


def assumptions_table(o: Outcome) -> Table:
    opts = o.options
    rows: list[tuple[Any, ...]] = [
        ("reform", o.reform.name),
        ("month", opts.month),
        ("population", o.snapshot or "(given in memory)"),
        ("counties", ", ".join(o.counties)),
        ("households", sum(v[0] for v in o.population.values())),
        ("persons", sum(v[1] for v in o.population.values())),
        ("equivalence scale", o.scale),
        ("take-up", "rates of common.simulation.take_up" if opts.take_up else "full (entitlement)"),
        ("enrolled caseload only", "yes" if opts.enrolled_only else "no"),
        ("chosen poverty line (fen/person/month)", opts.poverty_line_fen or ""),
        ("illustrative fallback values", "yes [I]" if opts.fallbacks else "no"),
    ]
    rows += [("change", line) for line in o.reform.describe()]
    rows += [
        (f"not available: {p}", "; ".join(sorted(r))) for p, r in sorted(o.not_available.items())
    ]
    return Table("assumptions", "What was run", ("item", "value"), rows)


def cost_table(o: Outcome) -> Table:
    """Cost by region and program in the program's own period and per year, and the change."""
    t = Table(
        "cost",
        "Cost by region and program",
        ("region", "program", "period", "baseline_fen", "reform_fen", "change_fen",
         "baseline_year_fen", "reform_year_fen", "change_year_fen"),
        note="per year: a monthly program × 12, a yearly one × 1, an event program's month × 12",
    )  # fmt: skip
    totals: dict[str, list[int]] = {}
    for (region, pid), cell in sorted(o.cells.items()):
        period = programs()[pid].period
        b, r = cell.amount_fen
        k = PER_YEAR[period]
        t.rows.append((region, pid, period, b, r, r - b, b * k, r * k, (r - b) * k))
        acc = totals.setdefault(pid, [0, 0])
        acc[0] += b
        acc[1] += r
    for pid, (b, r) in sorted(totals.items()):
        period = programs()[pid].period
        k = PER_YEAR[period]
        t.rows.append((TOTAL, pid, period, b, r, r - b, b * k, r * k, (r - b) * k))
    year_b = sum(PER_YEAR[programs()[p].period] * v[0] for p, v in totals.items())
    year_r = sum(PER_YEAR[programs()[p].period] * v[1] for p, v in totals.items())
    t.rows.append((TOTAL, TOTAL, "year", "", "", "", year_b, year_r, year_r - year_b))
    return t


def recipients_table(o: Outcome) -> Table:
    t = Table(
        "recipients",
        "Recipients by region and program: households and persons, newly covered, losing coverage",
        ("region", "program", "households_baseline", "households_reform", "persons_baseline",
         "persons_reform", "newly_covered_households", "newly_covered_persons",
         "losing_households", "losing_persons"),
    )  # fmt: skip
    totals: dict[str, list[int]] = {}
    for (region, pid), c in sorted(o.cells.items()):
        row = [c.households[0], c.households[1], c.persons[0], c.persons[1], c.newly_covered,
               c.newly_covered_persons, c.losing, c.losing_persons]  # fmt: skip
        t.rows.append((region, pid, *row))
        acc = totals.setdefault(pid, [0] * len(row))
        for i, v in enumerate(row):
            acc[i] += v
    t.rows += [(TOTAL, pid, *row) for pid, row in sorted(totals.items())]
    return t


def deciles_table(o: Outcome) -> Table:
    """Winners and losers by decile of equivalised disposable income in the baseline."""
    t = Table(
        "deciles",
        f"Winners and losers by income decile (disposable income per equivalent adult, {o.scale})",
        ("decile", "households", "persons", "baseline_income_fen", "change_fen",
         "average_change_fen", "change_share", "winners", "losers", "unchanged"),
        note="a household's decile is that of its baseline income per equivalent adult, persons "
        "ranked; average change per household; change_share = change ÷ baseline income",
    )  # fmt: skip
    base = o.income + o.before
    change = o.after - o.before
    decile = decile_of(equivalised(base, o.weight), o.size)
    for d in range(10):
        rows = decile == d
        n = int(rows.sum())
        total = int(change[rows].sum())
        income = int(np.maximum(base[rows], 0).sum())
        t.rows.append((
            d + 1, n, int(o.size[rows].sum()), income, total,
            Fraction(total, n) if n else Fraction(0),
            Fraction(total, income) if income else Fraction(0),
            int((change[rows] > 0).sum()), int((change[rows] < 0).sum()),
            int((change[rows] == 0).sum()),
        ))  # fmt: skip
    return t


def _lines(o: Outcome) -> list[tuple[str, np.ndarray]]:
    lines = [("local dibao standard", o.dibao_line)]
    if o.options.poverty_line_fen:
        chosen = np.full(len(o.size), o.options.poverty_line_fen, np.int64)
        lines.append((f"chosen line {o.options.poverty_line_fen} fen", chosen))
    return lines


_MEASURES = (("headcount", "headcount"), ("gap", "gap"), ("squared_gap", "squared_gap"))


def _poverty_rows(label: str, scope: str, before: Poverty, after: Poverty) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = [(scope, label, "poor persons", before.poor, after.poor,
                                    after.poor - before.poor)]  # fmt: skip
    for name, attr in _MEASURES:
        b, a = getattr(before, attr), getattr(after, attr)
        rows.append((scope, label, name, b, a, a - b))
    return rows


def poverty_table(o: Outcome) -> Table:
    t = Table(
        "poverty",
        "Poverty before and after: FGT headcount (α=0), gap (α=1), squared gap (α=2), over persons",
        ("scope", "line", "measure", "baseline", "reform", "change"),
        note="income per head against the line per head; the local line is the baseline's dibao "
        "standard of each household (households of regions without one are left out)",
    )
    for label, line in _lines(o):
        before = poverty(o.income + o.before, o.size, line)
        after = poverty(o.income + o.after, o.size, line)
        t.rows += _poverty_rows(label, TOTAL, before, after)
    return t


def poverty_by_region_table(o: Outcome) -> Table:
    t = Table(
        "poverty_by_region",
        "Poverty against the local dibao standard, by region",
        ("scope", "line", "measure", "baseline", "reform", "change"),
    )
    for code in sorted(set(o.region.tolist())):
        rows = o.region == code
        before = poverty(o.income[rows] + o.before[rows], o.size[rows], o.dibao_line[rows])
        after = poverty(o.income[rows] + o.after[rows], o.size[rows], o.dibao_line[rows])
        t.rows += _poverty_rows("local dibao standard", str(code), before, after)
    return t


def inequality_table(o: Outcome) -> Table:
    t = Table(
        "inequality",
        f"Gini coefficient of disposable income per equivalent adult ({o.scale}), over persons",
        ("measure", "baseline", "reform", "change"),
    )
    before = gini(equivalised(o.income + o.before, o.weight), o.size)
    after = gini(equivalised(o.income + o.after, o.weight), o.size)
    t.rows.append(("gini", before, after, after - before))
    return t
