"""The workbook opens with one sheet per table, money in yuan; the charts are PNG files."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from safetynet.entrypoints.cli.main import app
from tests.analysis.conftest import MONTH, write_population

REFORM = """\
name: 徐汇区低保标准提高10%
changes:
  - parameter: assistance.dibao.standard_monthly_urban
    region: "310104"
    from: 2025-07-01
    scale: 1.10
"""


def test_simulate_writes_a_workbook_with_every_table_and_the_charts(tmp_path: Path) -> None:
    population = tmp_path / "population"
    write_population(population)
    reform = tmp_path / "reform.yaml"
    reform.write_text(REFORM, encoding="utf-8")
    result = CliRunner().invoke(app, [
        "simulate", "--reform", str(reform), "--month", MONTH, "--snapshot", str(population),
        "--program", "dibao", "--out", str(tmp_path / "out"), "--poverty-line", "180000"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Cost by region and program" in result.output
    book = openpyxl.load_workbook(tmp_path / "out" / "simulation.xlsx", read_only=True)
    assert book.sheetnames == ["assumptions", "cost", "recipients", "deciles", "poverty",
                               "poverty_by_region", "inequality"]  # fmt: skip
    cost = list(book["cost"].iter_rows(min_row=4, values_only=True))
    assert cost[0][:6] == ("region", "program", "period", "baseline (yuan)", "reform (yuan)",
                           "change (yuan)")  # fmt: skip
    assert cost[1][:6] == ("310104", "dibao", "month", 1750, 2690, 940)
    book.close()
    for name in ("deciles", "poverty", "cost_by_region"):
        png = tmp_path / "out" / "charts" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_bad_reform_file_is_one_line_on_stderr(tmp_path: Path) -> None:
    population = tmp_path / "population"
    write_population(population)
    reform = tmp_path / "reform.yaml"
    reform.write_text("name: r\nchanges:\n  - parameter: nope\n    from: 2025-01-01\n    value: 1\n",
                      encoding="utf-8")  # fmt: skip
    result = CliRunner().invoke(app, ["simulate", "--reform", str(reform), "--month", MONTH,
                                      "--snapshot", str(population)])  # fmt: skip
    assert result.exit_code == 2
    assert "changes[0].parameter: 未知参数" in result.stderr
