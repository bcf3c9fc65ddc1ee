"""Many households at once (``policy.calculate_many``): the answer of each alone, whatever else is
in the request, and households read from the files a user has."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from safetynet.errors import InputError
from safetynet.policy.calculate_many import (
    MAX_REJECTED,
    Notes,
    Request,
    calculate_many,
    households_from_file,
)
from safetynet.policy.engine import evaluate, programs
from safetynet.policy.population import population_from_households
from safetynet.policy.screening import load_parameter_values

ON = dt.date(2026, 7, 1)


def household(i: int) -> dict[str, Any]:
    return {
        "household_id": f"H{i}",
        "region": "510181" if i % 3 else "510104",
        "hukou_type": "rural" if i % 2 else "urban",
        "financial_assets": f"{1000 * i}.00",
        "members": [
            {"relation": "head", "birth_date": f"{1940 + 7 * i}-03-01", "sex": "male",
             "wage_income": f"{250 * i}.00", "is_employed": i % 2 == 0},
            {"relation": "child", "birth_date": "2023-05-01", "sex": "female",
             "disability_category": "physical" if i % 4 == 0 else "none",
             "disability_grade": 1 if i % 4 == 0 else 0},
        ],
    }  # fmt: skip


def test_every_program_for_each_household_equals_the_household_alone() -> None:
    fallbacks = load_parameter_values("demo")
    households = [household(i) for i in range(12)]
    request = Request(ON, fallbacks=fallbacks)
    notes = Notes()
    answers = list(calculate_many(households, request, notes))
    ids = list(programs())
    paid = 0
    for hh, answer in zip(households, answers, strict=True):
        pop = population_from_households([hh])
        for k, pid in enumerate(ids):
            alone = evaluate(programs()[pid], pop, ON, hh["region"], fallbacks=fallbacks)
            assert answer.amount_fen[k] == int(alone.result.amount[0]), (hh["household_id"], pid)
            assert answer.eligible[k] == bool(alone.result.eligible[0]), (hh["household_id"], pid)
            paid += answer.amount_fen[k] > 0
    assert paid > 0


def test_wrong_households_are_refused_one_by_one_up_to_a_limit() -> None:
    households = [household(i) for i in range(4)]
    households[2]["members"][1]["relation"] = "cousin"
    answers = list(calculate_many(households, Request(ON, programs=("dibao",))))
    assert answers[2].error == {
        "field": "households[2].members[1].relation",
        "reason": answers[2].error["reason"] if answers[2].error else "",
    }
    assert "cousin" in (answers[2].error or {}).get("reason", "")
    assert [a.error is None for a in answers] == [True, True, False, True]
    many = [dict(household(1), hukou_type="town") for _ in range(MAX_REJECTED + 5)]
    with pytest.raises(InputError):
        list(calculate_many(many, Request(ON, programs=("dibao",))))


def test_households_from_json_csv_and_parquet_files(tmp_path: Path) -> None:
    households = [household(i) for i in range(3)]
    (tmp_path / "h.json").write_text(json.dumps({"households": households}), encoding="utf-8")
    (tmp_path / "h.jsonl").write_text("\n".join(json.dumps(h) for h in households), "utf-8")
    rows = [
        {"household_id": h["household_id"], "region": h["region"], "hukou_type": h["hukou_type"],
         "financial_assets": h["financial_assets"], **m}
        for h in households for m in h["members"]
    ]  # fmt: skip
    header = sorted({k for r in rows for k in r})
    pq.write_table(pa.table({k: [r.get(k) for r in rows] for k in header}), tmp_path / "h.parquet")
    lines = [",".join(header)] + [",".join(str(r.get(k, "")) for k in header) for r in rows]
    (tmp_path / "h.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    request = Request(ON, fallbacks=load_parameter_values("demo"))
    expected = [a.amount_fen for a in calculate_many(households, request)]
    for name in ("h.json", "h.jsonl", "h.parquet", "h.csv"):
        found = households_from_file(tmp_path / name)
        assert [a.amount_fen for a in calculate_many(found, request)] == expected, name
    (tmp_path / "bad.csv").write_text("region\n510181\n", encoding="utf-8")
    with pytest.raises(InputError, match="household_id"):
        households_from_file(tmp_path / "bad.csv")
