"""The duplicates review queue on a real database: find, list, merge, separate, and the intake
hold of a likely duplicate (with its audited override)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from safetynet.audit.model import AuditEvent
from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database
from safetynet.domain.identity import check_character, mask_identity_number
from safetynet.errors import InputError
from safetynet.registry.duplicates import (
    FindDuplicates,
    MergePersons,
    SeparatePersons,
    duplicate_pairs,
)
from safetynet.registry.duplicates_model import DuplicateModel, DuplicatePair, PersonMerge
from safetynet.registry.duplicates_synthetic import SyntheticRegistry, synthetic_registry
from safetynet.registry.handlers import ImportHouseholds, import_households
from safetynet.registry.imports import read_table, validate
from safetynet.registry.linkage import LinkageRecord, linkage_settings, train_model
from safetynet.registry.model import Household, IncomeItem, Membership, Person
from tests.registry.duplicates_helpers import NOW, seed, store_model
from tests.registry.helpers import ACTOR, id_number, person, write_csv


def clock() -> dt.datetime:
    return NOW


@pytest.fixture(scope="module")
def synthetic() -> SyntheticRegistry:
    return synthetic_registry(1500, seed=7)


@pytest.fixture(scope="module")
def trained(synthetic: SyntheticRegistry) -> dict[str, Any]:
    return train_model(synthetic.records, linkage_settings(NOW.date()))


def events(db: Database, name: str) -> list[AuditEvent]:
    with db.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def test_find_queues_the_likely_duplicates_once_and_a_separated_pair_never_again(
    database: Database, synthetic: SyntheticRegistry
) -> None:
    seed(database, synthetic.records)
    bus = bootstrap(database, clock=clock)

    report = bus.handle(FindDuplicates(ACTOR))
    assert report.persons == len(synthetic.records)
    assert report.queued == report.scored > 0
    with database.sessions() as session:
        queued = {(p.person_id, p.other_person_id) for p in session.scalars(select(DuplicatePair))}
    found_true = len(queued & synthetic.truth)
    assert found_true / len(queued) >= 0.95  # precision on the database run
    assert found_true / len(synthetic.truth) >= 0.9  # recall
    assert len(events(database, "DuplicateQueued")) == report.queued
    assert len(events(database, "LinkageModelTrained")) == 1

    again = bus.handle(FindDuplicates(ACTOR, train=False))
    assert (again.queued, again.known) == (0, report.scored)

    with database.sessions() as session:
        views = duplicate_pairs(session, limit=1000)
    assert len(views) == report.queued
    first = views[0]
    assert first.masked_id_number == mask_identity_number(
        next(r.id_number for r in synthetic.records if r.person_id == first.person_id)
    )
    assert "*" in first.other_masked_id_number

    bus.handle(SeparatePersons(first.pair_id, ACTOR, "two persons: checked the hukou booklets"))
    with pytest.raises(InputError, match="already decided"):
        bus.handle(SeparatePersons(first.pair_id, ACTOR, "again"))
    third = bus.handle(FindDuplicates(ACTOR, train=False))
    assert third.queued == 0
    with database.sessions() as session:
        separated = duplicate_pairs(session, status="separated")
    assert [(v.pair_id, v.decided_by) for v in separated] == [(first.pair_id, ACTOR.name)]
    [entry] = events(database, "PersonsSeparated")
    assert entry.after is not None
    assert entry.after["status"] == "separated"


def test_find_refuses_too_few_persons_to_train(
    database: Database, synthetic: SyntheticRegistry
) -> None:
    seed(database, synthetic.records[:20])
    with pytest.raises(InputError, match="minimum_training_persons"):
        bootstrap(database, clock=clock).handle(FindDuplicates(ACTOR))


def _household(session: Any, region: str, number: str, member: int, wage: int) -> None:
    household = Household(
        region_code=region,
        household_no=number,
        hukou_type="urban",
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(household)
    session.flush()
    session.add(
        Membership(
            person_id=member,
            household_id=household.id,
            relation="head",
            start_date=dt.date(2024, 1, 1),
        )
    )
    session.add(IncomeItem(person_id=member, kind="wage", month="2026-04", amount_fen=wage))
    session.add(
        IncomeItem(person_id=member, kind="wage", month=f"2026-0{member % 3 + 1}", amount_fen=wage)
    )


def test_merge_keeps_one_person_moves_memberships_and_income_and_marks_the_other(
    database: Database, synthetic: SyntheticRegistry, trained: dict[str, Any]
) -> None:
    original = synthetic.records[0]
    digit = str((int(original.id_number[15]) + 3) % 10)
    first17 = original.id_number[:15] + digit + original.id_number[16:17]
    twin = LinkageRecord(
        original.person_id + 100_000,
        first17 + check_character(first17),
        original.name,
        original.sex,
        original.birth_date,
        "130104" if original.region != "130104" else "110105",
    )
    seed(database, [*synthetic.records, twin])
    store_model(database, trained)
    with database.sessions.begin() as session:
        _household(session, original.region, "A1", original.person_id, 100_00)
        _household(session, twin.region, "B1", twin.person_id, 200_00)
    bus = bootstrap(database, clock=clock)
    bus.handle(FindDuplicates(ACTOR, train=False))
    with database.sessions() as session:
        pair = session.scalars(
            select(DuplicatePair).where(DuplicatePair.other_person_id == twin.person_id)
        ).one()
    with pytest.raises(InputError, match="reason"):
        bus.handle(MergePersons(pair.id, original.person_id, ACTOR, " "))
    with pytest.raises(InputError, match="not one of"):
        bus.handle(MergePersons(pair.id, 999_999, ACTOR, "one person"))

    kept = bus.handle(MergePersons(pair.id, original.person_id, ACTOR, "same person, typo"))

    assert kept == original.person_id
    with database.sessions() as session:
        assert session.get(Person, twin.person_id) is not None  # never deleted
        merge = session.get(PersonMerge, twin.person_id)
        assert merge is not None
        assert merge.kept_person_id == original.person_id
        memberships = list(session.scalars(select(Membership).where(Membership.person_id == kept)))
        assert len(memberships) == 2
        assert sum(m.end_date is None for m in memberships) == 1  # one open membership
        closed = next(m for m in memberships if m.end_date is not None)
        assert closed.end_date == NOW.date()
        income = {(i.person_id, i.month): i.amount_fen for i in session.scalars(select(IncomeItem))}
        # The kept person's April wage wins; the merged person's other month moved.
        assert income[(kept, "2026-04")] == 100_00
        assert income[(twin.person_id, "2026-04")] == 200_00
        assert sum(1 for (p, _) in income if p == kept) == 3
        decided = session.get(DuplicatePair, pair.id)
        assert decided is not None
        assert (decided.status, decided.kept_person_id) == ("merged", kept)
    [entry] = events(database, "PersonsMerged")
    assert entry.after is not None
    assert entry.after["merged_into"] == kept
    assert len(events(database, "MembershipMoved")) == 1
    with pytest.raises(InputError, match="already decided"):
        bus.handle(MergePersons(pair.id, original.person_id, ACTOR, "again"))


def _import(db: Database, path: Path, accept: bool = False) -> Any:
    batch = validate(read_table(path, None))
    command = ImportHouseholds(batch, ACTOR, dt.date(2026, 5, 1), path.name, accept)
    with bootstrap(db, clock=clock).unit_of_work() as uow:
        report = import_households(command, uow, clock)
    return report, batch


def test_an_import_holds_a_likely_duplicate_unless_the_override_is_given(
    database: Database, synthetic: SyntheticRegistry, trained: dict[str, Any], tmp_path: Path
) -> None:
    seed(database, synthetic.records)
    store_model(database, trained)
    original = next(r for r in synthetic.records if r.region == "110105")
    first17 = original.id_number[:14] + str((int(original.id_number[14]) + 1) % 10)
    first17 += original.id_number[15:17]
    typo = first17 + check_character(first17)
    rows = [
        person("D1", name=original.name, id_number=typo, region="110105"),
        person("D2", name="欧阳修", id_number=id_number("20000101", 13), region="110105"),
    ]
    path = write_csv(tmp_path / "households.csv", rows)

    report, batch = _import(database, path)

    assert report.households_created == 1, batch.quarantine  # D2
    [held] = batch.quarantine
    assert held.field == "id_number"
    assert mask_identity_number(original.id_number) in held.reason
    assert "likely duplicate" in held.reason
    assert "probability" in held.reason
    assert typo not in held.reason

    report, _ = _import(database, path, accept=True)
    assert report.households_created == 1  # D1 now, D2 unchanged
    [accepted] = events(database, "LikelyDuplicateAccepted")
    assert accepted.entity_id == str(original.person_id)
    assert accepted.after is not None
    assert "*" in accepted.after["new_id_number"]


def test_an_import_naming_a_merged_person_is_held(
    database: Database, synthetic: SyntheticRegistry, tmp_path: Path
) -> None:
    a, b = synthetic.records[0], synthetic.records[1]
    seed(database, [a, b])
    with database.sessions.begin() as session:
        model = DuplicateModel(trained_at=NOW, scope="test", persons=2, settings={})
        session.add(model)
        session.flush()
        low, high = sorted((a.person_id, b.person_id))
        pair = DuplicatePair(
            person_id=low,
            other_person_id=high,
            match_probability=0.99,
            match_weight=10.0,
            model_id=model.id,
            status="merged",
            found_at=NOW,
            kept_person_id=a.person_id,
            reason="test",
        )
        session.add(pair)
        session.flush()
        session.add(
            PersonMerge(
                merged_person_id=b.person_id,
                kept_person_id=a.person_id,
                pair_id=pair.id,
                merged_at=NOW,
            )
        )
    path = write_csv(
        tmp_path / "h.csv", [person("M1", name=b.name, id_number=b.id_number, region=b.region)]
    )
    report, batch = _import(database, path)
    assert report.households_created == 0
    [held] = batch.quarantine
    assert f"was merged into {mask_identity_number(a.id_number)}" in held.reason
