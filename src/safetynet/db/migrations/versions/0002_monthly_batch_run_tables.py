"""Create the tables of monthly batch runs: runs, county summaries, household results.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 23:01:46.978248
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monthly_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("snapshot", sa.String(length=500), nullable=False),
        sa.Column("parameters_note", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("counties_total", sa.Integer(), nullable=False),
        sa.Column("counties_done", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_runs")),
        sa.UniqueConstraint("month", name=op.f("uq_monthly_runs_month")),
    )
    op.create_table(
        "county_program_summaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("county", sa.String(length=6), nullable=False),
        sa.Column("program", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=6), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["monthly_runs.id"],
            name=op.f("fk_county_program_summaries_run_id_monthly_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_county_program_summaries")),
        sa.UniqueConstraint(
            "run_id",
            "county",
            "program",
            name=op.f("uq_county_program_summaries_run_id_county_program"),
        ),
    )
    op.create_table(
        "household_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("county", sa.String(length=6), nullable=False),
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("program", sa.String(length=40), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["monthly_runs.id"],
            name=op.f("fk_household_results_run_id_monthly_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_results")),
        sa.UniqueConstraint(
            "run_id",
            "county",
            "household_id",
            "program",
            name=op.f("uq_household_results_run_id_county_household_id_program"),
        ),
    )
    with op.batch_alter_table("household_results", schema=None) as batch_op:
        batch_op.create_index("ix_household_results_run_county", ["run_id", "county"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("household_results", schema=None) as batch_op:
        batch_op.drop_index("ix_household_results_run_county")

    op.drop_table("household_results")
    op.drop_table("county_program_summaries")
    op.drop_table("monthly_runs")
