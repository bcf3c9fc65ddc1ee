"""Typed dependencies of the routes: the service, the current user, and permission and region
checks that run before the request body is read (so a refusal never depends on the body)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from safetynet.entrypoints.api.auth import User, UserDirectory
from safetynet.entrypoints.api.bounds import AppealIdPath, PersonIdPath, RegionPath, TrackIdPath
from safetynet.entrypoints.api.policy import POLICY, Action, in_region
from safetynet.entrypoints.api.service import CaseService

__all__ = [
    "CurrentUser",
    "ScopedAppeal",
    "ScopedPerson",
    "ScopedTrack",
    "ServiceDep",
    "allowed",
    "not_found",
    "scoped_appeal",
    "scoped_person",
    "scoped_region",
    "scoped_track",
]

_bearer = HTTPBearer(auto_error=False, description="A token from the users file.")


def get_service(request: Request) -> CaseService:
    service: CaseService = request.app.state.service
    return service


ServiceDep = Annotated[CaseService, Depends(get_service)]


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    # ``async``: a look-up in the directory read at start-up (a hash and a dict), done on the
    # event loop; a plain ``def`` would be sent to a worker thread and back on every request.
    directory: UserDirectory = request.app.state.users
    user = directory.authenticate(credentials.credentials) if credentials is not None else None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a valid bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def not_found(kind: str, ident: object) -> HTTPException:
    """The same answer for a row that does not exist and one outside the user's region."""
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{kind} {ident} not found")


def _check(user: User, action: Action) -> None:
    if action not in POLICY[user.role]:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"the role {user.role.value} may not {action.value}"
        )


def allowed(action: Action) -> Callable[[User], Awaitable[User]]:
    """A dependency: the current user, if their role may take ``action`` (else 403)."""

    async def dependency(user: CurrentUser) -> User:  # a table look-up: on the event loop
        _check(user, action)
        return user

    return dependency


def _check_scoped(
    user: User, action: Action, kind: str, ident: int, region_of: Callable[[int], str | None]
) -> str:
    """403 if the role may not take ``action``, before anything is looked up; then 404 if the row
    does not exist (``region_of`` gives ``None``) or is outside the user's region. Returns the
    row's region."""
    _check(user, action)
    region = region_of(ident)
    if region is None or not in_region(user.region, region):
        raise not_found(kind, ident)
    return region


@dataclass(frozen=True, slots=True)
class ScopedTrack:
    """A track the user may act on, found in their region (``region``: where it was lodged)."""

    id: int
    user: User
    region: str


def scoped_track(action: Action) -> Callable[[int, User, CaseService], ScopedTrack]:
    """A dependency: the path's track, if the role may take ``action`` (else 403) and the track
    is in the user's region (else 404, as for an unknown track)."""

    def dependency(track_id: TrackIdPath, user: CurrentUser, service: ServiceDep) -> ScopedTrack:
        region = _check_scoped(user, action, "track", track_id, service.track_region)
        return ScopedTrack(track_id, user, region)

    return dependency


@dataclass(frozen=True, slots=True)
class ScopedAppeal:
    """An appeal the user may act on, against a track in their region."""

    id: int
    user: User


def scoped_appeal(action: Action) -> Callable[[int, User, CaseService], ScopedAppeal]:
    """A dependency: the path's appeal, if the role may take ``action`` (else 403) and the track
    it is against is in the user's region (else 404, as for an unknown appeal)."""

    def dependency(appeal_id: AppealIdPath, user: CurrentUser, service: ServiceDep) -> ScopedAppeal:
        _check_scoped(user, action, "appeal", appeal_id, service.appeal_region)
        return ScopedAppeal(appeal_id, user)

    return dependency


@dataclass(frozen=True, slots=True)
class ScopedPerson:
    """A registry person the user's region covers."""

    id: int
    user: User


def scoped_person(action: Action) -> Callable[[int, User, CaseService], ScopedPerson]:
    """A dependency: the path's person, if the role may take ``action`` (else 403) and the user's
    region covers them (else 404, as for an unknown person), before the body is read."""

    def dependency(person_id: PersonIdPath, user: CurrentUser, service: ServiceDep) -> ScopedPerson:
        _check(user, action)
        if not service.person_in_region(person_id, user.region):
            raise not_found("person", person_id)
        return ScopedPerson(person_id, user)

    return dependency


def scoped_region(region: RegionPath, user: CurrentUser) -> str:
    """A dependency: the path's region, if it is the user's or below it (else 404)."""
    from safetynet.domain.regions import default_registry

    registry = default_registry()
    if not registry.contains(region) or not in_region(user.region, region):
        raise not_found("region", region)
    return region
