"""``safetynet registry duplicates`` and ``import households --accept-duplicate`` as a clerk
types them: masked numbers, decisions kept, a held household imported on override."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from safetynet.db.engine import Database
from safetynet.domain.identity import check_character
from safetynet.entrypoints.cli.main import app as cli
from safetynet.registry.duplicates_model import DuplicatePair
from safetynet.registry.duplicates_synthetic import synthetic_registry
from tests.registry.duplicates_helpers import seed
from tests.registry.helpers import person, write_csv

runner = CliRunner()


def test_a_clerk_finds_lists_separates_and_merges_duplicates(database: Database) -> None:
    synthetic = synthetic_registry(1200, seed=3)
    seed(database, synthetic.records)
    url = database.engine.url.render_as_string(hide_password=False)

    found = runner.invoke(cli, ["registry", "duplicates", "find", "--url", url])
    assert found.exit_code == 0, found.output
    queued = int(re.search(r"(\d+) newly queued", found.output).group(1))  # type: ignore[union-attr]
    assert queued > 0

    listed = runner.invoke(cli, ["registry", "duplicates", "list", "--limit", "500", "--url", url])
    assert listed.exit_code == 0, listed.output
    assert f"{queued} pairs" in listed.output
    for record in synthetic.records:  # never a full identity number
        assert record.id_number not in listed.output

    with database.sessions() as session:
        first, second = session.scalars(select(DuplicatePair).order_by(DuplicatePair.id)).all()[:2]
    separated = runner.invoke(
        cli,
        [
            "registry",
            "duplicates",
            "separate",
            str(first.id),
            "--reason",
            "两人 twins",
            "--url",
            url,
        ],
    )
    assert separated.exit_code == 0, separated.output
    merged = runner.invoke(
        cli,
        [
            "registry",
            "duplicates",
            "merge",
            str(second.id),
            "--keep",
            str(second.person_id),
            "--reason",
            "same person",
            "--url",
            url,
        ],
    )
    assert merged.exit_code == 0, merged.output
    assert f"person {second.person_id} kept" in merged.output
    again = runner.invoke(
        cli, ["registry", "duplicates", "separate", str(second.id), "--reason", "x", "--url", url]
    )
    assert again.exit_code == 2
    assert "already decided (merged)" in again.output

    decided = runner.invoke(
        cli, ["registry", "duplicates", "list", "--status", "all", "--url", url]
    )
    assert "separated" in decided.output
    assert "merged" in decided.output
    bad = runner.invoke(cli, ["registry", "duplicates", "list", "--status", "done", "--url", url])
    assert bad.exit_code == 2
    assert "--status" in bad.output


def test_a_held_household_is_imported_with_accept_duplicate(
    database: Database, tmp_path: Path
) -> None:
    synthetic = synthetic_registry(1200, seed=3)
    seed(database, synthetic.records)
    url = database.engine.url.render_as_string(hide_password=False)
    assert runner.invoke(cli, ["registry", "duplicates", "find", "--url", url]).exit_code == 0
    original = next(r for r in synthetic.records if r.region == "110105")
    first17 = original.id_number[:15] + str((int(original.id_number[15]) + 5) % 10)
    first17 += original.id_number[16]
    rows = [person("T1", name=original.name, id_number=first17 + check_character(first17))]
    path = write_csv(tmp_path / "households.csv", rows)
    quarantine = tmp_path / "held.csv"

    held = runner.invoke(
        cli,
        [
            "import",
            "households",
            str(path),
            "--url",
            url,
            "--quiet",
            "--quarantine",
            str(quarantine),
        ],
    )
    assert held.exit_code == 1, held.output
    assert "likely duplicate" in quarantine.read_text(encoding="utf-8-sig")

    accepted = runner.invoke(
        cli, ["import", "households", str(path), "--url", url, "--quiet", "--accept-duplicate"]
    )
    assert accepted.exit_code == 0, accepted.output
    assert "households: 1 created" in accepted.output
