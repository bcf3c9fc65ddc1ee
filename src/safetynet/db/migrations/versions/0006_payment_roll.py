"""Create the payment roll tables: runs and instructions (issue 5 items 4-5).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 00:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("county", sa.String(length=6), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("eligible_count", sa.Integer(), nullable=False),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("present_count", sa.Integer(), nullable=False),
        sa.Column("last_enrolment_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'finished', 'interrupted')",
            name=op.f("ck_payment_runs_status"),
        ),
        sa.CheckConstraint("length(month) = 7", name=op.f("ck_payment_runs_month")),
        sa.CheckConstraint(
            "eligible_count = created_count + present_count AND created_count >= 0 "
            "AND present_count >= 0",
            name=op.f("ck_payment_runs_counts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_runs")),
    )
    op.create_table(
        "payment_instructions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=60), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("account", sa.Text(), nullable=True),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('pending')", name=op.f("ck_payment_instructions_status")),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_payment_instructions_amount_fen")),
        sa.CheckConstraint("length(month) = 7", name=op.f("ck_payment_instructions_month")),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_payment_instructions_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_payment_instructions_enrolment_id_enrolments"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["payment_runs.id"],
            name=op.f("fk_payment_instructions_run_id_payment_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_instructions")),
        sa.UniqueConstraint(
            "household_id",
            "program",
            "month",
            name=op.f("uq_payment_instructions_household_id_program_month"),
        ),
    )
    op.create_index(
        op.f("ix_payment_instructions_enrolment_id"), "payment_instructions", ["enrolment_id"]
    )
    op.create_index(op.f("ix_payment_instructions_run_id"), "payment_instructions", ["run_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_payment_instructions_run_id"), table_name="payment_instructions")
    op.drop_index(op.f("ix_payment_instructions_enrolment_id"), table_name="payment_instructions")
    op.drop_table("payment_instructions")
    op.drop_table("payment_runs")
