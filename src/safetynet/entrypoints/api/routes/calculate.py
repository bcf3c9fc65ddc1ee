"""``POST /calculate``: every requested program's amounts for a list of households (nothing is
recorded). The body is JSON (``CalculateRequest``), or a CSV or Parquet file of persons with the
options in the query; the answer is one JSON document, or NDJSON lines (one per household, then the
counts) with ``?stream=true`` or ``Accept: application/x-ndjson``. The rules core does the work
(``policy.calculate_many``); the route only turns the input into a request and the answers into
text."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

import pydantic_core
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from safetynet.domain.privacy import holds_identity_number, mask_value
from safetynet.entrypoints.api.auth import User
from safetynet.entrypoints.api.bounds import (
    BusinessDate,
    HouseholdFacts,
    Programs,
    RegionCode,
    check_household_facts,
)
from safetynet.entrypoints.api.deps import allowed
from safetynet.entrypoints.api.policy import Action

__all__ = ["MAX_BODY_BYTES", "MAX_HOUSEHOLDS", "CalculateRequest", "router"]

router = APIRouter(tags=["calculate"])
PATH = "/calculate"

MAX_HOUSEHOLDS = 50_000
"""Households in one request (a larger population is a monthly run: ``safetynet run-month``)."""
MAX_BODY_BYTES = 64 * 2**20
"""Bytes of one request body (JSON, CSV or Parquet)."""

_CSV = "text/csv"
_PARQUET = "application/vnd.apache.parquet"
_NDJSON = "application/x-ndjson"

_EXAMPLE: dict[str, Any] = {
    "date": "2026-07-01",
    "region": "510181",
    "fallback_parameters": "demo",
    "programs": ["dibao", "tekun"],
    "explain": False,
    "households": [
        {
            "household_id": "H-1",
            "hukou_type": "urban",
            "financial_assets": "8000.00",
            "members": [
                {"relation": "head", "birth_date": "1985-03-01", "sex": "male",
                 "wage_income": "2400.00", "is_employed": True},
                {"relation": "spouse", "birth_date": "1987-06-01", "sex": "female"},
                {"relation": "child", "birth_date": "2012-09-01", "sex": "female"},
            ],
        }
    ],
}  # fmt: skip


class CalculateRequest(BaseModel):
    """Households to calculate, and for which date, region and programs."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [json.loads(json.dumps(_EXAMPLE))]}
    )

    date: BusinessDate | None = Field(
        None, description="The date the rules apply on; default today."
    )
    region: RegionCode | None = Field(
        None, description="The region of households that name none (6 digits)."
    )
    programs: Programs = Field(
        default_factory=list,
        description="Program identifiers (`safetynet programs`); all if empty.",
    )
    explain: bool = Field(
        False, description="Explain each program's amount, step by step with citations "
        "(at most the first 200 households)."
    )  # fmt: skip
    fallback_parameters: Literal["demo"] | None = Field(
        None, description="Illustrative values used only where the region has none in force "
        "('demo', the locality shipped with SafetyNet; flagged [I])."
    )  # fmt: skip
    households: Annotated[list[HouseholdFacts], Field(min_length=1, max_length=MAX_HOUSEHOLDS)] = (
        Field(description="Households as for `safetynet calc` (docs/inputs.md).")
    )


_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"$ref": "#/components/schemas/CalculateRequest"},
            "example": _EXAMPLE,
        },
        _CSV: {
            "schema": {"type": "string", "format": "binary"},
            "example": "household_id,region,hukou_type,relation,birth_date,sex,wage_income\n"
            "H-1,510181,urban,head,1985-03-01,male,2400.00\n"
            "H-1,510181,urban,child,2012-09-01,female,\n",
        },
        _PARQUET: {"schema": {"type": "string", "format": "binary"}},
    },
}


