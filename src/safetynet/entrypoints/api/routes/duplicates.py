"""``/registry/duplicates``: the duplicates review queue (ADR 0012) with maker-checker (ADR 0016):
list the pairs (identity numbers masked), show one, propose to merge or separate it, and approve
or reject the proposal as a second person. Scoped like every registry route: a pair is seen and
decided by a user whose region covers either of its persons."""

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from safetynet.entrypoints.api.auth import User
from safetynet.entrypoints.api.bounds import INT4_MAX, Offset
from safetynet.entrypoints.api.deps import allowed, not_found
from safetynet.entrypoints.api.policy import Action
from safetynet.entrypoints.api.registry_schemas import (
    ChangeDecisionBody,
    ChangeRejectionBody,
    DuplicatePairPage,
    DuplicatePairPublic,
    DuplicateProposalCreate,
)
from safetynet.entrypoints.api.routes.registry import PageLimit, RegistryDep

__all__ = ["router"]

router = APIRouter(prefix="/registry/duplicates", tags=["registry"])

PairIdPath = Annotated[int, Path(ge=1, le=INT4_MAX, description="A duplicate pair id.")]


def _pair(action: Action) -> Callable[..., tuple[User, int]]:
    def dependency(
        pair_id: PairIdPath,
        user: Annotated[User, Depends(allowed(action))],
        registry: RegistryDep,
    ) -> tuple[User, int]:
        if not registry.covers_any(user.region, registry.pair_regions(pair_id)):
            raise not_found("duplicate pair", pair_id)
        return user, pair_id

    return dependency


@router.get("", openapi_extra={"x-action": Action.REGISTRY_READ.value})
def list_pairs(
    user: Annotated[User, Depends(allowed(Action.REGISTRY_READ))],
    registry: RegistryDep,
    status_: Annotated[
        Literal["open", "merged", "separated"] | None,
        Query(alias="status", description="Only pairs of this status (default: open)."),
    ] = "open",
    offset: Offset = 0,
    limit: PageLimit = 50,
) -> DuplicatePairPage:
    """Pairs of the queue with a person in the user's region, most probable first; identity
    numbers masked; a decision proposed and waiting is shown with who proposed it."""
    return registry.duplicate_pairs(user.region, status_, offset, limit)


@router.get("/{pair_id}", openapi_extra={"x-action": Action.REGISTRY_READ.value})
def show_pair(
    scoped: Annotated[tuple[User, int], Depends(_pair(Action.REGISTRY_READ))],
    registry: RegistryDep,
) -> DuplicatePairPublic:
    """One pair: both persons (masked), the model's probability, its decision or proposal."""
    return registry.duplicate_pair(scoped[1])


@router.post("/{pair_id}/proposal", openapi_extra={"x-action": Action.REQUEST_CHANGE.value})
def propose(
    scoped: Annotated[tuple[User, int], Depends(_pair(Action.REQUEST_CHANGE))],
    body: DuplicateProposalCreate,
    registry: RegistryDep,
) -> DuplicatePairPublic:
    """Propose to merge the pair (keeping one of its persons) or to separate it. Nothing
    changes until another person, in a role that approves, approves it. 409 when the pair is
    decided or a proposal is already waiting; 422 naming the field otherwise."""
    user, pair_id = scoped
    registry.propose_duplicate(user.actor, pair_id, body)
    return registry.duplicate_pair(pair_id)


@router.post("/{pair_id}/approve", openapi_extra={"x-action": Action.DECIDE_CHANGE.value})
def approve(
    scoped: Annotated[tuple[User, int], Depends(_pair(Action.DECIDE_CHANGE))],
    body: ChangeDecisionBody,
    registry: RegistryDep,
) -> DuplicatePairPublic:
    """Approve the proposal: the persons are merged (every area follows: memberships, income,
    contributions, payee accounts, alerts, case records move to the person kept) or separated,
    in one transaction. 409 for the proposer themself (maker-checker) or nothing proposed."""
    user, pair_id = scoped
    registry.approve_duplicate(user.actor, pair_id, body.note)
    return registry.duplicate_pair(pair_id)


@router.post("/{pair_id}/reject", openapi_extra={"x-action": Action.DECIDE_CHANGE.value})
def reject(
    scoped: Annotated[tuple[User, int], Depends(_pair(Action.DECIDE_CHANGE))],
    body: ChangeRejectionBody,
    registry: RegistryDep,
) -> DuplicatePairPublic:
    """Reject the proposal, saying why; the pair stays open for a new proposal. 409 for the
    proposer themself or nothing proposed."""
    user, pair_id = scoped
    registry.reject_duplicate(user.actor, pair_id, body.reason)
    return registry.duplicate_pair(pair_id)
