"""A citizen on a phone (390 px wide) in Debian's Chromium, driven by Playwright (never a
downloaded browser): signs in with the development code, applies for dibao and follows the case;
screenshots of each page go to docs/screenshots/."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import ViewportSize, expect, sync_playwright
from sqlalchemy import select

from safetynet.db.engine import Database
from safetynet.entrypoints.api import InMemoryUserDirectory, create_app
from safetynet.registry.model import Person
from tests.cases.helpers import HEAD, id_number, register_household
from tests.entrypoints.web.conftest import Clock

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
PHONE = ViewportSize(width=390, height=844)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file() or shutil.which("chromium") is None,
    reason="Debian's chromium is not installed (./run installs it)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(database: Database) -> Iterator[str]:
    clock = Clock()
    app = create_app(database, users=InMemoryUserDirectory({}), clock=clock)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_a_citizen_applies_on_a_phone_and_follows_the_case(server: str, database: Database) -> None:
    register_household(database, "H1", [HEAD, id_number("19870601", 4)])
    with database.sessions.begin() as session:
        session.execute(
            select(Person).where(Person.id_number == HEAD)
        ).scalar_one().phone = "13812345678"
    shots = database.engine.dialect.name == "sqlite"  # one set of screenshots
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport=PHONE, locale="zh-CN")
        page.goto(f"{server}/citizen")
        expect(page).to_have_url(f"{server}/citizen/sign-in")
        page.get_by_label("身份证号码").fill(HEAD)
        page.get_by_role("button", name="获取验证码").click()
        shown = page.locator("#development-code").inner_text()
        code = re.search(r"验证码为(\d{6})", shown)
        assert code is not None, shown
        if shots:
            page.screenshot(path=str(SCREENSHOTS / "citizen-sign-in.png"), full_page=True)
        page.get_by_label("验证码").fill(code.group(1))
        page.keyboard.press("Enter")  # works by keyboard
        expect(page.get_by_role("heading", name="成员0，您好")).to_be_visible()

        page.get_by_role("link", name="申请救助").click()
        page.get_by_label("最低生活保障").check()
        for field in page.get_by_label("月工资收入（元）").all():
            field.fill("800")
        page.get_by_label("家庭存款等金融资产（元）").fill("2000")
        page.get_by_label("本人承诺所申报信息真实，并同意对申报信息进行核对。").check()
        if shots:
            page.screenshot(path=str(SCREENSHOTS / "citizen-apply.png"), full_page=True)
        page.get_by_role("button", name="提交申请").click()

        expect(page.get_by_role("heading", name="最低生活保障")).to_be_visible()
        expect(page.get_by_text("已提交，等待受理")).to_be_visible()
        expect(page.get_by_text("提交申请")).to_be_visible()
        # Mobile first: nothing is wider than the phone's screen.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        # Every input has a label.
        unlabelled = page.evaluate(
            """[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
               .filter(e => !(e.labels && e.labels.length)).length"""
        )
        assert unlabelled == 0
        if shots:
            page.screenshot(path=str(SCREENSHOTS / "citizen-case.png"), full_page=True)
        page.get_by_role("link", name="返回我的家庭").click()
        expect(page.get_by_text("我的申请")).to_be_visible()
        expect(page.get_by_role("link", name=re.compile("最低生活保障"))).to_be_visible()
        if shots:
            page.screenshot(path=str(SCREENSHOTS / "citizen-home.png"), full_page=True)
        browser.close()
