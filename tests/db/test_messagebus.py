"""The message bus and the unit of work: a command's events reach the handlers of other areas in
the command's own transaction, in the order wired; a failing follower undoes the whole command."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from safetynet.audit.log import Actor, append
from safetynet.audit.model import AuditEvent
from safetynet.batch.income_effects import income_effect
from safetynet.bootstrap import bootstrap, command_handlers, event_handlers
from safetynet.db.engine import Database
from safetynet.db.messagebus import MessageBus
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.errors import UnknownNameError
from safetynet.insurance.contribution_imports import ImportContributions
from safetynet.monitoring.alerts import AssignAlert, ResolveAlert
from safetynet.registry.events import IncomeChanged
from safetynet.registry.handlers import ChangeEnrolment, EnrolHousehold, ImportHouseholds
from safetynet.registry.imports import read_table, validate
from safetynet.registry.rolls import ImportRoll

ACTOR = Actor(name="clerk", role="registry_clerk", region="110101")
AT = dt.datetime(2025, 9, 1, 8, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Write:
    what: str


@dataclass(frozen=True)
class Written:
    what: str


@dataclass(frozen=True)
class Followed:
    what: str


def _entry(uow: UnitOfWork, event: str, what: str) -> None:
    append(
        uow.session,
        actor=ACTOR,
        command="Test",
        event=event,
        entity="test",
        entity_id=what,
        after={"what": what},
        occurred_at=AT,
    )


def _write(cmd: Write, uow: UnitOfWork) -> str:
    _entry(uow, "Written", cmd.what)
    uow.emit(Written(cmd.what))
    uow.commit()
    return cmd.what


def _entries(database: Database) -> list[str]:
    with database.sessions() as session:
        return list(session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)))


def _bus(database: Database, *followers: object) -> MessageBus:
    return MessageBus(
        database.sessions,
        command_handlers={Write: _write},
        event_handlers={Written: followers, Followed: (_last,)},  # type: ignore[dict-item]
    )


def _follow(event: Written, uow: UnitOfWork) -> None:
    _entry(uow, "Followed", event.what)
    uow.emit(Followed(event.what))


def _last(event: Followed, uow: UnitOfWork) -> None:
    _entry(uow, "FollowedFollowed", event.what)


def _fail(event: Written, _uow: UnitOfWork) -> None:
    raise RuntimeError(f"the follower of {event.what} failed")


def test_followers_run_in_order_in_the_commands_transaction(database: Database) -> None:
    bus = _bus(database, _follow)
    assert bus.handle(Write("a")) == "a"
    # The follower's own event is followed too, before the one commit.
    assert _entries(database) == ["Written", "Followed", "FollowedFollowed"]


def test_a_failing_follower_undoes_the_command(database: Database) -> None:
    bus = _bus(database, _follow, _fail)
    with pytest.raises(RuntimeError, match="follower of b failed"):
        bus.handle(Write("b"))
    assert _entries(database) == []  # neither the command's write nor the first follower's


def test_outside_a_bus_events_are_only_collected(database: Database) -> None:
    with UnitOfWork(database.sessions) as uow:
        _write(Write("c"), uow)  # committed; its event stays with the unit of work
        assert list(uow.collect_new_events()) == [Written("c")]
    with UnitOfWork(database.sessions, dry_run=True) as uow:
        _entry(uow, "Written", "d")
        uow.emit(Written("d"))
        assert list(uow.collect_new_events()) == [Written("d")]
        uow.commit()  # a dry run only flushes
    assert _entries(database) == ["Written"]
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 1


def test_an_unknown_command_is_named(database: Database) -> None:
    with pytest.raises(UnknownNameError, match="Followed"):
        _bus(database).handle(Followed("x"))


def test_the_wiring_names_a_follower_for_the_registrys_income_corrections() -> None:
    followers = event_handlers()[IncomeChanged]
    # Bound with the rules core's evaluation (functools.partial): the follower is what it wraps.
    assert [getattr(f, "func", f).__name__ for f in followers] == ["follow_income_changes"]
    assert [getattr(f, "keywords", {}).get("effect") for f in followers] == [income_effect]


def test_the_bus_takes_every_areas_commands(database: Database, tmp_path: Path) -> None:
    """A household imported, enrolled and its enrolment changed, each by a command handed to the
    bus (no handler called directly), each in its own transaction and audited."""
    from tests.registry.helpers import family, write_csv

    bus = bootstrap(database, clock=lambda: AT)
    batch = validate(read_table(write_csv(tmp_path / "h.csv", family("H1", 11))))
    report = bus.handle(ImportHouseholds(batch, ACTOR, dt.date(2025, 9, 1), "h.csv"))
    assert report.households_created == 1
    enrolment = bus.handle(
        EnrolHousehold("110105", "H1", "dibao", dt.date(2025, 9, 1), 80_000, ACTOR)
    )
    version = bus.handle(ChangeEnrolment(enrolment, "review", ACTOR, amount_fen=90_000))
    assert version == 2
    with database.sessions() as session:
        events = list(session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)))
    assert events[-2:] == ["HouseholdEnrolled", "EnrolmentChanged"]
    assert {ImportContributions, AssignAlert, ResolveAlert, ImportRoll} <= set(
        command_handlers(lambda: AT)
    )
