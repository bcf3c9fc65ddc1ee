"""An index of payment instructions by household (``ix_payment_instructions_household_id``).

The roll sums, for each batch of households, what was recovered from their instructions of other
months, monthly and one-off alike; the only index starting with the household was the monthly
natural key (partial: ``award_id IS NULL``), so that sum read the whole table once per batch of
2,000 — nothing in the first month, 2.8 s a batch from the second on at 1 M persons, and growing
with every month paid (ADR 0034).

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 15:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_payment_instructions_household_id", "payment_instructions", ["household_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_payment_instructions_household_id", table_name="payment_instructions")
