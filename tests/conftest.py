"""Shared database fixtures: every registry and audit test runs on SQLite and on PostgreSQL.

``database`` is a migrated, empty database: a fresh SQLite file per test, or one PostgreSQL
database per test session (created through the ``postgres`` maintenance database and dropped at
the end) whose tables are emptied before each test. PostgreSQL tests carry the ``postgres``
marker (``pytest -m "not postgres"`` runs SQLite only). If the local service is down the fixture
starts it; if it still cannot be reached the tests fail under CI=true and are skipped elsewhere.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from safetynet.batch.engines import SparkEngine, stop_sessions
from safetynet.bootstrap import all_metadata, upgrade
from safetynet.db.engine import Database, create_database

MAINTENANCE_URL = os.environ.get(
    "SAFETYNET_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
# Emptied between tests; the region list and Alembic's version row stay.
KEEP_TABLES = {"regions", "alembic_version"}

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _reachable() -> bool:
    try:
        with psycopg.connect(MAINTENANCE_URL, connect_timeout=2, autocommit=True):
            return True
    except psycopg.OperationalError:
        return False


def _ensure_postgres() -> None:
    if _reachable():
        return
    subprocess.run(START_POSTGRES, shell=True, check=False, capture_output=True, timeout=120)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _reachable():
            return
        time.sleep(0.5)
    message = f"PostgreSQL is not reachable at {MAINTENANCE_URL} (tried: {START_POSTGRES})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _create_database(prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(MAINTENANCE_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(MAINTENANCE_URL).set(database=name).render_as_string(hide_password=False)


def _drop_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(MAINTENANCE_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database for this test session."""
    _ensure_postgres()
    url = _create_database("safetynet_test")
    db = create_database(url)
    try:
        upgrade(db)
    finally:
        db.dispose()
    yield url
    _drop_database(url)


def _empty_tables(db: Database) -> None:
    tables = [t.name for t in all_metadata().sorted_tables if t.name not in KEEP_TABLES]
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating and loading regions costs ~0.5 s)."""
    path = tmp_path_factory.mktemp("template") / "registry.db"
    db = create_database(f"sqlite:///{path}")
    try:
        upgrade(db)
    finally:
        db.dispose()
    return path


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database with the region list and no other rows."""
    if request.param == "sqlite":
        path = tmp_path / "registry.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        db = create_database(f"sqlite:///{path}")
    else:
        db = create_database(request.getfixturevalue("postgres_url"))
        _empty_tables(db)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with nothing in it (for migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    _ensure_postgres()
    url = _create_database("safetynet_migrate")
    try:
        yield url
    finally:
        _drop_database(url)


TEST_AUDIT_KEYRING = "test-key-1:" + "5a" * 32
"""The audit keyring every test runs with (tests of a missing key unset it)."""


@pytest.fixture(autouse=True)
def audit_key(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An audit key and a checkpoint file of this test's own, as an office configures them.

    Set in the environment, so subprocesses (``safetynet`` run as a command) get them too.
    Returns the checkpoint file's path.
    """
    checkpoints = tmp_path_factory.mktemp("audit") / "audit-checkpoints.jsonl"
    monkeypatch.setenv("SAFETYNET_AUDIT_KEY", TEST_AUDIT_KEYRING)
    monkeypatch.delenv("SAFETYNET_AUDIT_KEY_FILE", raising=False)
    monkeypatch.setenv("SAFETYNET_AUDIT_CHECKPOINTS", str(checkpoints))
    return checkpoints


@pytest.fixture
def fixed_clock() -> Callable[[], dt.datetime]:
    """A fake clock: the same instant on every call (audit timestamps become predictable)."""
    moment = dt.datetime(2025, 9, 15, 8, 30, tzinfo=dt.UTC)
    return lambda: moment


@pytest.fixture(autouse=True, scope="session")
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests never read the developer's config file or write into their SafetyNet home."""
    home = tmp_path_factory.mktemp("safetynet-home")
    config = home / "config.toml"
    config.write_text("", encoding="utf-8")
    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("SAFETYNET_") and "TEST" not in n]:
        del os.environ[name]
    os.environ["SAFETYNET_HOME"] = str(home)
    os.environ["SAFETYNET_CONFIG"] = str(config)
    yield
    os.environ.clear()
    os.environ.update(saved)


# pyspark leaves the local sockets its driver reads results through to the garbage collector.
SPARK_SOCKETS = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning",
    "ignore:unclosed <socket.socket:ResourceWarning",
)
ON_SPARK = pytest.param("spark", marks=[pytest.mark.spark, SPARK_SOCKETS])
"""An engine parameter for Spark: ``pytest -m "not spark"`` leaves it out."""


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[SparkEngine]:
    """One local Spark session on two cores, started once for every test that runs on Spark
    (about 10 s) and stopped at the end. Needs Java 17+, which ``./run`` installs from Debian
    (openjdk-17-jre-headless); without it the Spark tests fail under CI=true and are skipped
    elsewhere, saying why."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        reason = (
            "no Java 17+ for Spark: ./run installs openjdk-17-jre-headless (needs root and apt)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    engine = SparkEngine("local[2]")
    engine.session  # noqa: B018 - start the JVM once, here, not inside the first test
    yield engine
    stop_sessions()
