"""Active discovery and the hotline (issue 17): ``outreach_leads`` (persons in difficulty found by
workers, schools, hospitals, the police, the hotline or monitoring, with the visit deadline and the
outcome) and ``outreach_contacts`` (calls and messages to the hotline, routed with a deadline,
escalated, answered and rated).

Revision ID: 0027
Revises: 0025
Create Date: 2026-12-06 05:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


SOURCES = (
    "hotline",
    "village_worker",
    "community_worker",
    "grid_worker",
    "school",
    "hospital",
    "police",
    "monitoring",
)


def upgrade() -> None:
    op.create_table(
        "outreach_leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("reported_by", sa.String(length=100), nullable=False),
        sa.Column("subject_name", sa.String(length=100), nullable=False),
        sa.Column("subject_id_number", sa.String(length=18), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("situation", sa.Text(), nullable=False),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("visit_due", sa.Date(), nullable=False),
        sa.Column("visit_due_provisional", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=True),
        sa.Column("visitors", sa.JSON(), nullable=True),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(_one_of("source", SOURCES), name=op.f("ck_outreach_leads_source")),
        sa.CheckConstraint(
            _one_of("status", ("open", "visited", "closed")), name=op.f("ck_outreach_leads_status")
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR " + _one_of("outcome", ("application", "referral", "closed_note")),
            name=op.f("ck_outreach_leads_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_outreach_leads_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_leads")),
    )
    op.create_index(op.f("ix_outreach_leads_region_code"), "outreach_leads", ["region_code"])
    op.create_index("ix_outreach_leads_household", "outreach_leads", ["household_id"])
    op.create_table(
        "outreach_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("topic", sa.String(length=16), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("taken_by", sa.String(length=100), nullable=False),
        sa.Column("caller_name", sa.String(length=100), nullable=False),
        sa.Column("caller_phone", sa.String(length=20), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("routed_to", sa.String(length=12), nullable=False),
        sa.Column("unit", sa.String(length=12), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("due_provisional", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalated_on", sa.Date(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("answered_by", sa.String(length=100), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            _one_of("channel", ("phone", "message", "web", "letter")),
            name=op.f("ck_outreach_contacts_channel"),
        ),
        sa.CheckConstraint(
            _one_of(
                "topic",
                ("consultation", "application", "person_in_need", "complaint", "staff_conduct"),
            ),
            name=op.f("ck_outreach_contacts_topic"),
        ),
        sa.CheckConstraint(
            _one_of("status", ("open", "answered")), name=op.f("ck_outreach_contacts_status")
        ),
        sa.CheckConstraint(
            _one_of("unit", ("assistance", "supervision")), name=op.f("ck_outreach_contacts_unit")
        ),
        sa.CheckConstraint(
            "rating IS NULL OR (rating BETWEEN 1 AND 5)", name=op.f("ck_outreach_contacts_rating")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_outreach_contacts_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_contacts")),
    )
    op.create_index(op.f("ix_outreach_contacts_region_code"), "outreach_contacts", ["region_code"])
    op.create_index(op.f("ix_outreach_contacts_routed_to"), "outreach_contacts", ["routed_to"])


def downgrade() -> None:
    op.drop_table("outreach_contacts")
    op.drop_table("outreach_leads")
