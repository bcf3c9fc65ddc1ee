"""Disability nursing subsidy: grades, local extension, non-combination rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from safetynet.policy.calculate import calculate
from safetynet.policy.engine import Evaluation, program
from safetynet.policy.parameters import coerce_value, default_tree


def run(
    members: list[dict[str, Any]], region: str = "500000", overrides: dict[str, Any] | None = None
) -> Evaluation:
    tree = default_tree()
    coerced = {k: coerce_value(tree.spec(k), v, k) for k, v in (overrides or {}).items()}
    ev, _ = calculate(
        program("disability_nursing_subsidy"),
        {"members": members},
        dt.date(2026, 3, 1),
        region,
        coerced,
    )
    return ev


def person(grade: int, category: str = "physical", **extra: Any) -> dict[str, Any]:
    return {
        "relation": "head",
        "birth_date": "1970-01-01",
        "sex": "male",
        "disability_category": category,
        "disability_grade": grade,
        **extra,
    }


def test_chongqing_grades() -> None:
    ev = run([person(1), person(2), person(3)])
    assert ev.result.person_amount is not None
    assert [int(x) for x in ev.result.person_amount] == [11000, 10000, 0]


def test_shanxi_extension_to_grade_3_4_intellectual_mental() -> None:
    ev = run([person(4, "mental"), person(3, "intellectual"), person(3, "visual")], region="140000")
    assert ev.result.person_amount is not None
    assert [int(x) for x in ev.result.person_amount] == [6100, 6100, 0]


def test_excluded_with_tekun_care_or_work_injury_nursing() -> None:
    assert int(run([person(1, disability_tekun_care_received=True)]).result.amount[0]) == 0
    assert int(run([person(1, disability_work_injury_nursing_received=True)]).result.amount[0]) == 0
    allowed = run(
        [person(1, disability_tekun_care_received=True)],
        overrides={"welfare.disability.nursing_subsidy_excludes_tekun_care": False},
    )
    assert int(allowed.result.amount[0]) == 11000
