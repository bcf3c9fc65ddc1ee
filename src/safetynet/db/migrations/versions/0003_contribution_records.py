"""Create the table of insured persons' monthly contribution records (issue 6 item 9).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 23:17:47.103254
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contribution_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=20), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("base_fen", sa.BigInteger(), nullable=False),
        sa.Column("employer_fen", sa.BigInteger(), nullable=False),
        sa.Column("individual_fen", sa.BigInteger(), nullable=False),
        sa.Column("account_credit_fen", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "scheme IN ('employee_pension', 'resident_pension', 'unemployment', 'employee_medical', 'work_injury')",
            name=op.f("ck_contribution_records_scheme"),
        ),
        sa.CheckConstraint(
            "base_fen >= 0 AND employer_fen >= 0 AND individual_fen >= 0 AND account_credit_fen >= 0",
            name=op.f("ck_contribution_records_amounts"),
        ),
        sa.CheckConstraint("length(month) = 7", name=op.f("ck_contribution_records_month")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_contribution_records_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name=op.f("fk_contribution_records_region_code_regions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contribution_records")),
        sa.UniqueConstraint(
            "person_id",
            "scheme",
            "month",
            "region_code",
            name=op.f("uq_contribution_records_person_id_scheme_month_region_code"),
        ),
    )


def downgrade() -> None:
    op.drop_table("contribution_records")
