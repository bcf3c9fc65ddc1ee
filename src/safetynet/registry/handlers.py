"""Commands that change the registry, each handled in one transaction with its audit events.

An entry point builds a command and calls its handler with a unit of work and a clock; the handler
checks, writes, appends audit events and commits, or raises and leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from safetynet.audit.log import Actor, append
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.identity import mask_identity_number
from safetynet.errors import InputError, UnknownNameError
from safetynet.intake import NullProgress, ProgressSink
from safetynet.logs import logged_stage
from safetynet.policy.engine import programs
from safetynet.policy.population import Entity
from safetynet.registry.bulk_households import insert_new_households
from safetynet.registry.duplicates import hold_likely_duplicates
from safetynet.registry.events import IncomeChange, IncomeChanged
from safetynet.registry.facts import SUBJECT, facts_in_force, write_facts
from safetynet.registry.imports import AssetTotal, HouseholdRecord, PersonRecord, ValidatedImport
from safetynet.registry.model import (
    Asset,
    Enrolment,
    EnrolmentHistory,
    Household,
    IncomeItem,
    Membership,
    Person,
)
from safetynet.registry.repository import RegistryRepository
from safetynet.registry.vocabulary import ENROLMENT_STATUSES, RELATIONS

__all__ = [
    "ChangeEnrolment",
    "Clock",
    "EnrolHousehold",
    "ImportHouseholds",
    "ImportReport",
    "MovePerson",
    "change_enrolment",
    "enrol_household",
    "import_households",
    "move_person",
    "system_clock",
]

Clock = Callable[[], dt.datetime]
IMPORT_SOURCE = "import"
CHUNK = 200  # households looked up together: few queries, bounded memory

# Person columns of the table, by the name the import uses for them.
_PERSON_COLUMNS = {
    "sex": "sex",
    "birth_date": "birth_date",
    "region": "hukou_region_code",
    "hukou_type": "hukou_type",
    "labour_capacity": "labour_capacity",
    "disability_category": "disability_category",
    "disability_grade": "disability_grade",
    "has_serious_illness": "has_serious_illness",
    "self_care_items_failed": "self_care_items_failed",
    "schooling": "schooling",
    "employment": "employment",
}
_PERSON_DEFAULTS: dict[str, Any] = {
    "labour_capacity": None,
    "disability_category": "none",
    "disability_grade": 0,
    "has_serious_illness": False,
    "self_care_items_failed": 0,
    "schooling": None,
    "employment": None,
}


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _state(row: object, names: Sequence[str]) -> dict[str, Any]:
    return {n: _json(getattr(row, n)) for n in names}


# -- ImportHouseholds ------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportHouseholds:
    """Write validated households: new ones are created, changed ones updated, the rest kept."""

    batch: ValidatedImport
    actor: Actor
    as_of: dt.date  # start date of new memberships
    source: str  # what was imported, for the audit log (file name and digest)
    accept_duplicates: bool = False  # import likely duplicates anyway (audited)


@dataclass
class ImportReport:
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    households_created: int = 0
    households_updated: int = 0
    households_unchanged: int = 0
    persons_created: int = 0
    persons_updated: int = 0
    persons_unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(
            self.households_created
            + self.households_updated
            + self.persons_created
            + self.persons_updated
        )


@dataclass
class _Writer:
    """Writes one import inside the unit of work's transaction, a chunk of households at a time."""

    uow: UnitOfWork
    cmd: ImportHouseholds
    now: dt.datetime
    progress: ProgressSink
    report: ImportReport = field(default_factory=ImportReport)
    income_changes: list[IncomeChange] = field(default_factory=list)
    facts: list[dict[str, Any]] = field(default_factory=list)  # to append, chunk by chunk

    def audit_change(self, noun: str, entity: str, entity_id: int, change: _Change) -> None:
        """``<noun>Registered`` for a new row, ``<noun>Updated`` for a changed one, else nothing."""
        if change.created:
            self.audit(f"{noun}Registered", entity, entity_id, None, change.after)
        elif change.after:
            self.audit(f"{noun}Updated", entity, entity_id, change.before, change.after)

    def audit(
        self,
        event: str,
        entity: str,
        entity_id: int | str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        append(
            self.uow.session,
            actor=self.cmd.actor,
            command="ImportHouseholds",
            event=event,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
            occurred_at=self.now,
        )

    def run(self, households: list[HouseholdRecord] | None = None) -> ImportReport:
        batch = self.cmd.batch
        todo = batch.households if households is None else households
        self.progress.start("Writing households", len(todo))
        for chunk in _chunks(list(todo), CHUNK):
            self.write_chunk(chunk)
            self.progress.advance(len(chunk))
        self.report.read = batch.read
        self.report.quarantined = batch.quarantined_rows
        self.report.accepted = sum(len(h.members) for h in batch.households)
        return self.report

    def write_chunk(self, chunk: list[HouseholdRecord]) -> None:
        repo = self.uow.repo(RegistryRepository)
        repo.ensure_regions(
            {h.region for h in chunk} | {m.attributes["region"] for h in chunk for m in h.members}
        )
        households = repo.households_by_key([h.key for h in chunk])
        persons = repo.persons_by_id_number([m.id_number for h in chunk for m in h.members])
        memberships = repo.open_memberships_of_persons([p.id for p in persons.values()])
        members_of = repo.open_members_of_households([h.id for h in households.values()])

        accepted: list[HouseholdRecord] = []
        for record in chunk:
            problem = _conflict(
                record, households.get(record.key), persons, memberships, members_of
            )
            if problem is None:
                accepted.append(record)
            else:
                self.cmd.batch.quarantine_household(record, *problem)

        # Phase 1: households and persons, so that new rows get their ids in one flush.
        household_change: dict[tuple[str, str], _Change] = {}
        person_change: dict[str, _Change] = {}
        for record in accepted:
            household_change[record.key] = self.upsert_household(record, households)
            for member in record.members:
                person_change[member.id_number] = self.upsert_person(member, persons)
        repo.flush()

        # Phase 2: memberships, income and assets, and the audit entries of it all.
        income = repo.income_items(
            [p.id for p in persons.values()],
            {month for r in accepted for m in r.members for (_, month) in m.income},
        )
        assets = repo.assets_from([h.id for h in households.values()], IMPORT_SOURCE)
        known = self.known_facts(accepted, households, persons)
        for record in accepted:
            household = households[record.key]
            h_change = household_change[record.key]
            self.audit_change("Household", "household", household.id, h_change)
            household_changed = bool(h_change.after)
            for member in record.members:
                person = persons[member.id_number]
                p_change = person_change[member.id_number]
                self.audit_change("Person", "person", person.id, p_change)
                changed = bool(p_change.after)
                changed |= self.sync_membership(member.relation, person, household, memberships)
                changed |= self.sync_income(member.income, person, income, household.id)
                changed |= self.sync_facts(Entity.PERSON, person.id, member.facts, member.month,
                                           known)  # fmt: skip
                if p_change.created:
                    self.report.persons_created += 1
                elif changed:
                    self.report.persons_updated += 1
                else:
                    self.report.persons_unchanged += 1
                household_changed |= changed
            household_changed |= self.sync_assets(record.assets, household, assets)
            household_changed |= self.sync_facts(
                Entity.HOUSEHOLD, household.id, record.facts, record.facts_month, known
            )
            if h_change.created:
                self.report.households_created += 1
            elif household_changed:
                self.report.households_updated += 1
            else:
                self.report.households_unchanged += 1
        write_facts(self.uow.session, self.facts, recorded_at=self.now)
        self.facts.clear()
        repo.flush()

    def upsert_household(
        self, record: HouseholdRecord, households: dict[tuple[str, str], Household]
    ) -> _Change:
        wanted: dict[str, Any] = {"hukou_type": record.hukou_type}
        if record.statistical_code_given:
            wanted["statistical_code"] = record.statistical_code
        head = next(m for m in record.members if m.relation == "head")
        if "address" in head.attributes:  # the head's row gives the household's address
            wanted["address"] = head.attributes["address"]
        household = households.get(record.key)
        if household is None:
            household = Household(
                region_code=record.region,
                household_no=record.household_no,
                hukou_type=record.hukou_type,
                statistical_code=record.statistical_code,
                address=wanted.get("address"),
                created_at=self.now,
                updated_at=self.now,
            )
            self.uow.repo(RegistryRepository).add(household)
            households[record.key] = household
            after = _state(household, ["region_code", "household_no"]) | wanted
            return _Change(created=True, after=after)
        changed = {k: v for k, v in wanted.items() if getattr(household, k) != v}
        if not changed:
            return _Change()
        before = _state(household, list(changed))
        for name, value in changed.items():
            setattr(household, name, value)
        household.updated_at = self.now
        return _Change(before=before, after=changed)

    def upsert_person(self, member: PersonRecord, persons: dict[str, Person]) -> _Change:
        wanted: dict[str, Any] = {"name": member.name}
        for key, column in _PERSON_COLUMNS.items():
            if key in member.attributes:
                wanted[column] = member.attributes[key]
        person = persons.get(member.id_number)
        if person is None:
            values = _PERSON_DEFAULTS | wanted
            person = Person(
                id_number=member.id_number, created_at=self.now, updated_at=self.now, **values
            )
            self.uow.repo(RegistryRepository).add(person)
            persons[member.id_number] = person
            after = {"id_number": member.id_number} | {k: _json(v) for k, v in values.items()}
            return _Change(created=True, after=after)
        changed = {k: v for k, v in wanted.items() if getattr(person, k) != v}
        if not changed:
            return _Change()
        before = _state(person, list(changed))
        for name, value in changed.items():
            setattr(person, name, value)
        person.updated_at = self.now
        return _Change(before=before, after={k: _json(v) for k, v in changed.items()})

    def sync_membership(
        self,
        relation: str,
        person: Person,
        household: Household,
        memberships: dict[int, tuple[Membership, Household]],
    ) -> bool:
        current = memberships.get(person.id)
        if current is not None:
            # _conflict has made sure an open membership is one of this household.
            membership = current[0]
            if membership.relation == relation:
                return False
            before = {"household_id": household.id, "relation": membership.relation}
            membership.relation = relation
            after = {"household_id": household.id, "relation": relation}
            self.audit("MemberRelationChanged", "person", person.id, before, after)
            return True
        membership = Membership(
            person_id=person.id,
            household_id=household.id,
            relation=relation,
            start_date=self.cmd.as_of,
        )
        self.uow.repo(RegistryRepository).add(membership)
        memberships[person.id] = (membership, household)
        after = {
            "household_id": household.id,
            "relation": relation,
            "start_date": self.cmd.as_of.isoformat(),
        }
        self.audit("MemberJoined", "person", person.id, None, after)
        return True

    def sync_income(
        self,
        items: dict[tuple[str, str], int],
        person: Person,
        existing: dict[tuple[int, str, str], IncomeItem],
        household_id: int,
    ) -> bool:
        changed = False
        for (kind, month), amount in items.items():
            key = (person.id, kind, month)
            item = existing.get(key)
            entity_id = f"{person.id}/{kind}/{month}"
            if item is None:
                item = IncomeItem(person_id=person.id, kind=kind, month=month, amount_fen=amount)
                self.uow.repo(RegistryRepository).add(item)
                existing[key] = item
                self.audit("IncomeRecorded", "income_item", entity_id, None, {"amount_fen": amount})
                self.income_changes.append(
                    IncomeChange(household_id, person.id, kind, month, None, amount)
                )
                changed = True
            elif item.amount_fen != amount:
                before = {"amount_fen": item.amount_fen}
                self.income_changes.append(
                    IncomeChange(household_id, person.id, kind, month, item.amount_fen, amount)
                )
                item.amount_fen = amount
                self.audit(
                    "IncomeCorrected", "income_item", entity_id, before, {"amount_fen": amount}
                )
                changed = True
        return changed

    def known_facts(
        self,
        accepted: list[HouseholdRecord],
        households: dict[tuple[str, str], Household],
        persons: dict[str, Person],
    ) -> dict[Entity, dict[tuple[int, str], str]]:
        """The latest value of every fact of the chunk's persons and households."""
        session = self.uow.session
        person_ids = [persons[m.id_number].id for r in accepted for m in r.members if m.facts]
        household_ids = [households[r.key].id for r in accepted if r.facts]
        return {
            Entity.PERSON: facts_in_force(session, Entity.PERSON, person_ids),
            Entity.HOUSEHOLD: facts_in_force(session, Entity.HOUSEHOLD, household_ids),
        }

    def sync_facts(
        self,
        entity: Entity,
        subject_id: int,
        given: dict[str, str],
        month: str | None,
        known: dict[Entity, dict[tuple[int, str], str]],
    ) -> bool:
        """Append the program facts that differ from the latest recorded, valid from the row's
        income month (else the record's date), with one audit entry for the subject."""
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        valid_from = dt.date.fromisoformat(f"{month}-01") if month else self.cmd.as_of
        for name, value in sorted(given.items()):
            old = known[entity].get((subject_id, name))
            if old == value:
                continue
            before[name], after[name] = old, value
            self.facts.append(
                {SUBJECT[entity]: subject_id, "field": name, "value": value,
                 "valid_from": valid_from, "source": f"import:{self.cmd.batch.path.name}"}
            )  # fmt: skip
        if not after:
            return False
        noun = "Person" if entity is Entity.PERSON else "Household"
        after["valid_from"] = valid_from.isoformat()
        self.audit(f"{noun}FactsRecorded", str(entity), subject_id, before, after)
        return True

    def sync_assets(
        self,
        totals: dict[str, AssetTotal],
        household: Household,
        existing: dict[tuple[int, str], Asset],
    ) -> bool:
        changed = False
        for kind, total in totals.items():
            wanted = {
                "value_fen": total.value_fen,
                "count": total.count,
                "area_dm2": total.area_dm2,
            }
            asset = existing.get((household.id, kind))
            entity_id = f"{household.id}/{kind}"
            if asset is None:
                if not any(wanted.values()):
                    continue  # nothing of this kind: no row needed
                asset = Asset(
                    household_id=household.id,
                    kind=kind,
                    source=IMPORT_SOURCE,
                    description="totals from the county household list",
                    **wanted,
                )
                self.uow.repo(RegistryRepository).add(asset)
                existing[(household.id, kind)] = asset
                self.audit("AssetRecorded", "asset", entity_id, None, wanted)
                changed = True
                continue
            before = _state(asset, list(wanted))
            if before != wanted:
                for name, value in wanted.items():
                    setattr(asset, name, value)
                self.audit("AssetUpdated", "asset", entity_id, before, wanted)
                changed = True
        return changed


@dataclass(frozen=True)
class _Change:
    """What an upsert did: created a row, changed some fields (before → after), or nothing."""

    created: bool = False
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


def _chunks(items: list[HouseholdRecord], size: int) -> Iterator[list[HouseholdRecord]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _conflict(
    record: HouseholdRecord,
    household: Household | None,
    persons: dict[str, Person],
    memberships: dict[int, tuple[Membership, Household]],
    members_of: dict[int, list[tuple[Membership, Person]]],
) -> tuple[str, str] | None:
    """Why this household cannot be imported as the database stands, or None."""
    for member in record.members:
        person = persons.get(member.id_number)
        if person is None or person.id not in memberships:
            continue
        _, other = memberships[person.id]
        if household is None or other.id != household.id:
            return (
                "id_number",
                f"row {member.row}: {mask_identity_number(member.id_number)} is already a member "
                f"of household {other.region_code}/{other.household_no}; moving a person is the "
                "MovePerson command, not an import",
            )
    if household is not None:
        in_file = {m.id_number for m in record.members}
        for membership, person in members_of.get(household.id, []):
            if membership.relation == "head" and person.id_number not in in_file:
                return (
                    "relation",
                    f"household {record.household_no} already has a head "
                    f"({person.masked_id_number}) who is not in the file; "
                    "a household has exactly one head",
                )
    return None


@logged_stage("import households")
def import_households(
    cmd: ImportHouseholds, uow: UnitOfWork, clock: Clock, progress: ProgressSink | None = None
) -> ImportReport:
    """Import validated households in one transaction; conflicts with the database are
    quarantined (whole households) and added to ``cmd.batch.quarantine``."""
    writer = _Writer(uow, cmd, clock(), progress or NullProgress())
    # Likely duplicates of registered persons are held first (unless accepted), whichever
    # writer would have written them.
    hold_likely_duplicates(
        uow, cmd.batch, actor=cmd.actor, accept=cmd.accept_duplicates, now=writer.now
    )
    # Households new to the registry are inserted set-based (registry.bulk_households, audited
    # per county); the row writer upserts the rest.
    rest = insert_new_households(
        uow, cmd, writer.now, writer.report, _PERSON_COLUMNS, _PERSON_DEFAULTS, IMPORT_SOURCE,
        writer.progress,
    )  # fmt: skip
    report = writer.run(rest)
    if report.changed:
        writer.audit(
            "HouseholdsImported",
            "import",
            cmd.source[:60],
            None,
            {
                "source": cmd.source,
                "read": report.read,
                "accepted": report.accepted,
                "quarantined": report.quarantined,
                "households_created": report.households_created,
                "households_updated": report.households_updated,
                "persons_created": report.persons_created,
                "persons_updated": report.persons_updated,
            },
        )
    if writer.income_changes:
        # Other areas follow in this transaction (payments: months already paid).
        uow.session.flush()
        uow.emit(IncomeChanged(tuple(writer.income_changes), cmd.source, cmd.actor, writer.now))
    uow.commit()
    return report


# -- MovePerson ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MovePerson:
    """End a person's current membership on ``on`` and start one in another household."""

    id_number: str
    region: str
    household_no: str
    relation: str
    on: dt.date
    actor: Actor


def move_person(cmd: MovePerson, uow: UnitOfWork, clock: Clock) -> int:
    """Returns the id of the new membership."""
    repo = uow.repo(RegistryRepository)
    masked = mask_identity_number(cmd.id_number)
    if cmd.relation not in RELATIONS:
        raise InputError("relation", f"{cmd.relation!r} is not one of {list(RELATIONS)}")
    person = repo.person(cmd.id_number)
    if person is None:
        raise UnknownNameError("person", masked, "not in the registry")
    target = repo.household(cmd.region, cmd.household_no)
    if target is None:
        raise UnknownNameError("household", f"{cmd.region}/{cmd.household_no}")
    now = clock()
    current = repo.open_membership(person.id)
    if current is not None:
        if current.household_id == target.id:
            raise InputError("household_no", f"{masked} is already a member of this household")
        if cmd.on < current.start_date:
            raise InputError(
                "on", f"{cmd.on} is before the current membership began ({current.start_date})"
            )
    if cmd.relation == "head":
        heads = [
            m
            for m, _ in repo.open_members_of_households([target.id]).get(target.id, [])
            if m.relation == "head"
        ]
        if heads:
            raise InputError("relation", f"household {cmd.household_no} already has a head")
    if current is not None:
        current.end_date = cmd.on
        repo.flush()  # close the old membership before the unique index sees the new one
        append(
            uow.session,
            actor=cmd.actor,
            command="MovePerson",
            event="MemberLeft",
            entity="membership",
            entity_id=current.id,
            before={"end_date": None},
            after={"end_date": cmd.on.isoformat()},
            occurred_at=now,
        )
    membership = Membership(
        person_id=person.id, household_id=target.id, relation=cmd.relation, start_date=cmd.on
    )
    repo.add(membership)
    repo.flush()
    append(
        uow.session,
        actor=cmd.actor,
        command="MovePerson",
        event="MemberJoined",
        entity="membership",
        entity_id=membership.id,
        after=_state(membership, ["person_id", "household_id", "relation", "start_date"]),
        occurred_at=now,
    )
    uow.commit()
    return membership.id


# -- Enrolments ------------------------------------------------------------------------------

_ENROLMENT_FIELDS = ["household_id", "program", "start_date", "end_date", "amount_fen", "status"]


def enrolment_state(enrolment: Enrolment) -> dict[str, Any]:
    """An enrolment's fields as the audit log records them."""
    return _state(enrolment, _ENROLMENT_FIELDS)


@dataclass(frozen=True)
class EnrolHousehold:
    region: str
    household_no: str
    program: str
    start: dt.date
    amount_fen: int
    actor: Actor
    end: dt.date | None = None


def enrol_household(cmd: EnrolHousehold, uow: UnitOfWork, clock: Clock) -> int:
    """Start an enrolment (status active, version 1); returns its id."""
    known = programs()
    if cmd.program not in known:
        raise UnknownNameError("program", cmd.program, f"known: {', '.join(sorted(known))}")
    if cmd.amount_fen < 0:
        raise InputError("amount", "is negative")
    if cmd.end is not None and cmd.end < cmd.start:
        raise InputError("end", f"{cmd.end} is before the start {cmd.start}")
    repo = uow.repo(RegistryRepository)
    household = repo.household(cmd.region, cmd.household_no)
    if household is None:
        raise UnknownNameError("household", f"{cmd.region}/{cmd.household_no}")
    if repo.current_enrolment(household.id, cmd.program) is not None:
        raise InputError(
            "program", f"household {cmd.household_no} is already enrolled in {cmd.program}"
        )
    now = clock()
    enrolment = Enrolment(
        household_id=household.id,
        program=cmd.program,
        start_date=cmd.start,
        end_date=cmd.end,
        amount_fen=cmd.amount_fen,
        status="active",
        version=1,
    )
    repo.add(enrolment)
    repo.flush()
    record_enrolment_version(uow, enrolment, now, "enrolled")
    append(
        uow.session,
        actor=cmd.actor,
        command="EnrolHousehold",
        event="HouseholdEnrolled",
        entity="enrolment",
        entity_id=enrolment.id,
        after=_state(enrolment, _ENROLMENT_FIELDS),
        occurred_at=now,
    )
    uow.commit()
    return enrolment.id


@dataclass(frozen=True)
class ChangeEnrolment:
    """Change the status, amount or end of an enrolment; the old version stays in the history."""

    enrolment_id: int
    reason: str
    actor: Actor
    status: str | None = None
    amount_fen: int | None = None
    end: dt.date | None = None


def change_enrolment(cmd: ChangeEnrolment, uow: UnitOfWork, clock: Clock) -> int:
    """Returns the new version number."""
    enrolment = uow.repo(RegistryRepository).enrolment(cmd.enrolment_id)
    if enrolment is None:
        raise UnknownNameError("enrolment", str(cmd.enrolment_id))
    if enrolment.status == "ended":
        raise InputError("status", f"enrolment {enrolment.id} has ended and cannot change")
    if cmd.status is not None and cmd.status not in ENROLMENT_STATUSES:
        raise InputError("status", f"{cmd.status!r} is not one of {list(ENROLMENT_STATUSES)}")
    if cmd.amount_fen is not None and cmd.amount_fen < 0:
        raise InputError("amount", "is negative")
    if cmd.end is not None and cmd.end < enrolment.start_date:
        raise InputError("end", f"{cmd.end} is before the start {enrolment.start_date}")
    now = clock()
    before = _state(enrolment, _ENROLMENT_FIELDS)
    if cmd.status is not None:
        enrolment.status = cmd.status
    if cmd.amount_fen is not None:
        enrolment.amount_fen = cmd.amount_fen
    if cmd.end is not None:
        enrolment.end_date = cmd.end
    enrolment.version += 1
    record_enrolment_version(uow, enrolment, now, cmd.reason)
    append(
        uow.session,
        actor=cmd.actor,
        command="ChangeEnrolment",
        event="EnrolmentChanged",
        entity="enrolment",
        entity_id=enrolment.id,
        before=before,
        after=_state(enrolment, _ENROLMENT_FIELDS) | {"reason": cmd.reason},
        occurred_at=now,
    )
    uow.commit()
    return enrolment.version


def record_enrolment_version(
    uow: UnitOfWork, enrolment: Enrolment, now: dt.datetime, reason: str
) -> None:
    """Append the enrolment as it now is to its history (never updated, never deleted)."""
    uow.repo(RegistryRepository).add(
        EnrolmentHistory(
            enrolment_id=enrolment.id,
            version=enrolment.version,
            changed_at=now,
            status=enrolment.status,
            start_date=enrolment.start_date,
            end_date=enrolment.end_date,
            amount_fen=enrolment.amount_fen,
            reason=reason,
        )
    )
