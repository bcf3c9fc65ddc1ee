"""Transfer of the enterprise employees' basic pension relationship (养老保险关系转移接续,
国办发〔2009〕66号) and the linking of the employee and resident schemes (人社部发〔2014〕17号).

Input: a person's contribution periods, each at one place, in whole months (``start`` and ``end``
inclusive, ``YYYY-MM``), with the monthly (or annual) contribution base. Then:

- ``transfer_amount``: what moves when leaving a place — the whole personal-account balance plus
  12 % of the actual contribution bases at that place since 1998-01-01, pro rata by months;
- ``needs_temporary_account``: men 50+ and women 40+ moving to a place that is not their hukou place
  get a temporary contribution account there (the relationship stays where it was);
- ``claim_place``: where the pension is claimed (hukou place if the relationship is there; else the
  last place with 10+ contribution years; else the hukou place);
- ``link_schemes``: employee ↔ resident scheme linking (accounts merged; years merged only when
  moving into the resident scheme).

Bad input is refused with the field named: end before start, overlapping employee periods,
negative bases. Gaps between periods are months without contributions (allowed, reported).
See docs/programs/pension_transfer.md.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from safetynet.domain.money import Rounding, format_yuan, yuan_to_fen
from safetynet.errors import InputError
from safetynet.insurance.pooling import round_fen
from safetynet.policy.calculate import parse_date
from safetynet.policy.engine import Params
from safetynet.policy.parameters import NATION, ParameterTree, Resolved

P = "insurance.pension_transfer."
Scheme = Literal["employee", "resident"]
SCHEMES: tuple[Scheme, ...] = ("employee", "resident")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, raw: Any, where: str) -> Month:
        text = raw.isoformat()[:7] if isinstance(raw, dt.date) else str(raw)
        try:
            year_s, month_s = text.split("-")[:2]
            value = cls(int(year_s), int(month_s))
        except ValueError:
            raise InputError(where, f"{raw!r} is not a month (YYYY-MM)") from None
        if not 1 <= value.month <= 12 or value.year < 1900:
            raise InputError(where, f"{raw!r} is not a month (YYYY-MM)")
        return value

    @property
    def index(self) -> int:
        return self.year * 12 + self.month - 1

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class ContributionPeriod:
    """Months ``start``..``end`` (inclusive) of contributions at ``place``."""

    place: str
    start: Month
    end: Month
    base: int  # fen: the contribution base per month, or per year if ``annual``
    annual: bool = False
    scheme: Scheme = "employee"
    temporary: bool = False  # paid into a temporary account (临时缴费账户) at ``place``

    @property
    def months(self) -> int:
        return self.end.index - self.start.index + 1

    def months_from(self, first: Month) -> int:
        """Months of the period on or after ``first``."""
        return max(0, self.end.index - max(self.start.index, first.index) + 1)

    def base_total(self, months: int) -> Fraction:
        """The contribution bases of ``months`` months of the period, in fen (exact)."""
        return Fraction(self.base * months, 12) if self.annual else Fraction(self.base * months)


def validate_periods(periods: Sequence[ContributionPeriod]) -> list[str]:
    """Refuse impossible histories; return notes on what is allowed but worth saying (gaps)."""
    for i, p in enumerate(periods):
        if p.end < p.start:
            raise InputError(f"periods[{i}].end", f"{p.end} is before the start {p.start}")
        if p.base < 0:
            raise InputError(f"periods[{i}].base", "must not be negative")
    notes: list[str] = []
    for scheme in SCHEMES:
        rows = sorted(
            (p.start.index, p.end.index, i) for i, p in enumerate(periods) if p.scheme == scheme
        )
        for (_s0, e0, i0), (s1, _e1, i1) in itertools.pairwise(rows):
            if s1 <= e0:
                raise InputError(
                    f"periods[{i1}]",
                    f"overlaps periods[{i0}] ({scheme} scheme, from {periods[i1].start}); "
                    "one person has one contribution record per month",
                )
            if s1 > e0 + 1:
                notes.append(
                    f"{scheme}: no contributions for {s1 - e0 - 1} month(s) before {periods[i1].start}"
                )
    return notes


def _params(on: dt.date, overrides: Mapping[str, Any] | None, tree: ParameterTree | None) -> Params:
    return Params(on, NATION, tree, overrides)


# -- what moves ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferResult:
    account_balance: int  # fen
    base_total: int  # fen: bases since the start year at the place left (rounded)
    months_counted: int
    pooled: int  # fen
    total: int  # fen
    parameters: tuple[Resolved, ...] = ()


def pooled_transfer(
    periods: Sequence[ContributionPeriod],
    *,
    ratio: Decimal,
    from_year: int,
    from_place: str | None = None,
    mode: Rounding = Rounding.HALF_UP,
) -> tuple[int, int, int]:
    """(pooled amount, bases counted, months counted) in fen: ``ratio`` × the employee-scheme bases
    since 1 January ``from_year`` at ``from_place`` (all places if None), rounded once."""
    first = Month(from_year, 1)
    months = 0
    bases = Fraction(0)
    for p in periods:
        if p.scheme != "employee" or (from_place is not None and p.place != from_place):
            continue
        n = p.months_from(first)
        months += n
        bases += p.base_total(n)
    exact = Decimal(bases.numerator) / Decimal(bases.denominator) * ratio
    bases_fen = round_fen(Decimal(bases.numerator) / Decimal(bases.denominator), mode)
    return round_fen(exact, mode), bases_fen, months


def transfer_amount(
    account_balance: int,
    periods: Sequence[ContributionPeriod],
    on: dt.date,
    *,
    from_place: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    tree: ParameterTree | None = None,
) -> TransferResult:
    """Account balance + pooled funds moved when the relationship leaves ``from_place`` on ``on``."""
    if account_balance < 0:
        raise InputError("account_balance", "must not be negative")
    validate_periods(periods)
    prm = _params(on, overrides, tree)
    pooled, bases, months = pooled_transfer(
        periods,
        ratio=prm.ratio(P + "pooled_transfer_ratio"),
        from_year=prm.int(P + "pooled_from_year"),
        from_place=from_place,
        mode=prm.rounding("common.rounding.mode"),
    )
    return TransferResult(
        account_balance, bases, months, pooled, account_balance + pooled, tuple(prm.used())
    )


# -- temporary account --------------------------------------------------------------------------


def needs_temporary_account(
    sex: Literal["male", "female"],
    birth_date: dt.date,
    move_date: dt.date,
    destination: str,
    hukou_place: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    tree: ParameterTree | None = None,
) -> bool:
    """Men aged 50+ and women 40+ moving to a place other than their hukou place keep their
    relationship where it is and get a temporary contribution account at the destination."""
    if birth_date > move_date:
        raise InputError("birth_date", f"{birth_date} is after the move date {move_date}")
    if sex not in ("male", "female"):
        raise InputError("sex", f"{sex!r} is not one of ['male', 'female']")
    if destination == hukou_place:
        return False
    prm = _params(move_date, overrides, tree)
    limit = prm.int(
        P + ("temporary_account_age_men" if sex == "male" else "temporary_account_age_women")
    )
    age = (
        move_date.year
        - birth_date.year
        - ((move_date.month, move_date.day) < (birth_date.month, birth_date.day))
    )
    return age >= limit


# -- where the pension is claimed ---------------------------------------------------------------


@dataclass(frozen=True)
class ClaimDecision:
    place: str
    rule: str  # which clause of art. 6 decided
    current_place: str
    months_by_place: dict[str, int] = field(default_factory=dict)


def claim_place(
    periods: Sequence[ContributionPeriod],
    hukou_place: str,
    on: dt.date,
    *,
    overrides: Mapping[str, Any] | None = None,
    tree: ParameterTree | None = None,
) -> ClaimDecision:
    """The place where the employee pension is claimed (国办发〔2009〕66号 art. 6).

    Only employee-scheme periods outside temporary accounts establish a relationship at a place.
    """
    validate_periods(periods)
    regular = [p for p in periods if p.scheme == "employee" and not p.temporary]
    if not regular:
        raise InputError(
            "periods", "no employee-scheme contribution period outside a temporary account"
        )
    months: dict[str, int] = {}
    last: dict[str, int] = {}
    for p in regular:
        months[p.place] = months.get(p.place, 0) + p.months
        last[p.place] = max(last.get(p.place, -1), p.end.index)
    current = max(regular, key=lambda p: p.end.index).place
    need = _params(on, overrides, tree).int(P + "claim_min_years") * 12
    if current == hukou_place:
        return ClaimDecision(hukou_place, "relationship at the hukou place", current, months)
    for place in sorted(last, key=lambda pl: last[pl], reverse=True):
        if place != hukou_place and months[place] >= need:
            rule = (
                "10+ years at the current place"
                if place == current
                else "last earlier place with 10+ years"
            )
            return ClaimDecision(place, rule, current, months)
    return ClaimDecision(hukou_place, "no place with 10+ years: the hukou place", current, months)


# -- employee ↔ resident scheme linking ----------------------------------------------------------


@dataclass(frozen=True)
class LinkResult:
    direction: Literal["to_employee", "to_resident"]
    account: int  # fen, merged personal account
    employee_months: int
    resident_months_counted: int  # resident months that count as contribution time afterwards
    years_months: int  # contribution months counted in the receiving scheme
    refunded_resident_months: int  # resident months overlapping employee months (refunded)


def link_schemes(
    periods: Sequence[ContributionPeriod],
    employee_account: int,
    resident_account: int,
    on: dt.date,
    *,
    overrides: Mapping[str, Any] | None = None,
    tree: ParameterTree | None = None,
) -> LinkResult:
    """At the statutory retirement age: with at least the minimum employee years the resident record
    moves into the employee scheme (account merged, resident years NOT counted); otherwise the
    employee record moves into the resident scheme (account and years merged). Months insured in
    both schemes count once, as employee months (the resident contributions for them are refunded)."""
    if employee_account < 0 or resident_account < 0:
        raise InputError("account", "account balances must not be negative")
    validate_periods(periods)
    employee = {
        m for p in periods if p.scheme == "employee" for m in range(p.start.index, p.end.index + 1)
    }
    resident = {
        m for p in periods if p.scheme == "resident" for m in range(p.start.index, p.end.index + 1)
    }
    overlap = len(employee & resident)
    resident_only = len(resident) - overlap
    need = _params(on, overrides, tree).int(P + "linking_min_employee_years") * 12
    account = employee_account + resident_account
    if len(employee) >= need:
        return LinkResult("to_employee", account, len(employee), 0, len(employee), overlap)
    return LinkResult(
        "to_resident", account, len(employee), resident_only, len(employee) + resident_only, overlap
    )


# -- JSON in, JSON out --------------------------------------------------------------------------


def periods_from_json(rows: Any) -> list[ContributionPeriod]:
    """``[{"place": "310000", "start": "2015-01", "end": "2019-12", "monthly_base": "5000"
    | "annual_base": "60000", "scheme": "employee"?, "temporary": false?}, ...]``."""
    if not isinstance(rows, list) or not rows:
        raise InputError("periods", "expected a non-empty list of contribution periods")
    known = {"place", "start", "end", "monthly_base", "annual_base", "scheme", "temporary"}
    out = []
    for i, row in enumerate(rows):
        where = f"periods[{i}]"
        if not isinstance(row, Mapping):
            raise InputError(where, "expected an object")
        for key in row:
            if key not in known:
                raise InputError(
                    f"{where}.{key}", f"unknown field; expected one of {sorted(known)}"
                )
        for key in ("place", "start", "end"):
            if key not in row:
                raise InputError(f"{where}.{key}", "is required")
        if ("monthly_base" in row) == ("annual_base" in row):
            raise InputError(
                f"{where}.monthly_base", "give exactly one of monthly_base or annual_base"
            )
        annual = "annual_base" in row
        key = "annual_base" if annual else "monthly_base"
        scheme = row.get("scheme", "employee")
        if scheme not in SCHEMES:
            raise InputError(f"{where}.scheme", f"{scheme!r} is not one of {list(SCHEMES)}")
        temporary = row.get("temporary", False)
        if not isinstance(temporary, bool):
            raise InputError(f"{where}.temporary", f"expected true or false, got {temporary!r}")
        out.append(
            ContributionPeriod(
                place=str(row["place"]),
                start=Month.parse(row["start"], f"{where}.start"),
                end=Month.parse(row["end"], f"{where}.end"),
                base=yuan_to_fen(row[key], f"{where}.{key}"),
                annual=annual,
                scheme=scheme,
                temporary=temporary,
            )
        )
    validate_periods(out)
    return out


def run_json(doc: Mapping[str, Any], tree: ParameterTree | None = None) -> dict[str, Any]:
    """``{"date", "account_balance", "periods", "from_place"?, "hukou_place"?}`` → amounts moved
    and, if ``hukou_place`` is given, where the pension is claimed."""
    if not isinstance(doc, Mapping):
        raise InputError("input", "expected a JSON object")
    for key in ("date", "account_balance", "periods"):
        if key not in doc:
            raise InputError(key, "is required")
    on = parse_date(doc["date"], "date")
    periods = periods_from_json(doc["periods"])
    balance = yuan_to_fen(doc["account_balance"], "account_balance")
    from_place = doc.get("from_place")
    result = transfer_amount(
        balance, periods, on, from_place=None if from_place is None else str(from_place), tree=tree
    )
    out: dict[str, Any] = {
        "date": on.isoformat(),
        "account_balance": format_yuan(result.account_balance),
        "bases_since_start_year": format_yuan(result.base_total),
        "months_counted": result.months_counted,
        "pooled_transfer": format_yuan(result.pooled),
        "total_moved": format_yuan(result.total),
        "notes": validate_periods(periods),
        "parameters": [
            {
                "name": r.name,
                "value": str(r.value),
                "provenance": str(r.provenance),
                "citation": r.cite(),
            }
            for r in result.parameters
        ],
    }
    if "hukou_place" in doc:
        decision = claim_place(periods, str(doc["hukou_place"]), on, tree=tree)
        out["claim_place"] = decision.place
        out["claim_rule"] = decision.rule
        out["months_by_place"] = decision.months_by_place
    return out
