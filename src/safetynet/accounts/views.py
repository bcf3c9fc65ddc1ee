"""Reads of staff sign-in: who a session token belongs to (if it has not expired or ended)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.accounts.model import StaffAccount, StaffSession

__all__ = ["SessionAccount", "account_of_session", "accounts"]


@dataclass(frozen=True, slots=True)
class SessionAccount:
    account_id: int
    session_id: int
    username: str
    person: str
    display_name: str
    role: str
    region: str
    locale: str
    expires_at: dt.datetime


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def account_of_session(
    session: Session, token_sha256: str, now: dt.datetime
) -> SessionAccount | None:
    """The account signed in with this token, or None if unknown, ended, expired or disabled."""
    found = session.execute(
        select(StaffSession, StaffAccount)
        .join(StaffAccount, StaffAccount.id == StaffSession.account_id)
        .where(StaffSession.token_sha256 == token_sha256, StaffSession.ended_at.is_(None))
    ).first()
    if found is None:
        return None
    staff_session, account = found
    if account.disabled or _aware(staff_session.expires_at) <= now:
        return None
    return SessionAccount(
        account_id=account.id,
        session_id=staff_session.id,
        username=account.username,
        person=account.person,
        display_name=account.display_name,
        role=account.role,
        region=account.region_code,
        locale=account.locale,
        expires_at=_aware(staff_session.expires_at),
    )


def accounts(session: Session) -> list[tuple[str, str, str, str]]:
    """Every account as (username, display name, role, region), by username."""
    rows = session.execute(
        select(
            StaffAccount.username,
            StaffAccount.display_name,
            StaffAccount.role,
            StaffAccount.region_code,
        ).order_by(StaffAccount.username)
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]
