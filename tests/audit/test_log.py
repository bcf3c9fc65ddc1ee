"""The hash-chained audit log: appends chain, tampering is named, identity numbers are masked."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import select, text, update

from safetynet.audit.log import GENESIS_HASH, Actor, append, verify
from safetynet.audit.model import AuditEvent
from safetynet.db.engine import Database
from tests.registry.helpers import id_number

ACTOR = Actor("auditor", "reviewer", "110105")
MOMENT = dt.datetime(2025, 9, 15, 8, 30, 0, 123456, tzinfo=dt.UTC)


def _write(db: Database, n: int) -> None:
    with db.sessions() as session:
        for i in range(n):
            append(
                session,
                actor=ACTOR,
                command="Test",
                event="ThingHappened",
                entity="thing",
                entity_id=i,
                before={"n": i} if i else None,
                after={"n": i + 1, "名字": "张三", "nested": [{"ok": True}]},
                occurred_at=MOMENT,
            )
        session.commit()


def test_entries_chain_and_verify(database: Database) -> None:
    _write(database, 5)
    with database.sessions() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [e.id for e in events] == [1, 2, 3, 4, 5]
        assert events[0].prev_hash == GENESIS_HASH
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
        assert verify(session) == []


def test_an_altered_entry_is_named(database: Database) -> None:
    _write(database, 5)
    with database.engine.begin() as connection:
        connection.execute(update(AuditEvent).where(AuditEvent.id == 3).values(actor="mallory"))
    with database.sessions() as session:
        problems = verify(session)
    assert [(p.entry_id, p.kind) for p in problems] == [(3, "altered")]
    assert "audit entry 3: altered" in str(problems[0])


def test_a_removed_entry_is_named(database: Database) -> None:
    _write(database, 5)
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events WHERE id = 2"))
    with database.sessions() as session:
        problems = verify(session)
    assert [(p.entry_id, p.kind) for p in problems] == [(3, "removed")]
    assert "entry 2 is missing" in problems[0].detail


def test_reordered_entries_are_named(database: Database) -> None:
    _write(database, 5)
    with database.engine.begin() as connection:
        # Swap entries 2 and 4 by renumbering them.
        connection.execute(text("UPDATE audit_events SET id = 100 WHERE id = 2"))
        connection.execute(text("UPDATE audit_events SET id = 2 WHERE id = 4"))
        connection.execute(text("UPDATE audit_events SET id = 4 WHERE id = 100"))
    with database.sessions() as session:
        problems = verify(session)
    named = {(p.entry_id, p.kind) for p in problems}
    assert {(2, "reordered"), (2, "altered"), (4, "reordered"), (4, "altered")} <= named
    assert {p.entry_id for p in problems} <= {2, 3, 4, 5}


def test_identity_numbers_are_masked(database: Database) -> None:
    number = id_number("19800101", 11)
    with database.sessions() as session:
        entry = append(
            session,
            actor=ACTOR,
            command="Test",
            event="PersonRegistered",
            entity="person",
            entity_id=1,
            after={"id_number": number, "note": f"moved from {number}.", "list": [number]},
        )
        session.commit()
        stored = session.scalars(select(AuditEvent)).one()
        assert number not in str(stored.after)
        assert stored.after == entry.after
        assert stored.after is not None
        assert stored.after["id_number"] == "110***********0112"
        assert verify(session) == []


def test_a_rolled_back_append_leaves_no_gap(database: Database) -> None:
    _write(database, 2)
    with database.sessions() as session:
        append(session, actor=ACTOR, command="T", event="E", entity="x", entity_id=1)
        session.rollback()
        append(session, actor=ACTOR, command="T", event="E", entity="x", entity_id=2)
        session.commit()
        assert session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all() == [1, 2, 3]
        assert verify(session) == []
