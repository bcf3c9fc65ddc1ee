"""Resident identity numbers (GB 11643-1999): validation, 15→18 conversion, birth date, sex, masking."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from safetynet.domain.regions import NATION_CODE, default_registry
from safetynet.errors import InputError

# GB 11643 numbers were first issued in 1984 (15 digits); no holder was born before this year.
EARLIEST_BIRTH_YEAR = 1850


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True, slots=True)
class IdentityNumber:
    """A validated 18-character resident identity number."""

    value: str

    @property
    def birth_date(self) -> dt.date:
        return dt.date(int(self.value[6:10]), int(self.value[10:12]), int(self.value[12:14]))

    @property
    def sex(self) -> Sex:
        # Positions 15-17 are the sequence number: odd for men, even for women.
        return Sex.MALE if int(self.value[16]) % 2 == 1 else Sex.FEMALE

    @property
    def address_code(self) -> str:
        return self.value[:6]

    @property
    def masked(self) -> str:
        return mask_identity_number(self.value)

    def __str__(self) -> str:
        # Printing an identity number must never reveal it by accident.
        return self.masked

    def __repr__(self) -> str:
        return f"IdentityNumber({self.masked!r})"


def mask_identity_number(value: str) -> str:
    """Hide the birth date and sequence: keep the first 3 and last 4 characters."""
    value = value.strip()
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def parse_identity_number(
    value: str,
    field: str = "id_number",
    row: int | None = None,
    *,
    as_of: dt.date | None = None,
    earliest_birth: dt.date | None = None,
) -> IdentityNumber:
    """Validate an 18-digit number, or convert a 15-digit one; say which check failed.

    The birth date in the number must be a real date, not after ``as_of`` (default today) and
    not before ``earliest_birth`` (the intake's plausibility limit, when given). The checks are
    those of ``stdnum.cn.ric`` (format, check character, birth date, birth place); the messages
    are ours, so a clerk knows which one failed.
    """
    number = ric.compact(str(value)).upper()
    if len(number) == 15:
        if not _ASCII_DIGITS.fullmatch(number):
            raise InputError(field, "a 15-digit identity number must be all digits (0-9)", row)
        # Old numbers carry a 2-digit year of the 1900s and no check character.
        number = number[:6] + "19" + number[6:]
        _check_birth_date(number, field, row, as_of, earliest_birth)
        number += check_character(number)
        _check_birth_place(number, field, row)
        return IdentityNumber(number)
    if len(number) != 18:
        raise InputError(
            field,
            f"an identity number has 18 characters (or 15 for old ones), got {len(number)}",
            row,
        )
    # ASCII digits only: a superscript or full-width digit passes str.isdigit() but is not one.
    if not _ASCII_DIGITS.fullmatch(number[:17]):
        raise InputError(field, "the first 17 characters must be digits (0-9)", row)
    if number[17] not in "0123456789X":
        raise InputError(field, "the check character must be a digit or X", row)
    _check_birth_date(number, field, row, as_of, earliest_birth)
    expected = check_character(number[:17])
    if number[17] != expected:
        raise InputError(
            field,
            f"check character is {number[17]} but the first 17 digits give {expected} "
            f"({mask_identity_number(number)})",
            row,
        )
    _check_birth_place(number, field, row)
    return IdentityNumber(number)


_ASCII_DIGITS = re.compile(r"[0-9]+")


def check_character(first17: str) -> str:
    """The GB 11643 check character of 17 digits (stdnum expects a placeholder last character)."""
    return str(ric.calc_check_digit(first17 + "0"))


def _check_birth_date(
    number: str,
    field: str,
    row: int | None,
    as_of: dt.date | None,
    earliest_birth: dt.date | None,
) -> None:
    try:
        born = ric.get_birth_date(number)
    except (ValidationError, ValueError):
        raise InputError(
            field, f"birth date {number[6:14]} in the identity number is not a real date", row
        ) from None
    if born.year < EARLIEST_BIRTH_YEAR or (earliest_birth is not None and born < earliest_birth):
        raise InputError(
            field, f"birth year {born.year} in the identity number is implausible", row
        )
    latest = as_of or dt.date.today()
    if born > latest:
        raise InputError(
            field,
            f"birth date {born.isoformat()} in the identity number is after {latest.isoformat()}",
            row,
        )


def birth_place(number: str) -> dict[str, str] | None:
    """stdnum's province and county of a number's first 6 digits, or None if the code was never
    a county.

    Numbers were issued from 1984 with the county code of that time, so a code that stdnum
    dates after the birth year (someone born in 1880 in a county coded later) is still known.
    """
    if number[:6] not in county_codes():
        return None
    try:
        year = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])).year
    except ValueError:
        return _birth_place(number)
    # The answer depends only on the code and the birth year: looked up once per pair (a county's
    # list has millions of numbers and a few hundred such pairs; stdnum's lookup costs ~1 ms).
    return dict(_birth_place_in_year(number[:6], year))


@functools.lru_cache(maxsize=65536)
def _birth_place_in_year(code: str, year: int) -> dict[str, str]:
    return _birth_place(f"{code}{year:04d}0101" + "0000")


def _birth_place(number: str) -> dict[str, str]:
    try:
        return ric.get_birth_place(number)
    except (ValidationError, KeyError):  # stdnum raises KeyError for a province-only code
        pass
    found = numdb.get("cn/loc").info(number[:6])
    place = {k: v for _, props in found for k, v in props.items()}
    if "county" not in place:
        place["county"] = default_registry().get(number[:6]).name
    return place


@functools.cache
def county_codes() -> frozenset[str]:
    """Every 6-digit code of a county at some time: stdnum's ``cn/loc`` database, and the
    packaged MCA division list (counties created after stdnum's data, such as 330113 临平区)."""
    listed = {r.code for r in default_registry().regions() if r.code != NATION_CODE}
    return frozenset(_stdnum_counties()) | frozenset(listed)


def _stdnum_counties() -> Iterator[str]:
    def walk(nodes: Any, prefix: str, county: bool) -> Iterator[str]:
        for length, low, high, props, children in nodes:
            for value in range(int(low), int(high) + 1):
                code = prefix + str(value).zfill(length)
                named = county or "county" in props
                if len(code) == 6 and named:
                    yield code
                yield from walk(children, code, named)

    return walk(numdb.get("cn/loc").prefixes, "", False)


def _check_birth_place(number: str, field: str, row: int | None) -> None:
    if birth_place(number) is None:
        raise InputError(
            field,
            f"the first 6 digits {number[:6]} are not a county code "
            f"({mask_identity_number(number)})",
            row,
        )


def is_valid_identity_number(value: str) -> bool:
    try:
        parse_identity_number(value)
    except InputError:
        return False
    return True
