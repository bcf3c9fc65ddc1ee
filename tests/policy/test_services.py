"""The service catalogue's rules: who needs which service, how many units, and why."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from safetynet.policy.services import service_needs

ROOT = Path(__file__).resolve().parents[2]
ON = dt.date(2025, 10, 1)


def elder(items_failed: int) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads((ROOT / "examples" / "tekun.json").read_text("utf-8"))
    facts["members"][0]["tekun_selfcare_items_failed"] = items_failed
    return facts


def test_care_hours_follow_the_self_care_tier_and_only_for_tekun() -> None:
    full = {n.service: n.units_per_month for n in service_needs(elder(4), ON, "110105", {"tekun"})}
    partial = {
        n.service: n.units_per_month for n in service_needs(elder(2), ON, "110105", {"tekun"})
    }
    capable = {n.service for n in service_needs(elder(0), ON, "110105", {"tekun"})}
    not_tekun = {n.service for n in service_needs(elder(4), ON, "110105", set())}
    assert (full["tekun_care"], partial["tekun_care"]) == (60, 20)
    assert "tekun_care" not in capable
    # Living alone at 72, she is visited whatever her programs; meals need dibao or tekun.
    assert not_tekun == {"elderly_visits"}


def test_a_disabled_child_under_seven_gets_rehabilitation_with_the_reason() -> None:
    household = {
        "hukou_type": "urban",
        "members": [
            {"relation": "head", "birth_date": "1990-01-01", "sex": "female"},
            {"relation": "child", "birth_date": "2021-05-01", "sex": "male", "disability_grade": 2},
            {"relation": "child", "birth_date": "2015-05-01", "sex": "male", "disability_grade": 2},
        ],
    }
    (need,) = service_needs(household, ON, "110105", {"dibao"})
    assert (need.service, need.member, need.units_per_month) == (
        "disabled_child_rehabilitation",
        1,
        16,
    )
    assert need.reason == "残疾儿童（4岁，残疾等级2级）"
