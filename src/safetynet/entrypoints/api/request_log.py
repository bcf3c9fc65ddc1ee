"""One log record per API request: method, path template, status, user and duration."""

from __future__ import annotations

import logging
import time
from typing import Any

from safetynet.entrypoints.api.auth import UserDirectory

__all__ = ["RequestLog"]

log = logging.getLogger("safetynet.api")


class RequestLog:
    """ASGI middleware. The path is the route's template (``/tracks/{track_id}``), so ids and
    whatever a client typed into the URL never reach the log; the user is the token's owner."""

    def __init__(self, app: Any, users: UserDirectory) -> None:
        self.app = app
        self.users = users

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the application fails before answering

        async def send_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "(no route)"
            user = self._user(scope)
            log.log(
                logging.ERROR if status >= 500 else logging.INFO,
                "%s %s %s in %.0f ms",
                scope["method"],
                template,
                status,
                seconds * 1000,
                extra={
                    "event": "request",
                    "method": scope["method"],
                    "path": template,
                    "status": status,
                    "user": user,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )

    def _user(self, scope: Any) -> str | None:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token:
                    user = self.users.authenticate(token.strip())
                    return user.name if user is not None else "(unknown token)"
        return None
