"""Deaths recorded on a track, once each (issue 10): a second report of the same member's death on
the same track is refused instead of being applied twice.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 11:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_deaths",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("died_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["track_id"], ["case_tracks.id"], name=op.f("fk_case_deaths_track_id_case_tracks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_deaths")),
        sa.UniqueConstraint(
            "track_id", "id_number", name=op.f("uq_case_deaths_track_id_id_number")
        ),
    )
    with op.batch_alter_table("case_deaths", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_deaths_track_id"), ["track_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_deaths", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_deaths_track_id"))
    op.drop_table("case_deaths")
