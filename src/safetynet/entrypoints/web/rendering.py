"""Pages from Jinja2 templates: the environment (built once per app), the ``_()`` of the page's
language, the navigation of the user's role and the CSRF token of every form."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from safetynet.domain.identity import mask_identity_number
from safetynet.domain.messages import DEFAULT_LOCALE, catalogue_ids, normalise_locale, translate
from safetynet.domain.money import format_yuan
from safetynet.entrypoints.api.policy import Action
from safetynet.entrypoints.web.session import (
    LANG_COOKIE,
    PRE_COOKIE,
    SESSION_COOKIE,
    StaffUser,
    csrf_for,
    new_token,
)

__all__ = ["NAVIGATION", "environment", "render"]

NAVIGATION: tuple[tuple[str, str, Action], ...] = (
    ("/", "Work queue", Action.DEADLINES),
    ("/households", "Find a household", Action.REGISTRY_READ),
    ("/cases", "Cases", Action.READ),
    ("/hotline", "Hotline", Action.READ),
    ("/leads", "Leads", Action.READ),
    ("/complaints", "Complaints", Action.READ_COMPLAINTS),
    ("/services", "Services", Action.READ),
    ("/alerts", "Alerts", Action.READ_ALERTS),
    ("/supervision", "Audit", Action.AUDIT_VERIFY),
    ("/relatives", "Staff relatives", Action.READ_RELATIVES),
    ("/statistics", "Statistics", Action.STATISTICS),
)
"""(path, label, the action a role needs to see it) of the top navigation."""


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("safetynet.entrypoints.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yuan"] = lambda fen: "" if fen is None else format_yuan(int(fen))
    env.filters["masked"] = lambda number: mask_identity_number(str(number)) if number else ""
    return env


def program_title(pid: str, locale: str) -> str:
    """A program's name in the page's language (its id if unknown)."""
    from safetynet.policy.engine import programs

    program = programs().get(pid)
    if program is None:
        return pid
    return program.title_zh if locale == "zh_CN" else program.title


def label(kind: str, value: object, locale: str) -> str:
    """The catalogue's name of a code (``state_paying``), the code itself if it has none."""
    msgid = f"{kind}_{value}"
    if msgid in catalogue_ids("web", locale):
        return translate(msgid, locale)
    return str(value)


def page_locale(request: Request, user: StaffUser | None) -> str:
    if user is not None:
        return normalise_locale(user.locale)
    return normalise_locale(request.cookies.get(LANG_COOKIE) or DEFAULT_LOCALE)


def render(
    request: Request,
    template: str,
    user: StaffUser | None,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """The page ``template`` in the user's language; an anonymous page gets a pre-session cookie
    so its form carries a CSRF token too."""
    locale = page_locale(request, user)
    pre = None
    if user is not None:
        csrf = user.csrf
    else:
        secret = request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRE_COOKIE)
        if not secret:
            secret = pre = new_token()
        csrf = csrf_for(secret)

    def gettext(msgid: str, **params: Any) -> str:
        return translate(msgid, locale, **params)

    nav = [(path, label) for path, label, action in NAVIGATION if user and user.may(action)]
    html = (
        environment()
        .get_template(template)
        .render(
            _=gettext,
            user=user,
            csrf=csrf,
            lang="zh-CN" if locale == "zh_CN" else "en",
            locale=locale,
            nav=nav,
            label=lambda kind, value: label(kind, value, locale),
            program=lambda pid: program_title(str(pid), locale),
            path=request.url.path,
            **(context or {}),
        )
    )
    response = HTMLResponse(html, status_code=status_code)
    if pre is not None:
        response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="lax", path="/")
    return response
