"""The main journeys in a real browser (Debian's Chromium): a dibao case from the clerk's intake
through review, public notice and county approval to its first payment; a refusal and its
written notice; a clerk of another county seeing nothing of it; the accessibility basics of
every page; screenshots of each main page for docs/web.md."""

from __future__ import annotations

import re
from typing import Any

from safetynet.audit.log import Actor
from safetynet.bootstrap import bootstrap
from safetynet.cases import commands as c
from safetynet.entrypoints.api import Role
from safetynet.payments.roll import roll_month
from tests.cases.helpers import id_number, register_household
from tests.entrypoints.web.browser import (  # noqa: F401  (the fixtures are used by name)
    Workbench,
    browser_fixture,
    page_fixture,
    screenshot,
    sign_in,
    workbench_fixture,
)
from tests.entrypoints.web.conftest import OTHER, OWN, username

HEAD = "110105198503010032"
TEAM = "inv_wang, inv_zhao"
CLERK = username(Role.INTAKE_CLERK, OWN)
INVESTIGATOR = username(Role.INVESTIGATOR, OWN)
REVIEWER = username(Role.TOWNSHIP_REVIEWER, OWN)
APPROVER = username(Role.COUNTY_APPROVER, OWN)


def _step(page: Any, name: str, **fields: str) -> None:
    """Fill the step's form (fields by their ids ``step-field``) and press its button."""
    form = page.locator(f"form[action$='/{name}']")
    assert form.count() == 1, f"no form {name}: " + page.locator("main").inner_text()[:1500]
    for field, value in fields.items():
        element = form.locator(f"#{name}-{field}")
        if element.evaluate("e => e.tagName") == "SELECT":
            element.select_option(value)
        else:
            element.fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 0, page.locator("main").inner_text()[:800]


def _on_another_day(page: Any, workbench: Workbench, day: str, user: str, url: str) -> None:
    """Days later: the session has expired (a working day long), so sign in again."""
    workbench.at(day)
    sign_in(page, workbench, user)
    page.goto(url)


def test_a_dibao_case_from_intake_to_its_first_payment(page: Any, workbench: Workbench) -> None:
    register_household(workbench.db, "B1", [HEAD, id_number("19870601", 4)])
    workbench.at("2025-09-26")
    sign_in(page, workbench, CLERK)
    screenshot(page, "01-clerk-work-queue")

    page.get_by_role("link", name="查找家庭").click()
    page.get_by_label("身份证号码或姓名").fill(HEAD)
    page.get_by_role("button", name="查找").click()
    assert HEAD not in page.content()
    screenshot(page, "02-find-household")
    page.get_by_role("link", name=re.compile(r"B1$")).click()
    screenshot(page, "03-household")
    page.get_by_role("link", name="为该户办理一门受理").click()
    page.locator("#financial_assets").fill("8000")
    page.locator("#m0_wage_income").fill("2400")
    page.locator("#m0_is_employed").check()
    page.get_by_role("button", name="筛查全部救助项目").click()
    assert page.locator(".card.eligible", has_text="最低生活保障").count() == 1
    screenshot(page, "04-intake-screening")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    screenshot(page, "05-application")
    page.get_by_role("link", name=re.compile("办理事项")).first.click()
    track_url = page.url
    _step(page, "accept")
    assert "已受理" in page.inner_text("main")

    workbench.at("2025-09-28")
    sign_in(page, workbench, INVESTIGATOR)
    page.goto(track_url)
    _step(page, "start-investigation", team=TEAM)
    _step(page, "home-visit", team=TEAM, notes="入户核实，家中无贵重物品")
    page.locator("form[action$='/verification'] input[name='v:financial_assets']").fill("9000")
    _step(page, "verification", findings="存款比申报多 1,000 元")
    assert page.locator("td.diff").count() == 1  # 8000 declared, 9000 found
    screenshot(page, "06-verification-beside-declared-facts")

    sign_in(page, workbench, REVIEWER)
    page.goto(track_url)
    _step(page, "township-opinion", proposal="approve", reasons="家庭月人均收入低于当地低保标准")
    _on_another_day(page, workbench, "2025-09-29", REVIEWER, track_url)
    _step(page, "post-notice")
    screenshot(page, "07-public-notice")
    _on_another_day(page, workbench, "2025-10-09", REVIEWER, track_url)
    _step(page, "close-notice")

    workbench.at("2025-10-10")
    sign_in(page, workbench, APPROVER)
    page.goto(track_url)
    screenshot(page, "08-county-decision")
    _step(page, "confirm")
    assert "已批准" in page.inner_text("main")
    _on_another_day(page, workbench, "2025-11-03", APPROVER, track_url)
    _step(page, "start-payment")
    assert "发放中" in page.inner_text("main")
    report = roll_month(workbench.db, "2025-11", actor=Actor("payroll", "payments_officer", OWN))
    assert report.created == 1  # the first payment: November's
    screenshot(page, "09-paying")

    sign_in(page, workbench, username(Role.AUDITOR, OWN))
    page.goto(track_url.replace("/cases/tracks/", "/supervision/tracks/"))
    assert "TrackConfirmed" in page.inner_text("main")
    screenshot(page, "10-audit-trail")
    page.goto(f"{workbench.url}/supervision")
    page.get_by_role("button", name="校验审计日志").click()
    assert "完整" in page.inner_text("main")

    sign_in(page, workbench, username(Role.ANALYST, OWN))
    page.get_by_role("link", name="统计").click()
    assert "2025-11" in page.inner_text("main")
    screenshot(page, "11-statistics")

    # A clerk of another county sees nothing of it.
    sign_in(page, workbench, username(Role.INTAKE_CLERK, OTHER))
    assert page.goto(track_url).status == 404
    page.goto(f"{workbench.url}/cases")
    assert "B1" not in page.inner_text("main")
    page.get_by_role("link", name="查找家庭").click()
    page.get_by_label("身份证号码或姓名").fill(HEAD)
    page.get_by_role("button", name="查找").click()
    assert "找到 0 户" in page.inner_text("main")


