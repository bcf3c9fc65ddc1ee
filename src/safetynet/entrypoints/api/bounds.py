"""The bounded types every request field of the API is declared with, defined once.

Whatever a client sends must either fit the database and the rules core or be refused with 422
naming the field: ids within PostgreSQL's integer columns (the narrower of the two backends),
offsets and limits within a page, amounts exact (never a float) and within a bigint of fen,
text of bounded length without control characters, and free-form JSON (household facts, a
verification report) bounded in size and depth with every amount checked as an amount.

The schema states technical limits only. The business maximum of an amount is a dated
parameter (``common.intake.maximum_amount``, the one the imports use): ``refuse_amounts_above``
checks it for the request's date and region once the route knows them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, Field, StringConstraints

from safetynet.registry.disclosure import MIN_REASON_LENGTH

if TYPE_CHECKING:
    from safetynet.policy.parameters import ParameterTree

__all__ = [
    "AMOUNT_FEN_MAX",
    "INT4_MAX",
    "INT8_MAX",
    "MAXIMUM_AMOUNT_PARAMETER",
    "AlertId",
    "AmountFen",
    "AppealIdPath",
    "ApplicationIdPath",
    "BusinessDate",
    "BusinessDateQuery",
    "DisclosureReason",
    "HouseholdFacts",
    "IdNumberText",
    "JsonObject",
    "Limit",
    "LongText",
    "Name",
    "Names",
    "Offset",
    "PersonIdPath",
    "Programs",
    "Reasons",
    "RegionCode",
    "RegionPath",
    "ShortText",
    "TrackIdPath",
    "Version",
    "YearMonth",
    "check_household_facts",
    "maximum_amount_fen",
    "refuse_amounts_above",
]

INT4_MAX = 2**31 - 1
"""PostgreSQL ``integer``: every id and version column of the case tables."""
INT8_MAX = 2**63 - 1
"""PostgreSQL ``bigint`` (and SQLite's integer): amount columns."""

MAXIMUM_AMOUNT_PARAMETER = "common.intake.maximum_amount"
"""The largest amount accepted, in yuan: a dated parameter, overridable per region."""

AMOUNT_FEN_MAX = 2**63 - 1024
"""The technical bound of an amount in fen stated in the schema: the largest value within a
bigint that a double holds exactly (FastAPI's OpenAPI model writes bounds as floats, and 2^63-1
would be written as 2^63)."""

# The technical bound of an amount in yuan: what a bigint of fen holds.
_MAX_YUAN = Decimal(INT8_MAX) / 100
_FEN = Decimal("0.01")

_JSON_SAFE_INT = 2**53
"""Integers in free-form JSON: those every JSON reader keeps exact."""
_MAX_DEPTH = 8
_MAX_ITEMS = 2_000  # values in one free-form object, all levels together
_MAX_KEY = 100

# Line breaks and tabs are text; every other C0/C1 control character (NUL included), lone
# surrogates (not text, and PostgreSQL cannot store them) and non-characters are refused.
_TEXT_WHITESPACE = frozenset("\n\r\t")


def _bad_character(text: str, *, multiline: bool) -> str | None:
    if text.isprintable():  # no character of categories C* (Cc, Cs, Cn included): nothing to find
        return None
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cc" and not (multiline and ch in _TEXT_WHITESPACE):
            return f"U+{ord(ch):04X}"
        if category == "Cs" or (category == "Cn" and (ord(ch) & 0xFFFE) == 0xFFFE):
            return f"U+{ord(ch):04X}"
    return None


def _clean_line(text: str) -> str:
    bad = _bad_character(text, multiline=False)
    if bad is not None:
        raise ValueError(f"contains the control or invalid character {bad}")
    return text


def _clean_text(text: str) -> str:
    bad = _bad_character(text, multiline=True)
    if bad is not None:
        raise ValueError(f"contains the control or invalid character {bad}")
    return text


# -- ids, versions, paging ----------------------------------------------------------------------

_ID = {"ge": 1, "le": INT4_MAX}

TrackIdPath = Annotated[int, Path(description="A track id.", **_ID)]
ApplicationIdPath = Annotated[int, Path(description="An application id.", **_ID)]
AppealIdPath = Annotated[int, Path(description="An appeal id.", **_ID)]
PersonIdPath = Annotated[int, Path(description="A person id (the registry's).", **_ID)]
AlertId = Annotated[int, Field(**_ID)]
Version = Annotated[
    int, Field(ge=1, le=INT4_MAX, description="The version the user saw (optimistic locking).")
]
Offset = Annotated[int, Query(ge=0, le=INT4_MAX, description="Rows to skip.")]
Limit = Annotated[int, Query(ge=1, le=500, description="Rows to return (at most 500).")]

_REGION = r"^[0-9]{6}$"
RegionCode = Annotated[
    str,
    StringConstraints(pattern=_REGION),
    Field(description="A region code: 6 digits (GB/T 2260)."),
]
RegionPath = Annotated[
    str, Path(pattern=_REGION, description="A region code: 6 digits (GB/T 2260).")
]
YearMonth = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}$")]

