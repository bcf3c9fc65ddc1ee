"""Calculating one household for one program: input parsing, evaluation and the JSON answer."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from safetynet.domain.money import format_yuan
from safetynet.domain.regions import validate_region_code
from safetynet.errors import InputError
from safetynet.policy.engine import Evaluation, Program, evaluate
from safetynet.policy.parameters import (
    MONEY_UNITS,
    NATION,
    OVERRIDE,
    ParameterTree,
    Resolved,
    default_tree,
)
from safetynet.policy.population import population_from_households


def read_json(path: Path) -> Any:
    """Read a JSON file; numbers with decimals become Decimal so money stays exact."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except UnicodeDecodeError:
        raise InputError(str(path), "not UTF-8 text") from None
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InputError(
            str(path), f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None


def parse_date(value: Any, field: str = "date") -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(field, f"{value!r} is not a date (YYYY-MM-DD)") from None


def calculate(
    prog: Program,
    household: Mapping[str, Any],
    on: dt.date,
    region: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    explain: bool = True,
    tree: ParameterTree | None = None,
) -> tuple[Evaluation, str]:
    """Evaluate ``prog`` for one household; the region comes from the argument or the input."""
    if not isinstance(household, Mapping):
        raise InputError("household", "expected a JSON object")
    region = region or household.get("region")
    if region is None:
        raise InputError("region", "give --region CODE or a 'region' in the input")
    region = validate_region_code(str(region))
    pop = population_from_households([household])
    return evaluate(prog, pop, on, region, overrides=overrides, explain=explain, tree=tree), region


def period_label(prog: Program, on: dt.date) -> str:
    if prog.period == "month":
        return f"{on.year:04d}-{on.month:02d}"
    if prog.period == "year":
        return f"{on.year:04d}"
    return on.isoformat()


def _show_scalar(unit: str, value: Any) -> Any:
    if unit in MONEY_UNITS:
        return format_yuan(int(value))
    if isinstance(value, bool):
        return value
    return str(value)


def _show_value(r: Resolved) -> Any:
    if r.unit == "table":
        return {k: _show_scalar(r.item_unit, v) for k, v in r.value.items()}
    if r.unit == "scale":
        return [{"from": str(a), "value": _show_scalar(r.item_unit, b)} for a, b in r.value]
    return _show_scalar(r.unit, r.value)


def parameter_record(r: Resolved) -> dict[str, Any]:
    level = {NATION: "nation", OVERRIDE: "override"}.get(r.level, r.level)
    return {
        "name": r.name,
        "value": _show_value(r),
        "unit": r.unit,
        "level": level,
        "in_force_from": r.start.isoformat() if r.start else None,
        "provenance": str(r.provenance),
        "citation": r.cite(),
    }


def result_json(ev: Evaluation, on: dt.date, region: str, *, explain: bool) -> dict[str, Any]:
    """The answer of ``safetynet calc``: eligibility, amount (yuan string), period, explanation."""
    prog = ev.program
    used = {r.name: r for r in ev.params.used()}
    out: dict[str, Any] = {
        "program": prog.id,
        "title": f"{prog.title} ({prog.title_zh})",
        "date": on.isoformat(),
        "region": region,
        "eligible": bool(ev.result.eligible[0]),
        "amount": format_yuan(int(ev.result.amount[0])),
        "unit": {"month": "yuan/month", "year": "yuan/year", "event": "yuan"}[prog.period],
        "period": period_label(prog, on),
        "legal_basis": list(prog.legal_basis),
    }
    if explain:
        out["explanation"] = [
            {
                "step": s.key,
                "label": s.label,
                "value": s.value,
                **({"formula": s.formula} if s.formula else {}),
                **(
                    {"parameters": [parameter_record(used[n]) for n in s.parameters if n in used]}
                    if s.parameters
                    else {}
                ),
            }
            for s in ev.trace.steps
        ]
        out["parameters"] = [
            parameter_record(r) for r in sorted(used.values(), key=lambda r: r.name)
        ]
    return out


def default_date() -> dt.date:
    return dt.date.today()


__all__ = [
    "calculate",
    "default_tree",
    "parse_date",
    "read_json",
    "result_json",
]
