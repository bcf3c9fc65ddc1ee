"""One-door screening: a household is checked against every program; undecidable ones say why."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from safetynet.policy.engine import programs
from safetynet.policy.screening import load_parameter_values, screen

ROOT = Path(__file__).resolve().parents[2]


def test_every_program_answers_or_names_the_missing_parameter() -> None:
    household = json.loads((ROOT / "examples" / "dibao_household.json").read_text(encoding="utf-8"))
    lines = screen(household, dt.date(2025, 9, 1), "000000")
    assert [line.program for line in lines] == list(programs())
    dibao = next(line for line in lines if line.program == "dibao")
    assert dibao.evaluation is None
    assert "assistance.dibao.standard_monthly_urban" in dibao.problem


def test_illustrative_fallback_fills_only_what_the_region_lacks() -> None:
    household = json.loads((ROOT / "examples" / "dibao_household.json").read_text(encoding="utf-8"))
    fallbacks = load_parameter_values(ROOT / "examples" / "illustrative_locality.yaml")
    # Shanghai has its own standard from 2025-07-01 (1,650 [M]); the fallback must not replace it.
    lines = screen(household, dt.date(2025, 9, 1), "310115", fallbacks=fallbacks)
    dibao = next(line for line in lines if line.program == "dibao")
    assert dibao.evaluation is not None
    used = {r.name: r for r in dibao.evaluation.params.used()}
    assert used["assistance.dibao.standard_monthly_urban"].level == "310000"
    assert all(line.evaluation is not None for line in lines), [
        x.problem for x in lines if x.problem
    ]