@router.post(
    PATH,
    openapi_extra={"x-action": Action.CALCULATE.value, "requestBody": _BODY},
    responses={
        200: {
            "description": "Each household's programs (`amount_fen`, `amount` in yuan, "
            "`eligible`, `period`), or its `error` (field and reason); then the counts.",
            "content": {_NDJSON: {"schema": {"type": "string"}}},
        },
        413: {"description": "More than 50,000 households or 64 MiB."},
    },
)
async def calculate(
    request: Request,
    _user: Annotated[User, Depends(allowed(Action.CALCULATE))],
    stream: Annotated[bool, Query(description="Answer NDJSON lines, one per household.")] = False,
    on: Annotated[
        BusinessDate | None, Query(alias="date", description="For a CSV or Parquet body.")
    ] = None,
    region: Annotated[RegionCode | None, Query(description="For a CSV or Parquet body.")] = None,
    programs: Annotated[
        list[str] | None, Query(max_length=50, description="For a CSV or Parquet body.")
    ] = None,
    explain: Annotated[bool, Query(description="For a CSV or Parquet body.")] = False,
) -> Response:
    """Every requested program (all by default) for each household of the body: a JSON
    `CalculateRequest`, or a CSV or Parquet file of persons (one row per person with
    `household_id`, `region` and the fields of docs/inputs.md). A household with a wrong fact is
    answered with its `error` and counted; the others are calculated. Nothing is recorded."""
    body = await _read_body(request)
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind in (_CSV, _PARQUET):
        options = {"date": on, "region": region, "programs": programs or [], "explain": explain}
        households = await run_in_threadpool(_households_from_file, body, kind)
        parsed = _validated({**options, "households": households})
    else:
        from safetynet.policy.calculate_many import collector_paused

        with collector_paused():  # a body of 10,000 households is 300,000 small objects
            parsed = _validated(_json(body))
    from safetynet.policy.calculate_many import Request as Calc

    calc = Calc(
        on=parsed.date or dt.date.today(),
        region=parsed.region,
        programs=tuple(parsed.programs),
        explain=parsed.explain,
        fallbacks=_shipped_fallbacks(parsed.fallback_parameters)
        if parsed.fallback_parameters
        else None,
        tree=request.app.state.service.parameters,
    )
    calc.chosen()  # an unknown program is refused (422) before anything is answered
    households = parsed.households
    if stream or _NDJSON in request.headers.get("accept", ""):
        # The first part is calculated before the answer starts (a request refused as a whole
        # is a 422); the others as the client reads.
        first = await run_in_threadpool(_answers, households[:_PART], calc, 0)
        return StreamingResponse(_lines(first, households, calc), media_type=_NDJSON)
    if len(households) <= INLINE_HOUSEHOLDS and not calc.explain:
        # A few households are calculated on the event loop: a hand-off to a worker thread and
        # back costs more than they do, and the GIL keeps the loop waiting either way.
        answers, notes = _answers(households, calc, 0)
    else:
        answers, notes = await run_in_threadpool(_answers, households, calc, 0)
    from safetynet.policy.calculate_many import collector_paused

    with collector_paused():
        return Response(_encoded(_document(calc, answers, notes)), media_type="application/json")


INLINE_HOUSEHOLDS = 8
"""Households of a request (without explanations) calculated on the event loop rather than in a
worker thread: a few milliseconds at most."""


def _document(calc: Any, answers: list[dict[str, Any]], notes: Any) -> dict[str, Any]:
    """The JSON answer, identity numbers masked (the header is masked once, ``_header``)."""
    refused = sum(1 for a in answers if "error" in a)
    return {
        "date": calc.on.isoformat(),
        "programs": _header(calc),
        "not_available": masked(notes.not_available),
        "problems": masked(notes.problems),
        "households": _masked_answers(answers),
        "counts": {"households": len(answers), "calculated": len(answers) - refused,
                   "refused": refused},
    }  # fmt: skip


_HEADERS: dict[tuple[dt.date, tuple[Any, ...]], list[dict[str, str]]] = {}


