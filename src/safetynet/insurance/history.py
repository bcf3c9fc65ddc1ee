"""From a person's recorded monthly contributions to the inputs of the pension formula.

``summarize`` takes the monthly records of one scheme and returns the contribution months N, the
gaps (listed, never filled), the average contribution index Ī (exact: the mean over contributed
months of base ÷ that month's average wage, as a ``Fraction``) and the personal-account balance with
yearly crediting. ``pension_inputs`` turns a summary into the employee_pension input fields.

Conventions (docs/contributions.md):
- the average wage of a month is ``insurance.employee_pension.average_wage_monthly`` in force on the
  first day of that month in the region where the month was paid;
- interest is credited once a year, at 31 December: opening balance × rate + that year's credits ×
  rate × ``insurance.pension_account.current_year_credit_factor`` (劳办发〔1997〕116号, [M]),
  rounded to the fen; the rate of year Y is ``insurance.pension_account.crediting_rate`` in force
  on 1 January of Y. A year that has not ended by ``as_of`` earns no interest yet [I];
- two records for the same month, a month after ``as_of``, a month that is not YYYY-MM or a base
  of 0 where an index is wanted are errors, not guesses.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from safetynet.domain.money import Rounding, format_yuan, mul_ratio
from safetynet.errors import InputError

__all__ = [
    "AVERAGE_WAGE",
    "CREDITING_RATE",
    "CURRENT_YEAR_FACTOR",
    "HistorySummary",
    "MonthlyContribution",
    "YearOfAccount",
    "pension_inputs",
    "summarize",
    "summarize_with_parameters",
]

AVERAGE_WAGE = "insurance.employee_pension.average_wage_monthly"
CREDITING_RATE = "insurance.pension_account.crediting_rate"
CURRENT_YEAR_FACTOR = "insurance.pension_account.current_year_credit_factor"
_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, slots=True)
class MonthlyContribution:
    """One recorded month of one scheme: base and account credit in fen, place of payment."""

    month: str  # YYYY-MM
    base_fen: int
    account_credit_fen: int
    region: str = "000000"


@dataclass(frozen=True, slots=True)
class YearOfAccount:
    """The personal account in one calendar year (amounts in fen)."""

    year: int
    months: int
    opening_fen: int
    credits_fen: int
    rate: Decimal | None  # None: the year has not ended by ``as_of``, no interest yet
    interest_fen: int
    closing_fen: int


@dataclass(frozen=True)
class HistorySummary:
    months: int  # N, months with a contribution
    first_month: str | None
    last_month: str | None
    gaps: tuple[tuple[str, str], ...]  # missing months between first and last, as ranges
    average_index: Fraction | None  # exact Ī; None when no index was asked for
    account_balance_fen: int
    years: tuple[YearOfAccount, ...]

    @property
    def gap_months(self) -> int:
        return sum(_index(b) - _index(a) + 1 for a, b in self.gaps)

    @property
    def contribution_years(self) -> Fraction:
        return Fraction(self.months, 12)

    def average_index_rounded(self, places: int = 4) -> Decimal:
        """Ī rounded half-up to ``places`` decimals (for display and the pension inputs)."""
        if self.average_index is None:
            raise InputError("average_index", "no contribution index was computed")
        exact = Decimal(self.average_index.numerator) / Decimal(self.average_index.denominator)
        return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:]) - 1


def _month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _check_month(month: str, where: str) -> str:
    if not _MONTH.fullmatch(month):
        raise InputError(where, f"{month!r} is not a month (YYYY-MM)")
    return month


def summarize(
    records: Iterable[MonthlyContribution],
    *,
    as_of: str,
    crediting_rate: Callable[[int], Decimal],
    current_year_factor: Callable[[int], Decimal],
    average_wage: Callable[[str, str], int] | None = None,
    rounding: Rounding = Rounding.HALF_UP,
) -> HistorySummary:
    """Summarize one scheme's monthly records up to the end of month ``as_of`` (YYYY-MM).

    ``average_wage(region, month)`` gives the average monthly wage in fen (omit it for schemes
    without a wage index, e.g. the residents' pension); ``crediting_rate(year)`` and
    ``current_year_factor(year)`` give the crediting rule of each ended year.
    """
    _check_month(as_of, "as_of")
    by_month: dict[str, MonthlyContribution] = {}
    for i, r in enumerate(records):
        where = f"records[{i}].month"
        _check_month(r.month, where)
        if r.month > as_of:
            raise InputError(where, f"{r.month} is after {as_of}, the month summarized to")
        if r.base_fen < 0 or r.account_credit_fen < 0:
            raise InputError(f"records[{i}]", f"negative amount in {r.month}")
        if r.month in by_month:
            other = by_month[r.month]
            raise InputError(
                where,
                f"overlap: {r.month} is recorded twice (regions {other.region} and {r.region}); "
                "a month counts once — correct the record",
            )
        by_month[r.month] = r
    months = sorted(by_month)
    if not months:
        return HistorySummary(0, None, None, (), None, 0, ())

    present = {_index(m) for m in months}
    gaps: list[tuple[str, str]] = []
    start: int | None = None
    for k in range(_index(months[0]), _index(months[-1]) + 1):
        if k not in present and start is None:
            start = k
        elif k in present and start is not None:
            gaps.append((_month(start), _month(k - 1)))
            start = None

    average: Fraction | None = None
    if average_wage is not None:
        total = Fraction(0)
        for m in months:
            r = by_month[m]
            wage = average_wage(r.region, m)
            if wage <= 0:
                raise InputError(AVERAGE_WAGE, f"is {wage} for {r.region} in {m}; it must be > 0")
            if r.base_fen <= 0:
                raise InputError(
                    f"base ({m})", "is 0: a month without a base has no contribution index"
                )
            total += Fraction(r.base_fen, wage)
        average = total / len(months)

    years: list[YearOfAccount] = []
    balance = 0
    last_year, last_month = int(as_of[:4]), int(as_of[5:])
    for year in range(int(months[0][:4]), last_year + 1):
        in_year = [by_month[m] for m in months if int(m[:4]) == year]
        credits = sum(r.account_credit_fen for r in in_year)
        ended = year < last_year or last_month == 12
        rate: Decimal | None = None
        interest = 0
        if ended:
            rate = crediting_rate(year)
            factor = current_year_factor(year)
            interest = int(mul_ratio(balance, rate, rounding)) + int(
                mul_ratio(credits, rate * factor, rounding)
            )
        closing = balance + credits + interest
        years.append(YearOfAccount(year, len(in_year), balance, credits, rate, interest, closing))
        balance = closing
    return HistorySummary(
        months=len(months),
        first_month=months[0],
        last_month=months[-1],
        gaps=tuple(gaps),
        average_index=average,
        account_balance_fen=balance,
        years=tuple(years),
    )


def summarize_with_parameters(
    records: Iterable[MonthlyContribution],
    *,
    as_of: str,
    account_region: str = "000000",
    with_index: bool = True,
    overrides: Mapping[str, Any] | None = None,
) -> HistorySummary:
    """``summarize`` with the rules engine's parameters: the average wage of each month's region,
    the crediting rate and factor of ``account_region`` (where the account is kept)."""
    from safetynet.policy.engine import Params  # deferred: loads the parameter tree

    cache: dict[tuple[str, dt.date], Params] = {}

    def params(region: str, on: dt.date) -> Params:
        key = (region, on)
        if key not in cache:
            cache[key] = Params(on, region, overrides=overrides)
        return cache[key]

    def wage(region: str, month: str) -> int:
        return params(region, dt.date(int(month[:4]), int(month[5:]), 1)).fen(AVERAGE_WAGE)

    def rate(year: int) -> Decimal:
        return params(account_region, dt.date(year, 1, 1)).ratio(CREDITING_RATE)

    def factor(year: int) -> Decimal:
        return params(account_region, dt.date(year, 1, 1)).ratio(CURRENT_YEAR_FACTOR)

    mode = params(account_region, dt.date(int(as_of[:4]), int(as_of[5:]), 1)).rounding(
        "common.rounding.mode"
    )
    return summarize(
        records,
        as_of=as_of,
        crediting_rate=rate,
        current_year_factor=factor,
        average_wage=wage if with_index else None,
        rounding=mode,
    )


def pension_inputs(summary: HistorySummary) -> dict[str, Any]:
    """The employee_pension input fields a summary answers (JSON values, as for ``calc``)."""
    out: dict[str, Any] = {
        "employee_pension_contribution_months": summary.months,
        "employee_pension_account_balance": format_yuan(summary.account_balance_fen),
    }
    if summary.average_index is not None:
        out["employee_pension_average_index"] = int(summary.average_index_rounded(4) * 10_000)
    return out
