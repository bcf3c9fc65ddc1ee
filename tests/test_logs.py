"""The operations log: a record per command with who, what, how long and the exit code, as text or
JSON lines by setting, identity numbers masked whatever logger or field they come through."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from safetynet.entrypoints.cli.main import app
from safetynet.logs import configure_logging, os_user
from safetynet.settings import load_settings

ID = "110105198001010112"
MASKED = "110***********0112"


def _json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def json_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "logs" / "safetynet.jsonl"
    monkeypatch.setenv("SAFETYNET_LOG_FILE", str(path))
    monkeypatch.setenv("SAFETYNET_LOG_FORMAT", "json")
    return path


def test_every_command_is_logged_with_its_outcome(json_log: Path, tmp_path: Path) -> None:
    assert CliRunner().invoke(app, ["programs"]).exit_code == 0
    missing = str(tmp_path / "none.json")
    assert CliRunner().invoke(app, ["calc", "dibao", "--input", missing]).exit_code == 2
    assert CliRunner().invoke(app, ["payments", "accounts", "import", "--help"]).exit_code == 0
    ok, failed, helped = _json_lines(json_log)
    assert ok["event"] == "command"
    assert ok["command"] == "programs"
    assert ok["exit_code"] == 0
    assert ok["outcome"] == "ok"
    assert ok["user"] == os_user()
    assert isinstance(ok["duration_ms"], int)
    assert ok["level"] == "INFO"
    assert ok["logger"] == "safetynet.cli"
    assert (failed["command"], failed["exit_code"], failed["outcome"]) == ("calc", 2, "failed")
    assert failed["level"] == "WARNING"
    assert helped["command"] == "payments accounts import"


def test_identity_numbers_are_masked_in_messages_arguments_and_fields(json_log: Path) -> None:
    configure_logging(load_settings())
    log = logging.getLogger("safetynet.test")
    log.warning("person %s moved", ID, extra={"note": f"typed {ID} here", "ids": [ID]})
    log.info("full-width １１０１０５１９８００１０１０１１２ too")
    try:
        raise ValueError(f"bad row for {ID}")
    except ValueError:
        log.exception("import failed")
    text = json_log.read_text(encoding="utf-8")
    assert ID not in text
    assert "１１０１０５１９８００１０１０１１２" not in text
    first, second, third = _json_lines(json_log)
    assert first["message"] == f"person {MASKED} moved"
    assert first["note"] == f"typed {MASKED} here"
    assert first["ids"] == [MASKED]
    assert "110" in second["message"]
    assert f"bad row for {MASKED}" in third["exception"]


def test_text_lines_and_a_second_configuration_does_not_duplicate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "text.log"
    monkeypatch.setenv("SAFETYNET_LOG_FILE", str(path))
    monkeypatch.setenv("SAFETYNET_LOG_FORMAT", "text")
    configure_logging(load_settings())
    configure_logging(load_settings())
    logging.getLogger("safetynet.test").info("hello %s", ID, extra={"stage": "rules"})
    (line,) = path.read_text(encoding="utf-8").splitlines()
    assert line.endswith(f"INFO safetynet.test: hello {MASKED} stage=rules")


def test_the_level_setting_filters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "quiet.log"
    monkeypatch.setenv("SAFETYNET_LOG_FILE", str(path))
    monkeypatch.setenv("SAFETYNET_LOG_LEVEL", "WARNING")
    assert CliRunner().invoke(app, ["programs"]).exit_code == 0
    assert path.read_text(encoding="utf-8") == ""


def test_a_bad_log_setting_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFETYNET_LOG_FORMAT", "xml")
    result = CliRunner().invoke(app, ["programs"])
    assert result.exit_code == 2
    assert "error: $SAFETYNET_LOG_FORMAT: 'xml' is not one of text, json" in result.output


def test_run_month_logs_each_stage_with_counts(json_log: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    population = str(tmp_path / "population")
    synth = ["synth", "--persons", "300", "--counties", "310115", "--out", population, "--quiet"]
    assert runner.invoke(app, [*synth, "--date", "2025-09-01"]).exit_code == 0
    result = runner.invoke(
        app,
        ["run-month", "--month", "2025-09", "--snapshot", population, "--no-registry",
         "--out", str(tmp_path / "results"), "--fallback-parameters", "demo", "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    stages = [r for r in _json_lines(json_log) if r.get("event") == "stage"]
    assert [r["stage"] for r in stages] == ["population"]
    (population_stage,) = stages
    assert population_stage["persons"] == 300
    assert population_stage["counties"] == 1
    assert population_stage["month"] == "2025-09"
    assert isinstance(population_stage["duration_ms"], int)
    commands = [r["command"] for r in _json_lines(json_log) if r.get("event") == "command"]
    assert commands == ["synth", "run-month"]


def test_an_import_logs_its_counts(json_log: Path, tmp_path: Path, sqlite_template: Path) -> None:
    database = tmp_path / "registry.db"
    shutil.copyfile(sqlite_template, database)
    sample = Path(__file__).resolve().parents[1] / "examples/registry/households_sample.csv"
    result = CliRunner().invoke(
        app, ["import", "households", str(sample), "--url", f"sqlite:///{database}", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    (stage,) = [r for r in _json_lines(json_log) if r.get("event") == "stage"]
    assert stage["stage"] == "import households"
    assert stage["outcome"] == "ok"
    assert stage["households_created"] == 2
    assert stage["persons_created"] == 7
    assert isinstance(stage["duration_ms"], int)


def test_a_defect_is_logged_with_its_traceback_masked(
    json_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import safetynet.policy.engine

    def broken() -> None:
        raise RuntimeError(f"defect while reading {ID}")

    monkeypatch.setattr(safetynet.policy.engine, "programs", broken)
    result = CliRunner().invoke(app, ["programs"])
    assert isinstance(result.exception, RuntimeError)
    (record,) = _json_lines(json_log)
    assert (record["outcome"], record["exit_code"], record["level"]) == ("error", 1, "ERROR")
    assert f"RuntimeError: defect while reading {MASKED}" in record["exception"]
    assert ID not in json_log.read_text(encoding="utf-8")
