"""A reform as data: dated parameter changes at any region level, and programs switched on or off.

A reform file is YAML (docs/analysis.md)::

    name: 徐汇区低保标准提高10% (raise Xuhui's dibao standard by 10 %)
    changes:
      - parameter: assistance.dibao.standard_monthly_urban
        region: "310104"          # any level: nation (default), province, city, county
        from: 2025-07-01
        scale: 1.10               # or value: 1815 (in the parameter's own unit)
    programs:
      price_subsidy: false        # switched off (or on) from the first change's date

A change becomes a dated value of the region's own level in a copy of the parameter tree — the
same regional overrides every locality's file gives (``policy.parameters``), never a second
mechanism: the reform's tree answers every lookup the baseline answers, except where the reform
says otherwise. Every error names the field and the reason, Chinese first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from safetynet.domain.money import Rounding, mul_ratio
from safetynet.domain.regions import default_registry
from safetynet.errors import InputError, SafetyNetError, UnknownNameError
from safetynet.policy.engine import programs
from safetynet.policy.parameters import (
    MONEY_UNITS,
    NATION,
    DatedValue,
    ParameterFileError,
    ParameterTree,
    Provenance,
    Reference,
    coerce_value,
    default_tree,
)

__all__ = ["Change", "Reform", "load_reform", "parse_reform", "reform_tree"]

_KEYS = {"name", "description", "changes", "programs"}
_CHANGE_KEYS = {"parameter", "region", "from", "value", "scale"}


@dataclass(frozen=True)
class Change:
    """One dated parameter change: ``value`` (engine form: fen, Decimal, …) from ``start`` at
    the level ``region``."""

    parameter: str
    region: str
    start: dt.date
    value: Any


@dataclass(frozen=True)
class Reform:
    name: str
    description: str = ""
    changes: tuple[Change, ...] = ()
    switched: Mapping[str, bool] = field(default_factory=dict)  # program → on/off

    @property
    def is_empty(self) -> bool:
        return not self.changes and not self.switched

    def describe(self) -> list[str]:
        """One line per change, for the report's assumptions."""
        lines = [
            f"{c.parameter} = {c.value} at {c.region} from {c.start.isoformat()}"
            for c in self.changes
        ]
        lines += [f"program {p} {'on' if on else 'off'}" for p, on in self.switched.items()]
        return lines


def _bad(field_name: str, zh: str, en: str) -> InputError:
    return InputError(field_name, f"{zh}；{en}")


