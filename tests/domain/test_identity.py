"""Identity numbers: the checks a clerk relies on when a number is typed in."""

from __future__ import annotations

import datetime as dt

import pytest

from safetynet.domain.identity import (
    Sex,
    is_valid_identity_number,
    mask_identity_number,
    parse_identity_number,
)
from safetynet.errors import InputError


@pytest.mark.parametrize(
    ("number", "born", "sex"),
    [
        ("11010519491231002X", dt.date(1949, 12, 31), Sex.FEMALE),
        ("440524188001010014", dt.date(1880, 1, 1), Sex.MALE),
        ("110101200001011232", dt.date(2000, 1, 1), Sex.MALE),
    ],
)
def test_valid_numbers_give_birth_date_and_sex(number: str, born: dt.date, sex: Sex) -> None:
    ident = parse_identity_number(number)
    assert ident.birth_date == born
    assert ident.sex is sex


def test_fifteen_digit_number_is_converted() -> None:
    assert parse_identity_number("110105491231002").value == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("110105194912310021", "check character is 1"),
        ("110105194913310021", "not a real date"),
        ("11010519491231002", "18 characters"),
        ("11010519491231002Y", "must be a digit or X"),
        ("11010A19491231002X", "must be digits"),
        ("11010A491231002", "must be all digits"),
    ],
)
def test_invalid_numbers_say_which_check_failed(number: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment) as info:
        parse_identity_number(number, field="members[0].id_number", row=7)
    assert info.value.field == "members[0].id_number"
    assert str(info.value).startswith("row 7, members[0].id_number:")
    assert not is_valid_identity_number(number)


def test_numbers_are_masked_when_shown() -> None:
    ident = parse_identity_number("11010519491231002X")
    assert str(ident) == "110***********002X"
    assert "19491231" not in repr(ident)
    assert mask_identity_number("123") == "***"


def test_error_messages_never_show_the_full_number() -> None:
    with pytest.raises(InputError) as info:
        parse_identity_number("110105194912310021")
    assert "110105194912310021" not in str(info.value)
