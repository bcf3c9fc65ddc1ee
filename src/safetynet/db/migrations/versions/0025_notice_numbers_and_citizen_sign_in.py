"""Document numbers of written notices; citizens' sign-in codes (issue 13).

``notice_sequences`` (office, year, last number) gives each office's notices a yearly sequence of
document numbers; ``case_tracks.notice_no`` keeps the number a decision's notice was given.
``citizen_sign_in_codes`` holds the one-time codes a citizen signs in with (hashed, with their
expiry and failed attempts), ``citizen_sessions`` the signed-in citizens (the SHA-256 of the
browser's token, the household they see, expiry); ``case_complaints`` a household's complaints; ``persons.phone`` the mobile number the code is sent to.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 04:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice_sequences",
        sa.Column("office", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.CheckConstraint("last_number >= 0", name=op.f("ck_notice_sequences_last_number")),
        sa.PrimaryKeyConstraint("office", "year", name=op.f("pk_notice_sequences")),
    )
    with op.batch_alter_table("case_tracks") as batch:
        batch.add_column(sa.Column("notice_no", sa.String(length=40), nullable=True))
    with op.batch_alter_table("persons") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
    op.create_table(
        "citizen_sign_in_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_citizen_sign_in_codes_person_id_persons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_sign_in_codes")),
    )
    op.create_index(
        "ix_citizen_sign_in_codes_person", "citizen_sign_in_codes", ["person_id", "created_at"]
    )
    op.create_table(
        "citizen_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_citizen_sessions_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_citizen_sessions_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_sessions")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_citizen_sessions_token_sha256")),
    )

    _complaints()


def _complaints() -> None:
    op.create_table(
        "case_complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=True),
        sa.Column("lodged_on", sa.Date(), nullable=False),
        sa.Column("lodged_by", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "status IN ('lodged', 'answered')", name=op.f("ck_case_complaints_status")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_case_complaints_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["track_id"], ["case_tracks.id"], name=op.f("fk_case_complaints_track_id_case_tracks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_complaints")),
    )
    op.create_index(op.f("ix_case_complaints_household_id"), "case_complaints", ["household_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_case_complaints_household_id"), table_name="case_complaints")
    op.drop_table("case_complaints")
    op.drop_table("citizen_sessions")
    op.drop_index("ix_citizen_sign_in_codes_person", table_name="citizen_sign_in_codes")
    op.drop_table("citizen_sign_in_codes")
    with op.batch_alter_table("persons") as batch:
        batch.drop_column("phone")
    with op.batch_alter_table("case_tracks") as batch:
        batch.drop_column("notice_no")
    op.drop_table("notice_sequences")
