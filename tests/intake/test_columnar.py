"""The column checks shared by the bulk imports give what the row validator gives."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from safetynet.errors import InputError
from safetynet.intake.columnar import parsed_by_value, plain_yuan
from safetynet.intake.values import parse_money

MAXIMUM = 100_000_000  # fen: 1,000,000 yuan


def _money(text: str) -> int:
    return parse_money(text, "wage_income", MAXIMUM)


def _row_by_row(cells: list[str]) -> list[int | None]:
    out: list[int | None] = []
    for cell in cells:
        try:
            out.append(_money(cell.strip()))
        except InputError:
            out.append(None)
    return out


def _by_column(cells: list[str]) -> tuple[list[int | None], list[bool]]:
    frame = pl.DataFrame({"c": cells}, schema={"c": pl.Utf8})
    value, ok = parsed_by_value(frame, "c", _money, pl.Int64, plain=plain_yuan("c", MAXIMUM))
    result = frame.select(value.alias("value"), ok.alias("ok"))
    return result.get_column("value").to_list(), result.get_column("ok").to_list()


def test_plain_amounts_are_read_as_the_row_validator_reads_them() -> None:
    cells = ["0", "12", "12.5", "12.50", "007.05", "1000000", "1000000.00", "1000000.01",
             "99999999999999", "", " 12 ", "1,200.50", "12,50", "-3", "+3", "5.", ".5",
             "1.234", "１２", "abc", "1e3", "12.5.1"]  # fmt: skip
    values, ok = _by_column(cells)
    assert values == _row_by_row(cells)
    # An amount above the maximum, or one the parser refuses, is not accepted.
    assert ok == [v is not None for v in values]
    assert dict(zip(cells, values, strict=True))["12.5"] == 1250
    assert dict(zip(cells, values, strict=True))["1000000.01"] is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.from_regex(r"[0-9]{1,16}(\.[0-9]{0,3})?", fullmatch=True),
            st.text(alphabet="0123456789.,+- １２", max_size=12),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_any_amount_cell_is_read_as_the_row_validator_reads_it(cells: list[str]) -> None:
    values, ok = _by_column(cells)
    assert values == _row_by_row(cells)
    assert ok == [v is not None for v in values]
