"""One-off and per-event benefits paid once (issue 12, "every approved benefit is paid").

``one_off_awards`` (natural key program, case, sequence), ``providers`` (paid directly, with their
bank account), ``township_reserves`` and ``reserve_entries`` (the township reserve for small
emergency payments and its movements). On ``payment_instructions`` the award an instruction pays
(``award_id``, UNIQUE: its natural key) and the provider paid; ``enrolment_id`` becomes optional
(an award has none) and the monthly key (household, program, month) a unique index on the rows
without an award. On ``payment_recoveries`` an advance above its final award (``award_id``).

SQLite alters constraints by copying the table, hence ``batch_alter_table``.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 01:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_AWARD = sa.text("award_id IS NULL")


def _providers() -> None:
    op.create_table(
        "providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("county", sa.String(length=6), nullable=False),
        sa.Column("bank_code", sa.String(length=12), nullable=False),
        sa.Column("account_number", sa.String(length=19), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
        sa.UniqueConstraint("code", name=op.f("uq_providers_code")),
    )


def _awards() -> None:
    op.create_table(
        "one_off_awards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=60), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("deducted_fen", sa.BigInteger(), nullable=False),
        sa.Column("payable_fen", sa.BigInteger(), nullable=False),
        sa.Column("payee", sa.String(length=20), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("township", sa.String(length=9), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint("kind IN ('advance', 'award')", name=op.f("ck_one_off_awards_kind")),
        sa.CheckConstraint(
            "payee IN ('household', 'provider', 'township_reserve')",
            name=op.f("ck_one_off_awards_payee"),
        ),
        sa.CheckConstraint(
            "amount_fen >= 0 AND deducted_fen >= 0", name=op.f("ck_one_off_awards_amounts")
        ),
        sa.CheckConstraint(
            "payable_fen = amount_fen - deducted_fen", name=op.f("ck_one_off_awards_payable")
        ),
        sa.CheckConstraint(
            "(payee = 'provider') = (provider_id IS NOT NULL)",
            name=op.f("ck_one_off_awards_provider"),
        ),
        sa.CheckConstraint(
            "(payee = 'township_reserve') = (township IS NOT NULL)",
            name=op.f("ck_one_off_awards_township"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_one_off_awards_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_one_off_awards_provider_id_providers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_off_awards")),
        sa.UniqueConstraint(
            "program",
            "case_id",
            "sequence",
            name=op.f("uq_one_off_awards_program_case_id_sequence"),
        ),
    )
    with op.batch_alter_table("one_off_awards", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_one_off_awards_household_id"), ["household_id"], unique=False
        )


def _reserves() -> None:
    op.create_table(
        "township_reserves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("township", sa.String(length=9), nullable=False),
        sa.Column("county", sa.String(length=6), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("balance_fen >= 0", name=op.f("ck_township_reserves_balance_fen")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_township_reserves")),
        sa.UniqueConstraint("township", name=op.f("uq_township_reserves_township")),
    )
    with op.batch_alter_table("township_reserves", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_township_reserves_county"), ["county"], unique=False)
    op.create_table(
        "reserve_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reserve_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_after_fen", sa.BigInteger(), nullable=False),
        sa.Column("award_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint("kind IN ('top_up', 'payment')", name=op.f("ck_reserve_entries_kind")),
        sa.CheckConstraint(
            "amount_fen > 0 AND balance_after_fen >= 0", name=op.f("ck_reserve_entries_amounts")
        ),
        sa.CheckConstraint(
            "(kind = 'payment') = (award_id IS NOT NULL)", name=op.f("ck_reserve_entries_award")
        ),
        sa.ForeignKeyConstraint(
            ["award_id"],
            ["one_off_awards.id"],
            name=op.f("fk_reserve_entries_award_id_one_off_awards"),
        ),
        sa.ForeignKeyConstraint(
            ["reserve_id"],
            ["township_reserves.id"],
            name=op.f("fk_reserve_entries_reserve_id_township_reserves"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reserve_entries")),
        sa.UniqueConstraint("award_id", name=op.f("uq_reserve_entries_award_id")),
    )
    with op.batch_alter_table("reserve_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reserve_entries_reserve_id"), ["reserve_id"], unique=False
        )


def upgrade() -> None:
    _providers()
    _awards()
    _reserves()
    with op.batch_alter_table("payment_instructions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("award_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("provider_id", sa.Integer(), nullable=True))
        batch_op.alter_column("enrolment_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint(
            batch_op.f("uq_payment_instructions_household_id_program_month"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_payment_instructions_award_id"), ["award_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_payment_instructions_award_id_one_off_awards"),
            "one_off_awards",
            ["award_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_payment_instructions_provider_id_providers"),
            "providers",
            ["provider_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_payment_instructions_source"),
            "(award_id IS NULL) <> (enrolment_id IS NULL)",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_payment_instructions_provider"),
            "provider_id IS NULL OR award_id IS NOT NULL",
        )
    op.create_index(
        "uq_payment_instructions_monthly_key",
        "payment_instructions",
        ["household_id", "program", "month"],
        unique=True,
        sqlite_where=NO_AWARD,
        postgresql_where=NO_AWARD,
    )
    with op.batch_alter_table("payment_recoveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("award_id", sa.Integer(), nullable=True))
        batch_op.alter_column("adjustment_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_unique_constraint(
            batch_op.f("uq_payment_recoveries_award_id"), ["award_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_payment_recoveries_award_id_one_off_awards"),
            "one_off_awards",
            ["award_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_payment_recoveries_source"),
            "(adjustment_id IS NULL) <> (award_id IS NULL)",
        )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM payment_recoveries WHERE award_id IS NOT NULL"))
    with op.batch_alter_table("payment_recoveries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_payment_recoveries_source"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_payment_recoveries_award_id_one_off_awards"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_payment_recoveries_award_id"), type_="unique")
        batch_op.alter_column("adjustment_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("award_id")
    op.execute(
        sa.text(
            "DELETE FROM bank_file_items WHERE instruction_id IN "
            "(SELECT id FROM payment_instructions WHERE award_id IS NOT NULL)"
        )
    )
    op.execute(sa.text("DELETE FROM payment_instructions WHERE award_id IS NOT NULL"))
    op.drop_index("uq_payment_instructions_monthly_key", table_name="payment_instructions")
    with op.batch_alter_table("payment_instructions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_payment_instructions_provider"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_payment_instructions_source"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_payment_instructions_provider_id_providers"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_payment_instructions_award_id_one_off_awards"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_payment_instructions_award_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_payment_instructions_household_id_program_month"),
            ["household_id", "program", "month"],
        )
        batch_op.alter_column("enrolment_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("provider_id")
        batch_op.drop_column("award_id")
    op.drop_table("reserve_entries")
    op.drop_table("township_reserves")
    op.drop_table("one_off_awards")
    op.drop_table("providers")
