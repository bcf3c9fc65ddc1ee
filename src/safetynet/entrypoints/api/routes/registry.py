"""``/registry``: find households and persons (masked), one household whole with its history, and
change requests of a household's facts that a second person approves (ADR 0011)."""

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, status

from safetynet.entrypoints.api.auth import User
from safetynet.entrypoints.api.bounds import INT4_MAX, Offset
from safetynet.entrypoints.api.deps import allowed, not_found
from safetynet.entrypoints.api.policy import Action
from safetynet.entrypoints.api.registry_schemas import (
    ChangeDecisionBody,
    ChangeRejectionBody,
    ChangeRequestCreate,
    ChangeRequestPage,
    ChangeRequestPublic,
    HouseholdHitPage,
    HouseholdPublic,
    PersonHitPage,
)
from safetynet.entrypoints.api.registry_service import RegistryService
from safetynet.registry.search import MAX_PAGE, SearchQuery

__all__ = ["router"]

router = APIRouter(prefix="/registry", tags=["registry"])

HouseholdIdPath = Annotated[int, Path(ge=1, le=INT4_MAX, description="A household id.")]
RequestIdPath = Annotated[int, Path(ge=1, le=INT4_MAX, description="A change request id.")]


def get_registry(request: Request) -> RegistryService:
    service: RegistryService = request.app.state.registry
    return service


RegistryDep = Annotated[RegistryService, Depends(get_registry)]
PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Rows (at most {MAX_PAGE}).")]
IdNumberQuery = Annotated[
    str | None,
    Query(min_length=15, max_length=24, description="Identity number, 18 or legacy 15 digits."),
]
NameQuery = Annotated[str | None, Query(min_length=1, max_length=100, description="A name.")]
MatchQuery = Annotated[
    Literal["exact", "prefix", "contains"], Query(description="How the name matches.")
]
AddressQuery = Annotated[
    str | None, Query(min_length=1, max_length=200, description="A part of the address.")
]
RegionQuery = Annotated[
    str | None,
    Query(
        pattern=r"^([0-9]{6}|[0-9]{9}|[0-9]{12})$",
        description="6-digit region code (a county, city or province), or 9/12 digits of a "
        "statistical code (township, village).",
    ),
]


def _query(
    user: User,
    id_number: str | None,
    name: str | None,
    name_match: Literal["exact", "prefix", "contains"],
    address: str | None,
    region: str | None,
    offset: int,
    limit: int,
) -> SearchQuery:
    return SearchQuery(
        id_number=id_number,
        name=name,
        name_match=name_match,
        address=address,
        region=region,
        within=user.region,
        offset=offset,
        limit=limit,
    )


_SEARCH = {"x-action": Action.REGISTRY_READ.value}


@router.get("/households", openapi_extra=_SEARCH)
def search_households(
    user: Annotated[User, Depends(allowed(Action.REGISTRY_READ))],
    registry: RegistryDep,
    id_number: IdNumberQuery = None,
    name: NameQuery = None,
    name_match: MatchQuery = "exact",
    address: AddressQuery = None,
    region: RegionQuery = None,
    offset: Offset = 0,
    limit: PageLimit = 20,
) -> HouseholdHitPage:
    """Households in the user's region matching every criterion given (a person criterion: one
    of its current members), with the head (identity number masked) and the number of members;
    one page and the total."""
    query = _query(user, id_number, name, name_match, address, region, offset, limit)
    return registry.households(query)


@router.get("/persons", openapi_extra=_SEARCH)
def search_persons(
    user: Annotated[User, Depends(allowed(Action.REGISTRY_READ))],
    registry: RegistryDep,
    id_number: IdNumberQuery = None,
    name: NameQuery = None,
    name_match: MatchQuery = "exact",
    address: AddressQuery = None,
    region: RegionQuery = None,
    offset: Offset = 0,
    limit: PageLimit = 20,
) -> PersonHitPage:
    """Persons in the user's region (by their current household, else their hukou) matching
    every criterion given, identity numbers masked; one page and the total."""
    query = _query(user, id_number, name, name_match, address, region, offset, limit)
    return registry.persons(query)


