"""Fewer index entries for each monthly payment instruction.

- ``ix_payment_instructions_run_id`` goes: no query looks instructions up by their run (the
  run's reference is still checked).
- ``ix_payment_instructions_hold_id`` holds only the instructions that a hold keeps, and the
  award's unique constraint becomes a unique index on the instructions that have an award. A
  monthly instruction has no award and rarely a hold, so it now adds an entry to four indexes
  instead of seven (ADR 0037).

SQLite drops a constraint by copying the table, hence ``batch_alter_table``.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 20:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "payment_instructions"
_AWARD = "uq_payment_instructions_award_id"
_HOLD = "ix_payment_instructions_hold_id"
_RUN = "ix_payment_instructions_run_id"


def upgrade() -> None:
    with op.batch_alter_table(_TABLE) as batch_op:
        batch_op.drop_index(_RUN)
        batch_op.drop_index(_HOLD)
        batch_op.drop_constraint(_AWARD, type_="unique")
    hold, award = sa.text("hold_id IS NOT NULL"), sa.text("award_id IS NOT NULL")
    op.create_index(_HOLD, _TABLE, ["hold_id"], sqlite_where=hold, postgresql_where=hold)
    op.create_index(
        _AWARD, _TABLE, ["award_id"], unique=True, sqlite_where=award, postgresql_where=award
    )


def downgrade() -> None:
    op.drop_index(_AWARD, table_name=_TABLE)
    op.drop_index(_HOLD, table_name=_TABLE)
    with op.batch_alter_table(_TABLE) as batch_op:
        batch_op.create_unique_constraint(_AWARD, ["award_id"])
        batch_op.create_index(_HOLD, ["hold_id"])
        batch_op.create_index(_RUN, ["run_id"])
