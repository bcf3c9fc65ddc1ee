"""Schema for the working-day calendar as data (issue 10, section 1).

``official_calendar_years``: the years' holiday notices an administrator added (``safetynet
calendar add-year``); the years published before the release ship with the package.
``provisional_deadlines`` on tracks, re-checks and appeals: the due dates computed across a year
with no official calendar yet, and how, so they are shown as provisional and recomputed.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 11:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEADLINE_TABLES = ("case_tracks", "case_rechecks", "case_appeals")


def upgrade() -> None:
    op.create_table(
        "official_calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_official_calendar_years")),
    )
    for table in DEADLINE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("provisional_deadlines", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in DEADLINE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("provisional_deadlines")
    op.drop_table("official_calendar_years")