def _household(action: Action) -> Callable[..., tuple[User, int]]:
    def dependency(
        household_id: HouseholdIdPath,
        user: Annotated[User, Depends(allowed(action))],
        registry: RegistryDep,
    ) -> tuple[User, int]:
        if not registry.covers(user.region, registry.household_region(household_id)):
            raise not_found("household", household_id)
        return user, household_id

    return dependency


def _change_request(action: Action) -> Callable[..., tuple[User, int]]:
    def dependency(
        request_id: RequestIdPath,
        user: Annotated[User, Depends(allowed(action))],
        registry: RegistryDep,
    ) -> tuple[User, int]:
        if not registry.covers(user.region, registry.request_region(request_id)):
            raise not_found("change request", request_id)
        return user, request_id

    return dependency


@router.get("/households/{household_id}", openapi_extra=_SEARCH)
def show_household(
    scoped: Annotated[tuple[User, int], Depends(_household(Action.REGISTRY_READ))],
    registry: RegistryDep,
) -> HouseholdPublic:
    """The household whole: members past and present with their dates and relations, income by
    month, assets, enrolments with every version, change requests, and its audit history
    (newest first); identity numbers masked."""
    view = registry.household(scoped[1])
    if view is None:
        raise not_found("household", scoped[1])
    return view


@router.post(
    "/households/{household_id}/change-requests",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"x-action": Action.REQUEST_CHANGE.value},
)
def request_change(
    scoped: Annotated[tuple[User, int], Depends(_household(Action.REQUEST_CHANGE))],
    body: ChangeRequestCreate,
    registry: RegistryDep,
) -> ChangeRequestPublic:
    """Ask for a change of the household's facts. Nothing changes until another person, in a
    role that approves, approves it (422 naming the field when the request cannot be made)."""
    user, household_id = scoped
    request_id = registry.request(user.actor, household_id, body)
    return registry.change_request(request_id)


@router.get("/change-requests", openapi_extra=_SEARCH)
def list_change_requests(
    user: Annotated[User, Depends(allowed(Action.REGISTRY_READ))],
    registry: RegistryDep,
    status_: Annotated[
        Literal["pending", "approved", "rejected"] | None,
        Query(alias="status", description="Only requests of this status."),
    ] = None,
    offset: Offset = 0,
    limit: PageLimit = 50,
) -> ChangeRequestPage:
    """Change requests of households in the user's region, oldest first."""
    return registry.change_requests(user.region, status_, offset, limit)


@router.post(
    "/change-requests/{request_id}/approve",
    openapi_extra={"x-action": Action.DECIDE_CHANGE.value},
)
def approve_change(
    scoped: Annotated[tuple[User, int], Depends(_change_request(Action.DECIDE_CHANGE))],
    body: ChangeDecisionBody,
    registry: RegistryDep,
) -> ChangeRequestPublic:
    """Approve and apply the request in one transaction. 409 for the requester themself
    (maker-checker), a request already decided, or facts changed since the request (the
    answer says which)."""
    user, request_id = scoped
    registry.approve(user.actor, request_id, body.note)
    return registry.change_request(request_id)


@router.post(
    "/change-requests/{request_id}/reject",
    openapi_extra={"x-action": Action.DECIDE_CHANGE.value},
)
def reject_change(
    scoped: Annotated[tuple[User, int], Depends(_change_request(Action.DECIDE_CHANGE))],
    body: ChangeRejectionBody,
    registry: RegistryDep,
) -> ChangeRequestPublic:
    """Reject the request, saying why; the household is unchanged. 409 for the requester
    themself or a request already decided."""
    user, request_id = scoped
    registry.reject(user.actor, request_id, body.reason)
    return registry.change_request(request_id)
