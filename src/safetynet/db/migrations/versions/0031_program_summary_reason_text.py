"""Why a program is not eligible in a county (``county_program_summaries.not_available``) as text
of any length: a program missing ten local values names them all ("no local standard for
510181: insurance.resident_medical.inpatient.deductible, …"), past the 300 characters the column
held (PostgreSQL refused the run's summary).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 14:25:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("county_program_summaries") as batch:
        batch.alter_column(
            "not_available",
            existing_type=sa.String(300),
            type_=sa.Text(),
            existing_nullable=False,
            existing_server_default="",
        )


def downgrade() -> None:
    with op.batch_alter_table("county_program_summaries") as batch:
        batch.alter_column(
            "not_available",
            existing_type=sa.Text(),
            type_=sa.String(300),
            existing_nullable=False,
            existing_server_default="",
        )
