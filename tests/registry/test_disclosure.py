"""Reading a full identity number: only with a reason, only in the reader's region, always logged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from safetynet.audit.log import Actor, verify
from safetynet.audit.model import AuditEvent
from safetynet.db.engine import Database
from safetynet.entrypoints.cli.main import app
from safetynet.errors import InputError, UnknownNameError
from safetynet.registry.disclosure import read_full_id_number
from safetynet.registry.model import Person
from tests.cases.helpers import REGION, id_number, register_household

NUMBER = id_number("19850301", 3)


def _person(db: Database) -> int:
    register_household(db, "H1", [NUMBER])
    with db.sessions() as session:
        return session.scalars(select(Person.id)).one()


def _reads(db: Database) -> list[AuditEvent]:
    with db.sessions() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.event == "FullIdentityNumberRead"))
        )


def test_a_read_is_logged_with_who_when_and_why(
    database: Database, fixed_clock: Callable[[], dt.datetime]
) -> None:
    person = _person(database)
    clerk = Actor("wang", "caseworker", REGION)
    number = read_full_id_number(
        database,
        actor=clerk,
        person_id=person,
        reason="银行开户核对身份",
        clock=fixed_clock,
    )
    assert number == NUMBER
    [entry] = _reads(database)
    assert (entry.actor, entry.role, entry.region, entry.entity_id) == (
        "wang",
        "caseworker",
        REGION,
        str(person),
    )
    assert entry.after is not None
    assert entry.after["reason"] == "银行开户核对身份"
    assert NUMBER not in str(entry.after)
    with database.sessions() as session:
        assert verify(session) == []


def test_no_reason_no_number_and_nothing_logged(database: Database) -> None:
    person = _person(database)
    with pytest.raises(InputError, match="reason"):
        read_full_id_number(
            database, actor=Actor("wang", "caseworker"), person_id=person, reason=" x "
        )
    assert _reads(database) == []


def test_outside_the_region_reads_as_unknown(database: Database) -> None:
    person = _person(database)
    elsewhere = Actor("li", "caseworker", "440305")
    with pytest.raises(UnknownNameError, match=f"unknown person '{person}'"):
        read_full_id_number(database, actor=elsewhere, person_id=person, reason="核对身份信息")
    assert _reads(database) == []


def test_the_command_prints_the_number_and_logs_the_reason(database: Database) -> None:
    person = _person(database)
    url = database.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        app, ["audit", "read-id-number", str(person), "--reason", "法院调取", "--url", url]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == NUMBER
    [entry] = _reads(database)
    assert entry.after is not None
    assert entry.after["reason"] == "法院调取"
    refused = CliRunner().invoke(
        app, ["audit", "read-id-number", str(person), "--reason", "", "--url", url]
    )
    assert refused.exit_code == 2
    assert NUMBER not in refused.output
