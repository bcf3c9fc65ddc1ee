"""Users of the API and how a bearer token finds one: the ``UserDirectory`` interface, a real one
reading a users file (YAML or JSON) and an in-memory one for tests.

Only the SHA-256 of each token is stored; a presented token is hashed and looked up.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from safetynet.audit.log import Actor
from safetynet.domain.regions import validate_region_code
from safetynet.entrypoints.api.policy import Role
from safetynet.errors import InputError

__all__ = ["FileUserDirectory", "InMemoryUserDirectory", "User", "UserDirectory", "hash_token"]


def hash_token(token: str) -> str:
    """The hex SHA-256 of a token, as stored in the users file."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class User:
    """A person acting in one role for one region (a person with two roles has two tokens; the
    name is the person, so maker-checker holds across their roles)."""

    name: str
    role: Role
    region: str

    @property
    def actor(self) -> Actor:
        return Actor(self.name, self.role.value, self.region)


class UserDirectory(Protocol):
    def authenticate(self, token: str) -> User | None:
        """The user a bearer token belongs to, or None. Called on the event loop for every
        request (``deps.current_user``): it must not block (read the users at start-up)."""
        ...


class _ByHash:
    def __init__(self, users: Iterable[tuple[str, User]]) -> None:
        self._by_hash: dict[str, User] = {}
        for token_hash, user in users:
            if token_hash in self._by_hash:
                raise InputError("token_sha256", f"the token of {user.name} is not unique")
            self._by_hash[token_hash] = user

    def authenticate(self, token: str) -> User | None:
        return self._by_hash.get(hash_token(token))


class InMemoryUserDirectory(_ByHash):
    """Users given with their plain tokens (tests and demos)."""

    def __init__(self, users: Mapping[str, User]) -> None:
        super().__init__((hash_token(token), user) for token, user in users.items())


def _user(entry: Any, row: int) -> tuple[str, User]:
    if not isinstance(entry, Mapping):
        raise InputError("users", "each user is a mapping", row)
    try:
        name, role, region, token_hash = (
            str(entry["name"]),
            str(entry["role"]),
            str(entry["region"]),
            str(entry["token_sha256"]).lower(),
        )
    except KeyError as exc:
        raise InputError(str(exc.args[0]), "is required", row) from None
    if role not in {r.value for r in Role}:
        raise InputError("role", f"{role!r} is not one of {', '.join(r.value for r in Role)}", row)
    if len(token_hash) != 64 or any(ch not in "0123456789abcdef" for ch in token_hash):
        raise InputError("token_sha256", "is not a hex SHA-256 (store hashes, not tokens)", row)
    region = validate_region_code(region)
    return token_hash, User(name, Role(role), region)


class FileUserDirectory(_ByHash):
    """Users read from a YAML or JSON file: ``users: [{name, role, region, token_sha256}]``."""

    @classmethod
    def load(cls, path: Path) -> "FileUserDirectory":
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        entries = data.get("users") if isinstance(data, Mapping) else None
        if not isinstance(entries, list):
            raise InputError(str(path), "expected a top-level 'users' list")
        return cls(_user(entry, i) for i, entry in enumerate(entries, start=1))
