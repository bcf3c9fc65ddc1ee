"""The parameters a fund projection reads for one year, with the record of every value used (so the
report can list each assumption with its source)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, localcontext
from typing import Any

from safetynet.domain.money import Rounding
from safetynet.errors import CoverageError
from safetynet.insurance.pooling import round_fen
from safetynet.policy.engine import Params
from safetynet.policy.parameters import ParameterTree, Resolved

F = "insurance.funds.employee_pension."
POP = "insurance.funds.population."
EP = "insurance.employee_pension."
ACCOUNT = "insurance.pension_account."


def times(amount: int | Decimal, ratio: Decimal, mode: Rounding) -> int:
    """``amount × ratio`` in whole fen, exactly (Python integers: fund totals exceed int64 products)."""
    with localcontext() as ctx:
        ctx.prec = 60
        return round_fen(Decimal(amount) * ratio, mode)


class Ledger:
    """Parameter views of one region and scenario, one per date, remembering every value read."""

    def __init__(
        self, region: str, tree: ParameterTree, overrides_on: Any, rounding_on: dt.date
    ) -> None:
        self.region = region
        self.tree = tree
        self._overrides_on = overrides_on
        self._views: dict[dt.date, Params] = {}
        self.used: dict[str, Resolved] = {}
        self.rounding = self.at(rounding_on).rounding("common.rounding.mode")

    def at(self, on: dt.date) -> Params:
        view = self._views.get(on)
        if view is None:
            view = self._views[on] = Params(on, self.region, self.tree, self._overrides_on(on))
        return view

    def resolve(self, name: str, on: dt.date) -> Resolved:
        hit = self.at(on).resolve(name)
        self.used.setdefault(f"{name}@{hit.start}", hit)
        return hit

    def value(self, name: str, year: int) -> Any:
        return self.resolve(name, dt.date(year, 1, 1)).value

    def ratio(self, name: str, year: int) -> Decimal:
        return Decimal(self.value(name, year))

    def maybe(self, name: str, year: int) -> Resolved | None:
        """The value in force on 1 January of ``year``, or None where there is none."""
        try:
            return self.resolve(name, dt.date(year, 1, 1))
        except CoverageError:
            return None

    def own_year(self, name: str, year: int) -> Any:
        """The value keyed by ``year`` itself (a published figure of that year), else None."""
        hit = self.maybe(name, year)
        if hit is None or hit.start is None or hit.start.year != year:
            return None
        return hit.value
