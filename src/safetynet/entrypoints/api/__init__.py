"""The REST API of the case workflow (FastAPI): build it with ``create_app(db, users=...)``."""

from safetynet.entrypoints.api.app import create_app
from safetynet.entrypoints.api.auth import (
    FileUserDirectory,
    InMemoryUserDirectory,
    User,
    UserDirectory,
    hash_token,
)
from safetynet.entrypoints.api.policy import POLICY, Action, Role

__all__ = [
    "POLICY",
    "Action",
    "FileUserDirectory",
    "InMemoryUserDirectory",
    "Role",
    "User",
    "UserDirectory",
    "create_app",
    "hash_token",
]
