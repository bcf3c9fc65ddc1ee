"""``/applications``: lodge one application at one door, list and read them within the region."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from safetynet.cases import commands as c
from safetynet.domain.regions import default_registry
from safetynet.entrypoints.api.auth import User
from safetynet.entrypoints.api.bounds import (
    ApplicationIdPath,
    Limit,
    Offset,
    refuse_amounts_above,
)
from safetynet.entrypoints.api.deps import ServiceDep, allowed, not_found
from safetynet.entrypoints.api.policy import FULL_IDENTITY_ROLES, Action, in_region, may
from safetynet.entrypoints.api.schemas import ApplicationCreate, ApplicationPublic
from safetynet.errors import UnknownNameError

router = APIRouter(prefix="/applications", tags=["applications"])


@router.post(
    "", status_code=status.HTTP_201_CREATED, openapi_extra={"x-action": Action.SUBMIT.value}
)
def submit_application(
    body: ApplicationCreate,
    user: Annotated[User, Depends(allowed(Action.SUBMIT))],
    service: ServiceDep,
) -> ApplicationPublic:
    """Lodge an application for a registered household in the user's region (or below it): it is
    screened against every program and fans out to one track per program."""
    if not in_region(user.region, body.region):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"region {body.region} is outside the region you act for ({user.region})",
        )
    # The region check comes before the registry is read: a household registered outside the
    # user's region gets exactly the answer of one that does not exist, so the API reveals
    # nothing about other regions' registries (lodging outside the hukou place is open to a
    # user whose region covers both places).
    if not default_registry().contains(body.household_region) or not in_region(
        user.region, body.household_region
    ):
        raise UnknownNameError("household", f"{body.household_region}/{body.household_no}")
    on = body.on or service.today()
    # The maximum amount is that in force where the application is lodged.
    refuse_amounts_above(
        service.maximum_amount_fen(on, body.region),
        on=on,
        region=body.region,
        households={"household": body.household},
    )
    application_id = service.submit(
        c.SubmitApplication(
            actor=user.actor,
            on=on,
            household_region=body.household_region,
            household_no=body.household_no,
            region=body.region,
            household=body.household,
            programs=tuple(body.programs) if body.programs is not None else None,
            emergency=body.emergency,
            devolved=body.devolved,
            outside_hukou_basis=body.outside_hukou_basis,
        )
    )
    found = service.application(
        application_id, user.region, full_identity=False, relatives=may(user, Action.READ_RELATIVES)
    )
    assert found is not None  # just lodged in the user's region
    return found


@router.get("", openapi_extra={"x-action": Action.READ.value})
def list_applications(
    user: Annotated[User, Depends(allowed(Action.READ))],
    service: ServiceDep,
    offset: Offset = 0,
    limit: Limit = 100,
) -> list[ApplicationPublic]:
    """Applications lodged in the user's region or below it, oldest first; identity numbers are
    always masked here."""
    return service.applications(
        user.region, offset=offset, limit=limit, relatives=may(user, Action.READ_RELATIVES)
    )


@router.get("/{application_id}", openapi_extra={"x-action": Action.READ.value})
def read_application(
    application_id: ApplicationIdPath,
    user: Annotated[User, Depends(allowed(Action.READ))],
    service: ServiceDep,
) -> ApplicationPublic:
    """One application with its tracks. Investigators and county approvers see full identity
    numbers (they verify identity and decide); every other role sees them masked."""
    found = service.application(
        application_id,
        user.region,
        full_identity=user.role in FULL_IDENTITY_ROLES,
        relatives=may(user, Action.READ_RELATIVES),
    )
    if found is None:
        raise not_found("application", application_id)
    return found


__all__ = ["router"]
