"""Scenario levers and reform files: what is accepted, and errors that name the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from safetynet.analysis.funds.scenario import DELAY_CAP, parse_scenario, read_reform
from safetynet.errors import InputError
from safetynet.policy.parameters import default_tree


def test_levers_parse_ratios_percentages_and_the_retirement_reform_switch() -> None:
    s = parse_scenario(
        ["wage_growth=0.04", "indexation=2.5%", "employer_rate=0.14", "retirement_reform=off"]
    )
    assert s.wage_growth == Decimal("0.04")
    assert s.indexation == Decimal("0.025")
    assert s.employer_rate == Decimal("0.14")
    overrides = s.overrides_on(dt.date(2030, 1, 1))
    assert overrides[DELAY_CAP] == {"man": 0, "woman_55": 0, "woman_50": 0}
    assert overrides["insurance.employee_pension.employer_rate"] == Decimal("0.14")


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        ("wage=0.04", "KEY one of"),
        ("wage_growth", "KEY=VALUE"),
        ("indexation=abc", "needs a number"),
        ("retirement_reform=maybe", "on or off"),
    ],
)
def test_bad_levers_are_refused_with_the_reason(item: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment) as exc:
        parse_scenario([item])
    assert exc.value.field == "--scenario"


def test_a_reform_file_applies_each_change_from_its_date(tmp_path: Path) -> None:
    path = tmp_path / "reform.yaml"
    path.write_text(
        "description: higher employer rate, later a higher pension base\n"
        "changes:\n"
        "  - {parameter: insurance.employee_pension.employer_rate, from: 2030-01-01, value: 0.18}\n"
        "  - {parameter: insurance.employee_pension.employer_rate, from: 2035-01-01, value: 0.2}\n",
        encoding="utf-8",
    )
    reform = read_reform(path, default_tree())
    assert reform.overrides_on(dt.date(2029, 12, 31)) == {}
    assert reform.overrides_on(dt.date(2030, 1, 1)) == {
        "insurance.employee_pension.employer_rate": Decimal("0.18")
    }
    assert reform.overrides_on(dt.date(2040, 1, 1)) == {
        "insurance.employee_pension.employer_rate": Decimal("0.2")
    }


@pytest.mark.parametrize(
    ("text", "field", "fragment"),
    [
        ("changes: 3\n", "reform.yaml", "list 'changes'"),
        (
            "changes: [{parameter: nope.rate, from: 2030-01-01, value: 1}]\n",
            "changes[0].parameter",
            "nope.rate",
        ),
        (
            "changes: [{parameter: insurance.employee_pension.employer_rate, from: soon, value: 1}]\n",
            "changes[0].from",
            "not a date",
        ),
        (
            "changes: [{parameter: insurance.employee_pension.employer_rate, from: 2030-01-01, value: x}]\n",
            "changes[0].value",
            "not a number",
        ),
        (
            "changes: [{parameter: insurance.employee_pension.employer_rate}]\n",
            "changes[0]",
            "parameter, from and value",
        ),
        ("changes: [\n", "reform.yaml", "not valid YAML"),
    ],
)
def test_a_bad_reform_file_names_the_change_and_the_field(
    tmp_path: Path, text: str, field: str, fragment: str
) -> None:
    path = tmp_path / "reform.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=fragment) as exc:
        read_reform(path, default_tree())
    assert exc.value.field.endswith(field)
