"""Statistics of a month from the registry and the payment ledger, rolled up the region hierarchy.

Per region (county, city or province) and program: the households and persons enrolled in the
month (the enrolments the roll pays: status active, covering the month), their monthly amount,
the population registered there and the coverage rate (persons enrolled ÷ persons registered),
and from the ledger what the payment report counts — instructions payable, their net amount and
what was paid (``payments.report.payment_report``, so the two always agree). A trend table gives
the same counts for the months before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select

from safetynet.analysis.tables import TOTAL, Table
from safetynet.db.engine import Database
from safetynet.domain.regions import default_registry
from safetynet.errors import InputError
from safetynet.payments.months import month_bounds, parse_month
from safetynet.payments.report import payment_report
from safetynet.registry.model import Enrolment, Household, Membership

__all__ = ["LEVELS", "month_statistics", "statistics_tables"]

LEVELS = ("county", "city", "province")
BY = ("region", "program")
ALL = "all"


@dataclass
class Counts:
    enrolled_households: int = 0
    enrolled_persons: int = 0
    enrolled_amount_fen: int = 0
    payable: int = 0
    payable_fen: int = 0
    paid_fen: int = 0


@dataclass
class MonthStatistics:
    month: str
    level: str
    by: tuple[str, ...]
    counts: dict[tuple[str, str], Counts] = field(default_factory=dict)
    population: dict[str, list[int]] = field(default_factory=dict)  # region → [households, persons]


def roll_up(code: str, level: str) -> str:
    """The region of ``level`` that county ``code`` lies in (a district directly under a
    province-level city rolls up to the province at city level)."""
    regions = default_registry()
    if level == "county":
        return code
    if level == "city":
        city = regions.city_of(code)
        return city.code if city is not None else regions.province_of(code).code
    return regions.province_of(code).code


def _key(region: str, program: str, stats: MonthStatistics) -> tuple[str, str]:
    return (
        roll_up(region, stats.level) if "region" in stats.by else TOTAL,
        program if "program" in stats.by else ALL,
    )


def _members_on(day: Any) -> Any:
    """Persons per household on ``day`` (memberships open that day)."""
    return (
        select(Membership.household_id, func.count(Membership.person_id).label("n"))
        .where(
            Membership.start_date <= day,
            (Membership.end_date.is_(None)) | (Membership.end_date >= day),
        )
        .group_by(Membership.household_id)
        .subquery()
    )


def _enrolled(db: Database, month: str, stats: MonthStatistics) -> None:
    first, last = month_bounds(month)
    members = _members_on(last)
    query = (
        select(
            Household.region_code,
            Enrolment.program,
            func.count(Enrolment.id),
            func.coalesce(func.sum(members.c.n), 0),
            func.coalesce(func.sum(Enrolment.amount_fen), 0),
        )
        .join(Household, Household.id == Enrolment.household_id)
        .outerjoin(members, members.c.household_id == Enrolment.household_id)
        .where(
            Enrolment.status == "active",
            Enrolment.start_date <= last,
            (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= first),
        )
        .group_by(Household.region_code, Enrolment.program)
    )
    with db.sessions() as session:
        rows = session.execute(query).all()
        population = session.execute(
            select(Household.region_code, func.count(Household.id),
                   func.coalesce(func.sum(members.c.n), 0))
            .outerjoin(members, members.c.household_id == Household.id)
            .group_by(Household.region_code)
        ).all()  # fmt: skip
    for region, program, households, persons, amount in rows:
        c = stats.counts.setdefault(_key(region, program, stats), Counts())
        c.enrolled_households += int(households)
        c.enrolled_persons += int(persons)
        c.enrolled_amount_fen += int(amount)
    for region, households, persons in population:
        code = _key(region, ALL, stats)[0]
        acc = stats.population.setdefault(code, [0, 0])
        acc[0] += int(households)
        acc[1] += int(persons)


def month_statistics(
    db: Database, month: str, *, level: str = "county", by: Sequence[str] = BY
) -> MonthStatistics:
    """The month's counts by region (at ``level``) and/or program (``by``)."""
    month = parse_month(month, "--month")
    if level not in LEVELS:
        raise InputError("--level", f"应为 {'/'.join(LEVELS)} 之一；one of {', '.join(LEVELS)}")
    unknown = [b for b in by if b not in BY]
    if unknown or not by:
        raise InputError("--by", f"应为 region,program 的组合；a list of {', '.join(BY)}")
    stats = MonthStatistics(month, level, tuple(by))
    _enrolled(db, month, stats)
    for row in payment_report(db, month):
        c = stats.counts.setdefault(_key(row.county, row.program, stats), Counts())
        c.payable += row.payable
        c.payable_fen += row.payable_fen
        c.paid_fen += row.paid_fen
    return stats


def _previous(month: str, back: int) -> list[str]:
    year, m = (int(x) for x in month.split("-"))
    found = []
    for i in range(back, -1, -1):
        k = year * 12 + m - 1 - i
        found.append(f"{k // 12:04d}-{k % 12 + 1:02d}")
    return found


def statistics_tables(
    db: Database, month: str, *, level: str = "county", by: Sequence[str] = BY, trend: int = 5
) -> list[Table]:
    """The month's table and the trend over the ``trend`` months before it, as plain tables."""
    stats = month_statistics(db, month, level=level, by=by)
    main = Table(
        "statistics",
        f"Recipients and payments, {stats.month}, by {level}",
        ("region", "program", "enrolled_households", "enrolled_persons", "enrolled_amount_fen",
         "payable", "payable_fen", "paid_fen", "registered_persons", "coverage"),
        note="enrolled: active enrolments covering the month; payable/paid: the payment report's "
        "instructions of the month; coverage = persons enrolled ÷ persons registered in the region",
    )  # fmt: skip
    for (region, program), c in sorted(stats.counts.items()):
        persons = stats.population.get(region, [0, 0])[1] if region != TOTAL else sum(
            v[1] for v in stats.population.values())  # fmt: skip
        coverage = Fraction(c.enrolled_persons, persons) if persons else ""
        main.rows.append((region, program, c.enrolled_households, c.enrolled_persons,
                          c.enrolled_amount_fen, c.payable, c.payable_fen, c.paid_fen, persons,
                          coverage))  # fmt: skip
    history = Table(
        "trend",
        f"Trend: the {trend} months before {stats.month} and the month itself",
        ("month", "region", "program", "enrolled_households", "payable", "payable_fen", "paid_fen"),
    )
    for earlier in _previous(stats.month, trend):
        past = (
            stats if earlier == stats.month else month_statistics(db, earlier, level=level, by=by)
        )
        for (region, program), c in sorted(past.counts.items()):
            history.rows.append((earlier, region, program, c.enrolled_households, c.payable,
                                 c.payable_fen, c.paid_fen))  # fmt: skip
    return [main, history]
