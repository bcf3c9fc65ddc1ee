"""The ``audit_events`` table: one row per recorded event, chained by SHA-256 hashes and keyed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.db.base import Base

__all__ = ["AuditEvent"]


class AuditEvent(Base):
    """An entry of the log. ``id`` is assigned by ``audit.log.append`` (1, 2, 3, ... without gaps)
    and is part of the hashed content, so a removed or renumbered entry shows."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(40))
    region: Mapped[str | None] = mapped_column(String(6))
    command: Mapped[str] = mapped_column(String(60))
    event: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Unique: two entries can never claim the same predecessor, so the chain cannot fork.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # HMAC-SHA256 of the hash under the keyring's key ``key_id``; both NULL on entries written
    # before the audit key existed (migration 0014), which verify lists as unauthenticated.
    key_id: Mapped[str | None] = mapped_column(String(40))
    mac: Mapped[str | None] = mapped_column(String(64))

    # The history of one thing (a household and what belongs to it: registry.search).
    __table_args__ = (Index("ix_audit_events_entity", "entity", "entity_id"),)
