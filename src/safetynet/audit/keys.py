"""The audit keyring: secret keys, by id, that authenticate audit entries and checkpoints.

A keyring is text, one key per line as ``KEY_ID:SECRET_HEX`` (blank lines and ``#`` comments
ignored); the secret is at least 32 random bytes in hex. The *last* key signs new entries; the
earlier ones stay so that entries written with them still verify (rotation appends a line).
Where it comes from, first match wins:

1. ``SAFETYNET_AUDIT_KEY``: the keyring text itself (keys separated by newlines, commas or
   spaces), e.g. from a secret store;
2. ``SAFETYNET_AUDIT_KEY_FILE``: the path of a keyring file;
3. for an SQLite database file, ``audit.keys`` beside it, if that file exists (the demo makes
   one there).

The keys are never stored in the database: whoever can write the database but not read the key
cannot make an entry or a checkpoint that verifies.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from safetynet.errors import InputError, SafetyNetError

__all__ = [
    "KEY_ENV_VAR",
    "KEY_FILE_ENV_VAR",
    "SIBLING_KEYRING",
    "AuditKeyMissingError",
    "Keyring",
    "add_key",
    "default_keyring_path",
    "load_keyring",
    "parse_keyring",
]

KEY_ENV_VAR = "SAFETYNET_AUDIT_KEY"
KEY_FILE_ENV_VAR = "SAFETYNET_AUDIT_KEY_FILE"
SIBLING_KEYRING = "audit.keys"
"""The keyring file name looked for beside an SQLite database file."""

_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_MIN_SECRET_BYTES = 32


class AuditKeyMissingError(SafetyNetError):
    """No audit key is configured, so nothing can be added to the audit log."""

    def __init__(self, where: str) -> None:
        super().__init__(
            "no audit key is configured, so the audit log cannot be written or fully verified: "
            f"set ${KEY_FILE_ENV_VAR} (a keyring file) or ${KEY_ENV_VAR}, or run "
            f"`safetynet audit new-key` to create {where} (see docs/audit.md)"
        )


@dataclass(frozen=True)
class Keyring:
    """Keys by id, in the order given; ``current`` signs, all of them verify."""

    keys: tuple[tuple[str, bytes], ...]
    source: str

    @property
    def current_id(self) -> str:
        return self.keys[-1][0]

    def has(self, key_id: str) -> bool:
        return any(k == key_id for k, _ in self.keys)

    def mac(self, key_id: str, message: str) -> str:
        """HMAC-SHA256 of ``message`` under key ``key_id`` (KeyError if the ring lacks it)."""
        secret = next((s for k, s in self.keys if k == key_id), None)
        if secret is None:
            raise KeyError(key_id)
        return hmac.new(secret, message.encode("utf-8"), sha256).hexdigest()

    def check(self, key_id: str, message: str, mac: str) -> bool:
        return hmac.compare_digest(self.mac(key_id, message), mac)


def parse_keyring(text: str, source: str) -> Keyring:
    """The keys in keyring ``text``; an error names the source, the line and what is wrong."""
    keys: list[tuple[str, bytes]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0]
        for item in re.split(r"[\s,]+", line.strip()):
            if not item:
                continue
            key_id, sep, secret_hex = item.partition(":")
            # The secret is never echoed in an error: only its line and what is wrong with it.
            if not sep or not _KEY_ID.match(key_id):
                raise InputError(
                    source,
                    "each key is KEY_ID:SECRET_HEX with an id of letters, digits, '.', '_' or '-'",
                    row=number,
                )
            try:
                secret = bytes.fromhex(secret_hex)
            except ValueError:
                raise InputError(
                    source, f"key {key_id!r}: the secret is not hex", row=number
                ) from None
            if len(secret) < _MIN_SECRET_BYTES:
                raise InputError(
                    source,
                    f"key {key_id!r}: the secret has {len(secret)} bytes, "
                    f"at least {_MIN_SECRET_BYTES} are needed",
                    row=number,
                )
            if any(k == key_id for k, _ in keys):
                raise InputError(source, f"key id {key_id!r} appears twice", row=number)
            keys.append((key_id, secret))
    if not keys:
        raise InputError(source, "holds no key")
    return Keyring(tuple(keys), source)


def default_keyring_path(url: str | URL | None) -> Path | None:
    """Where a keyring is looked for (and ``new-key`` writes) when no variable names one."""
    if os.environ.get(KEY_FILE_ENV_VAR):
        return Path(os.environ[KEY_FILE_ENV_VAR])
    if url is None:
        return None
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(parsed.database).resolve().parent / SIBLING_KEYRING
    return None


_cache: dict[tuple[object, ...], Keyring] = {}


def load_keyring(url: str | URL | None) -> Keyring | None:
    """The configured keyring for the database at ``url``, or None if there is none."""
    inline = os.environ.get(KEY_ENV_VAR)
    if inline:
        return _cached(("env", inline), lambda: parse_keyring(inline, f"${KEY_ENV_VAR}"))
    path = default_keyring_path(url)
    if path is None:
        return None
    try:
        stat = path.stat()
    except FileNotFoundError:
        if os.environ.get(KEY_FILE_ENV_VAR):
            raise InputError(f"${KEY_FILE_ENV_VAR}", f"{path} does not exist") from None
        return None
    return _cached(
        ("file", str(path), stat.st_mtime_ns, stat.st_size),
        lambda: parse_keyring(path.read_text(encoding="utf-8"), str(path)),
    )


def _cached(key: tuple[object, ...], load: Callable[[], Keyring]) -> Keyring:
    # Appends load the keyring once per change of the variable or the file, not once per entry.
    found = _cache.get(key)
    if found is None:
        found = load()
        _cache.clear()
        _cache[key] = found
    return found


def add_key(path: Path, key_id: str | None = None) -> str:
    """Append a new random key to the keyring file at ``path`` (created 0600); return its id.

    The new key becomes the current one; the keys before it stay for verifying older entries.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    existing = parse_keyring(text, str(path)) if text.strip() else None
    if key_id is None:
        key_id = f"k{len(existing.keys) + 1 if existing else 1}-{secrets.token_hex(3)}"
    if not _KEY_ID.match(key_id):
        raise InputError("--id", "letters, digits, '.', '_' or '-', at most 40, not leading")
    if existing is not None and existing.has(key_id):
        raise InputError("--id", f"key id {key_id!r} is already in {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        if existing is None:
            handle.write(
                "# SafetyNet audit keyring: KEY_ID:SECRET_HEX, the last key signs. Keep every\n"
                "# key (old entries verify with theirs) and a copy away from the database.\n"
            )
        if text and not text.endswith("\n"):  # a file edited by hand, last line unfinished
            handle.write("\n")
        handle.write(f"{key_id}:{secrets.token_hex(_MIN_SECRET_BYTES)}\n")
    return key_id
