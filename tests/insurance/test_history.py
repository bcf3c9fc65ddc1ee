"""A recorded contribution history becomes pension inputs: months, gaps, index, account balance.

Every expected figure is computed by hand in the comments."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safetynet.errors import CoverageError, InputError
from safetynet.insurance.history import (
    MonthlyContribution,
    pension_inputs,
    summarize,
    summarize_with_parameters,
)

RATES = {2020: Decimal("0.0604"), 2021: Decimal("0.0669")}
FACTOR = Decimal("0.5415")
WAGES = {2020: 800_000, 2021: 900_000}  # fen per month [I]


def months(year: int, first: int, last: int) -> list[str]:
    return [f"{year}-{m:02d}" for m in range(first, last + 1)]


def two_years() -> list[MonthlyContribution]:
    # 2020: base 10,000, account 8 % = 800 a month; 2021 Jan-Jun: base 12,000, account 960
    return [MonthlyContribution(m, 1_000_000, 80_000, "110105") for m in months(2020, 1, 12)] + [
        MonthlyContribution(m, 1_200_000, 96_000, "110105") for m in months(2021, 1, 6)
    ]


def run(records: list[MonthlyContribution], as_of: str):  # type: ignore[no-untyped-def]
    return summarize(
        records,
        as_of=as_of,
        crediting_rate=RATES.__getitem__,
        current_year_factor=lambda _year: FACTOR,
        average_wage=lambda _region, month: WAGES[int(month[:4])],
    )


def test_months_index_and_balance_of_a_history_in_progress() -> None:
    s = run(two_years(), "2021-06")
    assert s.months == 18
    assert s.gaps == ()
    # Ī = (12 × 10,000/8,000 + 6 × 12,000/9,000) / 18 = (15 + 8) / 18 = 23/18 exactly
    assert s.average_index == Fraction(23, 18)
    assert s.average_index_rounded(4) == Decimal("1.2778")
    # 2020: credits 9,600.00; interest = 9,600 × 6.04 % × 0.5415 = 313.98336 → 313.98
    y2020, y2021 = s.years
    assert (y2020.credits_fen, y2020.interest_fen, y2020.closing_fen) == (960_000, 31_398, 991_398)
    # 2021 has not ended by June: credits 6 × 960 = 5,760.00, no interest yet
    assert (y2021.credits_fen, y2021.rate, y2021.interest_fen) == (576_000, None, 0)
    assert s.account_balance_fen == 991_398 + 576_000  # 15,673.98


def test_a_year_that_has_ended_earns_interest_on_the_opening_balance_and_its_credits() -> None:
    s = run(two_years(), "2021-12")
    # 9,913.98 × 6.69 % = 663.245262 → 663.25; 5,760 × 6.69 % × 0.5415 = 208.663776 → 208.66
    assert s.years[1].interest_fen == 66_325 + 20_866
    assert s.account_balance_fen == 991_398 + 576_000 + 66_325 + 20_866  # 16,545.89


def test_simple_year_end_interest_when_the_factor_is_zero() -> None:
    s = summarize(
        two_years(),
        as_of="2021-12",
        crediting_rate=RATES.__getitem__,
        current_year_factor=lambda _year: Decimal(0),
    )
    # 2020: no interest on its own credits; 2021: 9,600 × 6.69 % = 642.24
    assert [y.interest_fen for y in s.years] == [0, 64_224]
    assert s.average_index is None


def test_gaps_are_listed_never_filled() -> None:
    recorded = ["2020-01", "2020-02", "2020-05", "2020-06", "2020-09"]
    s = run([MonthlyContribution(m, 800_000, 64_000) for m in recorded], "2020-10")
    assert s.months == 5
    assert s.gaps == (("2020-03", "2020-04"), ("2020-07", "2020-08"))
    assert s.gap_months == 4
    assert s.average_index == 1  # every base equals the average wage


def test_a_gap_across_a_year_end() -> None:
    recorded = ["2020-11", "2021-03"]
    s = run([MonthlyContribution(m, 800_000, 0) for m in recorded], "2021-03")
    assert s.gaps == (("2020-12", "2021-02"),)


def test_overlapping_months_are_an_error_naming_both_places() -> None:
    records = [
        MonthlyContribution("2020-03", 800_000, 64_000, "110105"),
        MonthlyContribution("2020-03", 900_000, 72_000, "310115"),
    ]
    with pytest.raises(InputError, match=r"overlap: 2020-03 is recorded twice.*110105.*310115"):
        run(records, "2020-12")


def test_months_after_the_summary_month_and_bad_months_are_errors() -> None:
    with pytest.raises(InputError, match="after 2020-05"):
        run([MonthlyContribution("2020-06", 800_000, 0)], "2020-05")
    with pytest.raises(InputError, match="not a month"):
        run([MonthlyContribution("2020-13", 800_000, 0)], "2020-12")


def test_a_zero_base_has_no_index() -> None:
    with pytest.raises(InputError, match="no contribution index"):
        run([MonthlyContribution("2020-06", 0, 0)], "2020-12")


def test_an_empty_history() -> None:
    s = run([], "2025-01")
    assert (s.months, s.account_balance_fen, s.average_index) == (0, 0, None)


def test_pension_inputs_for_the_employee_pension_program() -> None:
    assert pension_inputs(run(two_years(), "2021-06")) == {
        "employee_pension_contribution_months": 18,
        "employee_pension_account_balance": "15673.98",
        "employee_pension_average_index": 12778,
    }


def test_with_the_parameters_of_the_rules_engine() -> None:
    # national crediting rates 2020 6.04 % [M]; the local average wage is an override [I]
    s = summarize_with_parameters(
        two_years()[:12],
        as_of="2020-12",
        overrides={"insurance.employee_pension.average_wage_monthly": 800_000},
    )
    assert s.average_index == Fraction(5, 4)
    assert s.account_balance_fen == 991_398


def test_without_a_local_average_wage_the_error_names_the_parameter() -> None:
    with pytest.raises(CoverageError, match=r"insurance\.employee_pension\.average_wage_monthly"):
        summarize_with_parameters(two_years()[:1], as_of="2020-12")


def test_before_2016_the_crediting_rate_is_local_and_must_be_given() -> None:
    records = [MonthlyContribution("2015-06", 500_000, 40_000)]
    with pytest.raises(CoverageError, match=r"insurance\.pension_account\.crediting_rate"):
        summarize_with_parameters(records, as_of="2016-01", with_index=False)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(0, 119), min_size=1, max_size=60, unique=True),
    st.integers(1, 10_000_000),
)
def test_one_more_month_of_contributions_never_lowers_the_balance_or_the_months(
    offsets: list[int], credit: int
) -> None:
    def month(k: int) -> str:
        return f"{2016 + k // 12}-{k % 12 + 1:02d}"

    rates = {y: Decimal("0.03") for y in range(2016, 2027)}
    base = [MonthlyContribution(month(k), 800_000, credit) for k in offsets[:-1]]
    more = [*base, MonthlyContribution(month(offsets[-1]), 800_000, credit)]

    def total(records: list[MonthlyContribution]) -> tuple[int, int]:
        s = summarize(
            records,
            as_of="2025-12",
            crediting_rate=rates.__getitem__,
            current_year_factor=lambda _y: FACTOR,
        )
        return s.months, s.account_balance_fen

    assert total(more) >= total(base)
    assert total(more)[0] == total(base)[0] + 1
