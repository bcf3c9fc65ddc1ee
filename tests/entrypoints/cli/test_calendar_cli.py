"""``safetynet workdays`` and ``safetynet calendar`` as an office administrator uses them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from safetynet.db.calendar_years import forget_sync
from safetynet.db.engine import Database
from safetynet.domain.calendar import install_added_years
from safetynet.entrypoints.cli.main import app
from tests.cases.test_calendar_years import calendar_2027


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


@pytest.fixture(autouse=True)
def _calendar_of_this_process() -> Iterator[None]:
    yield
    install_added_years([])
    forget_sync()


@pytest.fixture
def no_registry(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'absent' / 'registry.db'}"


def test_ten_working_days_after_christmas_2026_end_on_11_january_provisionally(
    no_registry: str, tmp_path: Path
) -> None:
    result = invoke("workdays", "add", "2026-12-25", "10", "--json", "--url", no_registry)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert (answer["deadline"], answer["provisional"]) == ("2027-01-11", True)
    assert [(c["year"], c["source"]) for c in answer["calendars"]] == [
        (2026, "official"),
        (2027, "provisional"),
    ]
    assert "国办发明电〔2025〕7号" in answer["calendars"][0]["reference"]
    assert "Decree No. 795" in answer["calendars"][1]["reference"]
    assert not (tmp_path / "absent").exists()  # looking does not create a database

    text = invoke("workdays", "add", "2026-12-01", "10", "--url", no_registry)
    assert text.output.splitlines()[0] == "2026-12-15"


def test_workdays_list_gives_each_day_off_and_where_it_comes_from(no_registry: str) -> None:
    provisional = invoke("workdays", "list", "2027", "--url", no_registry)
    assert provisional.exit_code == 0, provisional.output
    assert provisional.output.startswith("2027: provisional")
    assert "2027-02-05 周五  春节" in provisional.output  # 除夕
    official = json.loads(invoke("workdays", "list", "2026", "--json", "--url", no_registry).output)
    assert official["source"] == "official"
    assert {"date": "2026-01-04", "name": "元旦"} in official["adjusted_working_days"]
    assert {"date": "2026-02-23", "name": "春节"} in official["non_working_days"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"working_days": [{"date": "2027-02-22", "name": "春节"}]}, "working_days[0].date"),
        ({"references": [{"title": "关于2027年部分节假日安排的通知"}]}, "references[0].number"),
        ({"holidays": [{"date": "2027-02-29", "name": "春节"}]}, "is not a real date"),
    ],
)
def test_a_bad_calendar_file_is_refused_with_the_field_and_reason(
    database: Database, tmp_path: Path, bad: dict[str, Any], message: str
) -> None:
    path = tmp_path / "2027.yaml"
    path.write_text(yaml.safe_dump(calendar_2027(**bad), allow_unicode=True), encoding="utf-8")
    result = invoke("calendar", "add-year", str(path), "--url", database.url)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_an_added_year_is_official_for_every_later_command(
    database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "2027.yaml"
    path.write_text(yaml.safe_dump(calendar_2027(), allow_unicode=True), encoding="utf-8")
    added = invoke("calendar", "add-year", str(path), "--url", database.url)
    assert added.exit_code == 0, added.output
    assert "added the official calendar of 2027" in added.output
    assert "0 provisional deadlines recomputed, 0 moved" in added.output
    install_added_years([])  # a later command is another process: it reads the registry
    forget_sync()
    answer = json.loads(
        invoke("workdays", "add", "2026-12-25", "10", "--json", "--url", database.url).output
    )
    assert (answer["deadline"], answer["provisional"]) == ("2027-01-11", False)
    assert "国办发明电〔2026〕99号" in answer["calendars"][1]["reference"]
    listed = invoke("calendar", "list", "--url", database.url).output
    assert "2027  added" in listed
    assert "2028-2099: provisional" in listed
    again = invoke("calendar", "add-year", str(path), "--url", database.url)
    assert again.exit_code == 2
    assert "year: 2027 already has its official calendar" in again.output
