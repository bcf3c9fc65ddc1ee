"""Queries of the registry tables, in bulk where imports need them; no commits here."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from safetynet.domain.regions import RegionLevel, default_registry
from safetynet.registry.model import (
    Asset,
    Enrolment,
    Household,
    IncomeItem,
    Membership,
    Person,
    RegionRow,
)

__all__ = ["RegistryRepository", "SessionRepository"]


class SessionRepository:
    """What every repository does with its session: add rows and flush them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        self.session.add(row)

    def flush(self) -> None:
        self.session.flush()


class RegistryRepository(SessionRepository):
    # -- regions --

    def ensure_regions(self, codes: Iterable[str]) -> None:
        """Make sure each code and its ancestors have a row (``db upgrade`` loads them all)."""
        wanted: set[str] = set()
        registry = default_registry()
        for code in set(codes):
            wanted.update(r.code for r in registry.ancestors(code))
        if not wanted:
            return
        present = set(
            self.session.scalars(select(RegionRow.code).where(RegionRow.code.in_(wanted)))
        )
        rank = {RegionLevel.PROVINCE: 0, RegionLevel.CITY: 1, RegionLevel.COUNTY: 2}
        missing = sorted(
            (registry.get(c) for c in wanted - present), key=lambda r: (rank[r.level], r.code)
        )
        for region in missing:
            self.session.add(
                RegionRow(
                    code=region.code,
                    name=region.name,
                    level=region.level.value,
                    parent_code=region.parent,
                )
            )
        if missing:
            self.session.flush()

    # -- households and persons --

    def household(self, region: str, household_no: str) -> Household | None:
        return self.session.scalars(
            select(Household).where(
                Household.region_code == region, Household.household_no == household_no
            )
        ).one_or_none()

    def households_by_key(
        self, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], Household]:
        if not keys:
            return {}
        rows = self.session.scalars(
            select(Household).where(
                tuple_(Household.region_code, Household.household_no).in_(list(keys))
            )
        )
        return {(h.region_code, h.household_no): h for h in rows}

    def person(self, id_number: str) -> Person | None:
        return self.session.scalars(
            select(Person).where(Person.id_number == id_number)
        ).one_or_none()

    def persons_by_id_number(self, id_numbers: Collection[str]) -> dict[str, Person]:
        if not id_numbers:
            return {}
        rows = self.session.scalars(select(Person).where(Person.id_number.in_(list(id_numbers))))
        return {p.id_number: p for p in rows}

    # -- memberships --

    def open_membership(self, person_id: int) -> Membership | None:
        return self.session.scalars(
            select(Membership).where(
                Membership.person_id == person_id, Membership.end_date.is_(None)
            )
        ).one_or_none()

    def open_memberships_of_persons(
        self, person_ids: Collection[int]
    ) -> dict[int, tuple[Membership, Household]]:
        if not person_ids:
            return {}
        rows = self.session.execute(
            select(Membership, Household)
            .join(Household, Household.id == Membership.household_id)
            .where(Membership.person_id.in_(list(person_ids)), Membership.end_date.is_(None))
        )
        return {m.person_id: (m, h) for m, h in rows}

    def open_members_of_households(
        self, household_ids: Collection[int]
    ) -> dict[int, list[tuple[Membership, Person]]]:
        found: dict[int, list[tuple[Membership, Person]]] = {}
        if not household_ids:
            return found
        rows = self.session.execute(
            select(Membership, Person)
            .join(Person, Person.id == Membership.person_id)
            .where(Membership.household_id.in_(list(household_ids)), Membership.end_date.is_(None))
            .order_by(Membership.id)
        )
        for membership, person in rows:
            found.setdefault(membership.household_id, []).append((membership, person))
        return found

    def membership_history(self, person_id: int) -> list[tuple[Membership, Household]]:
        rows = self.session.execute(
            select(Membership, Household)
            .join(Household, Household.id == Membership.household_id)
            .where(Membership.person_id == person_id)
            .order_by(Membership.start_date, Membership.id)
        )
        return list(rows)

    # -- income and assets --

    def income_items(
        self, person_ids: Collection[int], months: Collection[str]
    ) -> dict[tuple[int, str, str], IncomeItem]:
        if not person_ids or not months:
            return {}
        rows = self.session.scalars(
            select(IncomeItem).where(
                IncomeItem.person_id.in_(list(person_ids)), IncomeItem.month.in_(list(months))
            )
        )
        return {(i.person_id, i.kind, i.month): i for i in rows}

    def assets_from(
        self, household_ids: Collection[int], source: str
    ) -> dict[tuple[int, str], Asset]:
        if not household_ids:
            return {}
        rows = self.session.scalars(
            select(Asset).where(Asset.household_id.in_(list(household_ids)), Asset.source == source)
        )
        return {(a.household_id, a.kind): a for a in rows}

    # -- enrolments --

    def current_enrolment(self, household_id: int, program: str) -> Enrolment | None:
        return self.session.scalars(
            select(Enrolment).where(
                Enrolment.household_id == household_id,
                Enrolment.program == program,
                Enrolment.status != "ended",
            )
        ).one_or_none()

    def enrolment(self, enrolment_id: int) -> Enrolment | None:
        return self.session.get(Enrolment, enrolment_id)
