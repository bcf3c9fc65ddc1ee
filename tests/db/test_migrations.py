"""The Alembic history builds exactly the schema the models describe, on each backend."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from safetynet.bootstrap import all_metadata, upgrade
from safetynet.db.engine import alembic_config, create_database, current_revision, head_revision


def test_migrations_and_models_agree(empty_database_url: str) -> None:
    db = create_database(empty_database_url)
    try:
        upgrade(db)
        assert current_revision(db) == head_revision()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, all_metadata()) == []
    finally:
        db.dispose()


def test_instructions_leave_room_for_their_bank_file_update(empty_database_url: str) -> None:
    """On PostgreSQL the instructions' pages keep room for a second version of each row, and no
    index covers what the bank file's update sets, so that update stays on the row's page
    (ADR 0035; measured in docs/performance.md)."""
    db = create_database(empty_database_url)
    try:
        upgrade(db)
        indexed = {
            column
            for index in inspect(db.engine).get_indexes("payment_instructions")
            for column in index["column_names"]
        }
        assert not indexed & {"status", "bank_file_id", "failure_code", "failure_text"}
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                options = connection.execute(
                    text("SELECT reloptions FROM pg_class WHERE relname = 'payment_instructions'")
                ).scalar_one()
            assert options == ["fillfactor=50"]
    finally:
        db.dispose()


def test_a_monthly_instruction_enters_only_the_indexes_it_is_found_by(
    empty_database_url: str,
) -> None:
    """Nothing indexes the instructions by run, and the award's and the hold's indexes hold only
    the rows that have one, so a monthly instruction without a hold adds no entry to them
    (ADR 0037)."""
    db = create_database(empty_database_url)
    try:
        upgrade(db)
        found = {
            index["name"]: (
                tuple(index["column_names"]),
                bool(index["unique"]),
                # PostgreSQL gives the predicate in parentheses, SQLite as written
                " ".join(
                    str(v).strip("()")
                    for k, v in index.get("dialect_options", {}).items()
                    if k.endswith("where")
                ),
            )
            for index in inspect(db.engine).get_indexes("payment_instructions")
        }
        assert not any("run_id" in columns for columns, _, _ in found.values())
        assert found["uq_payment_instructions_award_id"] == (
            ("award_id",),
            True,
            "award_id IS NOT NULL",
        )
        assert found["ix_payment_instructions_hold_id"] == (
            ("hold_id",),
            False,
            "hold_id IS NOT NULL",
        )
    finally:
        db.dispose()


def test_upgrade_is_repeatable_and_downgrade_removes_everything(empty_database_url: str) -> None:
    db = create_database(empty_database_url)
    try:
        upgrade(db)
        upgrade(db)  # a second run changes nothing and fails on nothing
        with db.engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(db)
        assert "audit_events" in inspect(db.engine).get_table_names()
    finally:
        db.dispose()
