"""``safetynet registry``: search and show masked, and change requests decided by another login."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from safetynet.entrypoints.cli.main import app as cli
from tests.registry.helpers import cli_registry_with_household, id_number

HEAD = id_number("19800101", 11)
SPOUSE = id_number("19820202", 12)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return cli_registry_with_household(CliRunner(), tmp_path)


def _run(monkeypatch: pytest.MonkeyPatch, user: str, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("USER", user)
    monkeypatch.setenv("LOGNAME", user)
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_search_and_show_print_identity_numbers_masked(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _run(monkeypatch, "li", "registry", "search", "--id-number", HEAD, "--url", url)
    assert code == 0
    assert "H1" in out
    assert HEAD not in out
    code, out, _ = _run(
        monkeypatch, "li", "registry", "search", "--persons", "--name", "户", "--match", "prefix",
        "--url", url,
    )  # fmt: skip
    assert code == 0
    assert "户主" in out
    assert "rows 1-1 of 1" in out
    code, out, _ = _run(monkeypatch, "li", "registry", "show", "110105", "H1", "--url", url)
    assert code == 0
    assert "配偶" in out
    assert HEAD not in out
    assert SPOUSE not in out
    code, _, err = _run(monkeypatch, "li", "registry", "show", "110105", "NOPE", "--url", url)
    assert (code, err.strip()) == (2, "error: unknown household '110105/NOPE'")


def test_a_change_is_approved_by_another_login_only(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _run(
        monkeypatch, "li", "registry", "change", "request", "110105", "H1", "income_change",
        "--id-number", HEAD, "--income-kind", "wage", "--month", "2025-08", "--amount", "2,200.50",
        "--reason", "据户主申报 declared", "--url", url,
    )  # fmt: skip
    assert code == 0, out
    assert "change request 1" in out
    code, _, err = _run(monkeypatch, "li", "registry", "change", "approve", "1", "--url", url)
    assert code == 2
    assert "maker-checker" in err
    code, out, _ = _run(monkeypatch, "wang", "registry", "change", "approve", "1", "--url", url)
    assert (code, out.strip()) == (0, "change request 1: approved and applied")
    code, out, _ = _run(monkeypatch, "li", "registry", "show", "110105", "H1", "--url", url)
    assert "2200.50" in out
    code, out, _ = _run(
        monkeypatch, "li", "registry", "change", "list", "--status", "approved", "--url", url
    )
    assert "income_change" in out
    assert HEAD not in out
