"""The hotline and a lead's way in Debian's Chromium: the clerk records a call about a person in
need from the keyboard-usable form (every field found by its label), the township reviewer
records the home visit and the way shows it met; screenshots for docs/web.md."""

from __future__ import annotations

import re
from typing import Any

from safetynet.entrypoints.api import Role
from tests.entrypoints.web.browser import (  # noqa: F401  (the fixtures are used by name)
    Workbench,
    browser_fixture,
    page_fixture,
    screenshot,
    sign_in,
    workbench_fixture,
)
from tests.entrypoints.web.conftest import OWN, username

CLERK = username(Role.INTAKE_CLERK, OWN)
REVIEWER = username(Role.TOWNSHIP_REVIEWER, OWN)


def test_a_call_about_a_person_in_need_and_the_leads_way(page: Any, workbench: Workbench) -> None:
    workbench.at("2025-09-22")
    sign_in(page, workbench, CLERK)
    page.get_by_role("link", name="服务热线").first.click()
    form = page.locator("form[action='/hotline']")
    form.get_by_label("事项").select_option("person_in_need")
    form.get_by_label("来电人姓名").fill("王女士")
    form.get_by_label("来电人电话").fill("13812345678")
    form.get_by_label("来电内容").fill("楼下独居老人多日未出门")
    form.get_by_label("被报告人姓名").fill("赵大爷")
    form.get_by_label("需求（以逗号分隔）").fill("生活照料，送餐")
    form.get_by_label("需求（以逗号分隔）").press("Enter")  # submits the form from the keyboard
    page.wait_for_url(re.compile(r"/hotline\?done=record$"))
    assert "13812345678" not in page.content()
    screenshot(page, "13-hotline")

    workbench.at("2025-09-24")
    sign_in(page, workbench, REVIEWER)
    page.get_by_role("link", name="主动发现线索").first.click()
    page.get_by_role("link", name=re.compile(r"线索 \d+")).first.click()
    visit = page.locator("form[action$='/visit']")
    visit.get_by_label("入户人员（以逗号分隔）").fill("town_zhou, town_wu")
    visit.get_by_label("入户核实情况").fill("独居，行动不便，无人照料")
    visit.get_by_role("button", name="登记入户").click()
    page.wait_for_url(re.compile(r"/leads/\d+\?done=visit$"))
    row = page.locator("tr", has_text="入户核实").first
    assert "按时" in row.inner_text()
    screenshot(page, "14-lead-way")