def _header(calc: Any) -> list[dict[str, str]]:
    """The programs of the answer (``program_header``), masked. It is made of the programs'
    titles and the date's periods, never of a household's facts, so it is built and masked once
    per date and programs (a quarter of a millisecond each time otherwise) and shared between
    answers, which only read it."""
    from safetynet.policy.calculate_many import program_header

    key = (calc.on, tuple(calc.chosen()))  # the programs themselves: a new one is a new key
    found = _HEADERS.get(key)
    if found is None:
        if len(_HEADERS) >= 256:
            _HEADERS.clear()
        found = _HEADERS[key] = masked(program_header(calc))
    return found


def _encoded(document: Any) -> bytes:
    """``document`` as compact UTF-8 JSON, the bytes ``JSONResponse`` would write, in one pass of
    pydantic-core's encoder (Python's ``json`` is three times slower on a large answer). The
    answer holds no float: should one come, NaN and infinities are written ``null``, never text
    that is not JSON."""
    return pydantic_core.to_json(document, inf_nan_mode="null")


_PART = 5_000  # households calculated at once when streaming


def _answers(households: Sequence[Any], calc: Any, offset: int) -> tuple[list[dict[str, Any]], Any]:
    from safetynet.policy.calculate_many import Notes, calculate_many

    notes = Notes()
    found = []
    for answer in calculate_many(households, calc, notes):
        row = answer.as_json()
        row["index"] += offset
        if "error" in row:
            row["error"]["field"] = _shift(row["error"]["field"], offset)
        found.append(row)
    return found, notes


def _shift(path: str, offset: int) -> str:
    if not offset or not path.startswith("households["):
        return path
    index, rest = path[len("households[") :].split("]", 1)
    return f"households[{int(index) + offset}]{rest}"


@functools.cache
def _shipped_fallbacks(name: str) -> Mapping[str, Any]:
    """A parameter set shipped in the package ('demo'), read once per process: it is part of the
    installed package and does not change while the server runs."""
    from safetynet.policy.screening import load_parameter_values

    return MappingProxyType(load_parameter_values(name))


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "the body is larger than 64 MiB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "the body is larger than 64 MiB")
        chunks.append(chunk)
    return b"".join(chunks)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise RequestValidationError(
            [{"loc": ("body",), "msg": f"not valid JSON: {exc}", "type": "json_invalid"}]
        ) from None


def _validated(raw: Any) -> CalculateRequest:
    if isinstance(raw, dict) and isinstance(raw.get("households"), list) and raw["households"]:
        if len(raw["households"]) > MAX_HOUSEHOLDS:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"{len(raw['households']):,} households: at most {MAX_HOUSEHOLDS:,} in one request",
            )
        # The bounds of each household are checked once here, not again by the model.
        for i, hh in enumerate(raw["households"]):
            if isinstance(hh, dict):
                check_household_facts(hh, ("body", "households", i))
        facts = raw["households"]
        try:
            parsed = CalculateRequest.model_validate({**raw, "households": [{}]})
        except ValidationError as exc:
            raise RequestValidationError(exc.errors()) from None
        if not all(isinstance(hh, dict) for hh in facts):
            bad = next(i for i, hh in enumerate(facts) if not isinstance(hh, dict))
            raise RequestValidationError(
                [
                    {
                        "loc": ("body", "households", bad),
                        "msg": "expected an object",
                        "type": "dict_type",
                    }
                ]
            )
        parsed.households = facts
        return parsed
    try:
        return CalculateRequest.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


def _households_from_file(body: bytes, kind: str) -> list[Any]:
    import tempfile

    from safetynet.errors import InputError
    from safetynet.policy.calculate_many import households_from_file

    suffix = ".csv" if kind == _CSV else ".parquet"
    with tempfile.TemporaryDirectory(prefix="safetynet-calculate-") as tmp:
        path = Path(tmp) / f"households{suffix}"
        path.write_bytes(body)
        try:
            return households_from_file(path)
        except InputError as exc:
            reason = exc.reason.replace(str(path), "body")
            raise RequestValidationError(
                [{"loc": ("body",), "msg": f"{exc.field.replace(str(path), 'body')}: {reason}",
                  "type": "value_error"}]
            ) from None  # fmt: skip