def _to_the_county(workbench: Workbench, household_no: str) -> int:
    """A dibao case lodged and reviewed through the service layer, at the county on 2025-10-10
    with a proposal to refuse; returns the track id."""
    register_household(workbench.db, household_no, [id_number(seq=21), id_number("19870601", 21)])
    bus = bootstrap(workbench.db, clock=workbench.clock)
    clerk = Actor(CLERK, "intake_clerk", OWN)
    household = {
        "region": OWN,
        "hukou_type": "urban",
        "financial_assets": "400000",
        "members": [
            {"relation": "head", "birth_date": "1985-03-01", "sex": "male", "wage_income": "900"}
        ],
    }
    day = workbench.clock().date()
    app_id = bus.handle(
        c.SubmitApplication(actor=clerk, on=day, household_region=OWN, household_no=household_no,
                            region=OWN, household=household, programs=("dibao",))
    ).entity_id  # fmt: skip
    with workbench.db.sessions() as session:
        from sqlalchemy import select

        from safetynet.cases.model import Track

        track_id = int(
            session.scalars(select(Track.id).where(Track.application_id == app_id)).one()
        )
    inv = Actor("inv_wang", "investigator", OWN)
    rev = Actor("town_zhou", "township_reviewer", OWN)
    for command in (
        c.AcceptApplication(actor=clerk, on=day, application_id=app_id),
        c.StartInvestigation(actor=inv, on=day, track_id=track_id, investigators=("inv_wang", "inv_zhao")),
        c.RecordHomeVisit(actor=inv, on=day, track_id=track_id, visitors=("inv_wang", "inv_zhao")),
        c.AttachVerificationReport(actor=inv, on=day, track_id=track_id, report={}, cross_check_requested_on=day),
        c.GiveTownshipOpinion(actor=rev, on=day, track_id=track_id, proposal="refuse", reasons=("存款超过规定标准",)),
        c.PostPublicNotice(actor=rev, on=day, track_id=track_id),
    ):  # fmt: skip
        bus.handle(command)
    return track_id


def test_a_refusal_and_its_written_notice(page: Any, workbench: Workbench) -> None:
    workbench.at("2025-09-26")
    track_id = _to_the_county(workbench, "B2")
    workbench.at("2025-10-09")
    bootstrap(workbench.db, clock=workbench.clock).handle(
        c.ClosePublicNotice(actor=Actor("town_zhou", "township_reviewer", OWN),
                            on=workbench.clock().date(), track_id=track_id)
    )  # fmt: skip
    workbench.at("2025-10-10")
    sign_in(page, workbench, APPROVER)
    page.goto(f"{workbench.url}/cases/tracks/{track_id}")
    _step(page, "refuse", reasons="家庭金融资产超过当地规定标准")
    assert "不予批准" in page.inner_text("main")
    screenshot(page, "12-refused")
    link = page.get_by_role("link", name="书面通知书（PDF）")
    response = page.request.get(f"{workbench.url}{link.get_attribute('href')}")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")


def test_the_sign_in_page_works_by_keyboard(page: Any, workbench: Workbench) -> None:
    page.goto(f"{workbench.url}/sign-in")
    screenshot(page, "00-sign-in")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip-link"
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "username":
            break
    page.keyboard.type(CLERK)
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{workbench.url}/")
    assert "待办事项" in page.inner_text("h1")


def test_the_api_documentation_renders_without_the_internet(
    page: Any, workbench: Workbench
) -> None:
    """Swagger UI from the package, every request to this server (nothing from a CDN)."""
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    page.goto(f"{workbench.url}/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "SafetyNet" in page.inner_text(".swagger-ui .info .title")
    assert hosts == {workbench.url.split("/")[2]}
