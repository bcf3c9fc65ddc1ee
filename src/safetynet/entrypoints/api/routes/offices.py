"""``/offices/{region}/deadlines``: an office's overdue and due-soon deadlines."""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from safetynet.entrypoints.api.deps import ServiceDep, allowed, scoped_region
from safetynet.entrypoints.api.policy import Action
from safetynet.entrypoints.api.schemas import DeadlinePublic

__all__ = ["router"]

router = APIRouter(prefix="/offices", tags=["offices"])


@router.get(
    "/{region}/deadlines",
    dependencies=[Depends(allowed(Action.DEADLINES))],
    openapi_extra={"x-action": Action.DEADLINES.value},
)
def deadlines(
    region: Annotated[str, Depends(scoped_region)],
    service: ServiceDep,
    today: Annotated[dt.date | None, Query(description="Default: today in China.")] = None,
    within: Annotated[int, Query(ge=0, le=60, description="Working days ahead.")] = 3,
) -> list[DeadlinePublic]:
    """Deadlines of open tracks lodged in the region or below it (the user's region or below)
    that have passed or fall due within ``within`` working days; the most urgent first."""
    return service.deadlines(region, today or service.today(), within)
