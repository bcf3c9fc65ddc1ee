"""``safetynet payments reserve | providers | awards``, and the one-off awards in ``payments roll``
and ``payments report``, as a clerk runs them (SQLite file)."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from safetynet.bootstrap import upgrade
from safetynet.db.engine import create_database
from safetynet.entrypoints.cli.payments_cli import payments_app
from tests.payments.awards_helpers import award, household, publish


def test_a_clerk_tops_up_a_reserve_registers_a_provider_and_sees_the_awards_paid(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db = create_database(url)
    try:
        upgrade(db)
        h = household(db)
        publish(db, award(h, 123_456), award(h, 0, case_id=8))
    finally:
        db.dispose()
    app = typer.Typer()
    app.add_typer(payments_app, name="payments")
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, ["payments", *args, "--url", url])
        assert result.exit_code == 0, result.output
        return result.stdout

    assert "no township reserve" in run("reserve", "show")
    out = run("reserve", "top-up", "--township", "110105001", "--amount", "5000",
              "--reason", "2025 Q4 allocation")  # fmt: skip
    assert "balance 余额 5000.00 yuan" in out
    assert "balance 余额 5000.00 yuan; topped up 5000.00 yuan, paid 0.00 yuan in 0" in run(
        "reserve", "show", "--county", "110105"
    )
    out = run("providers", "add", "--code", "H-0101", "--name", "区人民医院", "--county", "110105",
              "--bank-code", "103", "--account", "6228480000000000123")  # fmt: skip
    assert "6228***********0123" in out
    assert "0000000000" not in out
    assert "awaiting the roll" in run("awards", "--month", "2025-09")
    out = run("roll", "--month", "2025-09")
    assert "one-off awards: 2 instructed (1234.56 yuan), 0 held, 1 with nothing left" in out
    report = run("report", "--month", "2025-09")
    assert "110105 temporary_assistance (on time" in report
    assert "one-off awards due in 2025-09: 1 (1234.56 yuan payable) instruction pending" in report
    refused = runner.invoke(app, ["payments", "reserve", "top-up", "--township", "1101050",
                                  "--amount", "1", "--reason", "r", "--url", url])  # fmt: skip
    assert refused.exit_code == 2
    assert "9-digit township code" in refused.stderr