# -- dates ------------------------------------------------------------------------------------------

EARLIEST = dt.date(1949, 10, 1)
LATEST = dt.date(2100, 12, 31)
_DATES = f"{EARLIEST} … {LATEST}"
# A hard technical bound, not the plausibility window of a record (the domain checks that): dates
# near 9999-12-31 overflow deadline arithmetic, and the calendars (lunar holidays included) are
# computed for years up to 2100.
BusinessDate = Annotated[dt.date, Field(ge=EARLIEST, le=LATEST, description=f"A date, {_DATES}.")]
BusinessDateQuery = Annotated[
    dt.date | None, Query(ge=EARLIEST, le=LATEST, description=f"A date, {_DATES}; default today.")
]

# -- money ----------------------------------------------------------------------------------------

AmountFen = Annotated[
    int,
    Field(
        ge=0,
        le=AMOUNT_FEN_MAX,
        description=f"An amount in fen; at most the parameter {MAXIMUM_AMOUNT_PARAMETER} (yuan) "
        "in force on the request's date in its region (422 above it).",
    ),
]

# -- text -----------------------------------------------------------------------------------------

Name = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_clean_line)]
"""A person's or a user's name, a role: one line, as stored (100 characters)."""
ShortText = Annotated[str, StringConstraints(max_length=200), AfterValidator(_clean_line)]
"""A one-line value: a household number, a relation, an offer of work."""
LongText = Annotated[str, StringConstraints(max_length=4_000), AfterValidator(_clean_text)]
"""Reasons, grounds, findings, notes: line breaks allowed, 4,000 characters."""
DisclosureReason = Annotated[
    str,
    StringConstraints(min_length=MIN_REASON_LENGTH, max_length=1_000),
    AfterValidator(_clean_text),
]
"""Why a full identity number is read: kept in the audit log (at least a few characters)."""
IdNumberText = Annotated[
    str, StringConstraints(min_length=15, max_length=24), AfterValidator(_clean_line)
]
"""An identity number as typed (spaces or hyphens between groups allowed; checked by the case
handlers)."""

# -- free-form JSON ----------------------------------------------------------------------------


@cache
def _money_fields() -> frozenset[str]:
    from safetynet.policy.population import FIELDS, Kind, declare_all_fields

    declare_all_fields()
    return frozenset(f.name for f in FIELDS.all() if f.kind is Kind.MONEY)


# Where a value sits, as "household.members[0].wage_income": written out only for an error (a
# request of 10,000 households has hundreds of thousands of values), so a path is the root's name
# or (the parent's path, the key or index).
_Path = str | tuple[Any, str | int]


