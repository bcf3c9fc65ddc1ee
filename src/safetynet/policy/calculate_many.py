"""Many households at once: every requested program for each, with explanations on request.

The calculation service behind ``POST /calculate`` and ``safetynet calc --batch``. Households are
grouped by region, each group becomes one ``Population`` and every program runs once over it,
sharing one parameter view: the same code path as the monthly run, so a household gets the same
answer alone, in a request of ten thousand, or in its county. A household whose facts are wrong is
not calculated: it is answered with the error (field and reason) and counted, and the others are.
Explanations are those of ``safetynet calc``: each explained household is evaluated alone with the
trace on (the amount is the same: programs are row-independent).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from safetynet.domain.regions import validate_region_code
from safetynet.errors import CoverageError, InputError
from safetynet.policy.calculate import period_label, result_json
from safetynet.policy.engine import (
    Evaluation,
    Params,
    Program,
    Trace,
    compute,
    kept_view,
    payable,
    program,
    programs,
)
from safetynet.policy.parameters import ParameterTree
from safetynet.policy.population import (
    FIELDS,
    Entity,
    Kind,
    Population,
    declare_all_fields,
    population_from_households,
)

__all__ = [
    "MAX_EXPLAINED",
    "MAX_REJECTED",
    "HouseholdAnswer",
    "Notes",
    "Request",
    "calculate_many",
    "collector_paused",
    "households_from_file",
    "households_from_table",
    "program_header",
]

MAX_EXPLAINED = 200
"""Households explained in one request (each is evaluated again alone, with the trace on)."""
MAX_REJECTED = 100
"""Invalid households answered with their error; past this the whole request is refused."""

_WHERE = re.compile(r"^households\[(\d+)\]")


@dataclass(frozen=True)
class Request:
    """What to calculate: the date, the default region, the programs (all when empty)."""

    on: dt.date
    region: str | None = None
    programs: tuple[str, ...] = ()
    explain: bool = False
    fallbacks: Mapping[str, Any] | None = None
    tree: ParameterTree | None = None

    def chosen(self) -> list[Program]:
        return [program(p) for p in self.programs] if self.programs else list(programs().values())


@dataclass
class HouseholdAnswer:
    """One household's answer: eligibility and amount (fen) of each program, in the order of
    ``Request.chosen()``, or why the household was refused."""

    index: int
    household_id: str
    region: str = ""
    eligible: list[bool] = field(default_factory=list)
    amount_fen: list[int] = field(default_factory=list)
    explanations: dict[str, Any] | None = None
    error: dict[str, str] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "household_id": self.household_id}
        if self.error is not None:
            out["error"] = self.error
            return out
        out["region"] = self.region
        out["eligible"] = self.eligible
        out["amount_fen"] = self.amount_fen
        if self.explanations is not None:
            out["explanations"] = self.explanations
        return out


@dataclass
class Notes:
    """What applies to every household of a region: programs not available there, and programs
    that cannot be decided there (a parameter missing), by region then program."""

    not_available: dict[str, dict[str, str]] = field(default_factory=dict)
    problems: dict[str, dict[str, str]] = field(default_factory=dict)


def program_header(request: Request) -> list[dict[str, str]]:
    """The programs of the answer, in the order of each household's lists."""
    unit = {"month": "yuan/month", "year": "yuan/year", "event": "yuan"}
    return [
        {"id": prog.id, "title": f"{prog.title} ({prog.title_zh})", "period":
         period_label(prog, request.on), "unit": unit[prog.period]}
        for prog in request.chosen()
    ]  # fmt: skip


