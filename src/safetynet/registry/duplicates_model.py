"""Tables of the duplicates review queue: trained linkage models, candidate pairs, merges.

A pair is stored once (lower person id first) with the probability the model gave it and the
model that gave it; a clerk's decision (merged or separated) is kept on the pair with who and
when. A merged person is never deleted: ``person_merges`` says whom they were merged into, and
their memberships and income moved to the person kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.db.base import Base

__all__ = ["PAIR_STATUSES", "DuplicateModel", "DuplicatePair", "PersonMerge"]

PAIR_STATUSES = ("open", "merged", "separated")


class DuplicateModel(Base):
    """A linkage model as trained (Splink's JSON settings with m and u probabilities)."""

    __tablename__ = "duplicate_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trained_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    scope: Mapped[str] = mapped_column(String(20))  # a region code, or "registry"
    persons: Mapped[int] = mapped_column(Integer)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)


class DuplicatePair(Base):
    """Two persons the model thinks may be one, waiting for (or decided by) a clerk."""

    __tablename__ = "duplicate_pairs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    other_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    match_probability: Mapped[float] = mapped_column(Float)
    match_weight: Mapped[float] = mapped_column(Float)
    model_id: Mapped[int] = mapped_column(ForeignKey("duplicate_models.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    found_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    kept_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    # A decision proposed (over the API) and waiting for a second person's approval
    # (maker-checker): merge keeping ``proposed_keep_person_id``, or separate.
    proposed_action: Mapped[str | None] = mapped_column(String(10))
    proposed_keep_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    proposed_by: Mapped[str | None] = mapped_column(String(100))
    proposed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    proposal_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("person_id", "other_person_id"),
        CheckConstraint(
            "proposed_action IS NULL OR proposed_action IN ('merge', 'separate')",
            name="proposed_action",
        ),
        CheckConstraint(
            "(proposed_action = 'merge') = (proposed_keep_person_id IS NOT NULL)",
            name="proposed_keep",
        ),
        CheckConstraint("person_id < other_person_id", name="ordered"),
        CheckConstraint("status IN ('open', 'merged', 'separated')", name="status"),
        Index("ix_duplicate_pairs_status", "status"),
    )


class PersonMerge(Base):
    """A person merged into another: kept as a row, marked here, never deleted."""

    __tablename__ = "person_merges"

    merged_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    kept_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("duplicate_pairs.id"))
    merged_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