def _where(path: _Path) -> str:
    if isinstance(path, str):
        return path
    parent, key = path
    return f"{_where(parent)}[{key}]" if isinstance(key, int) else f"{_where(parent)}.{key}"


def _check_amount(value: Any, path: _Path) -> None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return  # the rules core names the wrong type
    text = str(value)
    problem = (
        _amount_problem(text) if len(text) <= _REMEMBERED else _amount_problem.__wrapped__(text)
    )
    if problem is not None:
        raise ValueError(f"{_where(path)}: {value!r} {problem}")


_REMEMBERED = 40  # amounts (as written) up to this length are checked once per process


@lru_cache(maxsize=65_536)  # a request of 10,000 households repeats its round amounts
def _amount_problem(text: str) -> str | None:
    try:
        amount = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        return None  # not a number at all: the rules core names it
    # copy_abs and comparison are exact: no arithmetic that could overflow on 1e999999999.
    if not amount.is_finite() or amount.copy_abs() > _MAX_YUAN:
        return "is not a finite amount that fits 64-bit fen"
    if amount.quantize(_FEN) != amount:  # 1e-999999999 would underflow to 0 fen silently
        return "has more than 2 decimal places (fen)"
    return None


class _Walk:
    def __init__(self, money: frozenset[str]) -> None:
        self.money = money
        self.items = 0

    def check(self, value: Any, path: _Path, depth: int) -> None:
        self.items += 1
        if self.items > _MAX_ITEMS:
            raise ValueError(f"more than {_MAX_ITEMS} values")
        if depth > _MAX_DEPTH:
            raise ValueError(f"{_where(path)}: nested more than {_MAX_DEPTH} levels")
        if type(value) is dict:  # a household, a member (before the checks of other types)
            self._check_object(value, path, depth)
        elif isinstance(value, str):
            _check_text(value, path)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int):
            if abs(value) > _JSON_SAFE_INT:
                raise ValueError(f"{_where(path)}: {value} is out of range (at most 2^53)")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"{_where(path)}: {value!r} is not a finite number")
        elif isinstance(value, Mapping):
            self._check_object(value, path, depth)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.check(item, (path, i), depth + 1)

    def _check_object(self, value: Mapping[Any, Any], path: _Path, depth: int) -> None:
        clean, money = _field_names(), self.money
        for key, item in value.items():
            key_text = key if type(key) is str else str(key)
            if key_text not in clean and (
                len(key_text) > _MAX_KEY or _bad_character(key_text, multiline=False)
            ):
                raise ValueError(f"{_where(path)}: a key is too long or has control characters")
            if key_text in money:
                _check_amount(item, (path, key_text))
            kind = type(item)
            if depth >= _MAX_DEPTH or kind not in _SCALARS:
                self.check(item, (path, key_text), depth + 1)
                continue
            # A text, a truth value or null: counted and checked here (most of a body).
            self.items += 1
            if self.items > _MAX_ITEMS:
                raise ValueError(f"more than {_MAX_ITEMS} values")
            if kind is str and (len(item) > 4_000 or not item.isprintable()):
                _check_text(item, (path, key_text))


_SCALARS = frozenset({str, bool, type(None)})


def _check_text(value: str, path: _Path) -> None:
    if len(value) > 4_000:
        raise ValueError(f"{_where(path)}: longer than 4000 characters")
    if not value.isprintable():
        bad = _bad_character(value, multiline=True)
        if bad is not None:
            raise ValueError(f"{_where(path)}: contains the control or invalid character {bad}")


@cache
def _field_names() -> frozenset[str]:
    """Keys known to be short and printable: the declared fields' names and the keys a household
    and a member are made of (checked once)."""
    from safetynet.policy.population import FIELDS, STRUCTURE_KEYS, declare_all_fields

    declare_all_fields()
    names = frozenset(f.name for f in FIELDS.all()) | STRUCTURE_KEYS
    return frozenset(n for n in names if len(n) <= _MAX_KEY and n.isprintable())


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    _Walk(frozenset()).check(value, "$", 0)
    return value