def calculate_many(
    households: Sequence[Any], request: Request, notes: Notes | None = None
) -> Iterator[HouseholdAnswer]:
    """Each household's answer, in input order (invalid ones with their error)."""
    chosen = request.chosen()
    notes = notes if notes is not None else Notes()
    with collector_paused():
        regions, answers = _regions(households, request)
        groups: dict[str, list[int]] = {}
        for i, region in enumerate(regions):
            if region:
                groups.setdefault(region, []).append(i)
        for region, rows in groups.items():
            found = _calculate_region(households, rows, region, chosen, request, notes)
            for i, row in found.items():
                answers[i] = row
    for answer in answers:
        assert answer is not None
        yield answer


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a request's households are read or their answers are
    built: they are hundreds of thousands of small objects, none in a cycle, and each collection
    would walk them all again (measured: a third of the time of 10,000 households). Reference
    counting still frees what is dropped."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _regions(
    households: Sequence[Any], request: Request
) -> tuple[list[str], list[HouseholdAnswer | None]]:
    """Each household's region ("" where it is refused) and the refusals found so far."""
    regions: list[str] = []
    answers: list[HouseholdAnswer | None] = []
    known: dict[str, str] = {}
    for i, hh in enumerate(households):
        where = f"households[{i}]"
        if not isinstance(hh, Mapping):
            regions.append("")
            answers.append(_refused(i, "", InputError(where, "expected an object")))
            continue
        raw = hh.get("region") or request.region
        try:
            if raw is None:
                raise InputError(f"{where}.region", "no region: give one here or in the request")
            text = str(raw)
            if text not in known:
                known[text] = validate_region_code(text, f"{where}.region")
            regions.append(known[text])
            answers.append(None)
        except InputError as exc:
            regions.append("")
            answers.append(_refused(i, str(hh.get("household_id", i + 1)), exc))
    return regions, answers


def _refused(index: int, household_id: str, exc: InputError) -> HouseholdAnswer:
    return HouseholdAnswer(index, household_id, error={"field": exc.field, "reason": exc.reason})


def _calculate_region(
    households: Sequence[Any],
    rows: list[int],
    region: str,
    chosen: Sequence[Program],
    request: Request,
    notes: Notes,
) -> dict[int, HouseholdAnswer]:
    answers: dict[int, HouseholdAnswer] = {}
    pop, kept = _population(households, rows, answers)
    if not kept:
        return answers
    # The values of this date and region are resolved once per process (``kept_view``).
    params = Params(request.on, region, shared_with=kept_view(request.on, region, request.tree,
                                                              request.fallbacks))  # fmt: skip
    trace = Trace()
    n = len(kept)
    eligible: list[list[bool]] = []
    amounts: list[list[int]] = []
    for prog in chosen:
        try:
            result = payable(prog, pop, params, trace)
        except CoverageError as exc:
            notes.problems.setdefault(region, {})[prog.id] = str(exc)
            eligible.append([False] * n)
            amounts.append([0] * n)
            continue
        if result.not_available:
            notes.not_available.setdefault(region, {})[prog.id] = result.not_available
        eligible.append(result.eligible.tolist())
        amounts.append(result.amount.tolist())
    explained = set(kept[: MAX_EXPLAINED if request.explain else 0])
    by_household_e = list(zip(*eligible, strict=True))
    by_household_a = list(zip(*amounts, strict=True))
    for pos, i in enumerate(kept):
        hh = households[i]
        answer = HouseholdAnswer(
            i, str(hh.get("household_id", i + 1)), region,
            list(by_household_e[pos]), list(by_household_a[pos]),
        )  # fmt: skip
        if i in explained:
            answer.explanations = _explain(pop.take(np.array([pos])), chosen, region, request)
        answers[i] = answer
    return answers


def _population(
    households: Sequence[Any], rows: list[int], answers: dict[int, HouseholdAnswer]
) -> tuple[Population, list[int]]:
    """The population of the valid households among ``rows``: a household that fails
    validation is answered with its error and left out (at most ``MAX_REJECTED``)."""
    kept = list(rows)
    while True:
        try:
            return population_from_households([households[i] for i in kept]), kept
        except InputError as exc:
            found = _WHERE.match(exc.field)
            position = int(found.group(1)) if found else 0 if len(kept) == 1 else None
            if position is None or len(answers) >= MAX_REJECTED:
                raise
            i = kept.pop(position)
            field_path = _WHERE.sub(f"households[{i}]", exc.field)
            if not found:
                field_path = f"households[{i}].{exc.field.removeprefix('household.')}"
            hid = str(households[i].get("household_id", i + 1))
            answers[i] = _refused(i, hid, InputError(field_path, exc.reason))
            if not kept:
                return Population(), kept


