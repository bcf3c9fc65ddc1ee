"""Append to and verify the hash-chained audit log.

Each entry's hash is SHA-256 over the previous entry's hash and the canonical JSON of the entry
(sorted keys, no spaces, UTF-8), so altering, removing or reordering any entry breaks the chain
from there on. Each entry also carries an HMAC-SHA256 of its hash under a key the database does
not hold (``audit.keys``), and each commit adds a signed checkpoint of the head to a file outside
the database (``audit.checkpoints``), so a forged, rehashed or truncated log shows too. ``append`` runs inside the caller's transaction: the event is committed with the
change it records, or not at all. Identity numbers in ``before``/``after`` are masked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from safetynet.audit.checkpoints import (
    CHECKPOINTS_ENV_VAR,
    Checkpoint,
    checkpoint_message,
    checkpoints_path,
    read_checkpoints,
    remember_head,
    write_checkpoint,
)
from safetynet.audit.keys import (
    KEY_ENV_VAR,
    KEY_FILE_ENV_VAR,
    AuditKeyMissingError,
    Keyring,
    default_keyring_path,
    load_keyring,
)
from safetynet.audit.model import AuditEvent
from safetynet.domain.privacy import mask_value

__all__ = [
    "GENESIS_HASH",
    "Actor",
    "Problem",
    "Report",
    "append",
    "canonical_json",
    "entry_hash",
    "entry_mac_message",
    "verify",
    "verify_log",
    "write_head_checkpoint",
]

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry."""

_TAIL_KEY = "safetynet.audit.tail"
_CONFIG_KEY = "safetynet.audit.configuration"
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
    """Something wrong with the log, naming the entry (or entries, or checkpoint) where it shows.

    ``entry_id`` is 0 for a problem of the log as a whole; ``last_entry_id`` closes a run of
    consecutive entries with the same problem; ``checkpoint`` is the checkpoint file's line.
    """

    entry_id: int
    kind: str  # altered, removed, reordered, forged, unknown key, truncated, rewritten, ...
    detail: str
    last_entry_id: int | None = None
    checkpoint: int | None = None

    def __str__(self) -> str:
        if self.checkpoint is not None:
            return f"audit checkpoint (line {self.checkpoint}): {self.kind}: {self.detail}"
        if self.entry_id == 0:
            return f"audit log: {self.kind}: {self.detail}"
        if self.last_entry_id is not None and self.last_entry_id != self.entry_id:
            return f"audit entries {self.entry_id}-{self.last_entry_id}: {self.kind}: {self.detail}"
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


def entry_mac_message(key_id: str, entry_hash_hex: str) -> str:
    """What an entry's HMAC signs: its key id and its hash (which covers its content, its id
    and the previous entry's hash, so the MACs are chained through the hashes)."""
    return f"safetynet-audit-entry-v1\n{key_id}\n{entry_hash_hex}"


def _url(session: Session) -> URL:
    return session.get_bind().engine.url


