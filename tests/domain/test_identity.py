"""Identity numbers: the checks a clerk relies on when a number is typed in."""

from __future__ import annotations

import datetime as dt

import pytest

from safetynet.domain.identity import (
    Sex,
    birth_place,
    check_character,
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


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002²",  # superscript two as the check character
        "1101051949123100²X",  # ... or among the first 17 (str.isdigit() says True)
        "11010519491231002X".replace("9", "\u0669", 1),  # an Arabic-Indic nine
        "11010549123100²",  # a 15-digit number
    ],
)
def test_unicode_digits_are_refused_not_crashing(number: str) -> None:
    with pytest.raises(InputError, match=r"digit"):
        parse_identity_number(number)


def test_a_birth_date_after_the_record_date_is_refused() -> None:
    first17 = "11010520260301001"
    number = first17 + check_character(first17)
    assert parse_identity_number(number, as_of=dt.date(2026, 3, 1)).birth_date == dt.date(
        2026, 3, 1
    )
    with pytest.raises(InputError, match="after 2026-02-28"):
        parse_identity_number(number, as_of=dt.date(2026, 2, 28))
    future = "11010520990101001"
    with pytest.raises(InputError, match="after"):
        parse_identity_number(future + check_character(future))


def test_an_implausibly_early_birth_date_is_refused() -> None:
    first17 = "11010518990101001"
    number = first17 + check_character(first17)
    assert parse_identity_number(number).birth_date.year == 1899
    with pytest.raises(InputError, match="implausible"):
        parse_identity_number(number, earliest_birth=dt.date(1901, 1, 1))


def test_an_unknown_county_code_is_refused_and_a_known_one_gives_the_place() -> None:
    first17 = "99999919800101001"
    with pytest.raises(InputError, match="not a county code"):
        parse_identity_number(first17 + check_character(first17))
    place = birth_place("110105198001010014")
    assert place is not None
    assert "朝阳" in place.get("county", "")


def test_a_county_newer_than_stdnums_data_is_known_from_the_division_list() -> None:
    first17 = "33011320220101001"  # 临平区, created 2021
    number = parse_identity_number(first17 + check_character(first17))
    assert number.address_code == "330113"
    place = birth_place(number.value)
    assert place is not None
    assert "临平" in place["county"]
