"""Reform files: validated with the field and the reason, Chinese first; a change is a dated value
of its region's level, so the region and the levels below it see it and no other region does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from safetynet.analysis.reform import load_reform, parse_reform, reform_tree
from safetynet.errors import InputError
from safetynet.policy.engine import Params, not_available, programs
from safetynet.policy.parameters import default_tree

STANDARD = "assistance.dibao.standard_monthly_urban"


def change(**more: Any) -> dict[str, Any]:
    return {"name": "r", "changes": [{"parameter": STANDARD, "region": "310104",
                                      "from": "2025-07-01", **more}]}  # fmt: skip


@pytest.mark.parametrize(
    ("doc", "field", "zh"),
    [
        ({"changes": []}, "name", "改革需要名称"),
        ({"name": "r", "budget": 1}, "budget", "未知字段"),
        (
            {
                "name": "r",
                "changes": [
                    {"parameter": "assistance.dibao.standrd", "from": "2025-01-01", "value": 1}
                ],
            },
            "changes[0].parameter",
            "未知参数",
        ),
        (change(value=1, region="999999"), "changes[0].region", "未知行政区划代码"),
        (change(value=1, **{"from": "July"}), "changes[0].from", "不是日期"),
        (change(value=1, scale=1.1), "changes[0]", "须给出 value 或 scale 之一"),
        (change(value="abc"), "changes[0].value", "取值无效"),
        (change(scale=-1), "changes[0].scale", "比例不能为负"),
        ({"name": "r", "programs": {"dibao": "off"}}, "programs.dibao", "应为 true 或 false"),
        ({"name": "r", "programs": {"dibaoo": False}}, "programs.dibaoo", "未知项目"),
    ],
)
def test_a_bad_reform_names_the_field_and_the_reason_chinese_first(
    doc: dict[str, Any], field: str, zh: str
) -> None:
    with pytest.raises(InputError) as caught:
        parse_reform(doc)
    assert caught.value.field == field
    assert zh in caught.value.reason.split("；")[0]
    assert "；" in caught.value.reason  # the English follows


def test_a_file_that_is_not_yaml_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "reform.yaml"
    path.write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(InputError, match="不是有效的 YAML"):
        load_reform(path)


def test_a_change_applies_in_its_region_from_its_date_only() -> None:
    base = default_tree()
    tree = reform_tree(base, parse_reform(change(scale=1.1)))

    def standard(t: Any, region: str, on: dt.date) -> int:
        return Params(on, region, t).fen(STANDARD)

    after = dt.date(2025, 9, 1)
    assert standard(base, "310104", after) == 165_000
    assert standard(tree, "310104", after) == 181_500  # 1,650 × 1.1
    assert standard(tree, "310115", after) == 165_000  # another district of the city
    assert standard(tree, "310104", dt.date(2025, 6, 1)) == standard(
        base, "310104", dt.date(2025, 6, 1)
    )
    assert base.levels.get("310104", {}).get(STANDARD) is None  # the shipped tree is untouched


def test_a_program_switched_off_is_not_in_force_from_the_reforms_date() -> None:
    tree = reform_tree(default_tree(), parse_reform({
        "name": "r", "changes": [change(value=1700)["changes"][0]],
        "programs": {"childcare_subsidy": False}}))  # fmt: skip
    prog = programs()["childcare_subsidy"]
    assert not_available(prog, Params(dt.date(2025, 9, 1), "310104", tree))
    assert not not_available(prog, Params(dt.date(2025, 6, 1), "310104", tree))
    assert not not_available(prog, Params(dt.date(2025, 9, 1), "310104", default_tree()))
