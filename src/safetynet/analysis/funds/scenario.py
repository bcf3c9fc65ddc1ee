"""What a projection assumes beyond the shipped parameters: a scenario (a few named levers) and a
reform file (dated parameter changes).

A reform file is YAML::

    description: employers pay 18 % from 2030
    changes:
      - parameter: insurance.employee_pension.employer_rate
        from: 2030-01-01
        value: 0.18

Each change applies from its date to every later projection year (values in the parameter's own
unit: yuan for money, a decimal for a ratio, a mapping for a table).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from safetynet.errors import InputError, UnknownNameError
from safetynet.policy.parameters import ParameterFileError, ParameterTree, coerce_value

NO_DELAY = {"man": 0, "woman_55": 0, "woman_50": 0}
DELAY_CAP = "insurance.retirement_age.delay_cap_months"


@dataclass(frozen=True)
class Change:
    parameter: str
    start: dt.date
    value: Any  # already in the engine's form (fen, Decimal, table of those)


@dataclass(frozen=True)
class Reform:
    description: str = ""
    changes: tuple[Change, ...] = ()

    def overrides_on(self, on: dt.date) -> dict[str, Any]:
        """The value of every changed parameter in force on ``on`` (the latest change started)."""
        out: dict[str, Any] = {}
        for change in sorted(self.changes, key=lambda c: c.start):
            if change.start <= on:
                out[change.parameter] = change.value
        return out


@dataclass(frozen=True)
class Scenario:
    """The levers of a projection; None keeps the parameter's own value."""

    name: str = "baseline"
    wage_growth: Decimal | None = None
    indexation: Decimal | None = None
    employer_rate: Decimal | None = None
    retirement_reform: bool = True
    reform: Reform = field(default_factory=Reform)

    def overrides_on(self, on: dt.date) -> dict[str, Any]:
        out = self.reform.overrides_on(on)
        if self.employer_rate is not None:
            out["insurance.employee_pension.employer_rate"] = self.employer_rate
        if not self.retirement_reform:
            out[DELAY_CAP] = dict(NO_DELAY)
        return out

    def without_retirement_reform(self) -> Scenario:
        return replace(self, name=f"{self.name}, no retirement-age reform", retirement_reform=False)


LEVERS = ("wage_growth", "indexation", "employer_rate", "retirement_reform")


def _ratio(key: str, raw: str) -> Decimal:
    try:
        value = Decimal(raw.strip().removesuffix("%"))
    except InvalidOperation:
        raise InputError(
            "--scenario", f"情景 {key} 需要数字; {key} needs a number, got {raw!r}"
        ) from None
    return value / 100 if raw.strip().endswith("%") else value


def parse_scenario(items: Sequence[str], base: Scenario | None = None) -> Scenario:
    """``KEY=VALUE`` levers: wage_growth=0.04, indexation=2%, employer_rate=0.14,
    retirement_reform=off."""
    scenario = base or Scenario()
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or key not in LEVERS:
            raise InputError(
                "--scenario",
                f"情景应为 KEY=VALUE; expected KEY=VALUE with KEY one of {', '.join(LEVERS)}, got {item!r}",
            )
        if key == "retirement_reform":
            if raw.strip().lower() not in ("on", "off"):
                raise InputError("--scenario", f"retirement_reform is on or off, got {raw!r}")
            scenario = replace(scenario, retirement_reform=raw.strip().lower() == "on")
        elif key == "wage_growth":
            scenario = replace(scenario, wage_growth=_ratio(key, raw))
        elif key == "indexation":
            scenario = replace(scenario, indexation=_ratio(key, raw))
        else:
            scenario = replace(scenario, employer_rate=_ratio(key, raw))
    return scenario


def _change(tree: ParameterTree, item: Any, where: str) -> Change:
    if not isinstance(item, Mapping) or not {"parameter", "from", "value"} <= set(item):
        raise InputError(
            where,
            "每项改革需要 parameter, from, value; each change needs parameter, from and value",
        )
    name = str(item["parameter"])
    try:
        spec = tree.spec(name)
    except UnknownNameError as exc:
        raise InputError(f"{where}.parameter", str(exc)) from None
    start = item["from"]
    if not isinstance(start, dt.date):
        try:
            start = dt.date.fromisoformat(str(start))
        except ValueError:
            raise InputError(f"{where}.from", f"{start!r} is not a date (YYYY-MM-DD)") from None
    try:
        value = coerce_value(spec, item["value"], f"{where}.value")
    except ParameterFileError as exc:
        raise InputError(f"{where}.value", str(exc)) from None
    return Change(name, start, value)


def read_reform(path: Path, tree: ParameterTree) -> Reform:
    """A reform file (see the module docstring); every error names the change and the field."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(str(path), "改革文件不存在; file not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"不是有效的 YAML; not valid YAML: {exc}") from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("changes"), list):
        raise InputError(str(path), "需要 changes 列表; expected a mapping with a list 'changes'")
    changes = tuple(
        _change(tree, item, f"{path.name}: changes[{i}]") for i, item in enumerate(doc["changes"])
    )
    return Reform(str(doc.get("description", "")), changes)