def _explain(
    one: Population, chosen: Sequence[Program], region: str, request: Request
) -> dict[str, Any]:
    """The explanation of ``safetynet calc --explain`` for each program, on the household alone."""
    found: dict[str, Any] = {}
    view = kept_view(request.on, region, request.tree, request.fallbacks)
    for prog in chosen:
        params = Params(request.on, region, shared_with=view)  # its own record of values used
        trace = Trace(one, 0, on=True)
        try:
            result = compute(prog, one, params, trace)
        except CoverageError:
            continue  # said once for the region (Notes.problems)
        full = result_json(
            Evaluation(prog, result, params, trace), request.on, region, explain=True
        )
        found[prog.id] = {
            "eligible": full["eligible"],
            "amount": full["amount"],
            "explanation": full["explanation"],
            "parameters": full["parameters"],
        }
    return found


# -- households from files --------------------------------------------------------------------

_TRUE = frozenset({"true", "1", "yes", "y", "t", "是"})
_FALSE = frozenset({"false", "0", "no", "n", "f", "否", ""})


def households_from_file(path: Path) -> list[Any]:
    """Households from a JSON file (a list, or an object with ``households``), JSON lines, CSV or
    Parquet (one row per person: ``household_id``, the person's fields and the household's,
    ``docs/calculate.md``)."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(str(path), "file not found")
    if suffix == ".parquet":
        import pyarrow.parquet as pq  # Parquet input only: not paid for by JSON requests

        try:
            table = pq.read_table(path)
        except Exception as exc:
            raise InputError(str(path), f"not a readable Parquet file: {exc}") from None
        return households_from_table(table.to_pylist(), str(path))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(str(path), "not UTF-8 text") from None
    if suffix == ".csv":
        return households_from_table(list(csv.DictReader(io.StringIO(text))), str(path))
    if suffix in (".jsonl", ".ndjson"):
        return [_json_line(line, str(path), n) for n, line in enumerate(text.splitlines(), 1)
                if line.strip()]  # fmt: skip
    try:
        doc = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"malformed JSON at line {exc.lineno}: {exc.msg}") from None
    found = doc.get("households") if isinstance(doc, Mapping) else doc
    if not isinstance(found, list):
        raise InputError(str(path), "expected a list of households or {'households': [...]}")
    return found


def _json_line(line: str, where: str, number: int) -> Any:
    try:
        return json.loads(line, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: line {number}", f"malformed JSON: {exc.msg}") from None


def households_from_table(rows: Sequence[Mapping[str, Any]], where: str) -> list[dict[str, Any]]:
    """One row per person (grouped by ``household_id``) → household objects, as in JSON."""
    declare_all_fields()
    households: dict[str, dict[str, Any]] = {}
    for n, row in enumerate(rows, 1):
        hid = row.get("household_id")
        if hid is None or str(hid).strip() == "":
            raise InputError(f"{where}: row {n}.household_id", "is required")
        hh = households.setdefault(str(hid), {"household_id": str(hid), "members": []})
        person: dict[str, Any] = {}
        for name, raw in row.items():
            if name is None:  # csv.DictReader keeps the cells past the header under None
                raise InputError(f"{where}: row {n}", "more cells than columns in the header")
            if raw is None or raw == "" or name == "household_id":
                continue
            value = _cell(name, raw)
            if name == "region" or (name in FIELDS and FIELDS.get(name).entity is Entity.HOUSEHOLD):
                hh.setdefault(name, value)
            else:
                person[name] = value
        hh["members"].append(person)
    return list(households.values())


def _cell(name: str, raw: Any) -> Any:
    """A CSV or Parquet cell in the form the JSON input takes."""
    if name not in FIELDS:
        return raw if not isinstance(raw, dt.date) else raw.isoformat()
    kind = FIELDS.get(name).kind
    if isinstance(raw, str):
        text = raw.strip()
        if kind is Kind.BOOL and text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        if kind is Kind.INT and re.fullmatch(r"-?\d+", text):
            return int(text)
        return text
    if kind is Kind.MONEY and isinstance(raw, float):
        return Decimal(repr(raw))
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return raw
