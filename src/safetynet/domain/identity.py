"""Resident identity numbers (GB 11643-1999): validation, 15→18 conversion, birth date, sex, masking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from stdnum.cn import ric

from safetynet.errors import InputError


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
    value: str, field: str = "id_number", row: int | None = None
) -> IdentityNumber:
    """Validate an 18-digit number, or convert a 15-digit one; say which check failed."""
    number = ric.compact(str(value)).upper()
    if len(number) == 15:
        if not number.isdigit():
            raise InputError(field, "a 15-digit identity number must be all digits", row)
        # Old numbers carry a 2-digit year of the 1900s and no check character.
        number = number[:6] + "19" + number[6:]
        _check_birth_date(number, field, row)
        number += check_character(number)
        return IdentityNumber(number)
    if len(number) != 18:
        raise InputError(
            field,
            f"an identity number has 18 characters (or 15 for old ones), got {len(number)}",
            row,
        )
    if not number[:17].isdigit():
        raise InputError(field, "the first 17 characters must be digits", row)
    if not (number[17].isdigit() or number[17] == "X"):
        raise InputError(field, "the check character must be a digit or X", row)
    _check_birth_date(number, field, row)
    expected = check_character(number[:17])
    if number[17] != expected:
        raise InputError(
            field,
            f"check character is {number[17]} but the first 17 digits give {expected} "
            f"({mask_identity_number(number)})",
            row,
        )
    return IdentityNumber(number)


def check_character(first17: str) -> str:
    """The GB 11643 check character of 17 digits (stdnum expects a placeholder last character)."""
    return str(ric.calc_check_digit(first17 + "0"))


def _check_birth_date(number: str, field: str, row: int | None) -> None:
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InputError(
            field, f"birth date {number[6:14]} in the identity number is not a real date", row
        ) from None
    if born.year < 1850:
        raise InputError(
            field, f"birth year {born.year} in the identity number is implausible", row
        )


def is_valid_identity_number(value: str) -> bool:
    try:
        parse_identity_number(value)
    except InputError:
        return False
    return True
