"""``safetynet project`` as an analyst uses it: the balance path, the exhaustion year with and
without the retirement-age reform, the check against the bulletin, the workbook and the charts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openpyxl
from typer.testing import CliRunner

from safetynet.entrypoints.cli.main import app


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), terminal_width=200)


def test_a_projection_prints_the_path_the_check_and_writes_the_workbook_and_charts(
    tmp_path: Path,
) -> None:
    book, charts = tmp_path / "out" / "fund.xlsx", tmp_path / "charts"
    result = invoke(
        "project", "--fund", "employee_pension", "--region", "000000", "--years", "4",
        "--xlsx", str(book), "--charts", str(charts),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = result.output
    assert "First year 2022 against the published figures" in text
    assert "2022年度人力资源和社会保障事业发展统计公报" in text
    assert "baseline: not exhausted by 2025" in text
    assert "baseline, no retirement-age reform: not exhausted by 2025" in text
    assert "insurance.funds.employee_pension.compliance_rate" in text  # the assumptions
    assert "population_000000.csv" in text
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["scenario 1", "scenario 2", "compare", "validation", "assumptions"]
    assert wb["compare"].cell(row=2, column=1).value == 2022
    assert wb["validation"].cell(row=2, column=6).value == "yes"
    assert [p.name for p in sorted(charts.iterdir())] == ["balance.png", "dependency.png"]
    assert (charts / "balance.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_reform_file_is_projected_beside_the_baseline(tmp_path: Path) -> None:
    reform = tmp_path / "rate.yaml"
    reform.write_text(
        "changes:\n"
        "  - {parameter: insurance.employee_pension.employer_rate, from: 2023-01-01, value: 0.12}\n",
        encoding="utf-8",
    )
    result = invoke(
        "project", "--years", "3", "--reform", str(reform), "--no-compare", "--no-assumptions"
    )
    assert result.exit_code == 0, result.output
    assert "reform: not exhausted by 2024" in result.output
    assert "baseline: not exhausted by 2024" in result.output
    assert "no retirement-age reform" not in result.output


def test_the_resident_medical_fund_is_projected_in_its_simpler_form() -> None:
    result = invoke("project", "--fund", "resident_medical", "--years", "3", "--no-assumptions")
    assert result.exit_code == 0, result.output
    assert "2022年全国医疗保障事业发展统计公报" in result.output
    assert "resident_medical fund 000000 — baseline" in result.output
    assert "baseline: not exhausted by 2024" in result.output
    assert "no retirement-age reform" not in result.output


def test_bad_requests_say_what_is_wrong_without_a_traceback(tmp_path: Path) -> None:
    cases = [
        (["--fund", "gold"], "known funds: employee_pension, resident_pension"),
        (["--fund", "resident_medical", "--scenario", "wage_growth=0.04"], "employee_pension only"),
        (["--region", "110000"], "no age schedule population_110000.csv"),
        (["--region", "350000", "--fund", "resident_medical"], "no published figures of the"),
        (["--years", "0"], "must be 1-100"),
        (["--scenario", "speed=3"], "KEY one of"),
        (["--reform", str(tmp_path / "none.yaml")], "does not exist"),
    ]
    for args, fragment in cases:
        result = invoke("project", *args)
        assert result.exit_code == 2, (args, result.output)
        assert fragment in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_fujian_30_years_checks_2021_against_its_yearbook_and_compares_the_reform() -> None:
    result = invoke("project", "--fund", "employee_pension", "--region", "350000", "--years", "30")
    assert result.exit_code == 0, result.output
    text = result.output
    # the first year (2021) against 福建统计年鉴2022 table 10-7, all three within 1 %
    assert "First year 2021 against the published figures" in text
    for item, published in (("income", "729.2"), ("expenditure", "594.9"), ("balance", "555.9")):
        row = next(line for line in text.splitlines() if line.lstrip().startswith(item))
        assert published in row, row
        assert "yes (±1.0 %)" in row, row
    assert "福建统计年鉴2022 (福建省统计局), 表10-7 社会保险情况" in text
    # the balance path, 2021-2050, and each scenario's exhaustion year
    assert "employee_pension fund 350000 — baseline" in text
    assert "\n 2050 " in text
    without = re.search(r"baseline, no retirement-age reform: exhausted in (\d{4})", text)
    assert without is not None, text
    reform = re.search(r"baseline: (exhausted in (\d{4})|not exhausted by 2050)", text)
    assert reform is not None, text
    assert reform.group(2) is None or int(reform.group(2)) > int(without.group(1))
    # the Fujian sources among the assumptions
    for source in ("population_350000.csv", "第七次全国人口普查", "regions/350000.yaml"):
        assert source in text, source
