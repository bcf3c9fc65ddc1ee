"""Codes and sessions of citizens (migration 0025).

A code is kept only as a salted scrypt hash (``code_hash``), with when it expires, how many wrong
codes were tried against it and when it was used; a used, expired or exhausted code signs no one
in. Rows are kept for the rate limits and the audit trail.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.db.base import Base

__all__ = ["CitizenSession", "SignInCode"]


class SignInCode(Base):
    """One code sent to a person's mobile number."""

    __tablename__ = "citizen_sign_in_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    code_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_citizen_sign_in_codes_person", "person_id", "created_at"),)


class CitizenSession(Base):
    """A signed-in citizen: the SHA-256 of the browser's random token (never the token), the
    person and the one household the session may see, and until when."""

    __tablename__ = "citizen_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("token_sha256"),)
