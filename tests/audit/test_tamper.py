"""Tampering by someone who can write the database but holds no audit key is caught by verify.

Acceptance for issue 10, section 4: deleting the last entries, appending a forged entry with a
correct SHA-256 hash, and rewriting and rehashing the whole chain each make ``safetynet audit
verify`` exit 1 naming the checkpoint or entry; an untouched log exits 0.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text
from typer.testing import CliRunner

from safetynet.audit.checkpoints import read_checkpoints
from safetynet.audit.keys import add_key
from safetynet.audit.log import GENESIS_HASH, Actor, append, entry_hash, verify, verify_log
from safetynet.audit.model import AuditEvent
from safetynet.db.engine import Database
from safetynet.entrypoints.cli.main import app

ACTOR = Actor("clerk", "caseworker", "110105")
MOMENT = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)


def _commit_entries(db: Database, n: int, *, start: int = 0) -> None:
    """``n`` entries, one commit each (one checkpoint each, as separate commands would)."""
    for i in range(start, start + n):
        with db.sessions() as session:
            append(
                session,
                actor=ACTOR,
                command="RecordThing",
                event="ThingRecorded",
                entity="thing",
                entity_id=i,
                after={"n": i},
                occurred_at=MOMENT,
            )
            session.commit()


def _cli_verify(db: Database) -> tuple[int, str]:
    url = db.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["audit", "verify", "--url", url])
    return result.exit_code, result.output


def _verify_fails(db: Database) -> str:
    """What ``audit verify`` printed, having asserted that it exited 1 (a problem found)."""
    code, output = _cli_verify(db)
    assert code == 1, output
    return output


def _forge(db: Database, entry_id: int, prev_hash: str, *, actor: str = "mallory") -> str:
    """Insert an entry with a correct SHA-256 chain hash but no key (as an attacker can)."""
    forged = AuditEvent(
        id=entry_id,
        occurred_at=MOMENT,
        actor=actor,
        role="caseworker",
        region="110105",
        command="RecordThing",
        event="ThingRecorded",
        entity="thing",
        entity_id="x",
        before=None,
        after={"n": 999},
        prev_hash=prev_hash,
    )
    forged.hash = entry_hash(prev_hash, forged)
    with db.sessions() as session:
        session.add(forged)
        session.commit()
    return forged.hash


def test_untouched_log_verifies_and_each_commit_left_a_checkpoint(
    database: Database, audit_key: Path
) -> None:
    _commit_entries(database, 4)
    checkpoints, unreadable = read_checkpoints(audit_key)
    assert unreadable == []
    assert [c.entry_id for c in checkpoints] == [1, 2, 3, 4]
    with database.sessions() as session:
        report = verify_log(session)
        head = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert report.problems == []
    assert (report.entries, report.authenticated, report.checkpoints) == (4, 4, 4)
    assert head is not None
    assert checkpoints[-1].head_hash == head.hash
    code, output = _cli_verify(database)
    assert code == 0, output
    assert "intact" in output
    assert "4 entries (4 authenticated), 4 checkpoints" in output


def test_a_rolled_back_transaction_leaves_no_checkpoint(
    database: Database, audit_key: Path
) -> None:
    _commit_entries(database, 1)
    with database.sessions() as session:
        append(session, actor=ACTOR, command="C", event="E", entity="thing", entity_id=1)
        session.rollback()
    assert [c.entry_id for c in read_checkpoints(audit_key)[0]] == [1]
    assert _cli_verify(database)[0] == 0


def test_deleting_the_last_entries_is_named_by_the_checkpoint(database: Database) -> None:
    _commit_entries(database, 5)
    with database.engine.begin() as connection:
        connection.execute(delete(AuditEvent).where(AuditEvent.id >= 4))
    with database.sessions() as session:
        problems = verify(session)
    assert [(p.entry_id, p.kind, p.checkpoint) for p in problems] == [(4, "truncated", 5)]
    assert "truncated after entry 3, entries 4-5 are gone" in problems[0].detail
    assert "audit checkpoint (line 5): truncated" in _verify_fails(database)


def test_deleting_every_entry_is_named(database: Database) -> None:
    _commit_entries(database, 2)
    with database.engine.begin() as connection:
        connection.execute(delete(AuditEvent))
    assert "the log ends at entry 0" in _verify_fails(database)


def test_a_forged_entry_with_a_correct_hash_is_named(database: Database) -> None:
    _commit_entries(database, 3)
    with database.sessions() as session:
        head = session.scalars(select(AuditEvent).where(AuditEvent.id == 3)).one()
    _forge(database, 4, head.hash)
    with database.sessions() as session:
        problems = verify(session)
    assert [(p.entry_id, p.kind) for p in problems] == [(4, "forged")]
    assert "audit entry 4: forged" in _verify_fails(database)


def test_an_entry_changed_and_rehashed_keeps_a_mac_that_no_longer_matches(
    database: Database,
) -> None:
    _commit_entries(database, 2)
    with database.engine.begin() as connection:
        # The entry keeps its key id and MAC, which signed the old hash.
        connection.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = 2"))
        row = connection.execute(text("SELECT prev_hash FROM audit_events WHERE id = 2")).one()
    with database.sessions() as session:
        entry = session.get(AuditEvent, 2)
        assert entry is not None
        entry.hash = entry_hash(row[0], entry)
        session.commit()
    with database.sessions() as session:
        problems = verify(session)
    kinds = {(p.entry_id, p.kind) for p in problems}
    assert (2, "forged") in kinds
    assert (2, "rewritten") in kinds


def test_rewriting_and_rehashing_the_whole_chain_is_named(database: Database) -> None:
    _commit_entries(database, 4)
    with database.sessions() as session:
        entries = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        session.execute(delete(AuditEvent))
        session.flush()
        prev = GENESIS_HASH
        for old in entries:
            session.expunge(old)
            new = AuditEvent(
                id=old.id,
                occurred_at=old.occurred_at,
                actor="mallory" if old.id == 2 else old.actor,
                role=old.role,
                region=old.region,
                command=old.command,
                event=old.event,
                entity=old.entity,
                entity_id=old.entity_id,
                before=old.before,
                after=old.after,
                prev_hash=prev,
            )
            new.hash = entry_hash(prev, new)
            # The attacker keeps the old MACs (they cannot compute new ones).
            new.key_id, new.mac = old.key_id, old.mac
            session.add(new)
            session.flush()
            prev = new.hash
        session.commit()
    with database.sessions() as session:
        problems = verify(session)
    kinds = [(p.entry_id, p.kind) for p in problems]
    assert (2, "forged") in kinds  # entries 2-4: their MACs no longer match
    assert (2, "rewritten") in kinds  # named at the first checkpoint that differs
    rewritten = next(p for p in problems if p.kind == "rewritten")
    assert rewritten.checkpoint == 2
    assert "2 later checkpoints differ too" in rewritten.detail
    output = _verify_fails(database)
    assert "audit entries 2-4: forged" in output
    assert "audit checkpoint (line 2): rewritten" in output


def test_a_rehashed_chain_without_macs_is_named(database: Database) -> None:
    """Stripping the MACs (to pass as entries from before the key) does not help either."""
    _commit_entries(database, 3)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET key_id = NULL, mac = NULL"))
    output = _verify_fails(database)
    assert "audit entries 2-3: forged" in output
    assert "follows the signed checkpoint" in output


def test_a_changed_checkpoint_line_is_named(database: Database, audit_key: Path) -> None:
    _commit_entries(database, 2)
    lines = audit_key.read_text(encoding="utf-8").splitlines()
    changed = json.loads(lines[1])
    changed["entry_id"] = changed["count"] = 1
    audit_key.write_text(lines[0] + "\n" + json.dumps(changed) + "\n", encoding="utf-8")
    assert "audit checkpoint (line 2): forged checkpoint" in _verify_fails(database)


def test_a_deleted_checkpoint_file_is_named(database: Database, audit_key: Path) -> None:
    _commit_entries(database, 2)
    audit_key.unlink()
    assert "checkpoints missing" in _verify_fails(database)


def test_entries_from_before_the_key_still_verify_and_are_listed(
    database: Database, audit_key: Path
) -> None:
    """Migration: entries written before the key (no MAC) verify by their chain; the first
    checkpoint then protects them, and later entries are keyed."""
    _commit_entries(database, 3)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET key_id = NULL, mac = NULL"))
    audit_key.unlink()  # as if written by the release before keys
    code, output = _cli_verify(database)
    assert code == 0, output
    assert "entries 1-3 have no MAC" in output
    url = database.engine.url.render_as_string(hide_password=False)
    signed = CliRunner().invoke(app, ["audit", "checkpoint", "--url", url])
    assert signed.exit_code == 0, signed.output
    assert "checkpoint: entry 3" in signed.output
    _commit_entries(database, 1, start=3)
    code, output = _cli_verify(database)
    assert code == 0, output
    # Deleting the keyed entry, or the old ones, is now caught by the checkpoints.
    with database.engine.begin() as connection:
        connection.execute(delete(AuditEvent).where(AuditEvent.id == 4))
    assert "truncated after entry 3" in _verify_fails(database)


def test_old_entries_verify_after_a_key_rotation(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring = tmp_path / "audit.keys"
    monkeypatch.delenv("SAFETYNET_AUDIT_KEY")
    monkeypatch.setenv("SAFETYNET_AUDIT_KEY_FILE", str(keyring))
    first = add_key(keyring, "2026-a")
    _commit_entries(database, 2)
    second = CliRunner().invoke(app, ["audit", "new-key", "--id", "2026-b"])
    assert second.exit_code == 0, second.output
    assert "2026-b" in second.output
    assert "5a" * 8 not in second.output
    _commit_entries(database, 2, start=2)
    with database.sessions() as session:
        ids = session.scalars(select(AuditEvent.key_id).order_by(AuditEvent.id)).all()
    assert ids == [first, first, "2026-b", "2026-b"]
    assert _cli_verify(database)[0] == 0
    # Dropping the old key from the ring makes its entries unverifiable, and says so.
    text_ = keyring.read_text(encoding="utf-8").splitlines()
    keyring.write_text("\n".join(x for x in text_ if not x.startswith("2026-a")) + "\n")
    assert "audit entries 1-2: unknown key: it was signed with key '2026-a'" in _verify_fails(
        database
    )


def test_writing_without_a_key_is_refused_and_nothing_is_written(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safetynet.audit.keys import AuditKeyMissingError

    monkeypatch.delenv("SAFETYNET_AUDIT_KEY")
    with (
        database.sessions() as session,
        pytest.raises(AuditKeyMissingError, match="safetynet audit new-key"),
    ):
        append(session, actor=ACTOR, command="C", event="E", entity="thing", entity_id=1)
    with database.sessions() as session:
        assert session.scalars(select(AuditEvent)).all() == []


def test_verify_without_the_key_cannot_vouch_for_keyed_entries(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _commit_entries(database, 1)
    monkeypatch.delenv("SAFETYNET_AUDIT_KEY")
    assert "no audit key is configured" in _verify_fails(database)


def test_verify_from_another_working_directory_as_a_command(
    database: Database, tmp_path: Path
) -> None:
    """The installed command, in a subprocess, from elsewhere: truncation exits 1."""
    _commit_entries(database, 3)
    url = database.engine.url.render_as_string(hide_password=False)
    command = [sys.executable, "-m", "safetynet.entrypoints.cli.main", "audit", "verify"]
    clean = subprocess.run(
        [*command, "--url", url], cwd=tmp_path, env=os.environ.copy(), capture_output=True
    )
    assert clean.returncode == 0, clean.stderr
    with database.engine.begin() as connection:
        connection.execute(delete(AuditEvent).where(AuditEvent.id == 3))
    cut = subprocess.run(
        [*command, "--url", url], cwd=tmp_path, env=os.environ.copy(), capture_output=True
    )
    assert cut.returncode == 1
    assert "truncated after entry 2" in cut.stderr.decode()


def test_a_rotated_key_signs_from_the_next_transaction_on(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long-lived session picks up a new key at its next transaction, without a restart."""
    with database.sessions() as session:
        for i, keys in enumerate(
            (f"test-key-1:{'5a' * 32}", f"test-key-1:{'5a' * 32},test-key-2:{'6b' * 32}")
        ):
            monkeypatch.setenv("SAFETYNET_AUDIT_KEY", keys)
            append(session, actor=ACTOR, command="C", event="E", entity="thing", entity_id=i)
            session.commit()
    with database.sessions() as session:
        assert session.scalars(select(AuditEvent.key_id).order_by(AuditEvent.id)).all() == [
            "test-key-1",
            "test-key-2",
        ]
    assert _cli_verify(database)[0] == 0


def test_concurrent_writers_leave_a_log_that_verifies(database: Database, audit_key: Path) -> None:
    """Checkpoints of concurrent transactions may land out of order; none is a false alarm."""
    import threading

    errors: list[BaseException] = []

    def writer(start: int) -> None:
        try:
            _commit_entries(database, 15, start=start)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n * 100,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    checkpoints, unreadable = read_checkpoints(audit_key)
    assert unreadable == []
    assert sorted(c.entry_id for c in checkpoints) == list(range(1, 46))
    code, output = _cli_verify(database)
    assert code == 0, output
