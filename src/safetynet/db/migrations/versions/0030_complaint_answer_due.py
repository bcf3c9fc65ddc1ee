"""The time limit of a household's complaint: ``case_complaints.answer_due``, the day by which
the office answers it (``common.procedure.complaint.answer_within`` working days from the day it
was lodged, fixed when it is lodged). Complaints lodged before this revision have none.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 21:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_complaints") as batch:
        batch.add_column(sa.Column("answer_due", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_complaints") as batch:
        batch.drop_column("answer_due")
