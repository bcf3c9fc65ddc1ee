"""Awards that follow a changed decision, and the month's subsidies (issue 12, the smaller gaps).

``one_off_awards.kind`` also takes ``revision`` (a decision changed on appeal after payment: the
rise paid, or the fall recovered) and ``subsidy`` (a month's award decided by the monthly rules
run, the price subsidy); ``one_off_awards.cancelled_at`` marks an award withdrawn before it was
paid. ``payment_instructions.status`` also takes ``cancelled`` (the instruction of a withdrawn
award that never reached the bank). ``duplicate_pairs`` keeps a proposed decision (merge or
separate) waiting for a second person's approval (maker-checker over the API).

SQLite alters constraints by copying the table, hence ``batch_alter_table``.

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-06 04:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = ("advance", "award")
NEW_KINDS = (*OLD_KINDS, "revision", "subsidy")
OLD_STATUSES = ("pending", "held", "settled", "exported", "paid", "failed")
NEW_STATUSES = (*OLD_STATUSES, "cancelled")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _checks(kinds: tuple[str, ...], statuses: tuple[str, ...]) -> None:
    with op.batch_alter_table("one_off_awards", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_one_off_awards_kind"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_one_off_awards_kind"), _one_of("kind", kinds)
        )
    with op.batch_alter_table("payment_instructions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_payment_instructions_status"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_payment_instructions_status"), _one_of("status", statuses)
        )


def _proposals() -> None:
    with op.batch_alter_table("duplicate_pairs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proposed_action", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("proposed_keep_person_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("proposed_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("proposal_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_duplicate_pairs_proposed_keep_person_id_persons"),
            "persons",
            ["proposed_keep_person_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_duplicate_pairs_proposed_action"),
            "proposed_action IS NULL OR proposed_action IN ('merge', 'separate')",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_duplicate_pairs_proposed_keep"),
            "(proposed_action = 'merge') = (proposed_keep_person_id IS NOT NULL)",
        )


def upgrade() -> None:
    with op.batch_alter_table("one_off_awards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
    _checks(NEW_KINDS, NEW_STATUSES)
    _proposals()


def downgrade() -> None:
    with op.batch_alter_table("duplicate_pairs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_duplicate_pairs_proposed_keep"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_duplicate_pairs_proposed_action"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_duplicate_pairs_proposed_keep_person_id_persons"), type_="foreignkey"
        )
        for column in ("proposal_reason", "proposed_at", "proposed_by",
                       "proposed_keep_person_id", "proposed_action"):  # fmt: skip
            batch_op.drop_column(column)
    _checks(OLD_KINDS, OLD_STATUSES)
    with op.batch_alter_table("one_off_awards", schema=None) as batch_op:
        batch_op.drop_column("cancelled_at")
