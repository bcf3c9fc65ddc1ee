"""``safetynet users add|list``: an account opened from the command line signs in to the
workbench; a bad role or a short password is refused naming the option."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from safetynet.accounts.model import StaffAccount
from safetynet.audit.model import AuditEvent
from safetynet.db.engine import Database
from safetynet.entrypoints.cli.main import app as cli

runner = CliRunner()


def test_an_account_is_added_hashed_audited_and_listed(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = database.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("SAFETYNET_NEW_PASSWORD", "a long enough password")
    added = runner.invoke(
        cli,
        ["users", "add", "clerk_li", "--role", "intake_clerk", "--region", "310115",
         "--name", "李文", "--url", url],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "clerk_li (intake_clerk, 310115)" in added.output
    with database.sessions() as session:
        account = session.scalars(select(StaffAccount)).one()
        entry = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "StaffAccountAdded")
        ).one()
    assert account.password_hash.startswith("$argon2id$")
    assert "a long enough password" not in str(entry.after)
    listed = runner.invoke(cli, ["users", "list", "--url", url])
    assert "clerk_li" in listed.output
    assert "李文" in listed.output


def test_a_bad_role_and_a_short_password_are_refused(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = database.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("SAFETYNET_NEW_PASSWORD", "a long enough password")
    bad = runner.invoke(
        cli, ["users", "add", "x", "--role", "boss", "--region", "310115", "--url", url]
    )
    assert bad.exit_code == 2
    assert "--role" in bad.output
    monkeypatch.setenv("SAFETYNET_NEW_PASSWORD", "short")
    short = runner.invoke(
        cli, ["users", "add", "x", "--role", "auditor", "--region", "310115", "--url", url]
    )
    assert short.exit_code == 2
    assert "password" in short.output
