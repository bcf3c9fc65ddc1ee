"""``safetynet hotline`` and ``safetynet leads``: a call about a person in need opens a lead that
an office lists, visits and closes; the lists mask the caller's telephone number; an overdue call
is escalated; a bad topic is one line naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safetynet.entrypoints.cli.main import app as cli
from tests.registry.helpers import cli_registry_with_household, id_number

HEAD = id_number("19800101", 11)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return cli_registry_with_household(CliRunner(), tmp_path)


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_call_opens_a_lead_that_the_office_lists_visits_and_closes(url: str) -> None:
    code, out, err = _run(
        "hotline", "record", "person_in_need", "--region", "110105", "--caller", "邻居",
        "--phone", "13812345678", "--summary", "户主独居无人照料", "--subject", "户主",
        "--subject-id", HEAD, "--household", "110105/H1", "--need", "elderly_living_alone",
        "--on", "2025-09-22", "--url", url,
    )  # fmt: skip
    assert code == 0, err
    assert "contact 1: routed to 110105 (assistance), answer due 2025-09-23; lead 1 opened" in out
    code, out, _ = _run("hotline", "list", "--region", "110000", "--on", "2025-09-24", "--json",
                        "--url", url)  # fmt: skip
    (row,) = json.loads(out)
    assert (row["caller_phone"], row["answer"]) == ("138****5678", "overdue")
    code, out, _ = _run("leads", "list", "--region", "110105", "--on", "2025-09-24", "--json",
                        "--url", url)  # fmt: skip
    (lead,) = json.loads(out)
    assert (lead["visit_due"], lead["visit"]) == ("2025-09-25", "pending")
    assert HEAD not in out
    code, _, err = _run("leads", "visit", "1", "--visitor", "民政所王", "--findings", "独居",
                        "--on", "2025-09-25", "--url", url)  # fmt: skip
    assert code == 0, err
    code, _, err = _run("leads", "close", "1", "referral", "--note", "转介慈善会",
                        "--on", "2025-09-26", "--url", url)  # fmt: skip
    assert code == 0, err
    code, out, _ = _run("leads", "show", "1", "--on", "2025-09-26", "--json", "--url", url)
    states = {step["step"]: step["state"] for step in json.loads(out)}
    assert states == {"hotline.answer": "overdue", "lead.visit": "met", "lead.outcome": "met"}
    code, out, _ = _run("hotline", "escalate", "--on", "2025-09-26", "--url", url)
    assert out.strip() == "1 overdue contact(s) escalated"


def test_a_bad_topic_is_one_line_naming_the_field(url: str) -> None:
    code, _, err = _run(
        "hotline", "record", "gossip", "--region", "110105", "--caller", "x", "--phone",
        "13812345678", "--summary", "y", "--url", url,
    )  # fmt: skip
    assert code == 2
    assert err.strip().startswith("error: ")
    assert "topic" in err
