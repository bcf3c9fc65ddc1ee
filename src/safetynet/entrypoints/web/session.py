"""Who is signed in to the workbench: the session cookie, the CSRF token bound to it, and the
dependencies that let a page through only for a role allowed the action, in the user's region.

The browser holds a random token in an HttpOnly, SameSite=Lax cookie; the database holds its
SHA-256 (``staff_sessions``). Every POST carries ``csrf_token``, the SHA-256 of ``csrf:`` and the
session token (or, before signing in, of a random pre-session cookie): a page of another site can
neither read it nor guess it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from fastapi import Request

from safetynet.accounts.views import account_of_session
from safetynet.entrypoints.api.auth import User
from safetynet.entrypoints.api.policy import POLICY, Action, Role
from safetynet.entrypoints.api.service import CaseService

__all__ = [
    "SESSION_COOKIE",
    "Forbidden",
    "NotFound",
    "SignInRequired",
    "StaffUser",
    "csrf_for",
    "form_of",
    "new_token",
    "staff",
    "token_hash",
]

SESSION_COOKIE = "sn_session"
PRE_COOKIE = "sn_pre"
LANG_COOKIE = "sn_lang"
MAX_FORM_BYTES = 1_000_000


class SignInRequired(Exception):  # noqa: N818  (a signal to the handler, not an error)
    """No valid session: the page answers with the sign-in page (then back to ``next``)."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class Forbidden(Exception):  # noqa: N818
    """The role may not do this: a 403 page naming the role and the action."""

    def __init__(self, role: str, action: str) -> None:
        super().__init__(f"{role} may not {action}")
        self.role = role
        self.action = action


class NotFound(Exception):  # noqa: N818
    """Unknown, or outside the user's region: the same page either way (nothing leaks)."""


class BadForm(Exception):  # noqa: N818
    """A POST without the right CSRF token or with an unreadable body."""


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_for(secret: str) -> str:
    return hashlib.sha256(f"csrf:{secret}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StaffUser:
    """The signed-in member of staff: the API's user (role and region) and their page language."""

    user: User
    account_id: int
    display_name: str
    locale: str
    csrf: str

    @property
    def role(self) -> Role:
        return self.user.role

    @property
    def region(self) -> str:
        return self.user.region

    def may(self, action: Action | str) -> bool:
        return Action(action) in POLICY[self.user.role]


def service_of(request: Request) -> CaseService:
    service: CaseService = request.app.state.service
    return service


def current_staff(request: Request) -> StaffUser | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    service = service_of(request)
    with service.db.sessions() as session:
        found = account_of_session(session, token_hash(token), service.clock())
    if found is None or found.role not in {r.value for r in Role}:
        return None
    user = User(found.person, Role(found.role), found.region)
    return StaffUser(user, found.account_id, found.display_name, found.locale, csrf_for(token))


def staff(action: Action | None = None) -> Callable[[Request], StaffUser]:
    """A dependency: the signed-in user (else the sign-in page), if their role may take
    ``action`` (else a 403 page)."""

    def dependency(request: Request) -> StaffUser:
        user = current_staff(request)
        if user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInRequired(quote(target, safe="/?=&"))
        if action is not None and not user.may(action):
            raise Forbidden(user.role.value, action.value)
        return user

    return dependency


def pre_session_secret(request: Request) -> str:
    """The secret the CSRF token of a page is bound to: the session, else the pre-session."""
    return request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRE_COOKIE) or ""


async def form_of(request: Request) -> dict[str, str]:
    """The POSTed form (URL-encoded), after checking its CSRF token. A field given twice keeps
    its last value; ``getlist`` fields are joined with newlines."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise BadForm("the form is too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise BadForm("the form could not be read") from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        fields[key] = f"{fields[key]}\n{value}" if key in fields and key.endswith("[]") else value
    secret = pre_session_secret(request)
    if not secret or not hmac.compare_digest(fields.get("csrf_token", ""), csrf_for(secret)):
        raise BadForm("the form has expired or did not come from this site; reload the page")
    return fields


def today(request: Request) -> dt.date:
    return service_of(request).today()
