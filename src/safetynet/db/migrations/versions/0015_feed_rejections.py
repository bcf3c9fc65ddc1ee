"""Rejection reasons of feed deliveries stored with the delivery (issue 10): ``feed_rejections``,
one row per (row, field, reason) of a quarantined row, and ``feed_deliveries.headers``, the file's
header cells, so the quarantine file can be written again from the database.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 11:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feed_deliveries") as batch:
        batch.add_column(sa.Column("headers", sa.Text(), nullable=True))
    op.create_table(
        "feed_rejections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("cells", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["feed_deliveries.id"],
            name=op.f("fk_feed_rejections_delivery_id_feed_deliveries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_rejections")),
    )
    op.create_index(op.f("ix_feed_rejections_delivery_id"), "feed_rejections", ["delivery_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_feed_rejections_delivery_id"), table_name="feed_rejections")
    op.drop_table("feed_rejections")
    with op.batch_alter_table("feed_deliveries") as batch:
        batch.drop_column("headers")