def _lines(
    first: tuple[list[dict[str, Any]], Any], households: Sequence[Any], calc: Any
) -> Iterator[bytes]:
    """The header (date, programs), one line per household, then the notes and the counts."""
    from safetynet.errors import SafetyNetError
    from safetynet.policy.calculate_many import program_header

    yield _line({"date": calc.on.isoformat(), "programs": program_header(calc)})
    counts = {"households": 0, "calculated": 0, "refused": 0}
    (part, notes), offset = first, 0
    not_available, problems = dict(notes.not_available), dict(notes.problems)
    while True:
        for row in part:
            counts["households"] += 1
            counts["refused" if "error" in row else "calculated"] += 1
            yield _line(row)
        offset += _PART
        if offset >= len(households):
            break
        try:
            part, notes = _answers(households[offset : offset + _PART], calc, offset)
        except SafetyNetError as exc:  # the answer has started: the last line says why it ends
            yield _line({"error": str(exc), "counts": counts})
            return
        not_available |= notes.not_available
        problems |= notes.problems
    yield _line({"not_available": not_available, "problems": problems, "counts": counts})


def _line(value: Any) -> bytes:
    return json.dumps(masked(value), ensure_ascii=False).encode("utf-8") + b"\n"


_SAFE_FEN = 10**14  # an amount below has fewer digits than any identity number (15 or 18)


def masked(value: Any) -> Any:
    """``value`` with every identity number masked (the app's middleware skips this route): the
    lists of amounts and eligibility a household answer is mostly made of are numbers too small
    to be identity numbers and booleans, left as they are; everything else goes through
    ``mask_value``."""
    if isinstance(value, dict):
        return {k: v if k in ("eligible", "amount_fen") and _plain(v) else masked(v)
                for k, v in value.items()}  # fmt: skip
    if isinstance(value, list):
        return [masked(v) for v in value]
    return mask_value(value)


_NUMBERS = frozenset({int, bool})
_SIMPLE = frozenset({"index", "household_id", "region", "eligible", "amount_fen"})


def _masked_answers(answers: list[dict[str, Any]]) -> list[Any]:
    """``masked(answers)``, without walking each answer when none holds an identity number.

    A calculated household's answer is its index, its id and region (texts) and two lists of
    booleans and amounts. The texts of every such answer are searched for an identity number in
    one pass and the lists checked in one pass; if nothing is found the answers are returned as
    they are (10,000 answers: ≈ 20 ms instead of ≈ 55 ms). Otherwise, and for any other shape (an
    error, explanations), every answer is masked one by one."""
    if not all(a.keys() == _SIMPLE for a in answers):
        return [masked(a) for a in answers]
    texts = [a[key] for a in answers for key in ("household_id", "region")]
    if not _STR.issuperset(map(type, texts)) or holds_identity_number("\n".join(texts)):
        return [masked(a) for a in answers]
    lists = [a[key] for a in answers for key in ("eligible", "amount_fen")]
    if not (_LIST.issuperset(map(type, lists)) and _plain([a["index"] for a in answers])):
        return [masked(a) for a in answers]
    try:  # each list's least and greatest value, at C speed; a text, a list or None cannot be
        # ordered with a number (TypeError), an empty list has neither (ValueError), a decimal
        # NaN refuses to be (ArithmeticError): each falls back to the walk
        small = min(map(min, lists)) > -_SAFE_FEN and max(map(max, lists)) < _SAFE_FEN
    except (TypeError, ValueError, ArithmeticError):
        small = False
    return answers if small else [masked(a) for a in answers]


_STR = frozenset({str})
_LIST = frozenset({list})


def _plain(values: Any) -> bool:
    # Whole lists at C speed: the types present, then the smallest and largest value.
    return (
        isinstance(values, list)
        and _NUMBERS.issuperset(map(type, values))
        and (not values or (min(values) > -_SAFE_FEN and max(values) < _SAFE_FEN))
    )
