"""``safetynet services`` and ``safetynet charity`` from the command line: a contract, a plan of
visits for an elderly woman living alone, a delivery recorded by the provider and verified by
another login, the provider paid by the roll; a hardship above the cap referred to a charity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safetynet.entrypoints.cli.main import app as cli
from tests.registry.helpers import cli_registry_with_household

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def url(tmp_path: Path) -> str:
    return cli_registry_with_household(CliRunner(), tmp_path)


def _run(monkeypatch: pytest.MonkeyPatch, user: str, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("USER", user)
    monkeypatch.setenv("LOGNAME", user)
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def facts(tmp_path: Path, name: str, **changes: object) -> Path:
    data = json.loads((ROOT / "examples" / name).read_text("utf-8"))
    data.update(region="110105", **changes)
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


def test_visits_planned_delivered_verified_by_another_login_and_paid_to_the_provider(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(user: str, *args: str) -> tuple[int, str, str]:
        return _run(monkeypatch, user, *args, "--url", url)

    assert run("chen", "payments", "providers", "add", "--code", "SW-01", "--name", "阳光社工",
               "--county", "110105", "--bank-code", "103",
               "--account", "6228480000000000999")[0] == 0  # fmt: skip
    code, _, err = run("chen", "services", "contract", "add", "CY-VISIT-2025", "elderly_visits",
                       "--region", "110105", "--provider", "SW-01", "--provider-name", "阳光社工",
                       "--unit-price", "80", "--budget", "10000", "--from", "2025-01-01",
                       "--to", "2025-12-31")  # fmt: skip
    assert code == 0, err
    code, out, err = run("wang", "services", "plan", "110105", "H1", "--household",
                         str(facts(tmp_path, "tekun.json")), "--from", "2025-09", "--to",
                         "2025-09", "--on", "2025-09-01")  # fmt: skip
    assert code == 0, err
    plan = json.loads(out)
    assert {s["service"]: s["offered"] for s in plan["services"]}["elderly_visits"] is True
    (delivery,) = plan["deliveries"]
    assert (delivery["service"], delivery["planned_units"]) == ("elderly_visits", 2)
    assert run("sw_li", "services", "deliver", str(delivery["id"]), "--units", "2",
               "--on", "2025-09-20")[0] == 0  # fmt: skip
    code, _, err = run("sw_li", "services", "verify", str(delivery["id"]), "--method", "visit",
                       "--on", "2025-09-21")  # fmt: skip
    assert code == 2
    assert "cannot verify" in err
    assert run("wang", "services", "verify", str(delivery["id"]), "--method", "signature",
               "--on", "2025-09-21")[0] == 0  # fmt: skip
    assert run("chen", "payments", "roll", "--month", "2025-09")[0] == 0
    code, out, _ = run("chen", "services", "contract", "list", "--region", "110000")
    (contract,) = json.loads(out)
    assert (contract["spent_fen"], contract["budget_fen"]) == (16_000, 1_000_000)


def test_a_hardship_above_the_cap_is_referred_to_a_charity_and_counted(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(*args: str) -> tuple[int, str, str]:
        return _run(monkeypatch, "wang", *args, "--url", url)

    assert run("charity", "add", "CY-CF", "--name", "朝阳区慈善协会", "--credit-code",
               "51110105MJ0000001X", "--region", "110105", "--takes",
               "hardship_above_limit")[0] == 0  # fmt: skip
    household = facts(tmp_path, "temporary_assistance.json", temporary_assistance_need="80000.00")
    code, out, err = run("charity", "refer", "110105", "H1", "hardship_above_limit", "--to",
                         "CY-CF", "--consent-by", "户主本人", "--household", str(household),
                         "--fallback-parameters", "demo", "--on", "2025-09-01")  # fmt: skip
    assert code == 0, err
    assert out.strip() == "referral 1 sent to CY-CF"
    assert run("charity", "answer", "1", "met", "--given", "5000", "--what", "助困金")[0] == 0
    code, out, _ = run("charity", "stats", "--region", "110000")
    (row,) = json.loads(out)
    assert (row["referred"], row["met"], row["given"]) == (1, 1, "5000.00")
