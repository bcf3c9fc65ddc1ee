"""A household's complaint answered in Debian's Chromium: the township reviewer finds it by the
navigation link, sees how long it has waited, answers it from the labelled form and the page says
it was recorded; a screenshot for docs/web.md."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select

from safetynet.audit.log import Actor
from safetynet.bootstrap import bootstrap
from safetynet.cases.commands import LodgeComplaint
from safetynet.cases.model import Complaint
from safetynet.entrypoints.api import Role
from safetynet.registry.model import Household
from tests.cases.helpers import HEAD, register_household
from tests.entrypoints.web.browser import (  # noqa: F401  (the fixtures are used by name)
    Workbench,
    browser_fixture,
    page_fixture,
    screenshot,
    sign_in,
    workbench_fixture,
)
from tests.entrypoints.web.conftest import OWN, username

REVIEWER = username(Role.TOWNSHIP_REVIEWER, OWN)
TEXT = "窗口工作人员让我跑了三趟"


def test_the_township_answers_a_households_complaint(page: Any, workbench: Workbench) -> None:
    register_household(workbench.db, "H-C1", [HEAD])
    with workbench.db.sessions() as session:
        household = session.execute(
            select(Household.id).where(Household.household_no == "H-C1")
        ).scalar_one()
    workbench.at("2025-09-25")
    citizen = Actor(name="citizen:" + HEAD, role="citizen", region=OWN)
    bootstrap(workbench.db, clock=workbench.clock).handle(
        LodgeComplaint(actor=citizen, on=dt.date(2025, 9, 25), household_id=household, text=TEXT)
    )
    with workbench.db.sessions() as session:
        complaint = session.execute(select(Complaint.id)).scalar_one()

    workbench.at("2025-09-30")
    sign_in(page, workbench, REVIEWER)
    page.get_by_role("link", name="投诉").first.click()
    row = page.locator(f"#complaint-{complaint}")
    assert TEXT in row.inner_text()
    assert "已等待4个工作日" in row.inner_text()
    assert HEAD not in page.content()  # the lodger's identity number is masked
    form = row.locator("form")
    form.get_by_label("答复内容").fill("已约谈窗口负责人，材料一次告知，下周回访")
    form.get_by_role("button", name="登记答复").click()
    page.wait_for_url(re.compile(rf"/complaints\?done=answer#complaint-{complaint}$"))
    assert "已约谈窗口负责人" in page.locator(f"#complaint-{complaint}").inner_text()
    screenshot(page, "15-complaints")
