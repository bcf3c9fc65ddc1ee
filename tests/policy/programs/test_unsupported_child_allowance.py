"""De-facto-unsupported children: parents' states, the 6-month minimum, linkage to the orphan standard."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from safetynet.policy.parameters import coerce_value, default_tree


def run(child: dict[str, Any], overrides: dict[str, Any] | None = None) -> Evaluation:
    tree = default_tree()
    values = {
        "welfare.orphan.standard_monthly_institution": 1900,
        "welfare.orphan.standard_monthly_community": 1400,
        **(overrides or {}),
    }
    coerced = {k: coerce_value(tree.spec(k), v, k) for k, v in values.items()}
    member = {"relation": "head", "birth_date": "2015-01-01", "sex": "male", **child}
    ev, _ = calculate(
        program("unsupported_child_allowance"),
        {"members": [member]},
        dt.date(2025, 9, 1),
        "000000",
        coerced,
    )
    return ev


@pytest.mark.parametrize(("months", "paid"), [(5, False), (6, True), (30, True)])
def test_six_month_minimum_for_lost_contact(months: int, paid: bool) -> None:
    ev = run(
        {
            "child_father_status": "dead",
            "child_mother_status": "lost_contact",
            "child_mother_status_months": months,
        }
    )
    assert bool(ev.result.eligible[0]) is paid


def test_both_parents_unable() -> None:
    ev = run(
        {
            "child_father_status": "seriously_ill",
            "child_mother_status": "imprisoned",
            "child_mother_status_months": 12,
        }
    )
    assert int(ev.result.amount[0]) == 140000


def test_orphans_are_excluded() -> None:
    assert not run(
        {"child_father_status": "dead", "child_mother_status": "declared_missing"}
    ).result.eligible[0]


def test_linked_ratio_and_top_up() -> None:
    ev = run(
        {
            "child_father_status": "dead",
            "child_mother_status": "severely_disabled",
            "child_dibao_received": "500",
        },
        overrides={"welfare.orphan.unsupported_child_standard_ratio": "0.8"},
    )
    assert int(ev.result.amount[0]) == 112000 - 50000
