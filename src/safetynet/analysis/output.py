"""The tables of an analysis as an XLSX workbook (one sheet per table) and as PNG charts.

Money is written in yuan with two decimals from integer fen (``fen_to_yuan``, exact); a ratio is
written as its decimal value rounded for display only. Charts use matplotlib's Agg backend (no
display, nothing downloaded): who gains by decile, poverty before and after, cost by region.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import xlsxwriter

from safetynet.analysis.tables import TOTAL, Table
from safetynet.domain.money import fen_to_yuan

__all__ = ["display", "write_charts", "write_xlsx"]

RATIO_PLACES = 6


def display(value: Any, column: str = "") -> Any:
    """A cell for people: fen columns in yuan, fractions as decimals (rounded for display only)."""
    if isinstance(value, Fraction):
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return round(exact / 100, 2) if column.endswith("_fen") else round(exact, RATIO_PLACES)
    if isinstance(value, int) and not isinstance(value, bool) and column.endswith("_fen"):
        return fen_to_yuan(value)
    return value


def _header(column: str) -> str:
    return column.removesuffix("_fen") + " (yuan)" if column.endswith("_fen") else column


def write_xlsx(tables: Sequence[Table], path: Path) -> None:
    """One sheet per table: its title, a note, the header and the rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0.00"})
    for table in tables:
        sheet = book.add_worksheet(table.key[:31])
        sheet.write(0, 0, table.title, bold)
        if table.note:
            sheet.write(1, 0, table.note)
        for j, column in enumerate(table.columns):
            sheet.write(3, j, _header(column), bold)
            sheet.set_column(j, j, max(12, min(40, len(_header(column)) + 2)))
        for i, row in enumerate(table.rows, start=4):
            for j, (column, value) in enumerate(zip(table.columns, row, strict=True)):
                cell = display(value, column)
                if isinstance(cell, Decimal):
                    sheet.write_number(
                        i, j, float(cell), money if column.endswith("_fen") else None
                    )
                else:
                    sheet.write(i, j, cell)
    book.close()


def _plt() -> Any:
    import matplotlib  # a second to import: only a run that draws charts pays for it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # after choosing the backend, as matplotlib requires

    return plt


def write_charts(tables: Sequence[Table], folder: Path) -> list[Path]:
    """The three charts of a simulation, as PNG files in ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    by_key = {t.key: t for t in tables}
    written = []
    if "deciles" in by_key:
        written.append(_decile_chart(by_key["deciles"], folder / "deciles.png"))
    if "poverty" in by_key:
        written.append(_poverty_chart(by_key["poverty"], folder / "poverty.png"))
    if "cost" in by_key:
        written.append(_cost_chart(by_key["cost"], folder / "cost_by_region.png"))
    return written


def _decile_chart(table: Table, path: Path) -> Path:
    plt = _plt()
    deciles = table.column("decile")
    average = [float(display(v, "average_change_fen")) for v in table.column("average_change_fen")]
    fig, ax = plt.subplots(figsize=(7, 4))
    bars = ax.bar([str(d) for d in deciles], average, color="#2b6cb0")
    ax.bar_label(bars, labels=[f"{v:,.2f}" for v in average], fontsize=8)
    ax.set_xlabel("Income decile (1 = poorest)")
    ax.set_ylabel("Average change per household (yuan/month)")
    ax.set_title("Who gains: average change in disposable income by decile")
    ax.axhline(0, color="black", linewidth=0.8)
    return _save(fig, plt, path)


def _poverty_chart(table: Table, path: Path) -> Path:
    plt = _plt()
    rows = [r for r in table.as_dicts() if r["measure"] in ("headcount", "gap", "squared_gap")]
    labels = [f"{r['line']}\n{r['measure']}" for r in rows]
    before = [float(display(r["baseline"])) * 100 for r in rows]
    after = [float(display(r["reform"])) * 100 for r in rows]
    x = list(range(len(rows)))
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(rows)), 4))
    b1 = ax.bar([i - 0.2 for i in x], before, width=0.4, label="baseline", color="#a0aec0")
    b2 = ax.bar([i + 0.2 for i in x], after, width=0.4, label="reform", color="#2f855a")
    for bars, values in ((b1, before), (b2, after)):
        ax.bar_label(bars, labels=[f"{v:.3f}" for v in values], fontsize=7)
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_ylabel("per cent")
    ax.set_title("Poverty before and after (FGT 0, 1, 2)")
    ax.legend()
    return _save(fig, plt, path)


def _cost_chart(table: Table, path: Path) -> Path:
    """Baseline and reform cost per year by region, over the programs whose cost the reform
    changes (all programs when it changes none), so the change is not lost under pensions."""
    plt = _plt()
    rows = [r for r in table.as_dicts() if r["region"] != TOTAL]
    changed = sorted({r["program"] for r in rows if r["change_year_fen"] != 0})
    chosen = [r for r in rows if not changed or r["program"] in changed]
    by_region: dict[str, list[int]] = {}
    for r in chosen:
        acc = by_region.setdefault(r["region"], [0, 0])
        acc[0] += int(r["baseline_year_fen"])
        acc[1] += int(r["reform_year_fen"])
    regions = sorted(by_region)
    before = [by_region[c][0] / 1_000_000 for c in regions]  # fen → 10,000 yuan
    after = [by_region[c][1] / 1_000_000 for c in regions]
    x = list(range(len(regions)))
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(regions)), 4))
    b1 = ax.bar([i - 0.2 for i in x], before, width=0.4, label="baseline", color="#a0aec0")
    b2 = ax.bar([i + 0.2 for i in x], after, width=0.4, label="reform", color="#2b6cb0")
    for bars, values in ((b1, before), (b2, after)):
        ax.bar_label(bars, labels=[f"{v:,.1f}" for v in values], fontsize=7)
    ax.set_xticks(x, regions)
    ax.set_ylabel("10,000 yuan per year")
    which = ", ".join(changed) if changed else "all programs"
    ax.set_title(f"Cost by region per year: {which}", fontsize=10)
    ax.legend(loc="lower right")
    return _save(fig, plt, path)


def _save(fig: Any, plt: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
