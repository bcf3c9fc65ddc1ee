"""Every router of the workbench, in the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["routers"]


def routers() -> list[APIRouter]:
    from safetynet.entrypoints.web.routes import (
        cases,
        citizen,
        complaints,
        households,
        outreach,
        queue,
        services,
        signin,
        statistics,
        supervision,
    )

    return [
        signin.router,
        queue.router,
        households.router,
        cases.router,
        supervision.router,
        statistics.router,
        outreach.router,
        complaints.router,
        services.router,
        citizen.router,
    ]
