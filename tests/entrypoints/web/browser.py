"""The workbench served in-process (uvicorn in a thread, on a free port, a temporary SQLite
database) and Debian's Chromium driven by Playwright, never a downloaded browser; helpers that
sign in, take a screenshot for docs/screenshots/ and check a page's accessibility basics."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from safetynet.accounts.commands import AddStaffAccount
from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database, create_database
from safetynet.entrypoints.api import InMemoryUserDirectory, Role, create_app
from tests.entrypoints.web.conftest import ADMIN, OTHER, OWN, PASSWORD, Clock, username

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
APPROVER_PERSON = "county_sun"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Workbench:
    url: str
    db: Database
    clock: Clock

    def at(self, day: str) -> None:
        """Move the clock to 10:00 in Shanghai on ``day``."""
        self.clock.now = dt.datetime.fromisoformat(f"{day}T02:00:00+00:00")


def _accounts(db: Database, clock: Clock) -> None:
    bus = bootstrap(db, clock=clock)
    for role, region in [*((r, OWN) for r in Role), (Role.INTAKE_CLERK, OTHER)]:
        bus.handle(
            AddStaffAccount(
                actor=ADMIN,
                username=username(role, region),
                display_name=f"{role.value}-{region}",
                role=role.value,
                region=region,
                password=PASSWORD,
            )
        )


@pytest.fixture(scope="module", name="workbench")
def workbench_fixture(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workbench]:
    import uvicorn

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (./run installs it)")
    path = tmp_path_factory.mktemp("web") / "registry.db"
    shutil.copyfile(sqlite_template, path)
    db = create_database(f"sqlite:///{path}")
    clock = Clock()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SAFETYNET_AUDIT_KEY", "test-key-1:" + "5a" * 32)
        env.setenv("SAFETYNET_AUDIT_CHECKPOINTS", str(path.parent / "checkpoints.jsonl"))
        _accounts(db, clock)
        app = create_app(db, users=InMemoryUserDirectory({}), clock=clock)
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "the workbench did not start"
        try:
            yield Workbench(f"http://127.0.0.1:{port}", db, clock)
        finally:
            server.should_exit = True
            thread.join(10)
            db.dispose()


@pytest.fixture(scope="module", name="browser")
def browser_fixture(workbench: Workbench) -> Iterator[Any]:  # noqa: ARG001  (started first)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(name="page")
def page_fixture(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Any, workbench: Workbench, user: str) -> None:
    """Sign out whoever is signed in, then sign in as ``user`` by the sign-in form."""
    page.context.clear_cookies()
    page.goto(f"{workbench.url}/sign-in")
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)


def screenshot(page: Any, name: str) -> None:
    """A full-page screenshot for docs/web.md, after the page's accessibility check."""
    check_accessibility(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if os.environ.get("SAFETYNET_NO_SCREENSHOTS"):
        return
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


_UNLABELLED = """() => Array.from(document.querySelectorAll(
    'input:not([type=hidden]), select, textarea'))
  .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label'))
  .map(el => el.id || el.name)"""

# WCAG 2.x contrast of text against the first opaque background behind it.
_LOW_CONTRAST = """() => {
  const lum = (c) => { const v = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(x => {
    x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const bg = (el) => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
    const a = c.match(/[\\d.]+/g); if (a && (a.length < 4 || Number(a[3]) > 0.5)) return c; }
    return 'rgb(255, 255, 255)'; };
  const bad = [];
  for (const el of document.querySelectorAll('h1, h2, p, td, th, a, button, label, li')) {
    if (!el.offsetParent || !el.textContent.trim()) continue;
    const l1 = lum(getComputedStyle(el).color), l2 = lum(bg(el));
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    if (ratio < 4.5) bad.push(el.tagName + ': ' + el.textContent.trim().slice(0, 30) + ' ' + ratio.toFixed(2));
  }
  return bad; }"""


def check_accessibility(page: Any) -> None:
    """Every input has a label; text has a contrast of at least 4.5:1; the page says its
    language."""
    assert page.evaluate(_UNLABELLED) == [], page.url
    assert page.evaluate(_LOW_CONTRAST) == [], page.url
    assert page.evaluate("document.documentElement.lang") in {"zh-CN", "en"}
