"""Small builders for household lists used by the registry tests."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from typer.testing import CliRunner

from safetynet.audit.log import Actor
from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database
from safetynet.domain.identity import check_character
from safetynet.entrypoints.cli.main import app as cli
from safetynet.registry.handlers import ImportHouseholds, ImportReport, import_households
from safetynet.registry.imports import ValidatedImport, read_table, validate

ACTOR = Actor("tester", "registry_clerk", "110105")
HEADERS = [
    "household_no",
    "name",
    "id_number",
    "relation",
    "region",
    "hukou_type",
    "birth_date",
    "disability_category",
    "disability_grade",
    "self_care_items_failed",
    "wage_income",
    "income_month",
    "deposits",
]


def id_number(born: str = "19800101", seq: int = 11, region: str = "110105") -> str:
    """A valid identity number (odd ``seq`` is a man, even a woman)."""
    first17 = f"{region}{born}{seq:03d}"
    return first17 + check_character(first17)


def person(household: str, relation: str = "head", **values: str) -> dict[str, str]:
    row = {
        "household_no": household,
        "name": "张三",
        "id_number": id_number(),
        "relation": relation,
        "region": "110105",
        "hukou_type": "urban",
    }
    row.update(values)
    return row


def family(household: str, first_seq: int) -> list[dict[str, str]]:
    """A head and a spouse with distinct identity numbers."""
    return [
        person(household, "head", name="户主", id_number=id_number("19800101", first_seq)),
        person(household, "spouse", name="配偶", id_number=id_number("19820202", first_seq + 1)),
    ]


def write_csv(
    path: Path,
    rows: Sequence[dict[str, str]],
    headers: Sequence[str] | None = None,
    encoding: str = "utf-8",
) -> Path:
    columns = list(headers or HEADERS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def run_import(
    db: Database,
    path: Path,
    clock: Callable[[], Any],
    *,
    encoding: str | None = None,
    month: str | None = None,
) -> tuple[ImportReport, ValidatedImport]:
    import datetime as dt

    batch = validate(read_table(path, encoding), month=month)
    command = ImportHouseholds(batch, ACTOR, dt.date(2025, 9, 1), path.name)
    with bootstrap(db, clock=clock).unit_of_work() as uow:  # its events reach payments
        report = import_households(command, uow, clock)
    return report, batch


def count(db: Database, model: Any) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def cli_registry_with_household(runner: CliRunner, tmp_path: Path) -> str:
    """Through the command line: a fresh SQLite registry with household H1 imported; its URL."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert runner.invoke(cli, ["db", "upgrade", "--url", url]).exit_code == 0
    households = write_csv(tmp_path / "h.csv", family("H1", 11))
    result = runner.invoke(cli, ["import", "households", str(households), "--url", url, "--quiet"])
    assert result.exit_code == 0, result.output
    return url
