"""The duplicates review queue (issue 12): linkage models, candidate pairs of persons, merges.

``duplicate_models`` keeps each trained record-linkage model (Splink's JSON settings);
``duplicate_pairs`` the pairs of persons it scored at or above the review threshold, with a
clerk's decision (open, merged, separated); ``person_merges`` marks a person merged into another
(never deleted).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 01:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duplicate_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_models")),
    )
    op.create_table(
        "duplicate_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("other_person_id", sa.Integer(), nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=False),
        sa.Column("match_weight", sa.Float(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("kept_person_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint("person_id < other_person_id", name=op.f("ck_duplicate_pairs_ordered")),
        sa.CheckConstraint(
            "status IN ('open', 'merged', 'separated')", name=op.f("ck_duplicate_pairs_status")
        ),
        sa.ForeignKeyConstraint(
            ["kept_person_id"],
            ["persons.id"],
            name=op.f("fk_duplicate_pairs_kept_person_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["duplicate_models.id"],
            name=op.f("fk_duplicate_pairs_model_id_duplicate_models"),
        ),
        sa.ForeignKeyConstraint(
            ["other_person_id"],
            ["persons.id"],
            name=op.f("fk_duplicate_pairs_other_person_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_duplicate_pairs_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_pairs")),
        sa.UniqueConstraint(
            "person_id",
            "other_person_id",
            name=op.f("uq_duplicate_pairs_person_id_other_person_id"),
        ),
    )
    with op.batch_alter_table("duplicate_pairs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_duplicate_pairs_other_person_id"), ["other_person_id"], unique=False
        )
        batch_op.create_index("ix_duplicate_pairs_status", ["status"], unique=False)
    op.create_table(
        "person_merges",
        sa.Column("merged_person_id", sa.Integer(), nullable=False),
        sa.Column("kept_person_id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["kept_person_id"], ["persons.id"], name=op.f("fk_person_merges_kept_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["merged_person_id"],
            ["persons.id"],
            name=op.f("fk_person_merges_merged_person_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["duplicate_pairs.id"],
            name=op.f("fk_person_merges_pair_id_duplicate_pairs"),
        ),
        sa.PrimaryKeyConstraint("merged_person_id", name=op.f("pk_person_merges")),
    )
    with op.batch_alter_table("person_merges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_merges_kept_person_id"), ["kept_person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("person_merges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_merges_kept_person_id"))
    op.drop_table("person_merges")
    with op.batch_alter_table("duplicate_pairs", schema=None) as batch_op:
        batch_op.drop_index("ix_duplicate_pairs_status")
        batch_op.drop_index(batch_op.f("ix_duplicate_pairs_other_person_id"))
    op.drop_table("duplicate_pairs")
    op.drop_table("duplicate_models")
