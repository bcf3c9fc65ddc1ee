"""The citizen's side of the web application: who is signed in, their forms and their pages.

A citizen signs in with their identity number and a one-time code (``registry.citizen_access``);
the browser then holds a random token in the HttpOnly, SameSite=Lax cookie ``sn_citizen`` and the
database its SHA-256 (``citizen_sessions``), with the one household the session may see. Forms
carry a CSRF token bound to that cookie (before signing in, to the pre-session cookie). The SMS
sender is read from the environment once per application (``sms_sender_from_env``); with the
development sender, the sign-in page shows the code it "sent".
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import HTMLResponse

from safetynet.bootstrap import bootstrap
from safetynet.db.messagebus import MessageBus
from safetynet.domain.messages import normalise_locale, translate
from safetynet.entrypoints.web.rendering import environment, program_title
from safetynet.entrypoints.web.session import (
    LANG_COOKIE,
    MAX_FORM_BYTES,
    PRE_COOKIE,
    BadForm,
    csrf_for,
    new_token,
    service_of,
    token_hash,
)
from safetynet.registry.citizen_access import (
    Citizen,
    DevelopmentSms,
    SignInRules,
    SmsSender,
    citizen_of_session,
    sms_sender_from_env,
)

__all__ = [
    "CITIZEN_COOKIE",
    "CitizenRequired",
    "Portal",
    "citizen_form",
    "current_citizen",
    "portal",
    "render_citizen",
    "require_citizen",
]

CITIZEN_COOKIE = "sn_citizen"


class CitizenRequired(Exception):  # noqa: N818  (a signal to the handler, not an error)
    """No citizen is signed in: the page answers with the citizen's sign-in page."""


@dataclass
class ClientLimit:
    """At most ``per_hour`` code requests from one client address in any hour (a guard against
    trying many identity numbers from one place; per person, ``SignInRules`` limits them too)."""

    per_hour: int
    seen: dict[str, deque[dt.datetime]] = field(default_factory=dict)

    def allow(self, client: str, now: dt.datetime) -> bool:
        window = self.seen.setdefault(client, deque())
        while window and now - window[0] >= dt.timedelta(hours=1):
            window.popleft()
        if len(window) >= self.per_hour:
            return False
        window.append(now)
        return True


@dataclass(frozen=True)
class Portal:
    """The citizen side's bus (its SMS sender wired), the sign-in rules and the per-client
    limit of code requests (``SAFETYNET_SIGN_IN_REQUESTS_PER_CLIENT_HOUR``, default 20)."""

    bus: MessageBus
    sms: SmsSender
    rules: SignInRules
    clients: ClientLimit


def portal(request: Request) -> Portal:
    """The application's portal, built on first use from the API's service and the settings."""
    state = request.app.state
    found: Portal | None = getattr(state, "citizen_portal", None)
    if found is None:
        service = service_of(request)
        sms = sms_sender_from_env()
        rules = SignInRules.from_env()
        bus = bootstrap(
            service.db, clock=service.clock, parameters=service.parameters, sms=sms, sign_in=rules
        )
        per_client = os.environ.get("SAFETYNET_SIGN_IN_REQUESTS_PER_CLIENT_HOUR", "").strip()
        limit = int(per_client) if per_client.isdigit() and int(per_client) > 0 else 20
        found = Portal(bus, sms, rules, ClientLimit(limit))
        state.citizen_portal = found
    return found


def current_citizen(request: Request) -> Citizen | None:
    token = request.cookies.get(CITIZEN_COOKIE)
    if not token:
        return None
    service = service_of(request)
    with service.db.sessions() as session:
        return citizen_of_session(session, token_hash(token), service.clock())


def require_citizen(request: Request) -> Citizen:
    """A dependency: the signed-in citizen, else the citizen's sign-in page."""
    citizen = current_citizen(request)
    if citizen is None:
        raise CitizenRequired
    return citizen


def _secret(request: Request) -> str:
    return request.cookies.get(CITIZEN_COOKIE) or request.cookies.get(PRE_COOKIE) or ""


async def citizen_form(request: Request) -> dict[str, str]:
    """The POSTed form after checking its CSRF token; repeated fields ending in ``[]`` are
    joined with newlines."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise BadForm("the form is too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        raise BadForm("the form could not be read") from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        fields[key] = f"{fields[key]}\n{value}" if key in fields and key.endswith("[]") else value
    secret = _secret(request)
    if not secret or not hmac.compare_digest(fields.get("csrf_token", ""), csrf_for(secret)):
        raise BadForm("the form has expired or did not come from this site; reload the page")
    return fields


def development_code(request: Request, phone_masked: str) -> str | None:
    """The last message the development sender "sent" to the phone shown as ``phone_masked``
    (None with a real gateway)."""
    sms = portal(request).sms
    if not isinstance(sms, DevelopmentSms):
        return None
    for phone, message in reversed(sms.outbox):
        if phone[:3] == phone_masked[:3] and phone[-4:] == phone_masked[-4:]:
            return message
    return None


def render_citizen(
    request: Request,
    template: str,
    citizen: Citizen | None,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A citizen's page in their language (Chinese unless they chose English)."""
    locale = normalise_locale(request.cookies.get(LANG_COOKIE))
    secret = _secret(request)
    pre = None
    if not secret:
        secret = pre = new_token()

    def gettext(msgid: str, **params: Any) -> str:
        return translate(msgid, locale, **params)

    html = (
        environment()
        .get_template(template)
        .render(
            _=gettext,
            citizen=citizen,
            csrf=csrf_for(secret),
            lang="zh-CN" if locale == "zh_CN" else "en",
            locale=locale,
            program=lambda pid: program_title(str(pid), locale),
            path=request.url.path,
            **(context or {}),
        )
    )
    response = HTMLResponse(html, status_code=status_code)
    if pre is not None:
        response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="lax", path="/")
    return response
