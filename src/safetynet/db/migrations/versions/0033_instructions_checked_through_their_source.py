"""Payment instructions checked through their source, and room for their bank-file update.

- An instruction's household is checked through the enrolment or the one-off award it comes
  from: ``(enrolment_id, household_id)`` references ``enrolments (id, household_id)`` and
  ``(award_id, household_id)`` references ``one_off_awards (id, household_id)`` (each made
  unique for it), and the direct reference to ``households`` goes. An instruction can no longer
  name a household other than its enrolment's or its award's, and each new row is checked once
  for its source and household instead of twice (ADR 0035).
- ``ix_payment_instructions_bank_file_id`` goes: no query looks instructions up by their batch.
- On PostgreSQL the table's pages are filled to ``fillfactor`` 50 by inserts, so the bank file's
  update of each instruction (status, batch) is heap-only: the new version stays on the page and
  no index gets an entry. Pages written before keep their rows; the setting applies to new ones.

SQLite alters constraints by copying the table, hence ``batch_alter_table``.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 17:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "payment_instructions"


def upgrade() -> None:
    with op.batch_alter_table("enrolments") as batch_op:
        batch_op.create_unique_constraint("uq_enrolments_id_household_id", ["id", "household_id"])
    with op.batch_alter_table("one_off_awards") as batch_op:
        batch_op.create_unique_constraint(
            "uq_one_off_awards_id_household_id", ["id", "household_id"]
        )
    with op.batch_alter_table(_TABLE) as batch_op:
        batch_op.drop_index("ix_payment_instructions_bank_file_id")
        batch_op.drop_constraint(
            "fk_payment_instructions_household_id_households", type_="foreignkey"
        )
        batch_op.drop_constraint(
            "fk_payment_instructions_enrolment_id_enrolments", type_="foreignkey"
        )
        batch_op.drop_constraint(
            "fk_payment_instructions_award_id_one_off_awards", type_="foreignkey"
        )
        batch_op.create_foreign_key(
            "fk_payment_instructions_enrolment_id_enrolments",
            "enrolments",
            ["enrolment_id", "household_id"],
            ["id", "household_id"],
        )
        batch_op.create_foreign_key(
            "fk_payment_instructions_award_id_one_off_awards",
            "one_off_awards",
            ["award_id", "household_id"],
            ["id", "household_id"],
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {_TABLE} SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {_TABLE} RESET (fillfactor)")
    with op.batch_alter_table(_TABLE) as batch_op:
        batch_op.drop_constraint(
            "fk_payment_instructions_award_id_one_off_awards", type_="foreignkey"
        )
        batch_op.drop_constraint(
            "fk_payment_instructions_enrolment_id_enrolments", type_="foreignkey"
        )
        batch_op.create_foreign_key(
            "fk_payment_instructions_award_id_one_off_awards",
            "one_off_awards",
            ["award_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            "fk_payment_instructions_enrolment_id_enrolments",
            "enrolments",
            ["enrolment_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            "fk_payment_instructions_household_id_households",
            "households",
            ["household_id"],
            ["id"],
        )
        batch_op.create_index("ix_payment_instructions_bank_file_id", ["bank_file_id"])
    with op.batch_alter_table("one_off_awards") as batch_op:
        batch_op.drop_constraint("uq_one_off_awards_id_household_id", type_="unique")
    with op.batch_alter_table("enrolments") as batch_op:
        batch_op.drop_constraint("uq_enrolments_id_household_id", type_="unique")
