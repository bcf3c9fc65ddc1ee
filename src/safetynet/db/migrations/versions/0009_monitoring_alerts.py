"""Schema for monitoring (issue 5 items 2-3): verification reports and alerts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 01:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitoring_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("county", sa.String(length=6), nullable=False),
        sa.Column("office", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("assigned_to", sa.String(length=100), nullable=True),
        sa.Column("assigned_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("resolution_reason", sa.Text(), nullable=True),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("track_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'assigned', 'resolved')", name=op.f("ck_monitoring_alerts_status")
        ),
        sa.CheckConstraint(
            "severity IN ('low', 'medium', 'high', 'critical')",
            name=op.f("ck_monitoring_alerts_severity"),
        ),
        sa.CheckConstraint(
            "outcome IN ('recheck_started', 'payment_stopped', 'referred', 'dismissed')",
            name=op.f("ck_monitoring_alerts_outcome"),
        ),
        sa.CheckConstraint(
            "(status = 'resolved') = (outcome IS NOT NULL AND resolved_on IS NOT NULL)",
            name=op.f("ck_monitoring_alerts_resolution"),
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome <> 'dismissed' OR resolution_reason IS NOT NULL",
            name=op.f("ck_monitoring_alerts_dismissal_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_monitoring_alerts_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_monitoring_alerts_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["track_id"], ["case_tracks.id"], name=op.f("fk_monitoring_alerts_track_id_case_tracks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_alerts")),
        sa.UniqueConstraint(
            "rule", "subject", "month", name=op.f("uq_monitoring_alerts_rule_subject_month")
        ),
    )
    op.create_index(
        op.f("ix_monitoring_alerts_household_id"), "monitoring_alerts", ["household_id"]
    )
    op.create_index("ix_monitoring_alerts_office_status", "monitoring_alerts", ["office", "status"])
    op.create_table(
        "verification_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("county", sa.String(length=6), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("differences", sa.Integer(), nullable=False),
        sa.Column("changes_eligibility", sa.Boolean(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_verification_reports_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_reports")),
        sa.UniqueConstraint(
            "household_id", "as_of", name=op.f("uq_verification_reports_household_id_as_of")
        ),
    )
    op.create_index(
        op.f("ix_verification_reports_household_id"), "verification_reports", ["household_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_verification_reports_household_id"), table_name="verification_reports")
    op.drop_table("verification_reports")
    op.drop_index("ix_monitoring_alerts_office_status", table_name="monitoring_alerts")
    op.drop_index(op.f("ix_monitoring_alerts_household_id"), table_name="monitoring_alerts")
    op.drop_table("monitoring_alerts")
