"""Create the department feed tables: deliveries and their accepted rows (issue 5 item 1).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 00:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KIND_CHECK = "kind IN ('deaths', 'vehicles', 'real_estate', 'business', 'wages', 'hospital_bills')"


def upgrade() -> None:
    op.create_table(
        "feed_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_count", sa.Integer(), nullable=False),
        sa.Column("accepted_count", sa.Integer(), nullable=False),
        sa.Column("quarantined_count", sa.Integer(), nullable=False),
        sa.Column("duplicate_count", sa.Integer(), nullable=False),
        sa.CheckConstraint(_KIND_CHECK, name=op.f("ck_feed_deliveries_kind")),
        sa.CheckConstraint(
            "read_count = accepted_count + quarantined_count "
            "AND duplicate_count >= 0 AND duplicate_count <= quarantined_count",
            name=op.f("ck_feed_deliveries_counts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_deliveries")),
        sa.UniqueConstraint("sha256", name=op.f("uq_feed_deliveries_sha256")),
    )
    op.create_table(
        "feed_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.Column("month", sa.String(length=7), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("second_amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("area_dm2", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(_KIND_CHECK, name=op.f("ck_feed_records_kind")),
        sa.CheckConstraint(
            "(amount_fen IS NULL OR amount_fen >= 0) "
            "AND (second_amount_fen IS NULL OR second_amount_fen >= 0) "
            "AND (area_dm2 IS NULL OR area_dm2 >= 0)",
            name=op.f("ck_feed_records_amounts"),
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["feed_deliveries.id"],
            name=op.f("fk_feed_records_delivery_id_feed_deliveries"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_feed_records_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_records")),
        sa.UniqueConstraint(
            "delivery_id", "row_number", name=op.f("uq_feed_records_delivery_id_row_number")
        ),
    )
    op.create_index(op.f("ix_feed_records_person_id"), "feed_records", ["person_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_feed_records_person_id"), table_name="feed_records")
    op.drop_table("feed_records")
    op.drop_table("feed_deliveries")
