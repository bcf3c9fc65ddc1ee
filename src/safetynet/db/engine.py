"""Build the database engine and sessions (from ``safetynet.bootstrap``, never at import) and
migrate the schema.

The URL comes from the caller (``--url``), else the settings (``SAFETYNET_DATABASE_URL``, the config
file, else ``safetynet.db`` in the SafetyNet home folder: see ``safetynet.settings``), never from
the working directory. ``postgresql://`` URLs use psycopg 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from safetynet.errors import InputError, SafetyNetError
from safetynet.settings import load_settings

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported where the schema is checked or migrated, not with the engine: a worker
# process that only reads (a county's snapshot, a rules run) does not load it (≈ 0.09 s).

__all__ = [
    "ENV_VAR",
    "Database",
    "DatabaseUnavailableError",
    "create_database",
    "current_revision",
    "head_revision",
    "migrate",
    "require_current_schema",
    "resolve_url",
]

ENV_VAR = "SAFETYNET_DATABASE_URL"


class DatabaseUnavailableError(SafetyNetError):
    """The database cannot be reached or opened."""


@dataclass(frozen=True)
class Database:
    """An engine and its session factory; ``url`` is safe to print (no password)."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()


def resolve_url(url: str | None = None) -> URL:
    """The URL to use, with the psycopg 3 driver for PostgreSQL and a checked form."""
    if url:
        raw, where = url, "--url"
    else:
        settings = load_settings()
        raw, where = settings.database_url, settings.sources["database_url"]
    try:
        parsed = make_url(raw)
    except ArgumentError:
        raise InputError(
            where, "not a database URL; e.g. sqlite:///var/safetynet.db or postgresql://..."
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InputError(
            where, f"{parsed.get_backend_name()} is not supported: use sqlite or postgresql"
        )
    return parsed


def create_database(url: str | None = None) -> Database:
    """Create the engine and session factory for ``url`` (see ``resolve_url``)."""
    parsed = resolve_url(url)
    kwargs: dict[str, Any] = {"hide_parameters": True}  # identity numbers must not reach logs
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        _configure_sqlite(engine)
    else:
        engine = create_engine(parsed, pool_pre_ping=True, **kwargs)
    return Database(
        url=parsed.render_as_string(hide_password=True),
        engine=engine,
        sessions=sessionmaker(engine, expire_on_commit=False),
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (see "begin").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock at the start, so a read-then-write transaction (the
        # audit chain, imports) cannot be overtaken by another writer half-way.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def check_connection(db: Database) -> None:
    try:
        with db.engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "cannot connect"
        raise DatabaseUnavailableError(f"database {db.url} is unavailable: {reason}") from None


def alembic_config(connection: Connection) -> Config:
    """Alembic configured in code: the scripts ship inside the package, no alembic.ini."""
    from alembic.config import Config  # only to check or migrate the schema

    config = Config()
    config.set_main_option("script_location", "safetynet.db:migrations")
    config.attributes["connection"] = connection
    return config


def current_revision(db: Database) -> str | None:
    """The schema revision the database is at (None if it was never migrated)."""
    from alembic.runtime.migration import MigrationContext  # only to check or migrate the schema

    check_connection(db)
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    from alembic.config import Config  # only to check or migrate the schema
    from alembic.script import ScriptDirectory  # only to check or migrate the schema

    config = Config()
    config.set_main_option("script_location", "safetynet.db:migrations")
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:  # only if the package lost its migration scripts
        raise RuntimeError("no migration scripts found in safetynet.db.migrations")
    return head


def require_current_schema(db: Database) -> None:
    """Refuse to work on a database that ``safetynet db upgrade`` has not brought up to date."""
    current, head = current_revision(db), head_revision()
    if current != head:
        state = "has no registry tables" if current is None else f"is at revision {current}"
        raise DatabaseUnavailableError(
            f"database {db.url} {state}, the code needs {head}: run `safetynet db upgrade`"
        )


def migrate(db: Database, revision: str = "head") -> None:
    """Create or migrate the schema to ``revision`` (``safetynet.bootstrap.upgrade`` also loads
    the reference data the areas keep in their tables)."""
    from alembic import command  # only to check or migrate the schema

    check_connection(db)
    with db.engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)
