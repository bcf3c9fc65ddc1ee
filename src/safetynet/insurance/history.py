"""From a person's recorded monthly contributions to the inputs of the pension formula.

``summarize`` takes the monthly records of one scheme and returns the contribution months N, the
gaps (listed, never filled), the average contribution index Ī (exact: the mean over contributed
months of base ÷ that month's average wage, as a ``Fraction``) and the personal-account balance with
yearly crediting. ``pension_inputs`` turns a summary into the employee_pension input fields.
``pension_from_history`` goes end to end for one registry person: records → summary → the
employee_pension program with its explanation (``calculate``/``result_json``). ``summarize_batch``
does the summary for many persons at once on an int64 matrix [persons, months] with the same
results (Ī exactly, see its docstring), and ``population_from_batch`` + ``pensions_from_batch`` run
the vectorized program over them (bench/pension.py).

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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.identity import mask_identity_number, parse_identity_number
from safetynet.domain.money import Rounding, format_yuan, mul_ratio, ratio_parts
from safetynet.errors import CoverageError, InputError, UnknownNameError
from safetynet.insurance.contribution_imports import load_history
from safetynet.policy.calculate import calculate, parameter_record, result_json
from safetynet.policy.engine import Params, ProgramResult, evaluate_all, program
from safetynet.policy.parameters import NATION, Resolved
from safetynet.policy.population import Population, declare_all_fields
from safetynet.registry.repository import RegistryRepository

IntArray = npt.NDArray[np.int64]

__all__ = [
    "AVERAGE_WAGE",
    "CREDITING_RATE",
    "CURRENT_YEAR_FACTOR",
    "BatchSummary",
    "HistoryPension",
    "HistorySummary",
    "MonthlyContribution",
    "YearOfAccount",
    "half_up_units",
    "history_json",
    "pension_from_history",
    "pension_inputs",
    "pensions_from_batch",
    "population_from_batch",
    "summarize",
    "summarize_batch",
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
        """Ī rounded half-up to ``places`` decimals (for display and the pension inputs), exactly:
        integer arithmetic on the fraction, no 28-digit Decimal division before the rounding."""
        if self.average_index is None:
            raise InputError("average_index", "no contribution index was computed")
        return Decimal(half_up_units(self.average_index, 10**places)).scaleb(-places)


def half_up_units(value: Fraction, units: int) -> int:
    """``value × units`` rounded half up (away from zero for value ≥ 0) to an integer, exactly."""
    q, r = divmod(value.numerator * units, value.denominator)
    return q + (2 * r >= value.denominator)


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
    return _summarize_citing(
        records,
        as_of=as_of,
        account_region=account_region,
        with_index=with_index,
        overrides=overrides,
    )[0]


def _summarize_citing(
    records: Iterable[MonthlyContribution],
    *,
    as_of: str,
    account_region: str,
    with_index: bool,
    overrides: Mapping[str, Any] | None,
) -> tuple[HistorySummary, list[Resolved]]:
    """``summarize_with_parameters`` and every parameter value it read (to cite them)."""
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
    summary = summarize(
        records,
        as_of=as_of,
        crediting_rate=rate,
        current_year_factor=factor,
        average_wage=wage if with_index else None,
        rounding=mode,
    )
    used: dict[tuple[str, str, dt.date | None], Resolved] = {}
    for p in cache.values():
        for r in p.used():
            used.setdefault((r.name, r.level, r.start), r)
    return summary, [used[k] for k in sorted(used, key=lambda k: (k[0], str(k[2]), k[1]))]


def pension_inputs(summary: HistorySummary) -> dict[str, Any]:
    """The employee_pension input fields a summary answers (JSON values, as for ``calc``)."""
    out: dict[str, Any] = {
        "employee_pension_contribution_months": summary.months,
        "employee_pension_account_balance": format_yuan(summary.account_balance_fen),
    }
    if summary.average_index is not None:
        out["employee_pension_average_index"] = int(summary.average_index_rounded(4) * 10_000)
    return out


# -- The pension from a person's recorded history, end to end ---------------------------------

FROM_HISTORY = (
    "employee_pension_contribution_months",
    "employee_pension_average_index",
    "employee_pension_account_balance",
)
"""Inputs of employee_pension that the recorded history answers (never typed in beside it)."""
FROM_REGISTRY = ("birth_date", "sex", "id_number", "employee_pension_insured")
"""Inputs taken from the registry person."""
FLOOR, CEILING = (
    "insurance.employee_pension.base_floor_ratio",
    "insurance.employee_pension.base_ceiling_ratio",
)


def index_range(
    on: dt.date, region: str = NATION, overrides: Mapping[str, Any] | None = None
) -> tuple[int, int]:
    """The bounds of Ī in ten-thousandths: each month's base is clamped to the floor and ceiling
    ratios of the average wage (the 60–300 % of 国办发〔2019〕13号 as shipped), so its index, and
    the average of them, lies between the two ratios in force on ``on`` (before their first
    dated value, the first one: the check is a plausibility bound on recorded bases)."""
    p = Params(on, region, None, overrides)
    try:
        return int(p.ratio(FLOOR) * 10_000), int(p.ratio(CEILING) * 10_000)
    except CoverageError:
        first = min(v.start for name in (FLOOR, CEILING) for v in p.tree.history(name, NATION))
        if first <= on:
            raise
        return index_range(first, region, overrides)


def _range_text(bounds: tuple[int, int]) -> str:
    """'0.6–3.0' for (6000, 30000): each bound with at least one decimal."""
    shown = [format((Decimal(b) / 10_000).normalize(), "f") for b in bounds]
    return "–".join(t if "." in t else t + ".0" for t in shown)


@dataclass(frozen=True)
class HistoryPension:
    """The employee_pension answer computed from a recorded history, with that history."""

    masked_id_number: str
    region: str
    summary: HistorySummary
    months_after_date: int  # records after the month of the date: not part of this calculation
    member: dict[str, Any]  # the person's inputs as evaluated (no identity number)
    answer: dict[str, Any]  # safetynet.policy.calculate.result_json
    history_parameters: list[dict[str, Any]]  # what the summary read, cited (with explain)

    def to_json(self) -> dict[str, Any]:
        history = history_json(self.summary, self.months_after_date)
        if self.history_parameters:
            history["parameters"] = self.history_parameters
        return {
            **self.answer,
            "person": {"id_number": self.masked_id_number, **self.member},
            "history": history,
        }


def history_json(summary: HistorySummary, months_after_date: int = 0) -> dict[str, Any]:
    """A summary as JSON: months, gaps (listed, never filled), Ī, the account year by year."""
    index = summary.average_index
    return {
        "contribution_months": summary.months,
        "first_month": summary.first_month,
        "last_month": summary.last_month,
        "gaps": [
            {"from": a, "to": b, "months": _index(b) - _index(a) + 1} for a, b in summary.gaps
        ],
        "gap_months": summary.gap_months,
        "months_after_date": months_after_date,
        "average_index": None if index is None else str(summary.average_index_rounded(4)),
        "average_index_exact": None if index is None else str(index),
        "account_balance": format_yuan(summary.account_balance_fen),
        "account_years": [
            {
                "year": y.year,
                "months": y.months,
                "opening": format_yuan(y.opening_fen),
                "credits": format_yuan(y.credits_fen),
                "rate": None if y.rate is None else str(y.rate),
                "interest": format_yuan(y.interest_fen),
                "closing": format_yuan(y.closing_fen),
            }
            for y in summary.years
        ],
    }


def pension_from_history(
    uow: UnitOfWork,
    id_number: str,
    on: dt.date,
    *,
    region: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    explain: bool = True,
) -> HistoryPension:
    """The employee_pension of one registry person on ``on``, from the recorded history.

    ``uow`` is an open unit of work (only read). The records up to the month of ``on`` are
    summarized (``summarize_with_parameters``: each month's average wage in its region;
    crediting rates of ``region``); later records are counted, not used. Birth date
    and sex come from the registry person; ``inputs`` may add other person fields of the program
    (``pension_category``, ``employee_pension_deemed_months`` — 0 unless given —,
    ``employee_pension_deemed_index``, ``retirement_flexible_months``, …) but not those the
    history answers. ``region`` (where the pension is calculated and the account kept) defaults
    to the region of the last record. The program is evaluated by ``calculate`` with its
    explanation: no formula is written twice.
    """
    number = parse_identity_number(id_number, "id_number").value
    masked = mask_identity_number(number)
    extra = dict(inputs or {})
    for name in extra:
        if name in FROM_HISTORY:
            raise InputError(name, "comes from the recorded contribution history; not an input")
        if name in FROM_REGISTRY:
            raise InputError(name, "comes from the registry person; not an input")
    person = uow.repo(RegistryRepository).person(number)
    if person is None:
        raise UnknownNameError("person", masked, "not in the registry")
    as_of = f"{on.year:04d}-{on.month:02d}"
    rows = load_history(uow, number, "employee_pension")
    records = [
        MonthlyContribution(r.month, r.base_fen, r.account_credit_fen, r.region_code)
        for r in rows
        if r.month <= as_of
    ]
    later = len(rows) - len(records)
    if not records:
        raise InputError(
            "history",
            f"no employee_pension contribution records for {masked} up to {as_of}"
            + (f" ({later} after it)" if later else ""),
        )
    where = region or records[-1].region
    summary, cited = _summarize_citing(
        records, as_of=as_of, account_region=where, with_index=True, overrides=overrides
    )
    answered = pension_inputs(summary)
    index = answered["employee_pension_average_index"]
    bounds = index_range(on, where, overrides)
    if not bounds[0] <= index <= bounds[1]:
        raise InputError(
            "employee_pension_average_index",
            f"the recorded history gives Ī = {summary.average_index_rounded(4)}, outside "
            f"{_range_text(bounds)}: bases outside the contribution-base clamp were recorded (see "
            "the flagged imports); correct the records",
        )
    member: dict[str, Any] = {
        "birth_date": person.birth_date.isoformat(),
        "sex": person.sex,
        "employee_pension_insured": True,
        "employee_pension_deemed_months": 0,
        **answered,
        **extra,
    }
    household = {
        "household_id": masked,
        "region": where,
        "hukou_type": person.hukou_type,
        "members": [member],
    }
    ev, code = calculate(program("employee_pension"), household, on, where, overrides)
    answer = result_json(ev, on, code, explain=explain)
    history_parameters = [parameter_record(r) for r in cited] if explain else []
    return HistoryPension(masked, code, summary, later, member, answer, history_parameters)


# -- Many persons at once: a columnar summary -------------------------------------------------

_INT64_MAX = int(np.iinfo(np.int64).max)
_BLOCK_ROWS = 512  # rows per block: the temporaries of one block stay in the CPU caches


@dataclass(frozen=True)
class BatchSummary:
    """``summarize`` for many persons of one scheme, as columns (one row per person).

    ``average_index`` is Ī in ten-thousandths rounded half up exactly as ``pension_inputs`` does
    (0 where ``months`` is 0); ``first``/``last`` are column numbers (-1 where ``months`` is 0).
    """

    first_month: str  # the month of column 0
    as_of: str
    months: IntArray
    first: IntArray
    last: IntArray
    gap_months: IntArray
    average_index: IntArray
    account_balance_fen: IntArray
    exact_fallbacks: int  # persons whose Ī the bounds could not settle: computed with Fraction

    def month(self, column: int) -> str:
        return _month(_index(self.first_month) + column)


def summarize_batch(
    bases_fen: IntArray,
    wages_fen: IntArray,
    *,
    first_month: str,
    crediting_rates: Mapping[int, Decimal],
    current_year_factor: Decimal | Mapping[int, Decimal],
    as_of: str | None = None,
    credits_fen: IntArray | None = None,
    account_share: Decimal | Sequence[Decimal] | None = None,
    rounding: Rounding = Rounding.HALF_UP,
    guard_digits: int = 6,
) -> BatchSummary:
    """Summarize the employee-pension histories of many persons at once (NumPy, exact).

    ``bases_fen[p, c]`` is person p's base in month ``first_month + c`` (0 = no contribution that
    month: a gap if between the first and last contributed months); ``wages_fen[c]`` the average
    monthly wage W of that month (> 0). The account credit of each month is ``credits_fen[p, c]``,
    or, without it, base × ``account_share`` (one ratio, or one per month) rounded to the fen with
    ``rounding`` — the import's derived credit when the individual paid the full share. A matrix
    holds one record per cell, so overlaps cannot occur here: they are refused at import and by
    ``summarize``. Years from the year of ``first_month`` to that of ``as_of`` (default: the last
    column) are credited at 31 December exactly as in ``summarize`` (rate of ``crediting_rates[Y]``,
    that year's credits × rate × factor, each part rounded to the fen; no interest for a year not
    ended by ``as_of``); a rate is required for every ended year in which some account is non-zero.

    **Ī, exactly.** The months are cut into segments (runs of months in one calendar year with
    one W); within a segment Σ base ÷ W = (Σ base) ÷ W. With S = 10⁴ × 10^g (g =
    ``guard_digits``, lowered if S × 12 × the largest base would overflow int64), each segment
    gives q = ⌊S × Σ base ÷ W⌋ and a remainder. The exact X = S × Σ base ÷ W lies in [T, T + R),
    T = Σ q, R = the number of non-zero remainders (X = T when R = 0), and Ī in ten-thousandths
    is ⌊X ÷ (10^g N) + ½⌋ (half up, as ``pension_inputs``). Where both ends of the interval round
    alike that is the answer; otherwise (at most about R ÷ (10^g N) of the persons, and exact
    halves with remainders) the person's Σ base ÷ W is added up with ``Fraction``, the
    per-person method. The result equals ``summarize`` + ``pension_inputs`` (tested).
    """
    bases = np.asarray(bases_fen)
    wages = np.asarray(wages_fen)
    if bases.ndim != 2 or bases.dtype != np.int64:
        raise InputError("bases_fen", "expected an int64 array [persons, months]")
    n_persons, n_months = bases.shape
    if wages.shape != (n_months,) or wages.dtype != np.int64:
        raise InputError("wages_fen", f"expected an int64 array of {n_months} months")
    if n_months and int(wages.min()) <= 0:
        raise InputError(AVERAGE_WAGE, "every month's average wage must be > 0")
    start = _index(_check_month(first_month, "first_month"))
    end = start + n_months - 1
    until = _index(_check_month(as_of, "as_of")) if as_of is not None else end
    if until < start:
        raise InputError("as_of", f"{_month(until)} is before the first column {first_month}")
    credits_in = None if credits_fen is None else np.asarray(credits_fen)
    if credits_in is not None and (credits_in.shape != bases.shape or credits_in.dtype != np.int64):
        raise InputError("credits_fen", "expected an int64 array shaped like bases_fen")
    if credits_in is None and account_share is None:
        raise InputError("account_share", "give credits_fen or an account_share")
    shares = _shares(account_share, n_months) if credits_in is None else []
    max_base = int(bases.max()) if bases.size else 0
    if bases.size and int(bases.min()) < 0:
        raise InputError("bases_fen", "negative base")
    if credits_in is not None and credits_in.size and int(credits_in.min()) < 0:
        raise InputError("credits_fen", "negative account credit")
    first_year, last_year = start // 12, until // 12
    n_years = last_year - first_year + 1
    # Segments: runs of columns in one calendar year with one average wage. Within a segment
    # Σ base ÷ W = (Σ base) ÷ W exactly, so Ī needs one division per segment, not per month.
    seg_starts = [
        c for c in range(n_months) if c == 0 or (start + c) % 12 == 0 or wages[c] != wages[c - 1]
    ]
    seg_year = np.asarray([(start + c) // 12 - first_year for c in seg_starts], dtype=np.int64)
    seg_wage = wages[seg_starts] if n_months else wages[:0]
    longest = int(max(np.diff([*seg_starts, n_months]), default=0))  # Python int: no wrap-around

    guard = 10**guard_digits
    while guard > 1 and max_base * longest * 10_000 * guard > _INT64_MAX:
        guard //= 10
    scale = 10_000 * guard
    if max_base * longest * scale > _INT64_MAX:
        raise InputError("bases_fen", f"a base of {format_yuan(max_base)} yuan is not a base")

    months = np.zeros(n_persons, dtype=np.int64)
    first = np.full(n_persons, -1, dtype=np.int64)
    last = np.full(n_persons, -1, dtype=np.int64)
    total_q = np.zeros(n_persons, dtype=np.int64)
    inexact = np.zeros(n_persons, dtype=np.int64)
    yearly = np.zeros((n_persons, n_years), dtype=np.int64)
    cut = max(0, until - start + 1)
    for lo in range(0, n_persons if n_months else 0, _BLOCK_ROWS):
        hi = min(n_persons, lo + _BLOCK_ROWS)
        block = bases[lo:hi]
        paid = block > 0
        if cut < n_months and paid[:, cut:].any():
            raise InputError("bases_fen", f"a contribution after {_month(until)}, the as_of month")
        months[lo:hi] = paid.sum(axis=1)
        anyone = months[lo:hi] > 0
        first[lo:hi] = np.where(anyone, paid.argmax(axis=1), -1)
        last[lo:hi] = np.where(anyone, n_months - 1 - paid[:, ::-1].argmax(axis=1), -1)
        scaled = np.add.reduceat(block, seg_starts, axis=1) * scale
        q = scaled // seg_wage
        total_q[lo:hi] = q.sum(axis=1)
        inexact[lo:hi] = (scaled != q * seg_wage).sum(axis=1)
        if credits_in is not None:
            credit = credits_in[lo:hi]
            if (credit[~paid] != 0).any():
                raise InputError("credits_fen", "an account credit in a month without a base")
        else:
            credit = _derived_credits(block, shares, rounding)
        by_segment = np.add.reduceat(credit, seg_starts, axis=1)
        for j, k in enumerate(seg_year):
            yearly[lo:hi, k] += by_segment[:, j]

    average, fallbacks = _average_index(bases, wages, months, total_q, inexact, guard)

    balance = np.zeros(n_persons, dtype=np.int64)
    for k in range(n_years):
        year = first_year + k
        credits = yearly[:, k]
        ended = year < last_year or until % 12 == 11
        if ended and (balance.any() or credits.any()):
            if year not in crediting_rates:
                raise InputError(CREDITING_RATE, f"no crediting rate for {year}")
            rate = Decimal(crediting_rates[year])
            factor = Decimal(
                current_year_factor[year]
                if isinstance(current_year_factor, Mapping)
                else current_year_factor
            )
            interest = mul_ratio(balance, rate, rounding) + mul_ratio(
                credits, rate * factor, rounding
            )
            balance = balance + credits + interest
        else:
            balance = balance + credits
    gap = np.where(months > 0, last - first + 1 - months, 0)
    return BatchSummary(
        first_month=first_month,
        as_of=_month(until),
        months=months,
        first=first,
        last=last,
        gap_months=gap.astype(np.int64),
        average_index=average,
        account_balance_fen=balance.astype(np.int64),
        exact_fallbacks=fallbacks,
    )


def _shares(share: Decimal | Sequence[Decimal] | None, n_months: int) -> list[Decimal]:
    if share is None:
        return []
    if isinstance(share, Decimal | int | str):
        return [Decimal(share)] * n_months
    out = [Decimal(s) for s in share]
    if len(out) != n_months:
        raise InputError("account_share", f"expected one ratio per month ({n_months})")
    return out


def _derived_credits(block: IntArray, shares: list[Decimal], rounding: Rounding) -> IntArray:
    """base × share of its month, rounded to the fen (``mul_ratio``); runs of equal share. Half up
    on amounts ≥ 0 is ⌊(2 × base × num + den) ÷ 2 den⌋: one division by a scalar per cell."""
    out = np.empty_like(block)
    k = 0
    while k < len(shares):
        j = k
        while j < len(shares) and shares[j] == shares[k]:
            j += 1
        cells = block[:, k:j]
        if rounding is Rounding.HALF_UP:
            num, den = ratio_parts(shares[k])
            np.floor_divide(cells * (2 * num) + den, 2 * den, out=out[:, k:j])
        else:
            out[:, k:j] = mul_ratio(np.ascontiguousarray(cells), shares[k], rounding)
        k = j
    return out


def _average_index(
    bases: IntArray,
    wages: IntArray,
    months: IntArray,
    total_q: IntArray,
    inexact: IntArray,
    guard: int,
) -> tuple[IntArray, int]:
    """Ī in ten-thousandths, half up, from the bounds T ≤ X < T + R (see ``summarize_batch``)."""
    n = np.maximum(months, 1)
    d = guard * n
    low = (2 * total_q + d) // (2 * d)
    high = np.where(inexact > 0, (2 * (total_q + inexact) + d - 1) // (2 * d), low)
    average = np.where(months > 0, low, 0).astype(np.int64)
    unsettled = np.flatnonzero((months > 0) & (low != high))
    for row in unsettled:
        paid = np.flatnonzero(bases[row] > 0)
        total = sum((Fraction(int(bases[row, c]), int(wages[c])) for c in paid), start=Fraction(0))
        average[row] = half_up_units(total / len(paid), 10_000)
    return average, len(unsettled)


def population_from_batch(
    summary: BatchSummary,
    birth_date: npt.NDArray[np.int32],
    sex: npt.NDArray[np.int8],
    *,
    category: npt.NDArray[np.int8] | None = None,
    deemed_months: IntArray | None = None,
    deemed_index: IntArray | None = None,
) -> Population:
    """One person per household, with the employee_pension inputs from the batch summary.

    ``birth_date`` as YYYYMMDD, ``sex`` as the field's codes (0 male, 1 female), ``category`` as
    ``pension_category`` codes (0 auto). Persons without a contributed month are not insured
    here. Ī outside the contribution-base clamp (``index_range``) is an error naming the first such row, never clipped.
    """
    declare_all_fields()
    n = len(summary.months)
    insured = summary.months > 0
    bounds = index_range(dt.date.fromisoformat(summary.as_of + "-01"))
    low, high = bounds
    bad = np.flatnonzero(insured & ((summary.average_index < low) | (summary.average_index > high)))
    if len(bad):
        row = int(bad[0])
        raise InputError(
            f"persons[{row}].employee_pension_average_index",
            f"{summary.average_index[row]} (ten-thousandths) is outside {_range_text(bounds)} "
            f"({len(bad)} persons): bases outside the clamp were recorded",
        )
    persons: dict[str, np.ndarray] = {
        "birth_date": np.asarray(birth_date, dtype=np.int32),
        "sex": np.asarray(sex, dtype=np.int8),
        "employee_pension_insured": insured,
        "employee_pension_contribution_months": summary.months,
        "employee_pension_average_index": np.where(insured, summary.average_index, 10_000).astype(
            np.int64
        ),
        "employee_pension_account_balance": summary.account_balance_fen,
    }
    if category is not None:
        persons["pension_category"] = np.asarray(category, dtype=np.int8)
    if deemed_months is not None:
        persons["employee_pension_deemed_months"] = np.asarray(deemed_months, dtype=np.int64)
    if deemed_index is not None:
        persons["employee_pension_deemed_index"] = np.asarray(deemed_index, dtype=np.int64)
    for name, column in persons.items():
        if len(column) != n:
            raise InputError(name, f"expected {n} values, got {len(column)}")
    return Population(persons=persons, household_of=np.arange(n, dtype=np.int64))


def pensions_from_batch(
    population: Population,
    on: dt.date,
    region: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    fallbacks: Mapping[str, Any] | None = None,
) -> ProgramResult:
    """The employee_pension program over a ``population_from_batch`` (vectorized, no trace)."""
    return evaluate_all(
        population,
        on,
        region,
        overrides=overrides,
        fallbacks=fallbacks,
        only=["employee_pension"],
    )["employee_pension"]
