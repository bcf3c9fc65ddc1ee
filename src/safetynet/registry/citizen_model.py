"""The one-time codes citizens sign in with (migration 0025).

A code is kept only as a salted scrypt hash (``code_hash``), with when it expires, how many wrong
codes were tried against it and when it was used; a used, expired or exhausted code signs no one
in. Rows are kept for the rate limits and the audit trail.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.db.base import Base

__all__ = ["SignInCode"]


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
