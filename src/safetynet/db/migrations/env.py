"""Alembic environment: configured in code by ``safetynet.db.engine`` (no alembic.ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

config = context.config
target_metadata = config.attributes.get("target_metadata")


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=True,
        compare_type=True,
        **kwargs,  # type: ignore[arg-type]  # connection= or url=, as Alembic expects
    )


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if context.is_offline_mode():
        _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    elif connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    else:
        url = config.get_main_option("sqlalchemy.url")
        if url is None:
            raise RuntimeError("no database: pass a connection or set sqlalchemy.url")
        engine = create_engine(url)
        with engine.begin() as conn:
            _configure(connection=conn)
            with context.begin_transaction():
                context.run_migrations()
        engine.dispose()


run_migrations()
