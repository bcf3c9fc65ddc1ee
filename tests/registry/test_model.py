"""The registry's tables and commands: invariants the database itself enforces, and history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from safetynet.audit.log import verify
from safetynet.audit.model import AuditEvent
from safetynet.db.engine import ENV_VAR, Database, create_database, resolve_url
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.errors import InputError, UnknownNameError
from safetynet.registry import vocabulary
from safetynet.registry.handlers import (
    ChangeEnrolment,
    EnrolHousehold,
    MovePerson,
    change_enrolment,
    enrol_household,
    move_person,
)
from safetynet.registry.model import EnrolmentHistory, IncomeItem, Membership, Person
from safetynet.registry.repository import RegistryRepository
from tests.registry.helpers import ACTOR, family, id_number, run_import, write_csv

Clock = Callable[[], dt.datetime]


@pytest.fixture
def two_households(database: Database, tmp_path: Path, fixed_clock: Clock) -> Database:
    run_import(
        database, write_csv(tmp_path / "h.csv", family("H1", 11) + family("H2", 21)), fixed_clock
    )
    return database


def test_a_person_has_at_most_one_open_membership(two_households: Database) -> None:
    with two_households.sessions() as session:
        person = session.scalars(select(Person).order_by(Person.id)).first()
        assert person is not None
        other = session.scalars(select(Membership).where(Membership.person_id != person.id)).first()
        assert other is not None
        session.add(
            Membership(
                person_id=person.id,
                household_id=other.household_id,
                relation="other",
                start_date=dt.date(2025, 10, 1),
            )
        )
        with pytest.raises(IntegrityError):
            session.flush()


def test_income_is_unique_per_person_kind_and_month(two_households: Database) -> None:
    with two_households.sessions() as session:
        person_id = session.scalars(select(Person.id)).first()
        for _ in range(2):
            session.add(IncomeItem(person_id=person_id, kind="wage", month="2025-09", amount_fen=1))
        with pytest.raises(IntegrityError):
            session.flush()


def test_moving_household_keeps_the_history(two_households: Database, fixed_clock: Clock) -> None:
    spouse = id_number("19820202", 12)
    command = MovePerson(spouse, "110105", "H2", "other", dt.date(2025, 10, 1), ACTOR)
    with UnitOfWork(two_households.sessions) as uow:
        move_person(command, uow, fixed_clock)
    with UnitOfWork(two_households.sessions) as uow:
        person = uow.repo(RegistryRepository).person(spouse)
        assert person is not None
        history = uow.repo(RegistryRepository).membership_history(person.id)
        assert [(h.household_no, m.start_date, m.end_date) for m, h in history] == [
            ("H1", dt.date(2025, 9, 1), dt.date(2025, 10, 1)),
            ("H2", dt.date(2025, 10, 1), None),
        ]
        events = uow.session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)).all()
        assert events[-2:] == ["MemberLeft", "MemberJoined"]
        assert verify(uow.session) == []


def test_move_refusals(two_households: Database, fixed_clock: Clock) -> None:
    spouse = id_number("19820202", 12)
    cases: list[tuple[MovePerson, type[Exception], str]] = [
        (MovePerson(id_number("19990101", 99), "110105", "H2", "other", dt.date(2025, 10, 1), ACTOR), UnknownNameError, "not in the registry"),
        (MovePerson(spouse, "110105", "H9", "other", dt.date(2025, 10, 1), ACTOR), UnknownNameError, "H9"),
        (MovePerson(spouse, "110105", "H1", "other", dt.date(2025, 10, 1), ACTOR), InputError, "already a member"),
        (MovePerson(spouse, "110105", "H2", "head", dt.date(2025, 10, 1), ACTOR), InputError, "already has a head"),
        (MovePerson(spouse, "110105", "H2", "other", dt.date(2025, 8, 1), ACTOR), InputError, "before the current membership"),
        (MovePerson(spouse, "110105", "H2", "cousin", dt.date(2025, 10, 1), ACTOR), InputError, "not one of"),
    ]  # fmt: skip
    for command, error, words in cases:
        with UnitOfWork(two_households.sessions) as uow, pytest.raises(error, match=words):
            move_person(command, uow, fixed_clock)


def test_enrolment_changes_are_versioned(two_households: Database, fixed_clock: Clock) -> None:
    enrol = EnrolHousehold("110105", "H1", "dibao", dt.date(2025, 9, 1), 90000, ACTOR)
    with UnitOfWork(two_households.sessions) as uow:
        enrolment_id = enrol_household(enrol, uow, fixed_clock)
    with (
        UnitOfWork(two_households.sessions) as uow,
        pytest.raises(InputError, match="already enrolled"),
    ):
        enrol_household(enrol, uow, fixed_clock)
    with (
        UnitOfWork(two_households.sessions) as uow,
        pytest.raises(UnknownNameError, match="program"),
    ):
        enrol_household(
            EnrolHousehold("110105", "H1", "no_such_program", dt.date(2025, 9, 1), 1, ACTOR),
            uow,
            fixed_clock,
        )
    change = ChangeEnrolment(enrolment_id, "income rose", ACTOR, amount_fen=50000)
    with UnitOfWork(two_households.sessions) as uow:
        assert change_enrolment(change, uow, fixed_clock) == 2
    end = ChangeEnrolment(enrolment_id, "left", ACTOR, status="ended", end=dt.date(2025, 12, 31))
    with UnitOfWork(two_households.sessions) as uow:
        assert change_enrolment(end, uow, fixed_clock) == 3
    with UnitOfWork(two_households.sessions) as uow:
        history = uow.session.scalars(
            select(EnrolmentHistory).order_by(EnrolmentHistory.version)
        ).all()
        assert [(h.version, h.status, h.amount_fen) for h in history] == [
            (1, "active", 90000),
            (2, "active", 50000),
            (3, "ended", 50000),
        ]
        assert verify(uow.session) == []
    # Once ended, a new enrolment in the same program may start.
    with UnitOfWork(two_households.sessions) as uow:
        enrol_household(enrol, uow, fixed_clock)


def test_identity_numbers_are_masked_in_repr(two_households: Database) -> None:
    with two_households.sessions() as session:
        person = session.scalars(select(Person)).first()
        assert person is not None
        assert person.id_number not in repr(person)
        assert person.masked_id_number in repr(person)


def test_sqlite_has_foreign_keys_and_wal(tmp_path: Path) -> None:
    db = create_database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        db.dispose()


def test_the_url_comes_from_the_argument_the_environment_or_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("SAFETYNET_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("SAFETYNET_HOME", str(tmp_path / "home"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "..")
    # The default is the SafetyNet home folder, never the working directory.
    assert resolve_url().database == str(tmp_path / "home" / "safetynet.db")
    db = create_database()
    db.dispose()
    assert (tmp_path / "home").is_dir()
    monkeypatch.setenv(ENV_VAR, "postgresql://postgres@127.0.0.1:5432/x")
    assert resolve_url().drivername == "postgresql+psycopg"
    assert resolve_url("sqlite:///y.db").database == "y.db"
    with pytest.raises(InputError, match="not a database URL"):
        resolve_url("nonsense")
    with pytest.raises(InputError, match="mysql is not supported"):
        resolve_url("mysql://u@h/d")


def test_schooling_matches_the_education_program() -> None:
    from safetynet.policy.programs.education_assistance import STAGES

    assert vocabulary.SCHOOLING == STAGES
