"""``safetynet calc --batch FILE``: many households from a file, answers as NDJSON or a table."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from safetynet.entrypoints.cli.main import app

CSV = """household_id,region,hukou_type,relation,birth_date,sex,wage_income
F-1,510181,urban,head,1960-03-01,male,500.00
F-1,510181,urban,spouse,1962-06-01,female,
F-2,510181,rural,head,1950-03-01,male,"12,50"
F-3,510181,rural,head,1950-03-01,male,100
"""


def test_each_household_answered_and_a_wrong_one_named(tmp_path: Path) -> None:
    source = tmp_path / "households.csv"
    source.write_text(CSV, encoding="utf-8")
    args = ["calc", "dibao", "--batch", str(source), "--date", "2026-07-01",
            "--fallback-parameters", "demo"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output  # a household was refused
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert lines[0]["programs"][0]["id"] == "dibao"
    rows = {line["household_id"]: line for line in lines[1:-1]}
    assert rows["F-1"]["eligible"] == [True]
    assert rows["F-1"]["amount_fen"][0] > rows["F-3"]["amount_fen"][0] > 0  # 2 persons, 1 person
    assert rows["F-2"]["error"]["field"] == "households[1].members[0].wage_income"
    assert lines[-1]["counts"] == {"households": 3, "calculated": 2, "refused": 1}

    table = tmp_path / "out" / "answers.parquet"
    result = CliRunner().invoke(app, [*args, "--out", str(table)])
    assert result.exit_code == 1
    read = pq.read_table(table).to_pylist()
    assert [(r["household_id"], r["amount_fen"]) for r in read] == [
        ("F-1", rows["F-1"]["amount_fen"][0]),
        ("F-3", rows["F-3"]["amount_fen"][0]),
    ]
