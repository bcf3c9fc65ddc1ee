"""``safetynet serve``: the REST API under uvicorn, on the embedded database by default.

The lead wires it into ``main.app`` with ``app.command("serve")(serve)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from safetynet.errors import InputError

__all__ = ["USERS_ENV_VAR", "serve"]

USERS_ENV_VAR = "SAFETYNET_API_USERS"


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Database URL (default: the settings, docs/settings.md).",
        ),
    ] = None,
    users: Annotated[
        Path | None,
        typer.Option(
            "--users",
            help=f"Users file, YAML or JSON, with token hashes (default: ${USERS_ENV_VAR}).",
        ),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Serve the demo database (made by `safetynet demo` first if there is none) "
            "with a demo sign-in for each role, printed.",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Server processes (one per core is usual on PostgreSQL; sessions and the audit "
            "log are in the database, so they serve the same users).",
        ),
    ] = 1,
) -> None:
    """Serve the web workbench at / and the case workflow REST API (OpenAPI at /docs and
    /openapi.json)."""
    from safetynet.entrypoints.cli._common import reports_errors

    if demo:
        reports_errors(_serve_demo)(host, port, workers)
        return
    reports_errors(_serve)(host, port, url, users, workers)


# Several worker processes (uvicorn's own supervisor) each build the app themselves from these.
_SERVE_URL_ENV = "SAFETYNET_SERVE_DATABASE_URL"
_SERVE_DEMO_ENV = "SAFETYNET_SERVE_DEMO"
FACTORY = "safetynet.entrypoints.cli.api_cli:app_from_environment"


def app_from_environment() -> Any:
    """The app of one server process when ``--workers`` is more than 1: the database and the
    users file that ``safetynet serve`` checked before it started the workers."""
    from safetynet.db.engine import create_database
    from safetynet.entrypoints.api import FileUserDirectory, InMemoryUserDirectory, create_app

    db = create_database(os.environ[_SERVE_URL_ENV])
    if os.environ.get(_SERVE_DEMO_ENV):
        return create_app(db, users=InMemoryUserDirectory({}))
    return create_app(db, users=FileUserDirectory.load(Path(os.environ[USERS_ENV_VAR])))


def _run(app: Any, host: str, port: int, workers: int, db: Any, env: dict[str, str]) -> None:
    """Uvicorn, in this process (one worker) or with its supervisor over ``workers`` processes.
    Uvicorn's own logging is left unconfigured so its records reach the handler the app factory
    installs (masking identity numbers); RequestLog replaces its access log, which would print
    raw URLs."""
    import uvicorn

    if workers == 1:
        uvicorn.run(app(), host=host, port=port, log_config=None, access_log=False)
        return
    os.environ[_SERVE_URL_ENV] = db.engine.url.render_as_string(hide_password=False)
    os.environ.update(env)
    uvicorn.run(FACTORY, factory=True, workers=workers, host=host, port=port, log_config=None,
                access_log=False)  # fmt: skip


def _serve_demo(host: str, port: int, workers: int = 1) -> None:
    """The demo database (made now if missing), its demo sign-ins, and the server."""

    from safetynet.db.engine import create_database, require_current_schema
    from safetynet.entrypoints.api import InMemoryUserDirectory, create_app
    from safetynet.entrypoints.cli._common import out
    from safetynet.entrypoints.cli.demo import DEMO_COUNTIES, run_demo
    from safetynet.entrypoints.cli.web_demo import (
        ensure_demo_accounts,
        ensure_demo_citizen,
        print_citizen,
        print_workbench,
    )
    from safetynet.settings import load_settings

    folder = load_settings().path("demo")
    database = folder / "safetynet.db"
    if not database.exists():
        out.print(f"No demo database at {database}: running `safetynet demo` first.", markup=False)
        run_demo(out, folder)
    db = create_database(f"sqlite:///{database}")
    try:
        require_current_schema(db)
        _require_audit_setup(db.engine.url)
        rows = ensure_demo_accounts(db, DEMO_COUNTIES)
        print_workbench(out, rows, f"http://{host}:{port}/")
        print_citizen(
            out, ensure_demo_citizen(db, DEMO_COUNTIES[0], folder), f"http://{host}:{port}/"
        )
        # No API tokens in the demo: the workbench signs in; the API needs --users.
        _run(
            lambda: create_app(db, users=InMemoryUserDirectory({})),
            host, port, workers, db, {_SERVE_DEMO_ENV: "1"},
        )  # fmt: skip
    finally:
        db.dispose()


def _require_audit_setup(url: Any) -> None:
    """Refuse to serve without an audit key and a checkpoint file (ADR 0008): every request
    that changes something must be recorded, so find out now rather than at the first one."""
    from safetynet.audit.checkpoints import CHECKPOINTS_ENV_VAR, checkpoints_path
    from safetynet.audit.keys import AuditKeyMissingError, default_keyring_path, load_keyring

    if load_keyring(url) is None:
        where = default_keyring_path(url)
        raise AuditKeyMissingError(str(where) if where else "a keyring file")
    path = checkpoints_path(url)
    if path is None:
        raise InputError(f"${CHECKPOINTS_ENV_VAR}", "set the audit checkpoint file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise InputError(
            f"${CHECKPOINTS_ENV_VAR}", f"cannot append to {path}: {exc.strerror}"
        ) from None


def _serve(host: str, port: int, url: str | None, users: Path | None, workers: int = 1) -> None:
    from safetynet.db.engine import create_database, require_current_schema
    from safetynet.entrypoints.api import FileUserDirectory, create_app
    from safetynet.entrypoints.cli.paths import input_file

    path = users or (Path(os.environ[USERS_ENV_VAR]) if os.environ.get(USERS_ENV_VAR) else None)
    if path is None:
        raise InputError("--users", f"give the users file (or set ${USERS_ENV_VAR})")
    input_file(path, "--users" if users else f"${USERS_ENV_VAR}")
    directory = FileUserDirectory.load(path)
    db = create_database(url)
    try:
        require_current_schema(db)
        _require_audit_setup(db.engine.url)
        env = {USERS_ENV_VAR: str(path.resolve())}
        _run(lambda: create_app(db, users=directory), host, port, workers, db, env)
    finally:
        db.dispose()
