"""The annual standard-setting check: a standard from per-capita consumption, its cost and
coverage as a reform, and the months the CPI triggers a price subsidy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safetynet.analysis.simulate import Options, simulate
from safetynet.analysis.standard import load_cpi, standard_check, standard_tables
from safetynet.entrypoints.cli.main import app
from safetynet.errors import InputError
from safetynet.policy.parameters import default_tree, parse_override
from tests.analysis.conftest import MONTH, XUHUI, write_population

URBAN = "common.simulation.per_capita_consumption_prev_year_urban"
RURAL = "common.simulation.per_capita_consumption_prev_year_rural"


def local(urban: str, rural: str) -> dict[str, object]:
    tree = default_tree()
    return dict(parse_override(tree, f"{n}={v}") for n, v in ((URBAN, urban), (RURAL, rural)))


def test_a_standard_is_consumption_per_month_times_the_share() -> None:
    # 60,000 a year ÷ 12 × 30 % = 1,500; × 40 % = 2,000. 52,000 ÷ 12 × 40 % = 1,733.33 → 1,733.
    check = standard_check(XUHUI, 2025, overrides=local("60000", "52000"))
    urban, rural = check.standards
    assert (urban.proposed_fen, urban.low_fen, urban.high_fen) == (150_000, 150_000, 200_000)
    assert (rural.proposed_fen, rural.high_fen) == (130_000, 173_300)
    assert urban.current_fen == 165_000  # Shanghai's standard from 2025-07-01
    assert check.effective == dt.date(2025, 7, 1)
    table = standard_tables(check)[0]
    assert table.column("change_fen") == [-15_000, -35_000]
    assert any("value supplied by the user" in s for s in table.column("source"))


def test_the_check_is_a_reform_whose_cost_is_simulated(tmp_path: Path) -> None:
    # Xuhui's standard falls to 1,500: A gets 2×1,500 − 2,000 = 1,000 (was 1,300) and C
    # 3×1,500 − 4,500 = 0, no longer covered; Xuhui's dibao 1,750 → 1,000 a month.
    write_population(tmp_path)
    check = standard_check(XUHUI, 2025, overrides=local("60000", "60000"))
    outcome = simulate(tmp_path, check.reform(), Options(MONTH, programs=("dibao",)))
    cell = outcome.cells[(XUHUI, "dibao")]
    assert cell.amount_fen == [175_000, 100_000]
    assert (cell.households, cell.losing) == ([2, 1], 1)


def test_trigger_months_from_the_cpi_series() -> None:
    """Food CPI rose 6.3, 6.1, 8.8 and 7.0 % in July-October 2022 (≥ the 6 % trigger): the
    subsidy is paid in the months those indexes were released, August-November."""
    check = standard_check(XUHUI, 2022)
    triggered = [m.release for m in check.triggers if m.triggered]
    assert triggered == ["2022-08", "2022-09", "2022-10", "2022-11"]
    september = next(m for m in check.triggers if m.release == "2022-09")
    assert str(september.cpi_trigger) == "0.03"  # the 2022-23 easing: CPI 3 %, still not reached


def test_a_bad_cpi_row_names_its_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "cpi.csv"
    path.write_text("region,month,cpi_yoy,food_cpi_yoy,provenance,source\n"
                    "310000,2025-01,0.01,x,S,上海市统计局\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(InputError) as caught:
        load_cpi(path)
    assert (caught.value.row, caught.value.field) == (2, "food_cpi_yoy")


def test_a_local_cpi_row_answers_before_the_national_one(tmp_path: Path) -> None:
    path = tmp_path / "cpi.csv"
    path.write_text("region,month,cpi_yoy,food_cpi_yoy,provenance,source\n"
                    "310000,2024-12,0.04,0.01,I,test\n", encoding="utf-8")  # fmt: skip
    check = standard_check(XUHUI, 2025, cpi=load_cpi(path))
    january = check.triggers[0]
    assert (january.level, january.triggered) == ("310000", True)


def test_the_command_prints_the_check() -> None:
    result = CliRunner().invoke(app, ["simulate", "standard", "--region", XUHUI, "--year", "2022"])
    assert result.exit_code == 0, result.output
    assert "Price-subsidy trigger months 2022" in result.output
