"""Schema for case workflow (issue 4): extensions.

The overall time limit's extension, re-check recording, the gradual-exit period (a new track
state ``gradual_exit``), appeals that reopen a track (and a version for optimistic locking), and
refused job offers per member.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 01:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATES = (
    "submitted",
    "accepted",
    "advance_paid",
    "investigating",
    "verified",
    "township_opinion",
    "notice_posted",
    "notice_closed",
    "approved",
    "refused",
    "paying",
    "suspended",
    "termination_notice",
    "terminated",
)


def _status_check(states: Sequence[str]) -> str:
    return "status IN ({})".format(", ".join(f"'{s}'" for s in states))


_NEW_STATES = (*_STATES[:12], "gradual_exit", *_STATES[12:])


def upgrade() -> None:
    with op.batch_alter_table("case_tracks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("limit_extended_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("limit_extension_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("last_recheck_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("gradual_exit_from", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("gradual_exit_until", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("gradual_exit_schedule", sa.JSON(), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_case_tracks_status"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_case_tracks_status"), _status_check(_NEW_STATES)
        )
    with op.batch_alter_table("case_appeals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reopened_at", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_check_constraint(
            batch_op.f("ck_case_appeals_reopened_at"),
            "reopened_at IS NULL OR reopened_at IN "
            "('investigation', 'township_opinion', 'decision', 'payment')",
        )
    op.create_table(
        "case_job_refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("refused_on", sa.Date(), nullable=False),
        sa.Column("offer", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["track_id"], ["case_tracks.id"], name=op.f("fk_case_job_refusals_track_id_case_tracks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_job_refusals")),
    )
    with op.batch_alter_table("case_job_refusals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_job_refusals_track_id"), ["track_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("case_job_refusals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_job_refusals_track_id"))
    op.drop_table("case_job_refusals")
    with op.batch_alter_table("case_appeals", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_case_appeals_reopened_at"), type_="check")
        batch_op.drop_column("version")
        batch_op.drop_column("reopened_at")
    with op.batch_alter_table("case_tracks", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_case_tracks_status"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_case_tracks_status"), _status_check(_STATES)
        )
        batch_op.drop_column("gradual_exit_schedule")
        batch_op.drop_column("gradual_exit_until")
        batch_op.drop_column("gradual_exit_from")
        batch_op.drop_column("last_recheck_on")
        batch_op.drop_column("limit_extension_reason")
        batch_op.drop_column("limit_extended_on")
