"""Signed checkpoints of the audit chain's head, kept in an append-only file outside the database.

One JSON line per checkpoint: ``entry_id`` and ``head_hash`` of the last entry, ``count`` of
entries (ids run 1..N without gaps, so it equals ``entry_id``), ``at`` (UTC), ``key_id`` and
``mac`` (HMAC-SHA256 of the other fields' canonical JSON). A checkpoint is written after every
commit that appended entries (a session hook, so every command, request and batch stage is
covered) and by ``safetynet audit checkpoint``. Deleting the last entries, or rewriting the
chain, leaves a checkpoint naming an entry that is gone or has another hash.

The file is ``SAFETYNET_AUDIT_CHECKPOINTS`` if set; else, for an SQLite database file,
``<name>.audit-checkpoints.jsonl`` beside it; else (PostgreSQL)
``$XDG_STATE_HOME/safetynet/audit-checkpoints/<host>-<port>-<database>.jsonl``
(``~/.local/state`` when ``XDG_STATE_HOME`` is unset).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, SessionTransaction

from safetynet.audit.keys import Keyring

__all__ = [
    "CHECKPOINTS_ENV_VAR",
    "Checkpoint",
    "checkpoint_message",
    "checkpoints_path",
    "read_checkpoints",
    "remember_head",
    "write_checkpoint",
]

CHECKPOINTS_ENV_VAR = "SAFETYNET_AUDIT_CHECKPOINTS"
_PENDING_KEY = "safetynet.audit.checkpoint"
_FIELDS = ("v", "entry_id", "head_hash", "count", "at", "key_id")

log = logging.getLogger("safetynet.audit")


@dataclass(frozen=True)
class Checkpoint:
    """A line of the checkpoint file (``line`` is 1-based); ``mac`` signs the other fields."""

    line: int
    entry_id: int
    head_hash: str
    count: int
    at: str
    key_id: str
    mac: str

    def fields(self) -> dict[str, Any]:
        return {
            "v": 1,
            "entry_id": self.entry_id,
            "head_hash": self.head_hash,
            "count": self.count,
            "at": self.at,
            "key_id": self.key_id,
        }


def checkpoint_message(fields: dict[str, Any]) -> str:
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "safetynet-audit-checkpoint-v1\n" + body


def checkpoints_path(url: str | URL | None) -> Path | None:
    """The checkpoint file for the database at ``url`` (None for an in-memory database)."""
    if os.environ.get(CHECKPOINTS_ENV_VAR):
        return Path(os.environ[CHECKPOINTS_ENV_VAR])
    if url is None:
        return None
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            return None
        database = Path(parsed.database).resolve()
        return database.parent / f"{database.stem}.audit-checkpoints.jsonl"
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    name = f"{parsed.host or 'localhost'}-{parsed.port or 5432}-{parsed.database}"
    return Path(state) / "safetynet" / "audit-checkpoints" / f"{name}.jsonl"


def write_checkpoint(
    path: Path, keyring: Keyring, entry_id: int, head_hash: str, *, at: dt.datetime | None = None
) -> Checkpoint:
    """Append one signed checkpoint line to ``path`` (created if missing) and return it."""
    moment = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields: dict[str, Any] = {
        "v": 1,
        "entry_id": entry_id,
        "head_hash": head_hash,
        "count": entry_id,
        "at": stamp,
        "key_id": keyring.current_id,
    }
    mac = keyring.mac(keyring.current_id, checkpoint_message(fields))
    line = json.dumps({**fields, "mac": mac}, sort_keys=True, separators=(",", ":")) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    # One write() on an O_APPEND descriptor: lines of concurrent writers never interleave.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)
    return Checkpoint(0, entry_id, head_hash, entry_id, stamp, keyring.current_id, mac)


def read_checkpoints(path: Path) -> tuple[list[Checkpoint], list[tuple[int, str]]]:
    """The checkpoints in ``path`` and the lines that could not be read (line, reason)."""
    good: list[Checkpoint] = []
    bad: list[tuple[int, str]] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                bad.append((number, "empty line"))
                continue
            try:
                data = json.loads(raw)
                if not isinstance(data, dict) or data.get("v") != 1:
                    raise ValueError("not a version-1 checkpoint")
                checkpoint = Checkpoint(
                    line=number,
                    entry_id=_int(data["entry_id"]),
                    head_hash=str(data["head_hash"]),
                    count=_int(data["count"]),
                    at=str(data["at"]),
                    key_id=str(data["key_id"]),
                    mac=str(data["mac"]),
                )
                if set(data) != {*_FIELDS, "mac"}:
                    raise ValueError("unexpected fields")
            except (ValueError, KeyError, TypeError) as exc:
                bad.append((number, f"not a checkpoint ({exc})"))
                continue
            good.append(checkpoint)
    return good, bad


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not an integer")
    return value


def remember_head(
    session: Session, entry_id: int, head_hash: str, keyring: Keyring, path: Path | None
) -> None:
    """Note the transaction's new head; it is checkpointed when (and if) the session commits."""
    session.info[_PENDING_KEY] = (entry_id, head_hash, keyring, path)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    if pending is None:
        return
    entry_id, head_hash, keyring, path = pending
    if path is None:
        return
    try:
        write_checkpoint(path, keyring, entry_id, head_hash)
    except OSError as exc:
        # The entries are committed and keyed; a missed checkpoint only leaves them uncovered
        # until the next one, which `audit verify` reports. Failing here would hide the commit.
        log.error("audit checkpoint for entry %s not written to %s: %s", entry_id, path, exc)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # Runs after after_commit; whatever is still pending here was rolled back or abandoned.
    if transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)
