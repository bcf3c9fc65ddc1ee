"""Schema for payments (issue 5 item 4): payee accounts, the entitlement schedule, adjustments
and recoveries, bank files and return files; payment instructions gain arrears, recovery offset,
account, bank-file and result columns and the statuses held, settled, exported, paid, failed.

SQLite alters constraints by copying the table, hence ``batch_alter_table``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 01:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSTRUCTION_STATUSES = ("pending", "held", "settled", "exported", "paid", "failed")
NET_CHECK = "arrears_fen >= 0 AND recovery_fen >= 0 AND recovery_fen <= amount_fen + arrears_fen"


def _status(values: Sequence[str]) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.create_table(
        "bank_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county", sa.String(length=6), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("record_count > 0 AND total_fen > 0", name=op.f("ck_bank_files_totals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_files")),
        sa.UniqueConstraint(
            "county", "month", "sequence", name=op.f("uq_bank_files_county_month_sequence")
        ),
    )
    op.create_table(
        "bank_returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_count", sa.Integer(), nullable=False),
        sa.Column("applied_count", sa.Integer(), nullable=False),
        sa.Column("already_count", sa.Integer(), nullable=False),
        sa.Column("quarantined_count", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "read_count = applied_count + already_count + quarantined_count",
            name=op.f("ck_bank_returns_counts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_returns")),
    )
    op.create_table(
        "payee_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("holder_person_id", sa.Integer(), nullable=False),
        sa.Column("bank_code", sa.String(length=12), nullable=False),
        sa.Column("account_number", sa.String(length=19), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_payee_accounts_dates")
        ),
        sa.ForeignKeyConstraint(
            ["holder_person_id"],
            ["persons.id"],
            name=op.f("fk_payee_accounts_holder_person_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_payee_accounts_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payee_accounts")),
        sa.UniqueConstraint(
            "household_id", "valid_from", name=op.f("uq_payee_accounts_household_id_valid_from")
        ),
    )
    with op.batch_alter_table("payee_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payee_accounts_household_id"), ["household_id"], unique=False
        )
    op.create_table(
        "entitlement_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("from_month", sa.String(length=7), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint("kind IN ('amount', 'end')", name=op.f("ck_entitlement_changes_kind")),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_entitlement_changes_amount_fen")),
        sa.CheckConstraint(
            "length(from_month) = 7", name=op.f("ck_entitlement_changes_from_month")
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_entitlement_changes_enrolment_id_enrolments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entitlement_changes")),
    )
    with op.batch_alter_table("entitlement_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_entitlement_changes_enrolment_id"), ["enrolment_id"], unique=False
        )
    with op.batch_alter_table("payment_instructions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("arrears_fen", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("recovery_fen", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("bank_code", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("payee_account_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("bank_file_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("paid_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("failure_code", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("failure_text", sa.Text(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_payment_instructions_bank_file_id"), ["bank_file_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_payment_instructions_payee_account_id_payee_accounts"),
            "payee_accounts",
            ["payee_account_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_payment_instructions_bank_file_id_bank_files"),
            "bank_files",
            ["bank_file_id"],
            ["id"],
        )
        batch_op.drop_constraint(batch_op.f("ck_payment_instructions_status"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_payment_instructions_status"), _status(INSTRUCTION_STATUSES)
        )
        batch_op.create_check_constraint(batch_op.f("ck_payment_instructions_net"), NET_CHECK)
    with op.batch_alter_table("payment_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("adjustment_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("held_count", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_table(
        "payment_adjustments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=60), nullable=False),
        sa.Column("for_month", sa.String(length=7), nullable=False),
        sa.Column("roll_month", sa.String(length=7), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("due_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_before_fen", sa.BigInteger(), nullable=False),
        sa.Column("instruction_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'arrears' AND amount_fen > 0) OR (kind = 'overpayment' AND amount_fen < 0)",
            name=op.f("ck_payment_adjustments_amount_fen"),
        ),
        sa.CheckConstraint(
            "kind IN ('arrears', 'overpayment')", name=op.f("ck_payment_adjustments_kind")
        ),
        sa.CheckConstraint(
            "amount_fen = due_fen - paid_before_fen", name=op.f("ck_payment_adjustments_difference")
        ),
        sa.CheckConstraint("for_month < roll_month", name=op.f("ck_payment_adjustments_months")),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_payment_adjustments_enrolment_id_enrolments"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_payment_adjustments_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["instruction_id"],
            ["payment_instructions.id"],
            name=op.f("fk_payment_adjustments_instruction_id_payment_instructions"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["payment_runs.id"], name=op.f("fk_payment_adjustments_run_id_payment_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_adjustments")),
        sa.UniqueConstraint(
            "household_id",
            "program",
            "for_month",
            "roll_month",
            name=op.f("uq_payment_adjustments_household_id_program_for_month_roll_month"),
        ),
    )
    with op.batch_alter_table("payment_adjustments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_adjustments_enrolment_id"), ["enrolment_id"], unique=False
        )
    op.create_table(
        "payment_recoveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=60), nullable=False),
        sa.Column("adjustment_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_payment_recoveries_amount_fen")),
        sa.ForeignKeyConstraint(
            ["adjustment_id"],
            ["payment_adjustments.id"],
            name=op.f("fk_payment_recoveries_adjustment_id_payment_adjustments"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_payment_recoveries_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_recoveries")),
        sa.UniqueConstraint("adjustment_id", name=op.f("uq_payment_recoveries_adjustment_id")),
    )
    with op.batch_alter_table("payment_recoveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_recoveries_household_id"), ["household_id"], unique=False
        )
    op.create_table(
        "bank_file_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_file_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("instruction_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("bank_code", sa.String(length=12), nullable=False),
        sa.Column("account", sa.String(length=19), nullable=False),
        sa.Column("result", sa.String(length=6), nullable=True),
        sa.Column("result_date", sa.Date(), nullable=True),
        sa.Column("reason_code", sa.String(length=20), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.Column("return_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("result IN ('paid', 'failed')", name=op.f("ck_bank_file_items_result")),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_bank_file_items_amount_fen")),
        sa.ForeignKeyConstraint(
            ["bank_file_id"],
            ["bank_files.id"],
            name=op.f("fk_bank_file_items_bank_file_id_bank_files"),
        ),
        sa.ForeignKeyConstraint(
            ["instruction_id"],
            ["payment_instructions.id"],
            name=op.f("fk_bank_file_items_instruction_id_payment_instructions"),
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["bank_returns.id"],
            name=op.f("fk_bank_file_items_return_id_bank_returns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_file_items")),
        sa.UniqueConstraint(
            "bank_file_id",
            "instruction_id",
            name=op.f("uq_bank_file_items_bank_file_id_instruction_id"),
        ),
        sa.UniqueConstraint(
            "bank_file_id", "line", name=op.f("uq_bank_file_items_bank_file_id_line")
        ),
    )
    with op.batch_alter_table("bank_file_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_file_items_instruction_id"), ["instruction_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("bank_file_items")
    op.drop_table("payment_recoveries")
    op.drop_table("payment_adjustments")
    with op.batch_alter_table("payment_runs", schema=None) as batch_op:
        batch_op.drop_column("held_count")
        batch_op.drop_column("adjustment_count")
    # Instructions past ``pending`` cannot be kept under the old constraint: they go back to it.
    op.execute("UPDATE payment_instructions SET status = 'pending'")
    with op.batch_alter_table("payment_instructions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_payment_instructions_net"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_payment_instructions_status"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_payment_instructions_status"), _status(("pending",))
        )
        batch_op.drop_constraint(
            batch_op.f("fk_payment_instructions_bank_file_id_bank_files"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_payment_instructions_payee_account_id_payee_accounts"),
            type_="foreignkey",
        )
        batch_op.drop_index(batch_op.f("ix_payment_instructions_bank_file_id"))
        for column in (
            "failure_text",
            "failure_code",
            "paid_on",
            "bank_file_id",
            "payee_account_id",
            "bank_code",
            "recovery_fen",
            "arrears_fen",
        ):
            batch_op.drop_column(column)
    op.drop_table("entitlement_changes")
    op.drop_table("payee_accounts")
    op.drop_table("bank_returns")
    op.drop_table("bank_files")
