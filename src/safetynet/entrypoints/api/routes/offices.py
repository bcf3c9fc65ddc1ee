"""``/offices/{region}/...``: an office's overdue and due-soon deadlines, its register of staff
and their close relatives, and the applications flagged by that register."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi.types import DecoratedCallable

from safetynet.cases import commands as c
from safetynet.entrypoints.api.auth import User
from safetynet.entrypoints.api.bounds import BusinessDateQuery
from safetynet.entrypoints.api.deps import ServiceDep, allowed, scoped_region
from safetynet.entrypoints.api.policy import Action
from safetynet.entrypoints.api.schemas import (
    DeadlinePublic,
    RelativeCasePublic,
    StaffRelativeCreate,
    StaffRelativePublic,
)

__all__ = ["router"]

router = APIRouter(prefix="/offices", tags=["offices"])


def _read(path: str, action: Action) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """A GET route for the roles that may take ``action`` (403 for the others)."""
    return router.get(
        path, dependencies=[Depends(allowed(action))], openapi_extra={"x-action": action.value}
    )


@_read("/{region}/deadlines", Action.DEADLINES)
def deadlines(
    region: Annotated[str, Depends(scoped_region)],
    service: ServiceDep,
    today: BusinessDateQuery = None,
    within: Annotated[int, Query(ge=0, le=60, description="Working days ahead.")] = 3,
) -> list[DeadlinePublic]:
    """Deadlines of open tracks lodged in the region or below it (the user's region or below)
    that have passed or fall due within ``within`` working days; the most urgent first."""
    return service.deadlines(region, today or service.today(), within)


@router.post(
    "/{region}/staff-relatives",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"x-action": Action.REGISTER_RELATIVE.value},
)
def register_staff_relative(
    user: Annotated[User, Depends(allowed(Action.REGISTER_RELATIVE))],
    region: Annotated[str, Depends(scoped_region)],
    body: StaffRelativeCreate,
    service: ServiceDep,
) -> StaffRelativePublic:
    """Register a close relative of a member of staff working in the region (dibao measures
    art. 11). Applications from households with that person are flagged, need a county home
    visit before a decision, and are reported. The identity number is shown masked."""
    relative_id = service.run(
        c.RegisterStaffRelative(
            actor=user.actor,
            on=body.on or service.today(),
            staff_name=body.staff_name,
            staff_role=body.staff_role,
            staff_region=region,
            id_number=body.id_number,
            relation=body.relation,
        )
    )
    (entry,) = [r for r in service.staff_register(region) if r.relative_id == relative_id]
    return entry


@_read("/{region}/staff-relatives", Action.READ_RELATIVES)
def staff_relatives(
    region: Annotated[str, Depends(scoped_region)], service: ServiceDep
) -> list[StaffRelativePublic]:
    """The register of staff working in the region or below it and their close relatives
    (identity numbers masked)."""
    return service.staff_register(region)


@_read("/{region}/relative-applications", Action.READ_RELATIVES)
def relative_applications(
    region: Annotated[str, Depends(scoped_region)], service: ServiceDep
) -> list[RelativeCasePublic]:
    """Applications lodged in the region or below it from households with a registered relative
    of staff: who the relative is (masked), each track's state, whether the county visited and
    who decided."""
    return service.relatives_report(region)
