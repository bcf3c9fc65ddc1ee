"""Append to and verify the hash-chained audit log.

Each entry's hash is SHA-256 over the previous entry's hash and the canonical JSON of the entry
(sorted keys, no spaces, UTF-8), so altering, removing or reordering any entry breaks the chain
from there on. ``append`` runs inside the caller's transaction: the event is committed with the
change it records, or not at all. Identity numbers in ``before``/``after`` are masked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from safetynet.audit.model import AuditEvent
from safetynet.domain.privacy import mask_value

__all__ = ["GENESIS_HASH", "Actor", "Problem", "append", "canonical_json", "entry_hash", "verify"]

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry."""

_TAIL_KEY = "safetynet.audit.tail"
# Any pg_advisory_xact_lock key will do; this one spells "AUDT" in ASCII.
_PG_LOCK_KEY = 0x41554454


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it: a user name, the role they acted in, and the region they act for."""

    name: str
    role: str
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with the log, naming the entry where it shows."""

    entry_id: int
    kind: str  # "altered", "removed" or "reordered"
    detail: str

    def __str__(self) -> str:
        return f"audit entry {self.entry_id}: {self.kind}: {self.detail}"


def mask(value: Any) -> Any:
    """A copy of a JSON-like value with every identity number masked (``privacy.mask_value``)."""
    return mask_value(value)


def _utc_text(moment: dt.datetime) -> str:
    # SQLite hands back naive datetimes; everything written here is UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _content(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "occurred_at": _utc_text(event.occurred_at),
        "actor": event.actor,
        "role": event.role,
        "region": event.region,
        "command": event.command,
        "event": event.event,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "before": event.before,
        "after": event.after,
    }


def entry_hash(prev_hash: str, event: AuditEvent) -> str:
    payload = (prev_hash + canonical_json(_content(event))).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()


def _tail(session: Session) -> tuple[int, str]:
    """The last entry's id and hash, read once per transaction and then kept in memory."""
    transaction = session.get_transaction()
    cached = session.info.get(_TAIL_KEY)
    if cached is not None and cached[0] is transaction:
        return cached[1], cached[2]
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders until commit: two transactions must not chain to the same entry.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    return (0, GENESIS_HASH) if last is None else (last[0], last[1])


def append(
    session: Session,
    *,
    actor: Actor,
    command: str,
    event: str,
    entity: str,
    entity_id: str | int,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
) -> AuditEvent:
    """Add one entry to the log in the session's current transaction and return it.

    ``before`` and ``after`` must be JSON-compatible (str, int, bool, None, lists, dicts).
    """
    last_id, last_hash = _tail(session)
    moment = occurred_at if occurred_at is not None else dt.datetime.now(dt.UTC)
    entry = AuditEvent(
        id=last_id + 1,
        occurred_at=moment,
        actor=actor.name,
        role=actor.role,
        region=actor.region,
        command=command,
        event=event,
        entity=entity,
        entity_id=str(entity_id),
        before=None if before is None else mask(before),
        after=None if after is None else mask(after),
        prev_hash=last_hash,
    )
    # Round-trip through JSON now so the hash covers exactly what the database will return.
    entry.before = None if entry.before is None else json.loads(canonical_json(entry.before))
    entry.after = None if entry.after is None else json.loads(canonical_json(entry.after))
    entry.hash = entry_hash(last_hash, entry)
    session.add(entry)
    session.info[_TAIL_KEY] = (session.get_transaction(), entry.id, entry.hash)
    return entry


def verify(session: Session, *, batch_size: int = 1000) -> list[Problem]:
    """Check every entry in id order; each altered, removed or reordered entry is named once."""
    problems: list[Problem] = []
    expected_id = 1
    prev_hash = GENESIS_HASH
    query = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch_size)
    for event in session.scalars(query):
        if event.id != expected_id:
            missing = (
                f"entry {expected_id} is"
                if event.id == expected_id + 1
                else f"entries {expected_id}-{event.id - 1} are"
            )
            problems.append(Problem(event.id, "removed", f"{missing} missing before it"))
        elif event.prev_hash != prev_hash:
            problems.append(
                Problem(
                    event.id,
                    "reordered",
                    "its previous hash is not the hash of the entry before it "
                    "(moved, replaced or inserted)",
                )
            )
        if entry_hash(event.prev_hash, event) != event.hash:
            problems.append(Problem(event.id, "altered", "its content does not match its hash"))
        expected_id = event.id + 1
        prev_hash = event.hash
        session.expunge(event)
    return problems
