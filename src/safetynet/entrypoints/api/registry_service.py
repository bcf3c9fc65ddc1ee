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

    @staticmethod
    def covers(user_region: str, region: str | None) -> bool:
        return region is not None and in_region(user_region, region)
