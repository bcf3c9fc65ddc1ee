"""``safetynet serve``: the users file is required; the app is handed to uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi import FastAPI
from typer.testing import CliRunner

from safetynet.bootstrap import upgrade
from safetynet.db.engine import create_database
from safetynet.entrypoints.api import hash_token
from safetynet.entrypoints.cli.api_cli import FACTORY, app_from_environment, serve


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("serve")(serve)
    app.command("noop")(lambda: None)  # two commands, so "serve" is a subcommand as in main
    return app


def test_serve_needs_a_users_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAFETYNET_API_USERS", raising=False)
    result = CliRunner().invoke(_cli(), ["serve"])
    assert result.exit_code == 2
    assert "--users" in result.output


def test_serve_runs_the_app_under_uvicorn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    db = create_database(url)
    upgrade(db)
    db.dispose()
    users = tmp_path / "users.yaml"
    users.write_text(
        f"users: [{{name: a, role: auditor, region: '000000', token_sha256: {hash_token('t')}}}]\n",
        encoding="utf-8",
    )
    seen: dict[str, Any] = {}

    def fake_run(app: FastAPI, host: str, port: int, **options: Any) -> None:  # the server
        seen.update(app=app, host=host, port=port, **options)

    monkeypatch.setattr("uvicorn.run", fake_run)
    result = CliRunner().invoke(
        _cli(), ["serve", "--url", url, "--users", str(users), "--port", "8123"]
    )
    assert result.exit_code == 0, result.output
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8123)
    # Uvicorn's records go through the masking log handler; its raw-URL access log is off.
    assert (seen["log_config"], seen["access_log"]) == (None, False)
    assert "/audit/verify" in seen["app"].openapi()["paths"]


def test_serve_refuses_to_start_without_an_audit_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A county office finds a missing audit key when it starts the server, not when the
    first application cannot be recorded (ADR 0008)."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    db = create_database(url)
    upgrade(db)
    db.dispose()
    users = tmp_path / "users.yaml"
    users.write_text("users: []\n", encoding="utf-8")
    monkeypatch.delenv("SAFETYNET_AUDIT_KEY")
    served: list[object] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **_: served.append(app))
    result = CliRunner().invoke(_cli(), ["serve", "--url", url, "--users", str(users)])
    assert result.exit_code == 2
    assert "no audit key is configured" in result.output
    assert "safetynet audit new-key" in result.output
    assert served == []


def test_serve_demo_opens_a_sign_in_per_role_and_serves_the_workbench(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fastapi.testclient import TestClient

    from safetynet.entrypoints.cli.web_demo import DEMO_PASSWORD
    from safetynet.settings import load_settings

    folder = load_settings().path("demo")  # the isolated SAFETYNET_HOME of the tests
    folder.mkdir(parents=True, exist_ok=True)
    db = create_database(f"sqlite:///{folder / 'safetynet.db'}")
    upgrade(db)
    db.dispose()
    seen: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **options: seen.update(app=app, **options))
    result = CliRunner().invoke(_cli(), ["serve", "--demo"])
    assert result.exit_code == 0, result.output
    for role in ("intake_clerk", "investigator", "township_reviewer", "county_approver",
                 "auditor", "analyst"):  # fmt: skip
        assert f"demo.{role}" in result.output
    assert DEMO_PASSWORD in result.output
    with TestClient(seen["app"], follow_redirects=False) as client:
        page = client.get("/sign-in")
        token = page.text.split('name="csrf_token" value="')[1][:64]
        signed_in = client.post(
            "/sign-in",
            data={
                "csrf_token": token,
                "username": "demo.county_approver",
                "password": DEMO_PASSWORD,
            },
        )
        assert signed_in.status_code == 303
        assert "待办事项" in client.get("/").text


def _users_file(tmp_path: Path) -> Path:
    users = tmp_path / "users.yaml"
    users.write_text(
        f"users: [{{name: a, role: auditor, region: '000000', token_sha256: {hash_token('t')}}}]\n",
        encoding="utf-8",
    )
    return users


def test_serve_with_several_workers_hands_uvicorn_a_factory_each_worker_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    db = create_database(url)
    upgrade(db)
    db.dispose()
    users = _users_file(tmp_path)
    seen: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **options: seen.update(app=app, **options))
    for name in ("SAFETYNET_SERVE_DATABASE_URL", "SAFETYNET_API_USERS"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(
        _cli(), ["serve", "--url", url, "--users", str(users), "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    assert (seen["app"], seen["factory"], seen["workers"]) == (FACTORY, True, 2)
    assert (seen["log_config"], seen["access_log"]) == (None, False)
    # What a worker process builds: the same database and users as the command checked.
    app = app_from_environment()
    assert "/audit/verify" in app.openapi()["paths"]
    assert CliRunner().invoke(_cli(), ["serve", "--workers", "0"]).exit_code == 2


def test_two_server_processes_answer_on_one_port(tmp_path: Path) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    db = create_database(url)
    upgrade(db)
    db.dispose()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "safetynet.entrypoints.cli.main", "serve", "--url", url,
               "--users", str(_users_file(tmp_path)), "--port", str(port), "--workers", "2"]  # fmt: skip
    server = subprocess.Popen(command, env=os.environ.copy(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    try:
        status = None
        deadline = time.monotonic() + 60
        while status is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/sign-in", timeout=5) as r:
                    status = r.status
            except OSError:
                assert server.poll() is None, server.communicate()[1].decode()
                time.sleep(0.3)
        assert status == 200
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.communicate(timeout=30)  # and its pipe closed
