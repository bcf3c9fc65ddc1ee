"""Commands of staff sign-in (imperative) and the events they record (past tense)."""

from __future__ import annotations

from dataclasses import dataclass

from safetynet.audit.log import Actor

__all__ = [
    "AddStaffAccount",
    "ChooseLocale",
    "LocaleChosen",
    "SignIn",
    "SignInRefused",
    "SignOut",
    "SignedIn",
    "SignedOut",
    "StaffAccountAdded",
]


@dataclass(frozen=True, kw_only=True)
class AddStaffAccount:
    """Open an account for a member of staff acting as ``role`` for ``region`` (the caller has
    checked that the role is one of the API's roles)."""

    actor: Actor
    username: str
    display_name: str
    role: str
    region: str
    password: str
    locale: str = "zh_CN"
    person: str = ""  # the person acting (maker-checker across their accounts); default username


@dataclass(frozen=True, kw_only=True)
class SignIn:
    """Check a password and, if right, open a session whose token hashes to ``token_sha256``
    (the token itself never reaches the database or the log)."""

    username: str
    password: str
    token_sha256: str


@dataclass(frozen=True, kw_only=True)
class SignOut:
    token_sha256: str


@dataclass(frozen=True, kw_only=True)
class ChooseLocale:
    """The language the account's pages are shown in (``zh_CN`` or ``en``)."""

    actor: Actor
    account_id: int
    locale: str


@dataclass(frozen=True)
class StaffAccountAdded:
    entity_id: int


@dataclass(frozen=True)
class SignedIn:
    entity_id: int  # the session
    account_id: int


@dataclass(frozen=True)
class SignInRefused:
    """``reason``: ``unknown`` (no such account or disabled), ``wrong_password`` or ``locked``
    (``locked_until`` says till when)."""

    entity_id: int  # the account, 0 if unknown
    reason: str
    locked_until: str = ""


@dataclass(frozen=True)
class SignedOut:
    entity_id: int


@dataclass(frozen=True)
class LocaleChosen:
    entity_id: int
