"""One-door screening: one household checked against every program, each answer explained."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from safetynet.domain.regions import validate_region_code
from safetynet.errors import CoverageError, InputError
from safetynet.policy.engine import Evaluation, evaluate, programs
from safetynet.policy.parameters import ParameterFileError, coerce_value, default_tree
from safetynet.policy.population import population_from_households


@dataclass
class ScreeningLine:
    program: str
    title: str
    period: str
    evaluation: Evaluation | None
    problem: str = ""  # why the program could not be decided (e.g. a missing local parameter)

    @property
    def eligible(self) -> bool:
        return self.evaluation is not None and bool(self.evaluation.result.eligible[0])

    @property
    def amount_fen(self) -> int:
        return int(self.evaluation.result.amount[0]) if self.evaluation is not None else 0


def load_parameter_values(path: Path) -> dict[str, Any]:
    """A YAML mapping of parameter name → value (e.g. the illustrative locality), coerced."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise InputError(str(path), "expected a mapping of parameter names to values")
    tree = default_tree()
    try:
        return {name: coerce_value(tree.spec(name), value, name) for name, value in raw.items()}
    except ParameterFileError as exc:
        raise InputError(str(path), str(exc)) from None


def screen(
    household: Mapping[str, Any],
    on: dt.date,
    region: str | None = None,
    *,
    fallbacks: Mapping[str, Any] | None = None,
    explain: bool = False,
) -> list[ScreeningLine]:
    """Evaluate every program for one household; a program that cannot be decided says why."""
    code = validate_region_code(str(region or household.get("region") or "000000"))
    pop = population_from_households([household])
    lines = []
    for pid, prog in programs().items():
        try:
            ev = evaluate(prog, pop, on, code, explain=explain, fallbacks=fallbacks)
            lines.append(ScreeningLine(pid, f"{prog.title} ({prog.title_zh})", prog.period, ev))
        except CoverageError as exc:
            lines.append(
                ScreeningLine(pid, f"{prog.title} ({prog.title_zh})", prog.period, None, str(exc))
            )
    return lines
