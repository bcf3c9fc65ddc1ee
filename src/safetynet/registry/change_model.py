"""The table of change requests: a household's facts changed by one person, approved by another.

A request keeps what was asked (``details``, JSON), the state of the facts it would change as they
were when it was asked (``expected``: an approval is refused when they have changed since), who
asked and who decided. Rows are never deleted; the status moves once, from ``pending`` to
``approved`` or ``rejected``. ``details`` holds what applying the change needs (an identity
number, an account number) in full, like the registry's other tables; every display masks them
(``registry.changes.describe``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.db.base import Base

__all__ = ["CHANGE_KINDS", "CHANGE_STATUSES", "ChangeRequest"]

CHANGE_KINDS = (
    "member_moves_in",
    "member_moves_out",
    "income_change",
    "bank_account_change",
    "fact_change",
)
"""What a change request may change (docs/registry.md, "Change requests")."""

CHANGE_STATUSES = ("pending", "approved", "rejected")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class ChangeRequest(Base):
    """A requested change of one household's facts and its decision (maker-checker)."""

    __tablename__ = "change_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(10))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    expected: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_role: Mapped[str] = mapped_column(String(40))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_role: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    # Two approvers at once: the second one's write finds another version (StaleDataError).
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy's own mapping)

    __table_args__ = (
        CheckConstraint(_one_of("kind", CHANGE_KINDS), name="kind"),
        CheckConstraint(_one_of("status", CHANGE_STATUSES), name="status"),
        Index("ix_change_requests_household", "household_id"),
        Index("ix_change_requests_status", "status"),
    )

    def __repr__(self) -> str:
        return f"ChangeRequest(id={self.id}, {self.kind}, {self.status})"
