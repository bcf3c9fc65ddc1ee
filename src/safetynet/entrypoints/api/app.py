"""The application factory: routers, error mapping and the infrastructure handed in.

Nothing is built at import time: ``create_app`` takes the database and the user directory (and,
for tests, a clock and a parameter tree).
"""

import datetime as dt

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.orm.exc import StaleDataError

from safetynet.cases.workflow import ConcurrentUpdateError, WorkflowError
from safetynet.entrypoints.api.auth import UserDirectory
from safetynet.entrypoints.api.request_log import RequestLog
from safetynet.entrypoints.api.routes import appeals, applications, audit, offices, tracks
from safetynet.entrypoints.api.service import CaseService, Clock
from safetynet.errors import SafetyNetError
from safetynet.policy.parameters import ParameterTree
from safetynet.registry.db import Database

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


async def _user_error(_request: Request, exc: Exception) -> JSONResponse:
    # Bad values and unknown names in the body (a household, a program): the request is wrong.
    return _error(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


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
    )
    app.state.service = CaseService(db, clock, parameters)
    app.state.users = users
    for module in (applications, tracks, appeals, offices, audit):
        app.include_router(module.router)
    app.add_exception_handler(ConcurrentUpdateError, _workflow_error)
    app.add_exception_handler(WorkflowError, _workflow_error)
    app.add_exception_handler(StaleDataError, _stale)
    app.add_exception_handler(SafetyNetError, _user_error)
    app.add_middleware(RequestLog, users=users)
    return app
