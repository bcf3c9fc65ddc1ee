"""Department feeds: eight more kinds and the region_code, code and grade columns (issue 5 item 1).

Births, marriages, hukou moves, social insurance, bank deposits, disaster victims, unemployment
registration and disability certificates join the six kinds of 0005; ``kind`` grows to 32
characters (``unemployment_registration`` has 25) and ``feed_records`` gains the typed columns
``region_code``, ``code`` and ``grade``. SQLite alters constraints by copying the table, hence
``batch_alter_table``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 01:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_KINDS = ("deaths", "vehicles", "real_estate", "business", "wages", "hospital_bills")
_NEW_KINDS = (
    *_OLD_KINDS,
    "births",
    "marriages",
    "hukou_moves",
    "social_insurance",
    "bank_deposits",
    "disaster_victims",
    "unemployment_registration",
    "disability_certificates",
)


def _check(kinds: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def upgrade() -> None:
    for table in ("feed_deliveries", "feed_records"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"ck_{table}_kind"), type_="check")
            batch_op.alter_column(
                "kind",
                existing_type=sa.String(length=20),
                type_=sa.String(length=32),
                existing_nullable=False,
            )
            batch_op.create_check_constraint(batch_op.f(f"ck_{table}_kind"), _check(_NEW_KINDS))
            if table == "feed_records":
                batch_op.add_column(sa.Column("region_code", sa.String(length=6), nullable=True))
                batch_op.add_column(sa.Column("code", sa.String(length=32), nullable=True))
                batch_op.add_column(sa.Column("grade", sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    # Rows of the new kinds cannot be kept under the old constraint: they are removed.
    kinds = ", ".join(f"'{k}'" for k in _NEW_KINDS if k not in _OLD_KINDS)
    op.execute(f"DELETE FROM feed_records WHERE kind IN ({kinds})")
    op.execute(f"DELETE FROM feed_deliveries WHERE kind IN ({kinds})")
    for table in ("feed_records", "feed_deliveries"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == "feed_records":
                batch_op.drop_column("grade")
                batch_op.drop_column("code")
                batch_op.drop_column("region_code")
            batch_op.drop_constraint(batch_op.f(f"ck_{table}_kind"), type_="check")
            batch_op.alter_column(
                "kind",
                existing_type=sa.String(length=32),
                type_=sa.String(length=20),
                existing_nullable=False,
            )
            batch_op.create_check_constraint(batch_op.f(f"ck_{table}_kind"), _check(_OLD_KINDS))
