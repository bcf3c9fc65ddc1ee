"""The workbench on the API's application: its pages, its static files, the OpenAPI pages served
from the package (nothing from another host) and the answers to a missing sign-in, a refused
role and a bad form."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from safetynet.domain.messages import translate
from safetynet.entrypoints.web.citizen import CitizenRequired
from safetynet.entrypoints.web.rendering import label, page_locale, render
from safetynet.entrypoints.web.session import (
    BadForm,
    Forbidden,
    NotFound,
    SignInRequired,
    current_staff,
)

__all__ = ["install_web"]


async def _sign_in_required(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"/sign-in?next={exc.next_url}", status_code=303)


async def _forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Forbidden)
    user = current_staff(request)
    locale = page_locale(request, user)
    context = {
        "heading": translate("Not allowed", locale),
        "text": translate(
            "Your role ({role}) may not do this.",
            locale,
            role=label("role", exc.role, locale),
        ),
    }
    return render(request, "message.html", user, context, status_code=403)


async def _not_found(request: Request, _exc: Exception) -> Response:
    user = current_staff(request)
    locale = page_locale(request, user)
    context = {
        "heading": translate("Not found", locale),
        "text": translate("There is no such record in your region.", locale),
    }
    return render(request, "message.html", user, context, status_code=404)


async def _bad_form(request: Request, _exc: Exception) -> Response:
    user = current_staff(request)
    locale = page_locale(request, user)
    context = {
        "heading": translate("The form could not be accepted", locale),
        "text": translate("The form has expired or came from elsewhere: reload the page.", locale),
    }
    return render(request, "message.html", user, context, status_code=400)


async def _citizen_sign_in(_request: Request, _exc: Exception) -> Response:
    return RedirectResponse("/citizen/sign-in", status_code=303)


def _api_docs_assets() -> str:
    """Swagger UI 5 as shipped in the fastapi-offline wheel (only its files are used; its ReDoc
    bundle is not served: it fetches a logo from ReDoc's CDN)."""
    return str(resources.files("fastapi_offline").joinpath("static"))


def install_web(app: FastAPI) -> None:
    """Add the workbench to ``app`` (the API's, whose ``state.service`` it reads)."""
    from safetynet.entrypoints.web.routes import pages

    static = resources.files("safetynet.entrypoints.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.mount("/api-docs-assets", StaticFiles(directory=_api_docs_assets()), name="api-docs")

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} (OpenAPI)",
            swagger_js_url="/api-docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/api-docs-assets/swagger-ui.css",
            swagger_favicon_url="/api-docs-assets/favicon.png",
        )

    for router in pages.routers():
        app.include_router(router)
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(BadForm, _bad_form)
    app.add_exception_handler(NotFound, _not_found)
    # A citizen's page without a signed-in citizen: the citizen's sign-in page.
    app.add_exception_handler(CitizenRequired, _citizen_sign_in)
