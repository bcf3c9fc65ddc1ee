"""The application factory: routers, error mapping and the infrastructure handed in.

Nothing is built at import time: ``create_app`` takes the database and the user directory (and,
for tests, a clock and a parameter tree).
"""

import datetime as dt
import re

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from safetynet.cases.workflow import ConcurrentUpdateError, WorkflowError
from safetynet.db.engine import Database
from safetynet.domain.privacy import mask_text
from safetynet.entrypoints.api.auth import UserDirectory
from safetynet.entrypoints.api.masking import MaskIdentityNumbers
from safetynet.entrypoints.api.registry_service import RegistryService
from safetynet.entrypoints.api.request_log import RequestLog
from safetynet.entrypoints.api.routes import (
    appeals,
    applications,
    audit,
    calculate,
    duplicates,
    exchange,
    offices,
    outreach,
    persons,
    registry,
    tracks,
)
from safetynet.entrypoints.api.schemas import ERROR_RESPONSES
from safetynet.entrypoints.api.service import CaseService, Clock
from safetynet.errors import InputError, SafetyNetError, UnknownNameError
from safetynet.policy.parameters import ParameterTree
from safetynet.registry.changes import ChangeRefusedError
from safetynet.registry.duplicate_reviews import DuplicateDecisionRefusedError

__all__ = ["create_app"]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _error(code: int, detail: str) -> JSONResponse:
    return JSONResponse(status_code=code, content={"detail": detail})


async def _workflow_error(_request: Request, exc: Exception) -> JSONResponse:
    # Out of order, maker-checker, a lost optimistic-locking race: the step conflicts with the
    # state of the case.
    return _error(status.HTTP_409_CONFLICT, str(exc))


async def _stale(_request: Request, _exc: Exception) -> JSONResponse:
    return _error(
        status.HTTP_409_CONFLICT,
        "someone else changed it at the same time and their step was recorded first; "
        "reload it and try again",
    )


def _location(exc: Exception) -> list[str]:
    if isinstance(exc, InputError):
        return ["body", *exc.field.split(".")]
    if isinstance(exc, UnknownNameError):
        return ["body", exc.kind]
    return ["body"]


async def _duplicate(_request: Request, _exc: Exception) -> JSONResponse:
    # A unique constraint caught what the handler's own check could not see: the same step
    # recorded by someone else at the same moment.
    return _error(
        status.HTTP_409_CONFLICT,
        "it was recorded by someone else at the same time; reload it: it is recorded once",
    )


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    # FastAPI's own answer echoes each bad ``input``: megabytes of text back, an identity number
    # in full, or a NaN that cannot be written as JSON at all (a 500). The field, the reason and
    # the kind of error are what a client needs.
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": [str(p) if not isinstance(p, int) else p for p in error["loc"]],
            "msg": mask_text(str(error["msg"])),
            "type": str(error["type"]),
        }
        for error in exc.errors()
    ]
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": errors}
    )


async def _user_error(_request: Request, exc: Exception) -> JSONResponse:
    # Bad values and unknown names in the body (a household, a program): the request is wrong.
    # The answer has the shape of the API's other 422s (those of the request validation), so
    # a client reads one schema: the field in ``loc`` and the reason in ``msg``.
    reason = exc.reason if isinstance(exc, InputError) else str(exc)
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": [{"loc": _location(exc), "msg": reason, "type": "value_error"}]},
    )


def create_app(
    db: Database,
    *,
    users: UserDirectory,
    clock: Clock = _utc_now,
    parameters: ParameterTree | None = None,
) -> FastAPI:
    """The API on ``db``, authenticating bearer tokens against ``users``; logging is configured
    from the settings (docs/settings.md) and every request is logged."""
    from safetynet.logs import configure_logging
    from safetynet.settings import load_settings

    configure_logging(load_settings())
    app = FastAPI(
        title="SafetyNet case workflow API",
        version="0.1.0",
        description=(
            "One-door applications and the statutory procedure of social assistance, scoped to "
            "the user's region. See docs/api.md for roles, actions and errors."
        ),
        responses=ERROR_RESPONSES,
        # The OpenAPI page (/docs) is served with assets from the package by the workbench
        # (entrypoints/web/app.py): nothing from a CDN. ReDoc is off (its bundle fetches a logo
        # from its CDN).
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = CaseService(db, clock, parameters)
    app.state.users = users
    app.state.registry = RegistryService(db, app.state.service.bus)
    # POST /calculate first: a request is matched against the routes in order, and one household
    # is answered in a few milliseconds, of which walking the other routers' sixty routes first
    # took about 0.2 (0.5 on a busy machine). No other route matches its path, so the order
    # changes no answer; the OpenAPI document lists it first.
    for module in (
        calculate,
        applications,
        tracks,
        appeals,
        offices,
        audit,
        persons,
        duplicates,
        registry,
        exchange,
        outreach,
    ):
        app.include_router(module.router)
    # Every JSON answer, errors included, has its identity numbers masked whatever the field.
    app.add_middleware(
        MaskIdentityNumbers,
        # POST /calculate masks its own answer (calculate.masked): a free-text walk of every
        # number of ten thousand households would cost more than the calculation.
        skip=frozenset({app.openapi_url or "", calculate.PATH}),
        disclosure=re.compile(persons.ID_NUMBER_PATH),
    )
    app.add_exception_handler(ConcurrentUpdateError, _workflow_error)
    app.add_exception_handler(WorkflowError, _workflow_error)
    app.add_exception_handler(ChangeRefusedError, _workflow_error)  # maker-checker, decided
    app.add_exception_handler(DuplicateDecisionRefusedError, _workflow_error)  # the same
    app.add_exception_handler(StaleDataError, _stale)
    app.add_exception_handler(IntegrityError, _duplicate)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(SafetyNetError, _user_error)
    app.add_middleware(RequestLog, users=users)
    from safetynet.entrypoints.web import install_web

    install_web(app)
    return app
