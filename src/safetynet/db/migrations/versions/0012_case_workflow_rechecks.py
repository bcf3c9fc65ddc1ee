"""Schema for re-checks opened from monitoring alerts and accepted job offers (issues 4-5).

``case_rechecks``: a re-check of a track opened because of a monitoring alert, with its due date
(one per alert); ``case_job_acceptances``: suitable job offers accepted, which restart a member's
count of refusals in a row. Monthly gradual-exit amounts need no table of their own: they go to
the payments entitlement schedule (``entitlement_changes``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 01:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_rechecks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=4), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint("status IN ('open', 'done')", name=op.f("ck_case_rechecks_status")),
        sa.CheckConstraint(
            "(status = 'done') = (closed_on IS NOT NULL)",
            name=op.f("ck_case_rechecks_closed_when_done"),
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["monitoring_alerts.id"],
            name=op.f("fk_case_rechecks_alert_id_monitoring_alerts"),
        ),
        sa.ForeignKeyConstraint(
            ["track_id"], ["case_tracks.id"], name=op.f("fk_case_rechecks_track_id_case_tracks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_rechecks")),
        sa.UniqueConstraint("alert_id", name=op.f("uq_case_rechecks_alert_id")),
    )
    with op.batch_alter_table("case_rechecks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_rechecks_track_id"), ["track_id"], unique=False)
    op.create_table(
        "case_job_acceptances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("accepted_on", sa.Date(), nullable=False),
        sa.Column("offer", sa.Text(), nullable=False),
        sa.Column("after_refusal_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["track_id"],
            ["case_tracks.id"],
            name=op.f("fk_case_job_acceptances_track_id_case_tracks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_job_acceptances")),
    )
    with op.batch_alter_table("case_job_acceptances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_job_acceptances_track_id"), ["track_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("case_job_acceptances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_job_acceptances_track_id"))
    op.drop_table("case_job_acceptances")
    with op.batch_alter_table("case_rechecks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_rechecks_track_id"))
    op.drop_table("case_rechecks")