def _configuration(session: Session) -> tuple[Keyring, Path | None]:
    """The signing keyring and checkpoint file, looked up once per transaction (bulk imports
    append an entry per row)."""
    transaction = session.get_transaction()
    cached = session.info.get(_CONFIG_KEY)
    if cached is not None and cached[0] is transaction:
        return cached[1], cached[2]
    url = _url(session)
    keyring = load_keyring(url)
    if keyring is None:
        where = default_keyring_path(url)
        raise AuditKeyMissingError(str(where) if where else "a keyring file")
    checkpoints = checkpoints_path(url)
    session.info[_CONFIG_KEY] = (transaction, keyring, checkpoints)
    return keyring, checkpoints


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

    ``before`` and ``after`` must be JSON-compatible (str, int, bool, None, lists, dicts). The
    entry is authenticated with the current audit key; with no key configured nothing is
    written (``AuditKeyMissingError``), so the change it records is not made either. After the
    transaction commits, a signed checkpoint of the new head is added to the checkpoint file.
    """
    last_id, last_hash = _tail(session)  # begins the transaction the configuration is kept for
    keyring, checkpoints = _configuration(session)
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
    entry.key_id = keyring.current_id
    entry.mac = keyring.mac(keyring.current_id, entry_mac_message(keyring.current_id, entry.hash))
    session.add(entry)
    session.info[_TAIL_KEY] = (session.get_transaction(), entry.id, entry.hash)
    remember_head(session, entry.id, entry.hash, keyring, checkpoints)
    return entry


def write_head_checkpoint(session: Session, path: Path, keyring: Keyring) -> Checkpoint | None:
    """Sign the current head into ``path`` now (``safetynet audit checkpoint``); None if empty."""
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    if last is None:
        return None
    return write_checkpoint(path, keyring, last[0], last[1])


_UNSET: Any = object()


@dataclass
class Report:
    """What ``verify_log`` found: the problems, and what the reader should know besides."""

    entries: int = 0
    authenticated: int = 0
    unauthenticated: list[tuple[int, int]] = field(default_factory=list)
    checkpoints: int = 0
    checkpoints_path: Path | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(session: Session, *, batch_size: int = 1000) -> list[Problem]:
    """The problems ``verify_log`` finds with the configured key and checkpoint file."""
    return verify_log(session, batch_size=batch_size).problems


def verify_log(
    session: Session,
    *,
    keyring: Keyring | None = _UNSET,
    checkpoints: Path | None = _UNSET,
    batch_size: int = 1000,
) -> Report:
    """Check the chain, every entry's MAC and every checkpoint; name each problem once.

    ``keyring`` and ``checkpoints`` default to the configured ones for the session's database.
    Entries without a MAC are accepted only before the first authenticated entry and before
    the first checkpoint (entries written before the key existed); they are listed as
    unauthenticated. Anything else without a valid MAC is forged.
    """
    url = _url(session)
    if keyring is _UNSET:
        keyring = load_keyring(url)
    if checkpoints is _UNSET:
        checkpoints = checkpoints_path(url)
    report = Report(checkpoints_path=checkpoints)
    found: list[Checkpoint] = []
    if checkpoints is not None and checkpoints.exists():
        found, unreadable = read_checkpoints(checkpoints)
        for line, reason in unreadable:
            report.problems.append(Problem(0, "checkpoint unreadable", reason, checkpoint=line))
    if keyring is None and found:
        report.problems.append(
            Problem(0, "no key", f"{len(found)} checkpoints cannot be checked without the key")
        )
    signed = [c for c in found if keyring is not None and _checkpoint_valid(c, keyring, report)]
    report.checkpoints = len(found)
    # Past the first signed checkpoint every entry must carry a MAC: a key existed by then.
    keyed_from = min((c.entry_id for c in signed), default=None)
    wanted = {c.entry_id for c in signed}
    hashes: dict[int, str] = {}
    entry_problems: list[Problem] = []
    unchecked = 0
    expected_id = 1
    prev_hash = GENESIS_HASH
    last_id = 0
    seen_keyed = False
    query = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch_size)
    for event in session.scalars(query):
        report.entries += 1
        if event.id != expected_id:
            missing = (
                f"entry {expected_id} is"
                if event.id == expected_id + 1
                else f"entries {expected_id}-{event.id - 1} are"
            )
            entry_problems.append(Problem(event.id, "removed", f"{missing} missing before it"))
        elif event.prev_hash != prev_hash:
            entry_problems.append(
                Problem(
                    event.id,
                    "reordered",
                    "its previous hash is not the hash of the entry before it "
                    "(moved, replaced or inserted)",
                )
            )
        if entry_hash(event.prev_hash, event) != event.hash:
            entry_problems.append(
                Problem(event.id, "altered", "its content does not match its hash")
            )
        if event.mac is None or event.key_id is None:
            if seen_keyed:
                entry_problems.append(
                    Problem(
                        event.id,
                        "forged",
                        "it has no MAC but follows authenticated entries "
                        "(added without the audit key)",
                    )
                )
            elif keyed_from is not None and event.id > keyed_from:
                entry_problems.append(
                    Problem(
                        event.id,
                        "forged",
                        f"it has no MAC but follows the signed checkpoint of entry {keyed_from} "
                        "(added without the audit key)",
                    )
                )
            else:
                _extend_range(report.unauthenticated, event.id)
        else:
            seen_keyed = True
            report.authenticated += 1
            if keyring is None:
                unchecked += 1
            elif not keyring.has(event.key_id):
                entry_problems.append(
                    Problem(
                        event.id,
                        "unknown key",
                        f"it was signed with key {event.key_id!r}, which the keyring "
                        f"({keyring.source}) does not hold",
                    )
                )
            elif not keyring.check(
                event.key_id, entry_mac_message(event.key_id, event.hash), event.mac
            ):
                entry_problems.append(
                    Problem(
                        event.id,
                        "forged",
                        f"its MAC does not match under key {event.key_id!r} "
                        "(written or changed without the audit key)",
                    )
                )
        if event.id in wanted:
            hashes[event.id] = event.hash
        expected_id = event.id + 1
        prev_hash = event.hash
        last_id = event.id
        session.expunge(event)
    report.problems.extend(_merge_runs(entry_problems))
    if unchecked:
        report.problems.append(
            Problem(
                0,
                "no key",
                f"{unchecked} authenticated entries cannot be checked: no audit key is configured "
                f"(${KEY_FILE_ENV_VAR} or ${KEY_ENV_VAR})",
            )
        )
    _check_against_checkpoints(report, signed, hashes, last_id)
    if report.authenticated and not found:
        where = (
            f"no checkpoint file at {checkpoints} (deleted, or another location)"
            if checkpoints is not None
            else f"no checkpoint file is configured (${CHECKPOINTS_ENV_VAR})"
        )
        report.problems.append(
            Problem(
                0,
                "checkpoints missing",
                f"there are authenticated entries but {where}: deleting the last entries "
                "would go unseen",
            )
        )
    if report.unauthenticated:
        spans = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in report.unauthenticated)
        report.notes.append(
            f"entries {spans} have no MAC: written before the audit key was set up; "
            "the hash chain and the checkpoints still cover them"
        )
    if signed:
        newest = max(c.entry_id for c in signed)
        if last_id > newest:
            report.notes.append(
                f"entries {newest + 1}-{last_id} were added after the newest checkpoint "
                f"(run `safetynet audit checkpoint` to sign the head)"
            )
    return report


def _checkpoint_valid(c: Checkpoint, keyring: Keyring, report: Report) -> bool:
    where = f"entry {c.entry_id}, written {c.at}"
    if not keyring.has(c.key_id):
        report.problems.append(
            Problem(
                0,
                "unknown key",
                f"signed with key {c.key_id!r}, which the keyring does not hold ({where})",
                checkpoint=c.line,
            )
        )
        return False
    if c.count != c.entry_id or not keyring.check(c.key_id, checkpoint_message(c.fields()), c.mac):
        report.problems.append(
            Problem(
                0,
                "forged checkpoint",
                f"its MAC does not match ({where}): written or changed without the key",
                checkpoint=c.line,
            )
        )
        return False
    return True


def _check_against_checkpoints(
    report: Report, signed: list[Checkpoint], hashes: dict[int, str], last_id: int
) -> None:
    beyond = sorted((c for c in signed if c.entry_id > last_id), key=lambda c: c.entry_id)
    if beyond:
        c = beyond[-1]
        gone = (
            f"entry {c.entry_id} is"
            if c.entry_id == last_id + 1
            else f"entries {last_id + 1}-{c.entry_id} are"
        )
        others = f" ({len(beyond) - 1} other checkpoints also lie beyond it)" if beyond[1:] else ""
        report.problems.append(
            Problem(
                last_id + 1,
                "truncated",
                f"the log ends at entry {last_id}, but the checkpoint written {c.at} signed "
                f"{c.count} entries up to entry {c.entry_id}: truncated after entry {last_id}, "
                f"{gone} gone{others}",
                checkpoint=c.line,
            )
        )
    differing = sorted(
        (c for c in signed if c.entry_id in hashes and hashes[c.entry_id] != c.head_hash),
        key=lambda c: c.entry_id,
    )
    missing = [c for c in signed if c.entry_id <= last_id and c.entry_id not in hashes]
    for c in missing:
        report.problems.append(
            Problem(
                c.entry_id,
                "removed",
                f"the checkpoint written {c.at} signed entry {c.entry_id}, which is gone",
                checkpoint=c.line,
            )
        )
    if differing:
        c = differing[0]
        others = f"; {len(differing) - 1} later checkpoints differ too" if differing[1:] else ""
        report.problems.append(
            Problem(
                c.entry_id,
                "rewritten",
                f"entry {c.entry_id} does not have the hash the checkpoint written {c.at} "
                f"signed: the chain was rewritten at or before entry {c.entry_id}{others}",
                checkpoint=c.line,
            )
        )


def _extend_range(ranges: list[tuple[int, int]], entry_id: int) -> None:
    if ranges and ranges[-1][1] == entry_id - 1:
        ranges[-1] = (ranges[-1][0], entry_id)
    else:
        ranges.append((entry_id, entry_id))


def _merge_runs(problems: list[Problem]) -> list[Problem]:
    """Consecutive entries without a valid MAC for the same reason become one problem naming
    the run (a rehashed chain would otherwise name every entry); chain breaks stay one by one."""
    merged: list[Problem] = []
    for p in problems:
        last = merged[-1] if merged else None
        if (
            last is not None
            and p.kind in ("forged", "unknown key")
            and last.kind == p.kind
            and last.detail == p.detail
            and (last.last_entry_id or last.entry_id) == p.entry_id - 1
        ):
            merged[-1] = Problem(last.entry_id, last.kind, last.detail, last_entry_id=p.entry_id)
        else:
            merged.append(p)
    return merged
