"""The Alembic history builds exactly the schema the models describe, on each backend."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

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
