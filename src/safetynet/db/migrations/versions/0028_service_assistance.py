"""Service assistance (issue 17): purchase contracts with providers (``service_contracts``),
assistance plans from one needs assessment (``assistance_plans``: cash and services), and the
month-by-month deliveries verified before they are paid (``service_deliveries``).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 05:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("provider_code", sa.String(length=40), nullable=False),
        sa.Column("provider_name", sa.String(length=200), nullable=False),
        sa.Column("unit_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("budget_fen", sa.BigInteger(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("unit_price_fen > 0", name=op.f("ck_service_contracts_unit_price")),
        sa.CheckConstraint("budget_fen > 0", name=op.f("ck_service_contracts_budget")),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_service_contracts_period")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_contracts")),
        sa.UniqueConstraint("code", name=op.f("uq_service_contracts_code")),
    )
    op.create_index(op.f("ix_service_contracts_region_code"), "service_contracts", ["region_code"])
    op.create_table(
        "assistance_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("assessed_by", sa.String(length=100), nullable=False),
        sa.Column("first_month", sa.String(length=7), nullable=False),
        sa.Column("last_month", sa.String(length=7), nullable=False),
        sa.Column("cash", sa.JSON(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_assistance_plans_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance_plans")),
    )
    op.create_index(op.f("ix_assistance_plans_household_id"), "assistance_plans", ["household_id"])
    op.create_table(
        "service_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("member", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("planned_units", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("delivered_units", sa.Integer(), nullable=True),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=True),
        sa.Column("verification", sa.String(length=10), nullable=True),
        sa.Column("verified_on", sa.Date(), nullable=True),
        sa.Column("verified_by", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('planned', 'delivered', 'verified', 'rejected')",
            name=op.f("ck_service_deliveries_status"),
        ),
        sa.CheckConstraint(
            "verification IS NULL OR verification IN ('visit', 'signature')",
            name=op.f("ck_service_deliveries_verification"),
        ),
        sa.CheckConstraint("planned_units > 0", name=op.f("ck_service_deliveries_planned_units")),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["service_contracts.id"],
            name=op.f("fk_service_deliveries_contract_id_service_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_service_deliveries_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["assistance_plans.id"],
            name=op.f("fk_service_deliveries_plan_id_assistance_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_deliveries")),
        sa.UniqueConstraint(
            "plan_id",
            "service",
            "member",
            "month",
            name=op.f("uq_service_deliveries_plan_id_service_member_month"),
        ),
    )
    op.create_index(
        op.f("ix_service_deliveries_contract_id"), "service_deliveries", ["contract_id"]
    )
    op.create_index(op.f("ix_service_deliveries_plan_id"), "service_deliveries", ["plan_id"])


def downgrade() -> None:
    op.drop_table("service_deliveries")
    op.drop_table("assistance_plans")
    op.drop_table("service_contracts")
