"""Sign in, sign out and the page language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from safetynet.accounts.commands import ChooseLocale, SignIn, SignInRefused, SignOut
from safetynet.domain.messages import normalise_locale, translate
from safetynet.entrypoints.web.rendering import page_locale, render
from safetynet.entrypoints.web.session import (
    LANG_COOKIE,
    PRE_COOKIE,
    SESSION_COOKIE,
    StaffUser,
    current_staff,
    form_of,
    new_token,
    service_of,
    token_hash,
)

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path of this site (never ``//host`` or a full URL) is followed after signing in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "/") -> Response:
    return render(request, "sign_in.html", None, {"next": safe_next(next), "username": ""})


def _refusal_text(refused: SignInRefused, locale: str) -> str:
    if refused.reason == "locked":
        until = refused.locked_until[:16].replace("T", " ")
        return translate(
            "Too many wrong passwords: the account is locked until {until} (UTC).",
            locale,
            until=until,
        )
    return translate("The user name or the password is wrong.", locale)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await form_of(request)
    token = new_token()
    service = service_of(request)
    result = service.bus.handle(
        SignIn(
            username=form.get("username", ""),
            password=form.get("password", ""),
            token_sha256=token_hash(token),
        )
    )
    if isinstance(result, SignInRefused):
        locale = page_locale(request, None)
        context = {
            "next": safe_next(form.get("next")),
            "username": form.get("username", ""),
            "errors": [("password", _refusal_text(result, locale))],
        }
        return render(request, "sign_in.html", None, context, status_code=401)
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", path="/")
    response.delete_cookie(PRE_COOKIE, path="/")
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    await form_of(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service_of(request).bus.handle(SignOut(token_sha256=token_hash(token)))
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/language")
async def choose_language(
    request: Request, user: Annotated[StaffUser | None, Depends(current_staff)]
) -> Response:
    form = await form_of(request)
    locale = normalise_locale(form.get("locale"))
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    if user is not None:
        service_of(request).bus.handle(
            ChooseLocale(actor=user.user.actor, account_id=user.account_id, locale=locale)
        )
    response.set_cookie(LANG_COOKIE, locale, samesite="lax", path="/")
    return response
