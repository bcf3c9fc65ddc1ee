"""One-door screening: a household is checked against every program; undecidable ones say why."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from safetynet.policy.engine import evaluate, program, programs
from safetynet.policy.population import population_from_households
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


def _household(wage: str) -> dict[str, object]:
    household = json.loads((ROOT / "examples" / "dibao_household.json").read_text(encoding="utf-8"))
    household["members"][0]["wage_income"] = wage
    return dict(household)


def test_each_program_reports_the_values_it_read_though_the_screening_shares_them() -> None:
    """A screening resolves each value once and makes dibao's counted income once for tekun,
    rigid expenditure and temporary assistance; every program's answer and its list of values
    used (what the clerk's explanation cites) are still those of the program evaluated alone."""
    fallbacks = load_parameter_values("demo")
    on = dt.date(2025, 9, 1)
    for wage in ("0.00", "850.00", "2400.00"):  # a repeated screening reuses the kept values
        household = _household(wage)
        for line in screen(household, on, "110105", fallbacks=fallbacks):
            alone = evaluate(
                program(line.program),
                population_from_households([household]),
                on,
                "110105",
                fallbacks=fallbacks,
            )
            assert line.evaluation is not None, line.problem
            assert [r.name for r in line.evaluation.params.used()] == [
                r.name for r in alone.params.used()
            ], line.program
            assert line.evaluation.result.amount.tolist() == alone.result.amount.tolist()
            assert line.evaluation.result.eligible.tolist() == alone.result.eligible.tolist()


def test_a_changed_fallback_set_is_not_answered_from_the_kept_values() -> None:
    """Beijing Dongcheng (110105) has no dibao standard of its own here: the fallback decides, and
    screening again with a raised fallback standard pays more (the kept values are per set)."""
    on, name = dt.date(2025, 9, 1), "assistance.dibao.standard_monthly_urban"
    fallbacks = load_parameter_values("demo")

    def dibao(values: dict[str, object]) -> tuple[int, object]:
        line = next(x for x in screen(_household("0.00"), on, "110105", fallbacks=values)
                    if x.program == "dibao")  # fmt: skip
        assert line.evaluation is not None, line.problem
        used = {r.name: r for r in line.evaluation.params.used()}
        return line.amount_fen, used[name].value

    assert dibao(fallbacks) == (300_000, 100_000)
    assert dibao({**fallbacks, name: 110_000}) == (330_000, 110_000)
    assert dibao(fallbacks) == (300_000, 100_000)
