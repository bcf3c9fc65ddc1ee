"""Create the case workflow tables: applications, tracks, objections, appeals, staff relatives.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 23:22:04.540822
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_staff_members_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_members")),
        sa.UniqueConstraint("name", "region_code", name=op.f("uq_staff_members_name_region_code")),
    )
    op.create_table(
        "case_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("hukou_region_code", sa.String(length=6), nullable=False),
        sa.Column("lodged_outside_hukou", sa.Boolean(), nullable=False),
        sa.Column("outside_hukou_basis", sa.Text(), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("lodged_on", sa.Date(), nullable=False),
        sa.Column("accepted_on", sa.Date(), nullable=True),
        sa.Column("submitted_by", sa.String(length=100), nullable=False),
        sa.Column("accepted_by", sa.String(length=100), nullable=True),
        sa.Column("household_json", sa.JSON(), nullable=False),
        sa.Column("screening", sa.JSON(), nullable=False),
        sa.Column("relative_flag", sa.Boolean(), nullable=False),
        sa.Column("relative_matches", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_case_applications_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_case_applications_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_applications")),
    )
    with op.batch_alter_table("case_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_applications_household_id"), ["household_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_case_applications_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "staff_relatives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("relation", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_members.id"],
            name=op.f("fk_staff_relatives_staff_id_staff_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_relatives")),
        sa.UniqueConstraint(
            "staff_id", "id_number", name=op.f("uq_staff_relatives_staff_id_id_number")
        ),
    )
    with op.batch_alter_table("staff_relatives", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_relatives_id_number"), ["id_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_staff_relatives_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "case_tracks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=60), nullable=False),
        sa.Column("procedure", sa.String(length=12), nullable=False),
        sa.Column("department", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("devolved", sa.Boolean(), nullable=False),
        sa.Column("accepted_by", sa.String(length=100), nullable=True),
        sa.Column("investigators", sa.JSON(), nullable=False),
        sa.Column("investigation_start_due", sa.Date(), nullable=True),
        sa.Column("investigation_started_on", sa.Date(), nullable=True),
        sa.Column("home_visit_on", sa.Date(), nullable=True),
        sa.Column("county_home_visit_on", sa.Date(), nullable=True),
        sa.Column("verification_report", sa.JSON(), nullable=True),
        sa.Column("cross_check_requested_on", sa.Date(), nullable=True),
        sa.Column("cross_check_start_due", sa.Date(), nullable=True),
        sa.Column("cross_check_started_on", sa.Date(), nullable=True),
        sa.Column("township_opinion_due", sa.Date(), nullable=True),
        sa.Column("township_opinion_on", sa.Date(), nullable=True),
        sa.Column("proposal", sa.String(length=10), nullable=True),
        sa.Column("opinion_reasons", sa.JSON(), nullable=True),
        sa.Column("notice_posted_on", sa.Date(), nullable=True),
        sa.Column("notice_ends_on", sa.Date(), nullable=True),
        sa.Column("county_received_on", sa.Date(), nullable=True),
        sa.Column("county_decision_due", sa.Date(), nullable=True),
        sa.Column("spot_check_selected", sa.Boolean(), nullable=False),
        sa.Column("overall_due", sa.Date(), nullable=True),
        sa.Column("overall_extended_due", sa.Date(), nullable=True),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("explanation", sa.JSON(), nullable=True),
        sa.Column("refusal_reasons", sa.JSON(), nullable=True),
        sa.Column("refusal_notice_due", sa.Date(), nullable=True),
        sa.Column("refusal_notified_on", sa.Date(), nullable=True),
        sa.Column("advance_paid_on", sa.Date(), nullable=True),
        sa.Column("advance_amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("paperwork_due", sa.Date(), nullable=True),
        sa.Column("first_payment_month", sa.String(length=7), nullable=True),
        sa.Column("payment_started_on", sa.Date(), nullable=True),
        sa.Column("recheck_due", sa.Date(), nullable=True),
        sa.Column("recheck_reason", sa.String(length=20), nullable=True),
        sa.Column("suspended_on", sa.Date(), nullable=True),
        sa.Column("terminated_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('approved', 'refused')",
            name=op.f("ck_case_tracks_decision"),
        ),
        sa.CheckConstraint(
            "department IN ('civil_affairs', 'housing', 'education', 'medical_security', 'human_resources', 'emergency_management')",
            name=op.f("ck_case_tracks_department"),
        ),
        sa.CheckConstraint(
            "procedure IN ('dibao', 'tekun', 'no_notice', 'emergency', 'generic')",
            name=op.f("ck_case_tracks_procedure"),
        ),
        sa.CheckConstraint(
            "proposal IS NULL OR proposal IN ('approve', 'refuse')",
            name=op.f("ck_case_tracks_proposal"),
        ),
        sa.CheckConstraint(
            "status IN ('submitted', 'accepted', 'advance_paid', 'investigating', 'verified', 'township_opinion', 'notice_posted', 'notice_closed', 'approved', 'refused', 'paying', 'suspended', 'termination_notice', 'terminated')",
            name=op.f("ck_case_tracks_status"),
        ),
        sa.CheckConstraint(
            "amount_fen IS NULL OR amount_fen >= 0", name=op.f("ck_case_tracks_amount_fen")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["case_applications.id"],
            name=op.f("fk_case_tracks_application_id_case_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_tracks")),
        sa.UniqueConstraint(
            "application_id", "program", name=op.f("uq_case_tracks_application_id_program")
        ),
    )
    with op.batch_alter_table("case_tracks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_tracks_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "case_appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("decision_known_on", sa.Date(), nullable=False),
        sa.Column("lodged_on", sa.Date(), nullable=False),
        sa.Column("lodge_due", sa.Date(), nullable=False),
        sa.Column("decision_due", sa.Date(), nullable=True),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('reconsideration', 'litigation')", name=op.f("ck_case_appeals_kind")
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('upheld', 'varied', 'revoked', 'dismissed')",
            name=op.f("ck_case_appeals_outcome"),
        ),
        sa.CheckConstraint("status IN ('lodged', 'decided')", name=op.f("ck_case_appeals_status")),
        sa.ForeignKeyConstraint(
            ["track_id"], ["case_tracks.id"], name=op.f("fk_case_appeals_track_id_case_tracks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_appeals")),
    )
    with op.batch_alter_table("case_appeals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_appeals_track_id"), ["track_id"], unique=False)

    op.create_table(
        "case_objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=False),
        sa.Column("lodged_on", sa.Date(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["track_id"], ["case_tracks.id"], name=op.f("fk_case_objections_track_id_case_tracks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_objections")),
    )
    with op.batch_alter_table("case_objections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_objections_track_id"), ["track_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_objections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_objections_track_id"))

    op.drop_table("case_objections")
    with op.batch_alter_table("case_appeals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_appeals_track_id"))

    op.drop_table("case_appeals")
    with op.batch_alter_table("case_tracks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_tracks_application_id"))

    op.drop_table("case_tracks")
    with op.batch_alter_table("staff_relatives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_relatives_staff_id"))
        batch_op.drop_index(batch_op.f("ix_staff_relatives_id_number"))

    op.drop_table("staff_relatives")
    with op.batch_alter_table("case_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_applications_region_code"))
        batch_op.drop_index(batch_op.f("ix_case_applications_household_id"))

    op.drop_table("case_applications")
    op.drop_table("staff_members")
