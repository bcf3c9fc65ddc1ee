"""Provisional due dates of monitoring alerts (issue 10, section 1).

``provisional_deadlines`` on ``monitoring_alerts``, as on tracks, re-checks and appeals: an alert's
due date computed across a year with no official calendar yet, and how (``{"due_on": basis}``), so
that it is shown as provisional and recomputed when the year's calendar is added.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 12:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("monitoring_alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provisional_deadlines", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitoring_alerts", schema=None) as batch_op:
        batch_op.drop_column("provisional_deadlines")
