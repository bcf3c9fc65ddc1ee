"""Create the registry and audit tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 22:38:20.302242
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=6), nullable=True),
        sa.Column("command", sa.String(length=60), nullable=False),
        sa.Column("event", sa.String(length=60), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=60), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_events_prev_hash")),
    )
    op.create_table(
        "regions",
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("parent_code", sa.String(length=6), nullable=True),
        sa.CheckConstraint(
            "level IN ('province', 'city', 'county')", name=op.f("ck_regions_level")
        ),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["regions.code"], name=op.f("fk_regions_parent_code_regions")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_regions")),
    )
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_regions_parent_code"), ["parent_code"], unique=False)

    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("household_no", sa.String(length=40), nullable=False),
        sa.Column("statistical_code", sa.String(length=12), nullable=True),
        sa.Column("hukou_type", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "hukou_type IN ('urban', 'rural')", name=op.f("ck_households_hukou_type")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_households_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
        sa.UniqueConstraint(
            "region_code", "household_no", name=op.f("uq_households_region_code_household_no")
        ),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sex", sa.String(length=6), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("hukou_region_code", sa.String(length=6), nullable=False),
        sa.Column("hukou_type", sa.String(length=10), nullable=False),
        sa.Column("labour_capacity", sa.String(length=10), nullable=True),
        sa.Column("disability_category", sa.String(length=12), nullable=False),
        sa.Column("disability_grade", sa.SmallInteger(), nullable=False),
        sa.Column("has_serious_illness", sa.Boolean(), nullable=False),
        sa.Column("self_care_items_failed", sa.SmallInteger(), nullable=False),
        sa.Column("schooling", sa.String(length=24), nullable=True),
        sa.Column("employment", sa.String(length=12), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "disability_category IN ('none', 'visual', 'hearing', 'speech', 'physical', 'intellectual', 'mental', 'multiple')",
            name=op.f("ck_persons_disability_category"),
        ),
        sa.CheckConstraint(
            "employment IN ('employed', 'flexible', 'unemployed', 'not_working')",
            name=op.f("ck_persons_employment"),
        ),
        sa.CheckConstraint("hukou_type IN ('urban', 'rural')", name=op.f("ck_persons_hukou_type")),
        sa.CheckConstraint(
            "labour_capacity IN ('full', 'partial', 'none')",
            name=op.f("ck_persons_labour_capacity"),
        ),
        sa.CheckConstraint(
            "schooling IN ('none', 'preschool', 'primary', 'junior_secondary', 'senior_high', 'secondary_vocational', 'higher_education')",
            name=op.f("ck_persons_schooling"),
        ),
        sa.CheckConstraint("sex IN ('male', 'female')", name=op.f("ck_persons_sex")),
        sa.CheckConstraint(
            "disability_grade BETWEEN 0 AND 4", name=op.f("ck_persons_disability_grade")
        ),
        sa.CheckConstraint(
            "self_care_items_failed BETWEEN 0 AND 6", name=op.f("ck_persons_self_care_items_failed")
        ),
        sa.ForeignKeyConstraint(
            ["hukou_region_code"],
            ["regions.code"],
            name=op.f("fk_persons_hukou_region_code_regions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("id_number", name=op.f("uq_persons_id_number")),
    )
    op.create_table(
        "assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("value_fen", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("area_dm2", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('deposits', 'securities', 'vehicle', 'property', 'business')",
            name=op.f("ck_assets_kind"),
        ),
        sa.CheckConstraint("area_dm2 IS NULL OR area_dm2 >= 0", name=op.f("ck_assets_area_dm2")),
        sa.CheckConstraint("count IS NULL OR count >= 0", name=op.f("ck_assets_count")),
        sa.CheckConstraint("value_fen >= 0", name=op.f("ck_assets_value_fen")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_assets_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
    )
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assets_household_id"), ["household_id"], unique=False)

    op.create_table(
        "enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=60), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'suspended', 'ended')", name=op.f("ck_enrolments_status")
        ),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_enrolments_amount_fen")),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date", name=op.f("ck_enrolments_dates")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_enrolments_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolments")),
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enrolments_household_id"), ["household_id"], unique=False
        )
        batch_op.create_index(
            "uq_enrolments_current",
            ["household_id", "program"],
            unique=True,
            sqlite_where=sa.text("status <> 'ended'"),
            postgresql_where=sa.text("status <> 'ended'"),
        )

    op.create_table(
        "income_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('wage', 'business', 'property', 'transfer', 'pension', 'other')",
            name=op.f("ck_income_items_kind"),
        ),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_income_items_amount_fen")),
        sa.CheckConstraint("length(month) = 7", name=op.f("ck_income_items_month")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_income_items_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_income_items")),
        sa.UniqueConstraint(
            "person_id", "kind", "month", name=op.f("uq_income_items_person_id_kind_month")
        ),
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=12), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "relation IN ('head', 'spouse', 'child', 'parent', 'grandchild', 'grandparent', 'sibling', 'other')",
            name=op.f("ck_memberships_relation"),
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date", name=op.f("ck_memberships_dates")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_memberships_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_memberships_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_memberships_household_id"), ["household_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_memberships_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            "uq_memberships_open_person",
            ["person_id"],
            unique=True,
            sqlite_where=sa.text("end_date IS NULL"),
            postgresql_where=sa.text("end_date IS NULL"),
        )

    op.create_table(
        "enrolment_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_enrolment_history_enrolment_id_enrolments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment_history")),
        sa.UniqueConstraint(
            "enrolment_id", "version", name=op.f("uq_enrolment_history_enrolment_id_version")
        ),
    )
    with op.batch_alter_table("enrolment_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enrolment_history_enrolment_id"), ["enrolment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("enrolment_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolment_history_enrolment_id"))

    op.drop_table("enrolment_history")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_memberships_open_person",
            sqlite_where=sa.text("end_date IS NULL"),
            postgresql_where=sa.text("end_date IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_memberships_person_id"))
        batch_op.drop_index(batch_op.f("ix_memberships_household_id"))

    op.drop_table("memberships")
    op.drop_table("income_items")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_enrolments_current",
            sqlite_where=sa.text("status <> 'ended'"),
            postgresql_where=sa.text("status <> 'ended'"),
        )
        batch_op.drop_index(batch_op.f("ix_enrolments_household_id"))

    op.drop_table("enrolments")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assets_household_id"))

    op.drop_table("assets")
    op.drop_table("persons")
    op.drop_table("households")
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_regions_parent_code"))

    op.drop_table("regions")
    op.drop_table("audit_events")
