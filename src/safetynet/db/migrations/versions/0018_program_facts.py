"""Program facts of persons and households with their source and date (issue 12, ADR 0010).

``person_facts`` and ``household_facts``: append-only rows (subject, declared field, canonical
value text, valid_from, source, recorded_at) for every program fact the registry has no column
for; the value in force for a month is the latest ``valid_from`` on or before the month's end.
``county_program_summaries.not_available``: why a program is not eligible in a county (no local
standard for the region, not in force).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 01:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _facts(table: str, subject: str, target: str) -> None:
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(subject, sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            [subject], [f"{target}.id"], name=op.f(f"fk_{table}_{subject}_{target}")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    op.create_index(f"ix_{table}_subject", table, [subject, "field", "valid_from"], unique=False)


def upgrade() -> None:
    _facts("person_facts", "person_id", "persons")
    _facts("household_facts", "household_id", "households")
    # Why a program is not eligible in a county (no local standard, not in force): run report.
    with op.batch_alter_table("county_program_summaries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("not_available", sa.String(length=300), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("county_program_summaries", schema=None) as batch_op:
        batch_op.drop_column("not_available")
    op.drop_index("ix_household_facts_subject", table_name="household_facts")
    op.drop_table("household_facts")
    op.drop_index("ix_person_facts_subject", table_name="person_facts")
    op.drop_table("person_facts")
