"""The plausible window of dates and the largest amount an import accepts (parameters ``common.intake.*``)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from safetynet.domain.regions import NATION_CODE, default_registry
from safetynet.errors import InputError
from safetynet.policy.parameters import ParameterTree, default_tree

__all__ = ["LIMIT_PARAMETERS", "IntakeLimits", "intake_limits"]


LIMIT_PARAMETERS = "common.intake"


@dataclass(frozen=True, slots=True)
class IntakeLimits:
    """The plausible window of dates and the largest amount of an import done on ``as_of``
    (parameters ``common.intake.*``, overridable per region)."""

    as_of: dt.date
    earliest_birth: dt.date
    earliest_date: dt.date
    latest_date: dt.date
    maximum_fen: int

    def check_birth(
        self, born: dt.date, field_name: str, record_date: dt.date | None = None
    ) -> None:
        latest = record_date or self.as_of
        if born > latest:
            raise InputError(field_name, f"birth date {born} is after the record's date ({latest})")
        if born < self.earliest_birth:
            raise InputError(
                field_name,
                f"birth date {born} is implausible (before {self.earliest_birth}, "
                f"parameter {LIMIT_PARAMETERS}.oldest_age)",
            )

    def check_date(self, day: dt.date, field_name: str) -> dt.date:
        if day < self.earliest_date:
            raise InputError(
                field_name,
                f"{day} is implausibly early (before {self.earliest_date}, "
                f"parameter {LIMIT_PARAMETERS}.business_date_years_back)",
            )
        if day > self.latest_date:
            raise InputError(
                field_name,
                f"{day} is implausibly late (after {self.latest_date}, "
                f"parameter {LIMIT_PARAMETERS}.business_date_days_ahead)",
            )
        return day

    def check_month(self, month: str, field_name: str) -> str:
        """A month (YYYY-MM) within the window of business dates."""
        earliest = f"{self.earliest_date.year:04d}-{self.earliest_date.month:02d}"
        latest = f"{self.latest_date.year:04d}-{self.latest_date.month:02d}"
        if month < earliest:
            raise InputError(
                field_name,
                f"{month} is implausibly early (before {earliest}, "
                f"parameter {LIMIT_PARAMETERS}.business_date_years_back)",
            )
        if month > latest:
            raise InputError(
                field_name,
                f"{month} is implausibly late (after {latest}, "
                f"parameter {LIMIT_PARAMETERS}.business_date_days_ahead)",
            )
        return month


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def intake_limits(
    as_of: dt.date | None = None,
    *,
    region: str = NATION_CODE,
    overrides: Mapping[str, Any] | None = None,
    tree: ParameterTree | None = None,
) -> IntakeLimits:
    """The limits in force on ``as_of`` (default today) for ``region``, from ``tree`` (default:
    the shipped parameters)."""
    if not overrides and tree is None:
        return _limits_on(as_of or dt.date.today(), region)
    return _resolve_limits(as_of or dt.date.today(), region, overrides, tree)


@functools.lru_cache(maxsize=64)
def _limits_on(day: dt.date, region: str) -> IntakeLimits:
    return _resolve_limits(day, region, None, None)


def _resolve_limits(
    day: dt.date,
    region: str,
    overrides: Mapping[str, Any] | None,
    tree: ParameterTree | None,
) -> IntakeLimits:
    parameters = tree if tree is not None else default_tree()
    levels = default_registry().lineage_codes(region)

    def value(name: str) -> Any:
        return parameters.resolve(f"{LIMIT_PARAMETERS}.{name}", day, levels, overrides).value

    return IntakeLimits(
        as_of=day,
        earliest_birth=_years_before(day, int(value("oldest_age"))),
        earliest_date=_years_before(day, int(value("business_date_years_back"))),
        latest_date=day + dt.timedelta(days=int(value("business_date_days_ahead"))),
        maximum_fen=int(value("maximum_amount")),  # money parameters resolve in fen
    )
