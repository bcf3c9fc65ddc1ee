"""How a change of income moves a household's amounts, as the rules core computes them from the
registry: the evaluation the payments area's ``follow_income_changes`` is handed
(``safetynet.bootstrap`` wires it; payments does not import the rules runner or the registry
snapshot of monitoring)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from safetynet.batch.runner import evaluate_county
from safetynet.errors import CoverageError
from safetynet.monitoring.verification import INCOME_FIELDS, load_county
from safetynet.payments.facts import IncomeShift
from safetynet.registry.model import Household

__all__ = ["income_effect"]


def income_effect(
    session: Session,
    household: Household,
    month: str,
    programs: Sequence[str],
    shifts: Sequence[IncomeShift],
) -> dict[str, int]:
    """Per program, how much ``shifts`` move the household's amount for ``month`` (after minus
    before): the household is evaluated from the registry as it is, and with each shift taken
    off its person's income of that kind. Kinds the rules do not read move nothing."""
    fields = [
        (shift.person_id, INCOME_FIELDS[shift.kind], shift.fen)
        for shift in shifts
        if shift.kind in INCOME_FIELDS
    ]
    if not fields:
        return {}
    first = dt.date.fromisoformat(f"{month}-01")
    amounts: list[dict[str, int]] = []
    for revert in (False, True):
        data, _ = load_county(session, household.region_code, first, [household.id])
        if revert:
            row_of = {int(p): i for i, p in enumerate(data.person_id)}
            for person_id, field, fen in fields:
                if person_id in row_of:
                    data.population.persons[field][row_of[person_id]] -= fen
        result = evaluate_county(data, first, only=programs)
        for totals in result.totals:
            if totals.not_available:
                # The rules cannot say what the household gets here (no local standard): the
                # follower records the gap instead of moving the amount.
                raise CoverageError(f"{totals.program}: {totals.not_available}")
        amounts.append(
            {
                program: int(amount) if eligible else 0
                for program, eligible, amount in zip(
                    result.results.column("program").to_pylist(),
                    result.results.column("eligible").to_pylist(),
                    result.results.column("amount_fen").to_pylist(),
                    strict=True,
                )
            }
        )
    now_, then = amounts
    return {p: now_.get(p, 0) - then.get(p, 0) for p in programs}
