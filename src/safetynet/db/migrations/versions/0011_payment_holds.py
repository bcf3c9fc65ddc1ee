"""Schema for payment holds placed by monitoring alerts (issue 5): ``payment_holds``, and on
``payment_instructions`` the hold that holds an instruction (``hold_id``) and why an instruction
is held (``held_reason``; instructions already held had no account, and say so).

SQLite alters constraints by copying the table, hence ``batch_alter_table``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 01:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_ACCOUNT = "no payee account valid in the month"


def upgrade() -> None:
    op.create_table(
        "payment_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=60), nullable=True),
        sa.Column("from_month", sa.String(length=7), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("placed_by", sa.String(length=100), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=100), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("length(from_month) = 7", name=op.f("ck_payment_holds_from_month")),
        sa.CheckConstraint(
            "(released_at IS NULL) = (released_by IS NULL) "
            "AND (released_at IS NULL) = (release_reason IS NULL)",
            name=op.f("ck_payment_holds_release"),
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["monitoring_alerts.id"],
            name=op.f("fk_payment_holds_alert_id_monitoring_alerts"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_payment_holds_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_holds")),
        sa.UniqueConstraint("alert_id", name=op.f("uq_payment_holds_alert_id")),
    )
    with op.batch_alter_table("payment_holds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_holds_household_id"), ["household_id"], unique=False
        )
    with op.batch_alter_table("payment_instructions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("held_reason", sa.Text(), nullable=True))
    op.execute(
        sa.text(
            "UPDATE payment_instructions SET held_reason = :reason WHERE status = 'held'"
        ).bindparams(reason=NO_ACCOUNT)
    )
    with op.batch_alter_table("payment_instructions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_instructions_hold_id"), ["hold_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_payment_instructions_hold_id_payment_holds"),
            "payment_holds",
            ["hold_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_payment_instructions_hold"), "hold_id IS NULL OR status = 'held'"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_payment_instructions_held_reason"),
            "(status = 'held') = (held_reason IS NOT NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_instructions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_payment_instructions_held_reason"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_payment_instructions_hold"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_payment_instructions_hold_id_payment_holds"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_payment_instructions_hold_id"))
        batch_op.drop_column("held_reason")
        batch_op.drop_column("hold_id")
    op.drop_table("payment_holds")
