"""The clerk's work queue: every deadline of the user's region by statutory due date."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from safetynet.entrypoints.api.policy import Action
from safetynet.entrypoints.web.rendering import render
from safetynet.entrypoints.web.session import StaffUser, service_of, staff
from safetynet.entrypoints.web.views import (
    WEEK_WORKING_DAYS,
    waiting_for_acceptance,
    work_queue,
)

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, user: Annotated[StaffUser, Depends(staff())]) -> Response:
    """The work queue for roles that have one; others start at their own page."""
    if not user.may(Action.DEADLINES):
        return render(request, "home.html", user, {"groups": []})
    service = service_of(request)
    today = service.today()
    rows = service.deadlines(user.region, today, WEEK_WORKING_DAYS)
    context = {
        "groups": work_queue(rows, today),
        "today": today,
        "waiting": waiting_for_acceptance(service.db, user.region),
    }
    return render(request, "home.html", user, context)