def load_reform(path: Path, tree: ParameterTree | None = None) -> Reform:
    """Read and validate a reform file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _bad(
            "--reform", f"无法读取改革文件 {path}", f"cannot read the reform file: {exc}"
        ) from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _bad("--reform", "改革文件不是有效的 YAML", f"not valid YAML: {exc}") from None
    return parse_reform(doc, tree)


def parse_reform(doc: Any, tree: ParameterTree | None = None) -> Reform:
    """Validate a reform document (already parsed YAML) against the parameter tree."""
    tree = tree or default_tree()
    if not isinstance(doc, dict):
        raise _bad("reform", "改革文件应为映射（name, changes, programs）",
                   "expected a mapping with name, changes, programs")  # fmt: skip
    unknown = sorted(set(doc) - _KEYS)
    if unknown:
        raise _bad(unknown[0], "未知字段", f"unknown field; expected one of {sorted(_KEYS)}")
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _bad("name", "改革需要名称", "a reform needs a name")
    raw_changes = doc.get("changes") or []
    if not isinstance(raw_changes, list):
        raise _bad("changes", "changes 应为列表", "changes must be a list")
    changes = tuple(_change(tree, raw, i) for i, raw in enumerate(raw_changes))
    switched = _switches(doc.get("programs") or {})
    return Reform(name.strip(), str(doc.get("description") or "").strip(), changes, switched)


def _change(tree: ParameterTree, raw: Any, i: int) -> Change:
    where = f"changes[{i}]"
    if not isinstance(raw, dict):
        raise _bad(where, "每项修改应为映射", "each change is a mapping")
    unknown = sorted(set(raw) - _CHANGE_KEYS)
    if unknown:
        raise _bad(f"{where}.{unknown[0]}", "未知字段",
                   f"unknown field; expected {sorted(_CHANGE_KEYS)}")  # fmt: skip
    name = str(raw.get("parameter"))
    try:
        tree.spec(name)
    except UnknownNameError as exc:
        raise _bad(f"{where}.parameter", f"未知参数 {name!r}", str(exc)) from None
    region = str(raw.get("region", NATION))
    if region != NATION and not default_registry().contains(region):
        raise _bad(f"{where}.region", f"未知行政区划代码 {region}",
                   "unknown region code (6-digit GB/T 2260)")  # fmt: skip
    start = _date(raw.get("from"), f"{where}.from")
    if ("value" in raw) == ("scale" in raw):
        raise _bad(where, "须给出 value 或 scale 之一", "give exactly one of value or scale")
    if "value" in raw:
        value = _coerce(tree, name, raw["value"], f"{where}.value")
    else:
        value = _scaled(tree, name, region, start, raw["scale"], f"{where}.scale")
    return Change(name, region, start, value)


def _date(raw: Any, where: str) -> dt.date:
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise _bad(where, f"不是日期 {raw!r}", "expected a date YYYY-MM-DD") from None


def _coerce(tree: ParameterTree, name: str, raw: Any, where: str) -> Any:
    try:
        return coerce_value(tree.spec(name), raw, where)
    except ParameterFileError as exc:
        raise _bad(where, "取值无效", str(exc)) from None


def _scaled(tree: ParameterTree, name: str, region: str, on: dt.date, raw: Any, where: str) -> Any:
    """The value in force at ``region`` on ``on`` times ``raw`` (money rounded to whole fen)."""
    spec = tree.spec(name)
    if spec.unit not in MONEY_UNITS and spec.unit != "ratio":
        raise _bad(where, f"单位为 {spec.unit} 的参数不能按比例调整",
                   "scale applies to money and ratio parameters only; give value")  # fmt: skip
    try:
        factor = Decimal(str(raw))
    except InvalidOperation:
        raise _bad(where, f"不是数字 {raw!r}", "scale must be a number") from None
    if factor < 0 or isinstance(raw, bool):
        raise _bad(where, "比例不能为负", "scale must be a non-negative number")
    lineage = default_registry().lineage_codes(region) if region != NATION else [NATION]
    try:
        current = tree.resolve(name, on, lineage).value
    except SafetyNetError as exc:
        raise _bad(where, "该地区该日期无现行值可调整",
                   f"no value in force to scale: {exc}; give value") from None  # fmt: skip
    if spec.unit == "ratio":
        return Decimal(current) * factor
    mode = Rounding(tree.resolve("common.rounding.mode", on, lineage).value)
    return int(mul_ratio(int(current), factor, mode))


def _switches(raw: Any) -> dict[str, bool]:
    if not isinstance(raw, dict):
        raise _bad("programs", "programs 应为 程序: true/false 的映射",
                   "programs maps a program to true or false")  # fmt: skip
    known = programs()
    switched = {}
    for pid, on in raw.items():
        if pid not in known:
            raise _bad(f"programs.{pid}", "未知项目", "unknown program; see `safetynet programs`")
        if not isinstance(on, bool):
            raise _bad(f"programs.{pid}", "应为 true 或 false", "expected true or false")
        info = known[pid].info
        if on and not info.in_force:
            raise _bad(f"programs.{pid}", "该项目没有生效参数，无法开启",
                       "the program has no in_force parameter; it is always on")  # fmt: skip
        switched[str(pid)] = on
    return switched


REFORM_REFERENCE = "reform under study (not in force)"


def reform_tree(base: ParameterTree, reform: Reform) -> ParameterTree:
    """A copy of ``base`` with each change as a dated value of its region's level (replacing
    that level's values from the change's date on). Program switches become changes of the
    program's ``in_force`` parameter at the nation from the earliest change's date."""
    levels = {code: dict(names) for code, names in base.levels.items()}
    tree = ParameterTree(specs=base.specs, levels=levels, region_names=base.region_names)
    ref = (Reference(REFORM_REFERENCE, note=reform.name),)
    for c in reform.changes:
        history = levels.setdefault(c.region, {}).get(c.parameter, [])
        kept = [v for v in history if v.start < c.start]
        new = DatedValue(c.start, c.value, Provenance.ILLUSTRATIVE, ref)
        levels[c.region][c.parameter] = [*kept, new]
    start = min((c.start for c in reform.changes), default=dt.date(1949, 10, 1))
    for pid, on in reform.switched.items():
        param = programs()[pid].info.in_force
        if param:
            levels[NATION][param] = [
                *[v for v in levels[NATION].get(param, []) if v.start < start],
                DatedValue(start, on, Provenance.ILLUSTRATIVE, ref),
            ]
            for code, names in levels.items():  # a region's own value would hide the nation's
                if code != NATION and param in names:
                    names[param] = [v for v in names[param] if v.start < start]
    return tree


def switched_off_without_parameter(reform: Reform) -> tuple[str, ...]:
    """Programs switched off that have no ``in_force`` parameter: the reform run leaves them out."""
    known = programs()
    return tuple(p for p, on in reform.switched.items() if not on and not known[p].info.in_force)
