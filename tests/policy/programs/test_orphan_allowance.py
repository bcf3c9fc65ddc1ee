"""Orphan allowance: both parents gone, institution vs community standard, top-up rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from safetynet.errors import InputError
from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from safetynet.policy.parameters import coerce_value, default_tree

STANDARDS = {
    "welfare.orphan.standard_monthly_institution": 1900,
    "welfare.orphan.standard_monthly_community": 1400,
}


def run(child: dict[str, Any], on: dt.date = dt.date(2025, 9, 1)) -> Evaluation:
    tree = default_tree()
    coerced = {k: coerce_value(tree.spec(k), v, k) for k, v in STANDARDS.items()}
    member = {"relation": "head", "birth_date": "2015-01-01", "sex": "female", **child}
    ev, _ = calculate(program("orphan_allowance"), {"members": [member]}, on, "000000", coerced)
    return ev


BOTH_DEAD = {"child_father_status": "dead", "child_mother_status": "dead"}


def test_community_and_institution_standards() -> None:
    assert int(run(BOTH_DEAD).result.amount[0]) == 140000
    assert int(run({**BOTH_DEAD, "lives_in_institution": True}).result.amount[0]) == 190000


def test_top_up_only() -> None:
    ev = run({**BOTH_DEAD, "child_dibao_received": "700", "child_tekun_received": "0"})
    assert int(ev.result.amount[0]) == 70000
    over = run({**BOTH_DEAD, "child_tekun_received": "2000"})
    assert bool(over.result.eligible[0])
    assert int(over.result.amount[0]) == 0


def test_one_parent_alive_is_not_an_orphan() -> None:
    assert not run({"child_father_status": "dead"}).result.eligible[0]


def test_unknown_status_names_the_field() -> None:
    with pytest.raises(InputError, match="child_mother_status"):
        run({"child_father_status": "dead", "child_mother_status": "gone"})
