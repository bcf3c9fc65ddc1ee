"""What a fund projection shows: the first-year check against the published figures, the balance
path of each scenario, the assumptions with their sources, as Rich tables, an XLSX workbook and PNG
charts (balance; insured workers per retiree)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table

from safetynet.analysis.funds.employee_pension import Projection, Year
from safetynet.analysis.funds.schedules import Schedules
from safetynet.domain.money import format_yuan
from safetynet.errors import InputError
from safetynet.policy.parameters import MONEY_UNITS, Provenance

YI = 10**10  # fen in 亿元 (10⁸ yuan)
WAN = 10_000


def yi(fen: int) -> Decimal:
    """Fen as 亿元 with one decimal."""
    return (Decimal(fen) / YI).quantize(Decimal("0.1"), ROUND_HALF_UP)


def wan(persons: int) -> Decimal:
    return (Decimal(persons) / WAN).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Check:
    """One published figure of the first projection year against the projection."""

    item: str
    published: int
    projected: int
    tolerance: Decimal
    source: str

    @property
    def difference(self) -> Decimal:
        return (Decimal(self.projected) - Decimal(self.published)) / Decimal(self.published)

    @property
    def ok(self) -> bool:
        return abs(self.difference) <= self.tolerance


CHECKED = (
    ("income (基金收入)", "published_income", "income"),
    ("expenditure (基金支出)", "published_expenditure", "expenditure"),
    ("balance (累计结存)", "published_balance", "balance"),
)


def validation(projection: Projection) -> list[Check]:
    """The first year against the figures published for it (none if the year has none)."""
    ledger = projection.ledger
    first = projection.years[0]
    prefix = f"insurance.funds.{projection.fund}."
    tolerance = ledger.ratio(prefix + "validation_tolerance", first.year)
    checks = []
    for label, name, attribute in CHECKED:
        hit = ledger.maybe(prefix + name, first.year)
        if hit is None or hit.start is None or hit.start.year != first.year:
            continue
        source = "; ".join(r.title for r in hit.references)
        checks.append(Check(label, int(hit.value), getattr(first, attribute), tolerance, source))
    return checks


@dataclass(frozen=True)
class Assumption:
    name: str
    start: str
    value: str
    unit: str
    provenance: str
    source: str


def assumptions(projections: Sequence[Projection], sched: Schedules) -> list[Assumption]:
    """Every parameter value read (all scenarios), then the age schedules with their sources."""
    seen: dict[str, Assumption] = {}
    for projection in projections:
        for key, hit in sorted(projection.ledger.used.items()):
            if hit.level == "override" or key in seen:
                continue
            seen[key] = Assumption(
                hit.name,
                hit.start.isoformat() if hit.start else "",
                _show(hit.value, hit.unit),
                hit.unit,
                Provenance(hit.provenance).value,
                hit.cite(),
            )
    rows = list(seen.values())
    for file, source in sched.sources:
        flag = "I" if "[I" in source else "M" if "[M" in source else "S"
        rows.append(Assumption(file, str(sched.year), "age schedule", "csv", flag, source))
    return rows


def _show(value: Any, unit: str) -> str:
    if unit in MONEY_UNITS:
        return format_yuan(int(value))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, tuple):
        return "; ".join(f"from {row[0]}: {row[1]}" for row in value)
    return str(value)


def exhaustion_text(projection: Projection) -> str:
    year = projection.exhaustion_year
    if year is None:
        last = projection.years[-1].year
        return f"not exhausted by {last} (balance {yi(projection.years[-1].balance)} 亿元)"
    return f"exhausted in {year} (基金耗尽年份 {year})"


def path_table(projection: Projection) -> Table:
    title = f"{projection.fund} fund {projection.region} — {projection.scenario.name}"
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title=title)
    for column in (
        "year",
        "payers\n万" if projection.fund != "employee_pension" else "workers\n万",
        "older\n万" if projection.fund != "employee_pension" else "retirees\n万",
        "ratio",
        "income\n亿元",
        "spending\n亿元",
        "pooling\n亿元",
        "balance\n亿元",
    ):
        table.add_column(column, justify="right", no_wrap=True)
    for y in projection.years:
        table.add_row(*_path_row(y))
    return table


def _path_row(y: Year) -> list[str]:
    return [
        str(y.year),
        str(wan(y.workers)),
        str(wan(y.retirees)),
        f"{y.dependency:.2f}",
        str(yi(y.income)),
        str(yi(y.expenditure)),
        str(yi(y.pooling_net)),
        str(yi(y.balance)),
    ]


def compare_table(projections: Sequence[Projection]) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD, pad_edge=False, title="Fund balance by scenario (亿元, end of year)"
    )
    table.add_column("year", justify="right")
    for p in projections:
        table.add_column(p.scenario.name, justify="right", overflow="fold")
    for i, y in enumerate(projections[0].years):
        table.add_row(str(y.year), *[str(yi(p.years[i].balance)) for p in projections])
    table.add_row("exhaustion", *[str(p.exhaustion_year or "—") for p in projections])
    return table


def validation_table(checks: Sequence[Check], year: int) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title=f"First year {year} against the published figures",
    )
    for column in ("item", "published\n亿元", "projected\n亿元", "difference", "within"):
        table.add_column(column, no_wrap=True)
    for c in checks:
        table.add_row(
            c.item,
            str(yi(c.published)),
            str(yi(c.projected)),
            f"{c.difference * 100:+.2f} %",
            f"{'yes' if c.ok else 'NO'} (±{c.tolerance * 100:.1f} %)",
        )
    return table


def assumption_lines(rows: Sequence[Assumption]) -> list[str]:
    """One line per assumption: parameter (from) = value unit [flag] — source."""
    return [
        f"{a.name} (from {a.start}) = {a.value} {a.unit} [{a.provenance}] — {a.source}"
        for a in rows
    ]


YEAR_COLUMNS = (
    ("year", "year"),
    ("population", "population"),
    ("births", "births"),
    ("deaths", "deaths"),
    ("insured workers", "workers"),
    ("paying workers", "paying"),
    ("retirees", "retirees"),
    ("new retirees", "new_retirees"),
    ("average wage (yuan/year)", "average_wage"),
    ("new award (yuan/month)", "new_award"),
    ("average pension (yuan/month)", "average_pension"),
    ("contribution rate", "contribution_rate"),
    ("indexation", "indexation"),
    ("contributions (yuan)", "contributions"),
    ("fiscal subsidy (yuan)", "subsidy"),
    ("return on balance (yuan)", "interest"),
    ("pooling net (yuan)", "pooling_net"),
    ("pooling contribution (yuan)", "pooling_contribution"),
    ("income (yuan)", "income"),
    ("expenditure (yuan)", "expenditure"),
    ("balance (yuan)", "balance"),
)
MONEY = {
    "average_wage",
    "new_award",
    "average_pension",
    "contributions",
    "subsidy",
    "interest",
    "pooling_net",
    "pooling_contribution",
    "income",
    "expenditure",
    "balance",
}


def _cell(y: Year, attribute: str) -> Any:
    value = getattr(y, attribute)
    if attribute in MONEY:
        return Decimal(value) / 100
    if isinstance(value, Decimal):
        return float(value)
    return value


def write_xlsx(
    path: Path,
    projections: Sequence[Projection],
    checks: Sequence[Check],
    rows: Sequence[Assumption],
) -> None:
    """One sheet per scenario, then the comparison, the validation and the assumptions."""
    import xlsxwriter  # loaded only when a workbook is asked for
    import xlsxwriter.exceptions  # (the same)

    book = xlsxwriter.Workbook(str(path))
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0.00"})
    for i, p in enumerate(projections):
        sheet = book.add_worksheet(f"scenario {i + 1}")
        sheet.write(0, 0, p.scenario.name, bold)
        sheet.write(1, 0, exhaustion_text(p))
        for c, (label, _) in enumerate(YEAR_COLUMNS):
            sheet.write(3, c, label, bold)
        for r, y in enumerate(p.years, start=4):
            for c, (_, attribute) in enumerate(YEAR_COLUMNS):
                value = _cell(y, attribute)
                if isinstance(value, Decimal):
                    sheet.write_number(r, c, float(value), money)
                else:
                    sheet.write(r, c, value)
    _compare_sheet(book, projections, bold)
    _validation_sheet(book, checks, bold)
    sheet = book.add_worksheet("assumptions")
    for c, label in enumerate(("parameter", "from", "value", "unit", "flag", "source")):
        sheet.write(0, c, label, bold)
    for r, a in enumerate(rows, start=1):
        for c, value in enumerate((a.name, a.start, a.value, a.unit, a.provenance, a.source)):
            sheet.write_string(r, c, value)
    try:
        book.close()
    except (OSError, xlsxwriter.exceptions.FileCreateError) as exc:
        raise InputError("--xlsx", f"无法写入 {path}; cannot write {path}: {exc}") from None


def _compare_sheet(book: Any, projections: Sequence[Projection], bold: Any) -> None:
    sheet = book.add_worksheet("compare")
    sheet.write(0, 0, "year", bold)
    for c, p in enumerate(projections, start=1):
        sheet.write(0, c, f"{p.scenario.name}: balance (亿元)", bold)
    for r, y in enumerate(projections[0].years, start=1):
        sheet.write(r, 0, y.year)
        for c, p in enumerate(projections, start=1):
            sheet.write_number(r, c, float(yi(p.years[r - 1].balance)))
    last = len(projections[0].years) + 1
    sheet.write(last, 0, "exhaustion year", bold)
    for c, p in enumerate(projections, start=1):
        sheet.write(last, c, p.exhaustion_year or "not within the horizon")


def _validation_sheet(book: Any, checks: Sequence[Check], bold: Any) -> None:
    sheet = book.add_worksheet("validation")
    labels = ("item", "published (yuan)", "projected (yuan)", "difference", "tolerance", "ok")
    for c, label in enumerate((*labels, "source")):
        sheet.write(0, c, label, bold)
    for r, k in enumerate(checks, start=1):
        sheet.write(r, 0, k.item)
        sheet.write_number(r, 1, k.published / 100)
        sheet.write_number(r, 2, k.projected / 100)
        sheet.write_number(r, 3, float(k.difference))
        sheet.write_number(r, 4, float(k.tolerance))
        sheet.write(r, 5, "yes" if k.ok else "no")
        sheet.write(r, 6, k.source)


def _balance(y: Year) -> float:
    return float(yi(y.balance))


def _dependency(y: Year) -> float:
    return float(y.dependency)


def write_charts(folder: Path, projections: Sequence[Projection]) -> list[Path]:
    """balance.png (亿元 by year) and dependency.png (payers per older beneficiary), small PNGs."""
    import matplotlib  # about a second to import: loaded only when charts are asked for

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # after use("Agg") (no display): pyplot binds it

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError("--charts", f"无法创建 {folder}; cannot create {folder}: {exc}") from None
    region = projections[0].region
    charts: tuple[tuple[str, str, Callable[[Year], float]], ...] = (
        ("balance.png", "Fund balance, 100 million yuan", _balance),
        ("dependency.png", "Insured workers per retiree", _dependency),
    )
    paths = []
    for name, title, value in charts:
        fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
        for p in projections:
            ax.plot([y.year for y in p.years], [value(y) for y in p.years], label=p.scenario.name)
        ax.axhline(0, color="grey", linewidth=0.6)
        ax.set_title(f"{projections[0].fund} fund {region}: {title}", fontsize=9)
        ax.legend(fontsize=7)
        ax.tick_params(labelsize=7)
        fig.tight_layout()
        path = folder / name
        fig.savefig(path, metadata={"Software": None})
        plt.close(fig)
        paths.append(path)
    return paths
