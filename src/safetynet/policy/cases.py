"""Rule tests as data: YAML case files that a caseworker can read and check by hand.

Format (docs/case-files.md): a file holds one case or a list of cases. A case has a ``name`` (a
sentence), a ``kind`` (``program`` by default, ``identity`` / ``working_days`` for the domain test
vectors, ``central_adjustment`` / ``pension_transfer`` for calculations over provinces or careers), and for programs: ``program``, ``date``, ``region``, ``overrides``, ``input`` (one household,
as for ``safetynet calc``) and ``expected`` (``eligible``, ``amount``, ``outputs``, ``person_amount``,
or ``error``: a fragment of the expected error message).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from safetynet.domain.identity import parse_identity_number
from safetynet.domain.money import format_yuan, yuan_to_fen
from safetynet.domain.workdays import add_natural_days, add_working_days, working_days_in_month
from safetynet.errors import InputError, SafetyNetError
from safetynet.policy.calculate import calculate, parse_date
from safetynet.policy.engine import program
from safetynet.policy.parameters import (
    ParameterFileError,
    ParameterTree,
    coerce_value,
    default_tree,
)


@dataclass
class CaseOutcome:
    file: Path
    index: int
    name: str
    failures: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures


def case_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*.yaml") if p.is_file())
    if path.is_file():
        return [path]
    raise InputError(str(path), "no such file or folder")


def load_cases(file: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(str(file), f"not valid YAML: {exc}") from None
    items = doc if isinstance(doc, list) else [doc]
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "name" not in item:
            raise InputError(f"{file}[{i}]", "a case needs at least a name")
        yield i, item


JsonKind = Callable[[Mapping[str, Any]], dict[str, Any]]
"""A calculation over provinces or a person's career rather than households: the case's input in,
JSON out. The kinds belong to layers above the rules (``insurance``), so the runner is handed them
(``safetynet.bootstrap.case_file_kinds``)."""


def run_case(
    case: Mapping[str, Any],
    tree: ParameterTree | None = None,
    json_kinds: Mapping[str, JsonKind] | None = None,
) -> list[str]:
    """Run one case; return the list of mismatches (empty when it passes). ``json_kinds``: the
    calculation kinds other than programs and the domain vectors, by name."""
    kinds = json_kinds or {}
    kind = case.get("kind", "program")
    expected = case.get("expected", {})
    try:
        if kind == "identity":
            return _identity_case(case, expected)
        if kind == "working_days":
            return _working_days_case(case, expected)
        if kind == "program":
            return _program_case(case, expected, tree or default_tree())
        if kind in kinds:
            return _json_case(kinds[kind], case, expected)
        return [f"unknown case kind {kind!r}"]
    except SafetyNetError as exc:
        want = expected.get("error") if isinstance(expected, dict) else None
        if want and str(want) in str(exc):
            return []
        return [f"error: {exc}"]


def _program_case(
    case: Mapping[str, Any], expected: Mapping[str, Any], tree: ParameterTree
) -> list[str]:
    prog = program(str(case["program"]))
    on = parse_date(case.get("date"), "date")
    overrides = {}
    for name, raw in (case.get("overrides") or {}).items():
        try:
            overrides[name] = coerce_value(tree.spec(name), raw, f"overrides.{name}")
        except ParameterFileError as exc:
            raise InputError(f"overrides.{name}", str(exc)) from None
    ev, _ = calculate(
        prog, case.get("input") or {}, on, str(case.get("region", "000000")), overrides, tree=tree
    )
    failures = []
    if "error" in expected:
        return [f"expected an error containing {expected['error']!r}, but the case ran"]
    if "eligible" in expected and bool(ev.result.eligible[0]) != bool(expected["eligible"]):
        failures.append(
            f"eligible: expected {expected['eligible']}, got {bool(ev.result.eligible[0])}"
        )
    if "amount" in expected:
        got = int(ev.result.amount[0])
        want = yuan_to_fen(expected["amount"], "expected.amount")
        if got != want:
            failures.append(f"amount: expected {format_yuan(want)}, got {format_yuan(got)}")
    for key, want_value in (expected.get("outputs") or {}).items():
        if key not in ev.result.outputs:
            failures.append(f"outputs.{key}: the program has no such output")
            continue
        failures += _compare(f"outputs.{key}", ev.result.outputs[key][0], want_value)
    if "person_amount" in expected:
        got_p = ev.result.person_amount
        want_p = expected["person_amount"]
        if got_p is None:
            failures.append("person_amount: the program pays households only")
        elif len(got_p) != len(want_p):
            failures.append(f"person_amount: expected {len(want_p)} members, got {len(got_p)}")
        else:
            for i, (g, w) in enumerate(zip(got_p, want_p, strict=True)):
                failures += _compare(f"person_amount[{i}]", g, w)
    return failures


def _compare(label: str, got: Any, want: Any) -> list[str]:
    if isinstance(want, bool):
        ok = bool(got) == want
        shown: Any = bool(got)
    elif isinstance(want, str):
        ok = int(got) == yuan_to_fen(want, label)
        shown = format_yuan(int(got))
    else:
        ok = got == want
        shown = got.item() if isinstance(got, np.generic) else got
    return [] if ok else [f"{label}: expected {want}, got {shown}"]


def _json_case(
    fn: JsonKind,
    case: Mapping[str, Any],
    expected: Mapping[str, Any],
) -> list[str]:
    doc = {
        "date": case.get("date"),
        "overrides": case.get("overrides"),
        **(case.get("input") or {}),
    }
    got = fn(doc)
    if "error" in expected:
        return [f"expected an error containing {expected['error']!r}, but the case ran"]
    failures = []
    for key, want in expected.items():
        if key == "provinces":
            rows = {str(r.get("province")): r for r in got.get("provinces", [])}
            for row in want:
                name = str(row["province"])
                for k, v in row.items():
                    have = rows.get(name, {}).get(k)
                    if str(have) != str(v):
                        failures.append(f"provinces[{name}].{k}: expected {v}, got {have}")
        elif str(got.get(key)) != str(want):
            failures.append(f"{key}: expected {want}, got {got.get(key)}")
    return failures


def _identity_case(case: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    ident = parse_identity_number(str(case["input"]))
    failures = []
    checks = {
        "id_number": ident.value,
        "birth_date": ident.birth_date.isoformat(),
        "sex": str(ident.sex),
        "masked": ident.masked,
    }
    for key, got in checks.items():
        if key in expected and str(expected[key]) != got:
            failures.append(f"{key}: expected {expected[key]}, got {got}")
    if "error" in expected:
        failures.append(
            f"expected an error containing {expected['error']!r}, but the number is valid"
        )
    return failures


def _working_days_case(case: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    if "month" in case:
        year, month = (int(x) for x in str(case["month"]).split("-"))
        got_count = working_days_in_month(year, month)
        want_count = int(expected["working_days"])
        return (
            []
            if got_count == want_count
            else [f"working_days: expected {want_count}, got {got_count}"]
        )
    start = parse_date(case["start"], "start")
    if "natural_days" in case:
        end = add_natural_days(start, int(case["natural_days"]))
    else:
        end = add_working_days(start, int(case["working_days"]))
    if "error" in expected:
        return [f"expected an error containing {expected['error']!r}, but got {end}"]
    want = expected["deadline"]
    want_day = want if isinstance(want, dt.date) else parse_date(want, "expected.deadline")
    failures = [] if end == want_day else [f"deadline: expected {want_day}, got {end}"]
    if "provisional" in expected and bool(expected["provisional"]) != end.provisional:
        failures.append(f"provisional: expected {expected['provisional']}, got {end.provisional}")
    return failures


def run_path(path: Path, json_kinds: Mapping[str, JsonKind] | None = None) -> list[CaseOutcome]:
    outcomes = []
    for file in case_files(path):
        for i, case in load_cases(file):
            outcomes.append(
                CaseOutcome(file, i, str(case["name"]), run_case(case, json_kinds=json_kinds))
            )
    return outcomes
