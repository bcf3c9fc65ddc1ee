"""One-door screening: one household checked against every program, each answer explained."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from safetynet.domain.regions import validate_region_code
from safetynet.errors import CoverageError, InputError
from safetynet.policy.engine import Evaluation, evaluate, kept_view, programs
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


NAMED_FALLBACKS = ("demo",)
"""Parameter sets shipped in the package (policy/localities/NAME.yaml), all illustrative [I]."""


def fallback_label(source: Path | str) -> str:
    """How a fallback set is named in reports: the shipped name or the file, always flagged [I]."""
    name = str(source)
    if name in NAMED_FALLBACKS and not Path(name).exists():
        return f"the illustrative locality '{name}' shipped with SafetyNet [I]"
    return f"{name} [I]"


def load_parameter_values(path: Path | str) -> dict[str, Any]:
    """A YAML mapping of parameter name → value, coerced: a file, or the name of a set shipped in
    the package (``demo``, the illustrative locality), so it works from any directory."""
    if str(path) in NAMED_FALLBACKS and not Path(path).exists():
        shipped = resources.files("safetynet.policy") / "localities" / f"{path}.yaml"
        text = shipped.read_text(encoding="utf-8")
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            names = ", ".join(NAMED_FALLBACKS)
            raise InputError(str(path), f"no such file (or a shipped set: {names})") from None
        except IsADirectoryError:
            raise InputError(str(path), "is a directory, not a YAML file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(str(path), f"cannot be read: {exc}") from None
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InputError(str(path), f"not valid YAML: {exc}") from None
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
    view = kept_view(on, code, fallbacks=fallbacks)  # each value resolved once per process
    lines = []
    for pid, prog in programs().items():
        try:
            ev = evaluate(prog, pop, on, code, explain=explain, shared_with=view)
            lines.append(ScreeningLine(pid, f"{prog.title} ({prog.title_zh})", prog.period, ev))
        except CoverageError as exc:
            lines.append(
                ScreeningLine(pid, f"{prog.title} ({prog.title_zh})", prog.period, None, str(exc))
            )
    return lines
