"""The command line as a user meets it: JSON answers, one-line errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from safetynet.entrypoints.cli.main import app

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "dibao_household.json"
STANDARD = "assistance.dibao.standard_monthly_urban=1000"


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def write(tmp_path: Path, data: object, name: str = "h.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def household(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data.update(changes)
    return data


def test_calc_prints_eligibility_amount_period_and_explanation() -> None:
    result = invoke(
        "calc", "dibao", "--input", str(EXAMPLE), "--date", "2025-09-01", "--set", STANDARD,
        "--set", "assistance.dibao.employment_cost_method=fixed",
        "--set", "assistance.dibao.employment_cost_fixed_monthly=300",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["eligible"] is True
    assert answer["amount"] == "900.00"
    assert answer["period"] == "2025-09"
    assert [s["step"] for s in answer["explanation"]][-1] == "amount"


def test_explain_cites_each_parameter() -> None:
    result = invoke(
        "calc",
        "dibao",
        "--input",
        str(EXAMPLE),
        "--date",
        "2025-09-01",
        "--set",
        STANDARD,
        "--explain",
    )
    answer = json.loads(result.stdout)
    cited = [p for s in answer["explanation"] for p in s.get("parameters", [])]
    marginal = next(p for p in cited if p["name"] == "assistance.dibao.marginal_multiple")
    assert "最低生活保障审核确认办法" in marginal["citation"]
    assert marginal["level"] == "nation"
    standard = next(p for p in cited if p["name"] == "assistance.dibao.standard_monthly_urban")
    assert standard["level"] == "override"
    assert "[I: illustrative" in standard["citation"]


def test_identity_numbers_never_appear_in_output() -> None:
    result = invoke(
        "calc", "dibao", "--input", str(EXAMPLE), "--date", "2025-09-01", "--set", STANDARD
    )
    assert "110105198503010032" not in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["calc", "dibaoo"], "unknown program 'dibaoo'"),
        (["calc", "dibao", "--region", "999999"], "999999"),
        (["calc", "dibao", "--set", "assistance.dibao.standrd=1"], "unknown parameter"),
        (["calc", "dibao", "--date", "2025-13-01"], "--date"),
        (["calc", "dibao", "--date", "2025-09-01"], "no value in force on 2025-09-01"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(args: list[str], fragment: str) -> None:
    base = ["--input", str(EXAMPLE)] if "--input" not in args else []
    result = invoke(*args, *base)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert fragment in result.stderr
    assert result.stderr.startswith("error: ")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ("{not json", "malformed JSON at line 1"),
        (household(members=[]), "household.members: a household needs at least one member"),
        (
            household(members=[{"id_number": "110105198503010031"}]),
            "household.members[0].id_number: check character",
        ),
        (
            household(members=[{"birth_date": "1980-01-01", "sex": "male", "wage_income": "-5"}]),
            "household.members[0].wage_income: -5.00 is negative",
        ),
        (
            household(members=[{"birth_date": "1980-01-01", "sex": "male", "wage_incme": "5"}]),
            "household.members[0].wage_incme: unknown field; did you mean 'wage_income'?",
        ),
        (household(hukou_type="city"), "household.hukou_type: 'city' is not one of"),
    ],
)
def test_bad_households_name_the_field(tmp_path: Path, data: object, fragment: str) -> None:
    result = invoke(
        "calc", "dibao", "--input", write(tmp_path, data), "--date", "2025-09-01", "--set", STANDARD
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert fragment in result.stderr


def test_params_show_gives_value_source_and_history() -> None:
    result = invoke(
        "params",
        "show",
        "assistance.dibao.marginal_multiple",
        "--region",
        "110105",
        "--date",
        "2025-01-01",
    )
    assert result.exit_code == 0
    assert "1.5" in result.stdout
    assert "最低生活保障审核确认办法" in result.stdout


def test_params_list_names_parameters_with_units() -> None:
    result = invoke("params", "list", "assistance.dibao")
    assert result.exit_code == 0
    assert "assistance.dibao.gradual_exit_months" in result.stdout


def test_cases_run_reports_counts_and_fails_on_a_wrong_expectation(tmp_path: Path) -> None:
    good = ROOT / "cases" / "domain" / "working_days.yaml"
    ok = invoke("cases", "run", str(good))
    assert ok.exit_code == 0
    assert "passed, 0 failed" in ok.stdout
    wrong = good.read_text(encoding="utf-8").replace("deadline: 2025-09-30", "deadline: 2025-10-01")
    bad = invoke("cases", "run", write(tmp_path, wrong, "bad.yaml"))
    assert bad.exit_code == 1
    assert "1 failed" in bad.stdout
    assert "expected 2025-10-01, got 2025-09-30" in bad.stdout


def test_input_reference_in_docs_is_current() -> None:
    from safetynet.policy.inputs_doc import fields_markdown

    doc = (ROOT / "docs" / "inputs.md").read_text(encoding="utf-8")
    assert fields_markdown() in doc, (
        "docs/inputs.md is stale: regenerate it with `safetynet fields`"
    )


def test_screen_lists_every_program_and_what_is_missing() -> None:
    result = invoke("screen", "--input", str(EXAMPLE), "--date", "2025-09-01")
    assert result.exit_code == 0, result.output
    assert "assistance.dibao.standard_monthly_urban" in result.stdout
    fallback = str(ROOT / "examples" / "illustrative_locality.yaml")
    filled = invoke(
        "screen", "--input", str(EXAMPLE), "--date", "2025-09-01", "--fallback-parameters", fallback
    )
    assert "600.00/month  [I]" in filled.stdout


def test_the_shipped_demo_locality_works_from_any_folder_and_is_flagged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    filled = invoke(
        "screen", "--input", str(EXAMPLE), "--date", "2025-09-01", "--fallback-parameters", "demo"
    )
    assert filled.exit_code == 0, filled.output
    assert "600.00/month  [I]" in filled.stdout
    assert "illustrative locality 'demo' shipped with SafetyNet" in filled.stdout


def test_demo_runs_the_month_cycle_and_explains_the_largest_payments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on a machine with nothing set up: the demo makes its own audit key.
    monkeypatch.delenv("SAFETYNET_AUDIT_KEY")
    monkeypatch.delenv("SAFETYNET_AUDIT_CHECKPOINTS")
    result = invoke(
        "demo", "--workdir", str(tmp_path / "demo"), "--persons", "6000"
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "7. The month's cycle on the registry's snapshot" in out
    assert "Planted and found" in out
    # The simulated bank's two bad rows are refused by reconciliation, row by row.
    assert "unknown instruction" in out
    assert "but the file sent" in out
    assert "Paid in full and on time, 2025-09" in out
    assert "The ten largest monthly payments, and why" in out
    assert " 1. household " in out
    assert (tmp_path / "demo" / "safetynet.db").is_file()
    assert sorted(p.name for p in (tmp_path / "demo" / "bank").glob("*.txt")) == [
        "SN310104202509001.txt",
        "SN310115202509001.txt",
    ]
    assert "Audit key created for the demo" in out
    assert (tmp_path / "demo" / "audit.keys").is_file()
    assert (tmp_path / "demo" / "safetynet.audit-checkpoints.jsonl").is_file()
    verified = invoke("audit", "verify", "--url", f"sqlite:///{tmp_path / 'demo' / 'safetynet.db'}")
    assert verified.exit_code == 0, verified.output
