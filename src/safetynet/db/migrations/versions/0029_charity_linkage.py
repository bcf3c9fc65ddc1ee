"""Charity linkage (issue 17): registered charitable organisations (``charity_organisations``) and
the needs referred to them with the person's consent and what they gave (``charity_referrals``).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 06:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "charity_organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charity_organisations")),
        sa.UniqueConstraint("code", name=op.f("uq_charity_organisations_code")),
    )
    op.create_index(
        op.f("ix_charity_organisations_region_code"), "charity_organisations", ["region_code"]
    )
    op.create_table(
        "charity_referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("need_fen", sa.BigInteger(), nullable=True),
        sa.Column("need", sa.Text(), nullable=False),
        sa.Column("consent_by", sa.String(length=100), nullable=False),
        sa.Column("consent_on", sa.Date(), nullable=False),
        sa.Column("referred_on", sa.Date(), nullable=False),
        sa.Column("referred_by", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("given_fen", sa.BigInteger(), nullable=True),
        sa.Column("given", sa.Text(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('medical_gap', 'hardship_above_limit', 'service_not_offered')",
            name=op.f("ck_charity_referrals_kind"),
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('met', 'partly_met', 'declined')",
            name=op.f("ck_charity_referrals_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_charity_referrals_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["charity_organisations.id"],
            name=op.f("fk_charity_referrals_organisation_id_charity_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charity_referrals")),
    )
    op.create_index(
        op.f("ix_charity_referrals_household_id"), "charity_referrals", ["household_id"]
    )


def downgrade() -> None:
    op.drop_table("charity_referrals")
    op.drop_table("charity_organisations")
