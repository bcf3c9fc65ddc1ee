"""Handlers of staff sign-in: accounts opened, passwords checked with lock-out, sessions opened
and ended, each recorded in the audit log in the same transaction.

The lock-out and the session lifetime are parameters (``common.sign_in``), resolved for the
account's region on the day of the attempt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from safetynet.accounts import commands as c
from safetynet.accounts.model import StaffAccount, StaffSession
from safetynet.audit.log import Actor, append
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.messages import LOCALES
from safetynet.domain.regions import default_registry, validate_region_code
from safetynet.errors import InputError

__all__ = ["HANDLERS", "MIN_PASSWORD_LENGTH", "sign_in_limits"]

Clock = Callable[[], dt.datetime]
MIN_PASSWORD_LENGTH = 10
# Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): about 50 ms a sign-in on
# one core, and a GPU gains little against the memory it needs.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
# Verified against when the account does not exist, so a wrong name takes as long as a wrong
# password and the timing does not tell which names exist.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes (stored as UTC).
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def sign_in_limits(uow: UnitOfWork, region: str, on: dt.date) -> tuple[int, int, int]:
    """(wrong passwords before lock-out, lock-out minutes, session minutes) in ``region``."""
    lineage = default_registry().lineage_codes(region)

    def value(name: str) -> int:
        return int(uow.parameters.resolve(f"common.sign_in.{name}", on, lineage).value)

    return value("max_failures"), value("lockout_minutes"), value("session_minutes")


def _record(
    uow: UnitOfWork, actor: Actor, command: object, event: object, entity: str, entity_id: int,
    at: dt.datetime, after: Mapping[str, Any] | None = None,
) -> None:  # fmt: skip
    append(
        uow.session,
        actor=actor,
        command=type(command).__name__,
        event=type(event).__name__,
        entity=entity,
        entity_id=entity_id,
        after=after,
        occurred_at=at,
    )


def add_staff_account(cmd: c.AddStaffAccount, uow: UnitOfWork, clock: Clock) -> c.StaffAccountAdded:
    username = cmd.username.strip()
    if not username or len(username) > 100 or any(ch.isspace() for ch in username):
        raise InputError("username", "is required, without spaces, at most 100 characters")
    if not cmd.display_name.strip():
        raise InputError("display_name", "is required")
    region = validate_region_code(cmd.region, "region")
    if len(cmd.password) < MIN_PASSWORD_LENGTH:
        raise InputError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if cmd.locale not in LOCALES:
        raise InputError("locale", f"{cmd.locale!r} is not one of {', '.join(LOCALES)}")
    taken = uow.session.scalar(select(StaffAccount.id).where(StaffAccount.username == username))
    if taken is not None:
        raise InputError("username", f"{username} already has an account")
    now = clock()
    account = StaffAccount(
        username=username,
        display_name=cmd.display_name.strip(),
        person=cmd.person.strip() or username,
        role=cmd.role,
        region_code=region,
        password_hash=_HASHER.hash(cmd.password),
        locale=cmd.locale,
        failed_sign_ins=0,
        disabled=False,
        created_at=now,
        created_by=cmd.actor.name,
    )
    uow.session.add(account)
    uow.session.flush()
    event = c.StaffAccountAdded(account.id)
    after = {
        "username": username,
        "person": account.person,
        "role": cmd.role,
        "region": region,
        "locale": cmd.locale,
    }
    _record(uow, cmd.actor, cmd, event, "staff_account", account.id, now, after)
    uow.commit()
    return event


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _refuse(
    uow: UnitOfWork, cmd: c.SignIn, account: StaffAccount, now: dt.datetime
) -> c.SignInRefused:
    """A wrong password: count it, and lock the account at the limit."""
    failures, lockout, _ = sign_in_limits(uow, account.region_code, now.date())
    account.failed_sign_ins += 1
    locked = ""
    if account.failed_sign_ins >= failures:
        account.locked_until = now + dt.timedelta(minutes=lockout)
        account.failed_sign_ins = 0
        locked = account.locked_until.isoformat()
    event = c.SignInRefused(account.id, "locked" if locked else "wrong_password", locked)
    after = {"reason": event.reason, "locked_until": locked or None}
    actor = Actor(account.person, account.role, account.region_code)
    _record(uow, actor, cmd, event, "staff_account", account.id, now, after)
    uow.commit()
    return event


def sign_in(cmd: c.SignIn, uow: UnitOfWork, clock: Clock) -> c.SignedIn | c.SignInRefused:
    now = clock()
    account = uow.session.scalar(
        select(StaffAccount).where(StaffAccount.username == cmd.username.strip())
    )
    if account is None or account.disabled:
        _password_matches(_DUMMY_HASH, cmd.password)
        return c.SignInRefused(0, "unknown")
    if account.locked_until is not None and _aware(account.locked_until) > now:
        # Not even checked: a locked account cannot be guessed at.
        return c.SignInRefused(account.id, "locked", _aware(account.locked_until).isoformat())
    if not _password_matches(account.password_hash, cmd.password):
        return _refuse(uow, cmd, account, now)
    _, _, minutes = sign_in_limits(uow, account.region_code, now.date())
    account.failed_sign_ins = 0
    account.locked_until = None
    session = StaffSession(
        token_sha256=cmd.token_sha256,
        account_id=account.id,
        created_at=now,
        expires_at=now + dt.timedelta(minutes=minutes),
    )
    uow.session.add(session)
    uow.session.flush()
    event = c.SignedIn(session.id, account.id)
    actor = Actor(account.person, account.role, account.region_code)
    after = {"session": session.id, "expires_at": session.expires_at.isoformat()}
    _record(uow, actor, cmd, event, "staff_session", session.id, now, after)
    uow.commit()
    return event


def sign_out(cmd: c.SignOut, uow: UnitOfWork, clock: Clock) -> c.SignedOut | None:
    now = clock()
    found = uow.session.execute(
        select(StaffSession, StaffAccount)
        .join(StaffAccount, StaffAccount.id == StaffSession.account_id)
        .where(StaffSession.token_sha256 == cmd.token_sha256, StaffSession.ended_at.is_(None))
    ).first()
    if found is None:
        return None
    session, account = found
    session.ended_at = now
    event = c.SignedOut(session.id)
    actor = Actor(account.person, account.role, account.region_code)
    _record(uow, actor, cmd, event, "staff_session", session.id, now)
    uow.commit()
    return event


def choose_locale(cmd: c.ChooseLocale, uow: UnitOfWork, clock: Clock) -> c.LocaleChosen:
    if cmd.locale not in LOCALES:
        raise InputError("locale", f"{cmd.locale!r} is not one of {', '.join(LOCALES)}")
    account = uow.session.get(StaffAccount, cmd.account_id)
    if account is None:
        raise InputError("account", f"no account {cmd.account_id}")
    before = {"locale": account.locale}
    account.locale = cmd.locale
    event = c.LocaleChosen(account.id)
    append(
        uow.session,
        actor=cmd.actor,
        command=type(cmd).__name__,
        event=type(event).__name__,
        entity="staff_account",
        entity_id=account.id,
        before=before,
        after={"locale": cmd.locale},
        occurred_at=clock(),
    )
    uow.commit()
    return event


HANDLERS: Mapping[type, Callable[[Any, UnitOfWork, Clock], Any]] = {
    c.AddStaffAccount: add_staff_account,
    c.SignIn: sign_in,
    c.SignOut: sign_out,
    c.ChooseLocale: choose_locale,
}
