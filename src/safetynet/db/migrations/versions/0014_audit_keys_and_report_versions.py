"""Keyed audit entries and kept verification reports (issue 10, section 4).

``audit_events`` gets the key id and HMAC of each row. Existing rows keep NULL in both: they were
written before an audit key existed, still verify by their hash chain, and ``safetynet audit
verify`` lists them as unauthenticated. ``verification_reports`` gets a ``version``: a later
verification of the same household and date is a new row, so no report is overwritten (existing
rows are version 1).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 11:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    with op.batch_alter_table("verification_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.drop_constraint("uq_verification_reports_household_id_as_of", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_verification_reports_household_id_as_of_version"),
            ["household_id", "as_of", "version"],
        )


def downgrade() -> None:
    # Only the newest version of each report fits the old one-per-date constraint.
    op.execute(
        "DELETE FROM verification_reports WHERE EXISTS (SELECT 1 FROM verification_reports "
        "AS later WHERE later.household_id = verification_reports.household_id "
        "AND later.as_of = verification_reports.as_of "
        "AND later.version > verification_reports.version)"
    )
    with op.batch_alter_table("verification_reports", schema=None) as batch_op:
        batch_op.drop_constraint(
            "uq_verification_reports_household_id_as_of_version", type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_verification_reports_household_id_as_of"), ["household_id", "as_of"]
        )
        batch_op.drop_column("version")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("mac")
        batch_op.drop_column("key_id")
