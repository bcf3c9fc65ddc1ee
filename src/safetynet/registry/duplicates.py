"""Duplicates that an exact identity number misses: find them, queue them, merge or separate them.

``FindDuplicates`` trains a record-linkage model (``registry.linkage``) on the registry's persons
(or one region's), scores the candidate pairs and queues those at or above
``common.linkage.review_probability`` that are not queued yet; a clerk then merges
(``MergePersons``: one person is kept, the other's memberships and income move to them and the
other is marked merged, never deleted) or separates them (``SeparatePersons``: never queued
again). ``hold_likely_duplicates`` is the same model at intake: a household import that would add
a likely duplicate of a registered person holds the household in quarantine, unless the import
says it accepts duplicates (audited). Every change is audited in the command's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select, update
from sqlalchemy.orm import Session, aliased

from safetynet.audit.log import Actor, append
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.identity import mask_identity_number
from safetynet.domain.regions import NATION_CODE, RegionLevel, default_registry
from safetynet.errors import InputError, UnknownNameError
from safetynet.registry.duplicates_model import DuplicateModel, DuplicatePair, PersonMerge
from safetynet.registry.imports import HouseholdRecord, PersonRecord, ValidatedImport
from safetynet.registry.linkage import (
    LINKAGE_PARAMETERS,
    LinkageRecord,
    LinkageSettings,
    ScoredPair,
    features,
    linkage_settings,
    score_between,
    score_within,
    train_model,
)
from safetynet.registry.model import IncomeItem, Membership, Person

__all__ = [
    "HANDLERS",
    "FindDuplicates",
    "FindReport",
    "MergePersons",
    "PairView",
    "PersonsMerged",
    "SeparatePersons",
    "duplicate_pairs",
    "find_duplicates",
    "hold_likely_duplicates",
    "merge_persons",
    "pair_view",
    "separate_persons",
]

Clock = Callable[[], dt.datetime]
REGISTRY_SCOPE = "registry"
_IN_CHUNK = 500  # values in one IN (...) list: well below every backend's limit on parameters
# New persons scored together at intake: their birth dates and names (<= 2 x this) stay below
# SQLite's 32,766 bound parameters, and one DuckDB linkage run serves many households.
_INTAKE_CHUNK = 5000
# id, identity number, name, sex, birth date, hukou region
_PersonRows = Select[int, str, str, str, dt.date, str]


def _settings(uow: UnitOfWork, on: dt.date, region: str | None) -> LinkageSettings:
    return linkage_settings(on, region or NATION_CODE, uow.parameters)


def _not_merged() -> ColumnElement[bool]:
    return Person.id.not_in(select(PersonMerge.merged_person_id))


def _records(session: Session, query: _PersonRows) -> Iterator[LinkageRecord]:
    for row in session.execute(query.execution_options(yield_per=10_000)):
        yield LinkageRecord(
            person_id=row.id,
            id_number=row.id_number,
            name=row.name,
            sex=row.sex,
            birth_date=row.birth_date,
            region=row.hukou_region_code,
        )


def _person_columns() -> _PersonRows:
    return select(
        Person.id,
        Person.id_number,
        Person.name,
        Person.sex,
        Person.birth_date,
        Person.hukou_region_code,
    )


_PREFIX_LENGTH = {
    RegionLevel.NATION: 0,
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
}


def _prefix(region: str) -> str:
    """The leading digits every code within ``region`` shares (GB/T 2260: 2 province, 4 city)."""
    return region[: _PREFIX_LENGTH[default_registry().get(region).level]]


def _latest_model(session: Session) -> DuplicateModel | None:
    return session.scalars(
        select(DuplicateModel).order_by(DuplicateModel.id.desc()).limit(1)
    ).first()


# -- FindDuplicates --------------------------------------------------------------------------


@dataclass(frozen=True)
class FindDuplicates:
    """Score the persons of ``region`` (a province, city or county code; None: the whole
    registry, which finds a person enrolled in two counties) and queue the likely duplicates.
    ``train``: train a new model on these persons (else use the latest stored one)."""

    actor: Actor
    region: str | None = None
    train: bool = True


@dataclass(frozen=True)
class FindReport:
    persons: int
    model_id: int
    threshold: float
    scored: int  # pairs at or above the threshold
    queued: int  # of those, new in the queue
    known: int  # of those, already queued or decided before


def find_duplicates(cmd: FindDuplicates, uow: UnitOfWork, clock: Clock) -> FindReport:
    session = uow.session
    now = clock()
    settings = _settings(uow, now.date(), cmd.region)
    query = _person_columns().where(_not_merged()).order_by(Person.id)
    if cmd.region is not None:
        query = query.where(Person.hukou_region_code.startswith(_prefix(cmd.region)))
    table = features(_records(session, query))
    model = _latest_model(session) if not cmd.train else None
    if model is None:
        if not cmd.train:
            raise InputError("train", "no linkage model is stored yet: run with training first")
        if table.num_rows < settings.minimum_training_persons:
            raise InputError(
                "region",
                f"{table.num_rows} persons to compare; training a model needs at least "
                f"{settings.minimum_training_persons} "
                f"(parameter {LINKAGE_PARAMETERS}.minimum_training_persons)",
            )
        model = DuplicateModel(
            trained_at=now,
            scope=cmd.region or REGISTRY_SCOPE,
            persons=table.num_rows,
            settings=train_model(table, settings),
        )
        session.add(model)
        session.flush()
        _audit(
            session,
            cmd.actor,
            "FindDuplicates",
            "LinkageModelTrained",
            "duplicate_model",
            model.id,
            None,
            {"scope": model.scope, "persons": model.persons},
            now,
        )
    pairs = score_within(model.settings, table, settings.review_probability)
    known = _known_pairs(session, pairs)
    queued = 0
    for pair in pairs:
        if (pair.left_id, pair.right_id) in known:
            continue
        row = DuplicatePair(
            person_id=pair.left_id,
            other_person_id=pair.right_id,
            match_probability=pair.match_probability,
            match_weight=pair.match_weight,
            model_id=model.id,
            status="open",
            found_at=now,
            reason="",
        )
        session.add(row)
        session.flush()
        _audit(
            session,
            cmd.actor,
            "FindDuplicates",
            "DuplicateQueued",
            "duplicate_pair",
            row.id,
            None,
            _pair_state(row),
            now,
        )
        queued += 1
    uow.commit()
    return FindReport(
        table.num_rows,
        model.id,
        settings.review_probability,
        len(pairs),
        queued,
        len(pairs) - queued,
    )


def _known_pairs(session: Session, pairs: list[ScoredPair]) -> set[tuple[int, int]]:
    ids = sorted({p.left_id for p in pairs})
    known: set[tuple[int, int]] = set()
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        rows = session.execute(
            select(DuplicatePair.person_id, DuplicatePair.other_person_id).where(
                DuplicatePair.person_id.in_(chunk)
            )
        )
        known.update((a, b) for a, b in rows)
    return known


def _pair_state(pair: DuplicatePair) -> dict[str, Any]:
    return {
        "person_id": pair.person_id,
        "other_person_id": pair.other_person_id,
        "match_probability": round(pair.match_probability, 6),
        "model_id": pair.model_id,
        "status": pair.status,
    }


def _audit(
    session: Session,
    actor: Actor,
    command: str,
    event: str,
    entity: str,
    entity_id: int | str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    now: dt.datetime,
) -> None:
    append(
        session,
        actor=actor,
        command=command,
        event=event,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
        occurred_at=now,
    )


# -- the queue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairView:
    """A pair as a clerk sees it: identity numbers masked."""

    pair_id: int
    match_probability: float
    status: str
    person_id: int
    masked_id_number: str
    name: str
    birth_date: dt.date
    region: str
    other_person_id: int
    other_masked_id_number: str
    other_name: str
    other_birth_date: dt.date
    other_region: str
    decided_by: str | None
    decided_at: dt.datetime | None
    kept_person_id: int | None


def duplicate_pairs(
    session: Session,
    *,
    status: str | None = "open",
    region: str | None = None,
    limit: int = 100,
    offset: int = 0,
    pair_id: int | None = None,
) -> list[PairView]:
    """Pairs of the queue, most probable first; ``region`` matches either person's hukou
    region; ``pair_id``: that pair alone."""
    left, right = aliased(Person), aliased(Person)
    query = (
        select(DuplicatePair, left, right)
        .join(left, left.id == DuplicatePair.person_id)
        .join(right, right.id == DuplicatePair.other_person_id)
        .order_by(DuplicatePair.match_probability.desc(), DuplicatePair.id)
        .limit(limit)
        .offset(offset)
    )
    if pair_id is not None:
        query = query.where(DuplicatePair.id == pair_id)
    if status is not None:
        query = query.where(DuplicatePair.status == status)
    if region is not None:
        prefix = _prefix(region)
        query = query.where(
            or_(
                left.hukou_region_code.startswith(prefix),
                right.hukou_region_code.startswith(prefix),
            )
        )
    return [
        PairView(
            pair.id,
            pair.match_probability,
            pair.status,
            a.id,
            a.masked_id_number,
            a.name,
            a.birth_date,
            a.hukou_region_code,
            b.id,
            b.masked_id_number,
            b.name,
            b.birth_date,
            b.hukou_region_code,
            pair.decided_by,
            pair.decided_at,
            pair.kept_person_id,
        )
        for pair, a, b in session.execute(query)
    ]


def pair_view(session: Session, pair_id: int) -> PairView | None:
    """One pair of the queue, whatever its status (None: no such pair)."""
    found = duplicate_pairs(session, status=None, pair_id=pair_id, limit=1)
    return found[0] if found else None


def _open_pair(session: Session, pair_id: int) -> DuplicatePair:
    pair = session.get(DuplicatePair, pair_id)
    if pair is None:
        raise UnknownNameError("duplicate pair", str(pair_id))
    if pair.status != "open":
        raise InputError("pair", f"pair {pair_id} was already decided ({pair.status})")
    return pair


def _decide(pair: DuplicatePair, status: str, actor: Actor, reason: str, now: dt.datetime) -> None:
    if not reason.strip():
        raise InputError("reason", "is required: say why (kept in the audit log)")
    pair.status = status
    pair.decided_at = now
    pair.decided_by = actor.name
    pair.reason = reason


# -- MergePersons ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MergePersons:
    """Decide that an open pair is one person: ``keep_person_id`` (one of the two) stays."""

    pair_id: int
    keep_person_id: int
    actor: Actor
    reason: str


@dataclass(frozen=True)
class PersonsMerged:
    """A person was merged into another (for areas that keep rows of persons)."""

    kept_person_id: int
    merged_person_id: int
    actor: Actor
    occurred_at: dt.datetime
    # the households the merged person was an open member of before the merge
    households: tuple[int, ...] = ()


def merge_persons(cmd: MergePersons, uow: UnitOfWork, clock: Clock) -> int:
    """Returns the id of the person kept. The other person's memberships and income move to the
    kept person: an open membership of the other is ended on the merge date when the kept person
    has one already (one open membership per person); an income item of a month and kind the
    kept person already has stays with the other person (the kept person's value wins)."""
    session = uow.session
    pair = _open_pair(session, cmd.pair_id)
    if cmd.keep_person_id not in (pair.person_id, pair.other_person_id):
        raise InputError(
            "keep", f"person {cmd.keep_person_id} is not one of pair {cmd.pair_id}'s persons"
        )
    kept_id = cmd.keep_person_id
    merged_id = pair.other_person_id if kept_id == pair.person_id else pair.person_id
    already = session.scalars(
        select(PersonMerge.merged_person_id).where(
            PersonMerge.merged_person_id.in_((kept_id, merged_id))
        )
    ).first()
    if already is not None:
        raise InputError("pair", f"person {already} was already merged into another person")
    now = clock()
    _decide(pair, "merged", cmd.actor, cmd.reason, now)
    pair.kept_person_id = kept_id
    left = _households_of(session, merged_id)
    moved = _move_memberships(session, cmd.actor, kept_id, merged_id, now)
    moved_income, kept_back = _move_income(session, kept_id, merged_id)
    session.add(
        PersonMerge(
            merged_person_id=merged_id, kept_person_id=kept_id, pair_id=pair.id, merged_at=now
        )
    )
    session.flush()
    _audit(
        session,
        cmd.actor,
        "MergePersons",
        "PersonsMerged",
        "person",
        merged_id,
        {"merged_into": None},
        {
            "merged_into": kept_id,
            "pair_id": pair.id,
            "reason": cmd.reason,
            "memberships_moved": moved,
            "income_items_moved": moved_income,
            "income_items_kept_by_merged": kept_back,
        },
        now,
    )
    uow.emit(PersonsMerged(kept_id, merged_id, cmd.actor, now, tuple(left)))
    uow.commit()
    return kept_id


def _households_of(session: Session, person_id: int) -> list[int]:
    """The households where the person is an open member."""
    return list(
        session.scalars(
            select(Membership.household_id).where(
                Membership.person_id == person_id, Membership.end_date.is_(None)
            )
        )
    )


def _move_memberships(
    session: Session, actor: Actor, kept_id: int, merged_id: int, now: dt.datetime
) -> int:
    kept_open = session.scalars(
        select(Membership).where(Membership.person_id == kept_id, Membership.end_date.is_(None))
    ).first()
    rows = list(session.scalars(select(Membership).where(Membership.person_id == merged_id)))
    for membership in rows:
        if membership.end_date is None and kept_open is not None:
            membership.end_date = max(now.date(), membership.start_date)
            session.flush()  # close it before the unique index sees a second open membership
            _audit(
                session,
                actor,
                "MergePersons",
                "MemberLeft",
                "membership",
                membership.id,
                {"end_date": None},
                {"end_date": membership.end_date.isoformat()},
                now,
            )
        before = {"person_id": merged_id}
        membership.person_id = kept_id
        session.flush()
        _audit(
            session,
            actor,
            "MergePersons",
            "MembershipMoved",
            "membership",
            membership.id,
            before,
            {"person_id": kept_id},
            now,
        )
    return len(rows)


def _move_income(session: Session, kept_id: int, merged_id: int) -> tuple[int, int]:
    taken = {
        (kind, month)
        for kind, month in session.execute(
            select(IncomeItem.kind, IncomeItem.month).where(IncomeItem.person_id == kept_id)
        )
    }
    items = list(session.scalars(select(IncomeItem).where(IncomeItem.person_id == merged_id)))
    movable = [i.id for i in items if (i.kind, i.month) not in taken]
    for start in range(0, len(movable), _IN_CHUNK):
        session.execute(
            update(IncomeItem)
            .where(IncomeItem.id.in_(movable[start : start + _IN_CHUNK]))
            .values(person_id=kept_id)
            .execution_options(synchronize_session="fetch")
        )
    return len(movable), len(items) - len(movable)


# -- SeparatePersons -------------------------------------------------------------------------


@dataclass(frozen=True)
class SeparatePersons:
    """Decide that an open pair is two persons: the pair is never queued again."""

    pair_id: int
    actor: Actor
    reason: str


def separate_persons(cmd: SeparatePersons, uow: UnitOfWork, clock: Clock) -> int:
    pair = _open_pair(uow.session, cmd.pair_id)
    now = clock()
    before = _pair_state(pair)
    _decide(pair, "separated", cmd.actor, cmd.reason, now)
    _audit(
        uow.session,
        cmd.actor,
        "SeparatePersons",
        "PersonsSeparated",
        "duplicate_pair",
        pair.id,
        before,
        _pair_state(pair) | {"reason": cmd.reason},
        now,
    )
    uow.commit()
    return pair.id


HANDLERS: Mapping[type, Callable[[Any, UnitOfWork, Clock], Any]] = {
    FindDuplicates: find_duplicates,
    MergePersons: merge_persons,
    SeparatePersons: separate_persons,
}


# -- at intake -------------------------------------------------------------------------------


def hold_likely_duplicates(
    uow: UnitOfWork,
    batch: ValidatedImport,
    *,
    actor: Actor,
    accept: bool,
    now: dt.datetime,
    command: str = "ImportHouseholds",
) -> int:
    """Quarantine every household of ``batch`` that would add a likely duplicate of a registered
    person (a new identity number whose match probability with a registered person is at least
    ``common.linkage.intake_hold_probability``), or that names a person merged into another.
    With ``accept`` the household stays and each likely duplicate is audited
    (``LikelyDuplicateAccepted``); the pair is queued by the next ``FindDuplicates``. Returns the
    number of households held. Without a stored model (none trained yet) only merged persons are
    held."""
    session = uow.session
    model = _latest_model(session)
    if (
        model is None
        and session.scalars(select(PersonMerge.merged_person_id).limit(1)).first() is None
    ):
        return 0  # nothing to check against: a registry's first imports pay one query
    members = [(h, m) for h in batch.households for m in h.members]
    registered = _registered(session, [m.id_number for _, m in members])
    held: dict[int, tuple[HouseholdRecord, str, str]] = {}
    for household, member in members:
        merged_into = registered.get(member.id_number)
        if merged_into is not None:
            held.setdefault(
                id(household),
                (
                    household,
                    "id_number",
                    (
                        f"row {member.row}: {mask_identity_number(member.id_number)} was merged into "
                        f"{merged_into} as a duplicate; import that person's number instead"
                    ),
                ),
            )
    new = [(h, m) for h, m in members if m.id_number not in registered and id(h) not in held]
    if model is not None and new:
        threshold = _settings(uow, now.date(), None).intake_hold_probability
        for household, member, other, probability in _likely(session, model, new, threshold):
            reason = (
                f"row {member.row}: 疑似重复 likely duplicate of {other.masked_id_number} "
                f"({other.name}), probability {probability:.3f}"
            )
            if accept:
                _audit(
                    session,
                    actor,
                    command,
                    "LikelyDuplicateAccepted",
                    "person",
                    other.id,
                    None,
                    {
                        "new_id_number": mask_identity_number(member.id_number),
                        "match_probability": round(probability, 6),
                    },
                    now,
                )
            else:
                held.setdefault(
                    id(household),
                    (household, "id_number", reason + " (--accept-duplicate imports it)"),
                )
    for household, field_name, reason in held.values():
        batch.quarantine_household(household, field_name, reason)
    return len(held)


def _registered(session: Session, id_numbers: list[str]) -> dict[str, str | None]:
    """Identity numbers already registered: each with the masked number of the person it was
    merged into, or None."""
    kept = aliased(Person)
    out: dict[str, str | None] = {}
    unique = sorted(set(id_numbers))
    for start in range(0, len(unique), _IN_CHUNK):
        rows = session.execute(
            select(Person.id_number, kept.id_number)
            .outerjoin(PersonMerge, PersonMerge.merged_person_id == Person.id)
            .outerjoin(kept, kept.id == PersonMerge.kept_person_id)
            .where(Person.id_number.in_(unique[start : start + _IN_CHUNK]))
        )
        out.update({a: (mask_identity_number(b) if b else None) for a, b in rows})
    return out


def _likely(
    session: Session,
    model: DuplicateModel,
    new: list[tuple[HouseholdRecord, PersonRecord]],
    threshold: float,
) -> Iterable[tuple[HouseholdRecord, PersonRecord, Person, float]]:
    """(household, new member, registered person, probability) at or above ``threshold``."""
    incoming = [
        LinkageRecord(
            -(i + 1),
            m.id_number,
            m.name,
            m.attributes["sex"],
            m.attributes["birth_date"],
            m.attributes["region"],
        )
        for i, (_, m) in enumerate(new)
    ]
    pairs: list[ScoredPair] = []
    for start in range(0, len(incoming), _INTAKE_CHUNK):
        chunk = incoming[start : start + _INTAKE_CHUNK]
        candidates = list(_records(session, _candidates(chunk)))
        pairs += score_between(model.settings, chunk, candidates, threshold)
    pairs.sort(key=lambda p: -p.match_probability)
    best: dict[int, ScoredPair] = {}
    for pair in pairs:  # most probable first: keep the best match of each new person
        best.setdefault(pair.left_id, pair)
    for index, pair in best.items():
        household, member = new[-index - 1]
        other = session.get(Person, pair.right_id)
        if other is not None:
            yield household, member, other, pair.match_probability


def _candidates(incoming: list[LinkageRecord]) -> _PersonRows:
    """Registered persons who share a birth date or a name with a new one (the blocking rules
    that need no pinyin; the model then scores each pair)."""
    births = sorted({r.birth_date for r in incoming})
    names = sorted({r.name for r in incoming})
    return (
        _person_columns()
        .where(_not_merged())
        .where(or_(Person.birth_date.in_(births), Person.name.in_(names)))
        .order_by(Person.id)
    )
