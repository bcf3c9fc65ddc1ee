"""The API's service layer for ``/registry``: searches and the household view (queries of
``registry.search``) and the change-request commands handed to the bus. Every read is limited to
the user's region subtree, so a row outside it is simply not found."""

from __future__ import annotations

from sqlalchemy import select

from safetynet.audit.log import Actor
from safetynet.db.engine import Database
from safetynet.db.messagebus import MessageBus
from safetynet.entrypoints.api.policy import in_region
from safetynet.entrypoints.api.registry_schemas import (
    ChangeRequestCreate,
    ChangeRequestPage,
    ChangeRequestPublic,
    DuplicatePairPage,
    DuplicatePairPublic,
    DuplicatePersonPublic,
    DuplicateProposalCreate,
    HouseholdHitPage,
    HouseholdPublic,
    PersonHitPage,
)
from safetynet.registry.change_model import ChangeRequest
from safetynet.registry.changes import (
    ApproveChange,
    ChangeDetails,
    RejectChange,
    RequestChange,
)
from safetynet.registry.duplicate_reviews import (
    ApproveDuplicateDecision,
    PairProposal,
    ProposeDuplicateDecision,
    RejectDuplicateDecision,
    pair_regions,
    pair_with_proposal,
)
from safetynet.registry.duplicates import duplicate_pairs
from safetynet.registry.model import Household
from safetynet.registry.search import (
    SearchQuery,
    change_request_region,
    change_request_view,
    change_requests,
    household_view,
    search_households,
    search_persons,
)

__all__ = ["RegistryService"]


class RegistryService:
    def __init__(self, db: Database, bus: MessageBus) -> None:
        self.db = db
        self.bus = bus

    # -- scoping ----------------------------------------------------------------------------

    def household_region(self, household_id: int) -> str | None:
        with self.db.sessions() as session:
            return session.scalar(select(Household.region_code).where(Household.id == household_id))

    def request_region(self, request_id: int) -> str | None:
        with self.db.sessions() as session:
            return change_request_region(session, request_id)

    # -- reads ------------------------------------------------------------------------------

    def persons(self, query: SearchQuery) -> PersonHitPage:
        with self.db.sessions() as session:
            return PersonHitPage.model_validate(search_persons(session, query))

    def households(self, query: SearchQuery) -> HouseholdHitPage:
        with self.db.sessions() as session:
            return HouseholdHitPage.model_validate(search_households(session, query))

    def household(self, household_id: int) -> HouseholdPublic | None:
        with self.db.sessions() as session:
            view = household_view(session, household_id)
            return None if view is None else HouseholdPublic.model_validate(view)

    def change_requests(
        self, within: str, status: str | None, offset: int, limit: int
    ) -> ChangeRequestPage:
        with self.db.sessions() as session:
            page = change_requests(
                session, status=status, within=within, offset=offset, limit=limit
            )
            return ChangeRequestPage.model_validate(page)

    def change_request(self, request_id: int) -> ChangeRequestPublic:
        with self.db.sessions() as session:
            request = session.get(ChangeRequest, request_id)
            assert request is not None  # scoped by the caller
            return ChangeRequestPublic.model_validate(change_request_view(request))

    # -- commands ---------------------------------------------------------------------------

    def request(self, actor: Actor, household_id: int, body: ChangeRequestCreate) -> int:
        with self.db.sessions() as session:
            household = session.get(Household, household_id)
            assert household is not None  # scoped by the caller
            region, number = household.region_code, household.household_no
        details = ChangeDetails(**body.model_dump(exclude={"kind", "reason"}, exclude_none=True))
        cmd = RequestChange(region, number, body.kind, details, body.reason, actor)
        return int(self.bus.handle(cmd))

    def approve(self, actor: Actor, request_id: int, note: str) -> None:
        self.bus.handle(ApproveChange(request_id, actor, note))

    def reject(self, actor: Actor, request_id: int, reason: str) -> None:
        self.bus.handle(RejectChange(request_id, reason, actor))

    # -- the duplicates review queue -----------------------------------------------------------

    def pair_regions(self, pair_id: int) -> tuple[str, ...] | None:
        with self.db.sessions() as session:
            return pair_regions(session, pair_id)

    def duplicate_pairs(
        self, within: str, status: str | None, offset: int, limit: int
    ) -> DuplicatePairPage:
        """The queue in the user's region (either person's hukou region), most probable first."""
        with self.db.sessions() as session:
            views = duplicate_pairs(session, status=status, region=within, limit=limit,
                                    offset=offset)  # fmt: skip
            hits = [pair_with_proposal(session, v.pair_id) for v in views]
        return DuplicatePairPage(
            offset=offset, limit=limit, hits=[_pair_public(p) for p in hits if p is not None]
        )

    def duplicate_pair(self, pair_id: int) -> DuplicatePairPublic:
        with self.db.sessions() as session:
            found = pair_with_proposal(session, pair_id)
        assert found is not None  # scoped by the caller
        return _pair_public(found)

    def propose_duplicate(self, actor: Actor, pair_id: int, body: DuplicateProposalCreate) -> None:
        self.bus.handle(
            ProposeDuplicateDecision(pair_id=pair_id, action=body.action, reason=body.reason,
                                     actor=actor, keep_person_id=body.keep_person_id)
        )  # fmt: skip

    def approve_duplicate(self, actor: Actor, pair_id: int, note: str) -> None:
        self.bus.handle(ApproveDuplicateDecision(pair_id=pair_id, note=note, actor=actor))

    def reject_duplicate(self, actor: Actor, pair_id: int, reason: str) -> None:
        self.bus.handle(RejectDuplicateDecision(pair_id=pair_id, reason=reason, actor=actor))

    @staticmethod
    def covers_any(user_region: str, regions: tuple[str, ...] | None) -> bool:
        return bool(regions) and any(in_region(user_region, r) for r in regions or ())

    @staticmethod
    def covers(user_region: str, region: str | None) -> bool:
        return region is not None and in_region(user_region, region)


def _pair_public(found: PairProposal) -> DuplicatePairPublic:
    v = found.pair
    return DuplicatePairPublic(
        pair_id=v.pair_id,
        match_probability=v.match_probability,
        status=v.status,  # type: ignore[arg-type]  # a CHECK constraint keeps it to the three
        person=DuplicatePersonPublic(person_id=v.person_id, masked_id_number=v.masked_id_number,
                                     name=v.name, birth_date=v.birth_date, region=v.region),
        other=DuplicatePersonPublic(person_id=v.other_person_id,
                                    masked_id_number=v.other_masked_id_number,
                                    name=v.other_name, birth_date=v.other_birth_date,
                                    region=v.other_region),
        decided_by=v.decided_by,
        decided_at=v.decided_at,
        kept_person_id=v.kept_person_id,
        proposed_action=found.proposed_action,  # type: ignore[arg-type]  # CHECK constraint
        proposed_keep_person_id=found.proposed_keep_person_id,
        proposed_by=found.proposed_by,
        proposed_at=found.proposed_at,
        proposal_reason=found.proposal_reason,
    )  # fmt: skip