def _household_facts(value: dict[str, Any]) -> dict[str, Any]:
    _Walk(_money_fields()).check(value, "household", 0)
    return value


def check_household_facts(value: dict[str, Any], loc: tuple[str | int, ...]) -> None:
    """The bounds of ``HouseholdFacts`` for facts read outside a model (a list of many
    households): a 422 at ``loc`` naming the value that breaks them."""
    try:
        _household_facts(value)
    except ValueError as exc:
        raise RequestValidationError(
            [{"loc": loc, "msg": str(exc), "type": "value_error"}]
        ) from None


JsonObject = Annotated[dict[str, Any], AfterValidator(_bounded_json)]
"""A free-form object (a verification report): bounded in size, depth, text and numbers."""
HouseholdFacts = Annotated[dict[str, Any], AfterValidator(_household_facts)]
"""Household facts as for ``safetynet calc``: bounded like ``JsonObject``, and every amount field
(``wage_income``, ``financial_assets``…) a finite amount up to the stated maximum."""

Names = Annotated[list[Name], Field(max_length=50)]
"""People named in one step (investigators, visitors)."""
Reasons = Annotated[list[LongText], Field(max_length=50)]
"""Reasons given for one opinion or decision."""
Programs = Annotated[list[ShortText], Field(max_length=50)]


# -- the business maximum of an amount --------------------------------------------------------


def maximum_amount_fen(on: dt.date, region: str, tree: ParameterTree | None = None) -> int:
    """The largest amount accepted on ``on`` in ``region``, in fen: the intake's parameter
    (``common.intake.maximum_amount``), resolved like every parameter."""
    from safetynet.intake import intake_limits

    return intake_limits(on, region=region, tree=tree).maximum_fen


def _money_amounts(value: Any, where: str, money: frozenset[str]) -> list[tuple[str, Any, Decimal]]:
    found: list[tuple[str, Any, Decimal]] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            inner = f"{where}.{key}"
            if key in money and not isinstance(item, bool) and isinstance(item, str | int | float):
                # The schema has refused what is not a finite amount; the rules core names the
                # rest (text that is not a number at all).
                with contextlib.suppress(InvalidOperation):
                    found.append((inner, item, Decimal(str(item).strip().replace(",", ""))))
            found.extend(_money_amounts(item, inner, money))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(_money_amounts(item, f"{where}[{i}]", money))
    return found


def refuse_amounts_above(
    maximum_fen: int,
    *,
    on: dt.date,
    region: str,
    fen: Mapping[str, int | None] | None = None,
    households: Mapping[str, Mapping[str, Any] | None] | None = None,
) -> None:
    """422 naming every field above ``maximum_fen``: amounts in fen (``fen``: field → value)
    and the amount fields of household facts in yuan (``households``: field → facts)."""
    limit = f"{Decimal(maximum_fen) / 100:,.2f} yuan"
    why = f"parameter {MAXIMUM_AMOUNT_PARAMETER} in force on {on.isoformat()} in {region}"
    errors: list[dict[str, Any]] = []
    for name, value in (fen or {}).items():
        if value is not None and abs(value) > maximum_fen:
            errors.append(
                {
                    "loc": ("body", name),
                    "msg": f"{value} fen is above the maximum of {limit} ({why})",
                    "type": "less_than_equal",
                }
            )
    most = Decimal(maximum_fen) / 100
    for name, facts in (households or {}).items():
        for where, typed, amount in _money_amounts(facts, name, _money_fields()):
            if amount.copy_abs() > most:
                errors.append(
                    {
                        "loc": ("body", name),
                        "msg": f"{where}: {typed!r} is above the maximum of {limit} ({why})",
                        "type": "value_error",
                    }
                )
    if errors:
        raise RequestValidationError(errors)
