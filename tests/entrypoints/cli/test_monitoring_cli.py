"""``safetynet monitor`` as an operator meets it: a verification report (masked), a monthly run
with counts per county and rule (the same again adds nothing), alerts by office, assign, resolve.
The household is V1 of tests/monitoring/test_verification (dibao 1,000 a month declared; the wage
feed finds 3,000 a month, above the illustrative standard of 1,000 × 2 members)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from safetynet.db.calendar_years import forget_sync
from safetynet.db.engine import create_database
from safetynet.domain.calendar import install_added_years
from safetynet.domain.identity import mask_identity_number
from safetynet.entrypoints.cli.main import app
from safetynet.monitoring.alerts_model import Alert
from tests.monitoring.helpers import A
from tests.monitoring.test_alerts import notice_2027
from tests.monitoring.test_verification import _setup

ROOT = Path(__file__).resolve().parents[3]
PARAMETERS = [
    "--fallback-parameters", str(ROOT / "examples" / "illustrative_locality.yaml"),
    "--set", "assistance.dibao.standard_monthly_urban=1000",
    "--set", "assistance.dibao.employment_cost_method=none",
]  # fmt: skip


def _registry(tmp_path: Path) -> tuple[str, int]:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade", "--url", url]).exit_code == 0
    db = create_database(url)
    try:
        household = _setup(db, lambda: dt.datetime(2025, 10, 5, tzinfo=dt.UTC))
    finally:
        db.dispose()
    return url, household


def test_verify_prints_the_report_masked(tmp_path: Path) -> None:
    url, household = _registry(tmp_path)
    result = CliRunner().invoke(
        app,
        ["monitor", "verify", "--household", str(household), "--on", "2025-09-30", "--url", url,
         *PARAMETERS],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert mask_identity_number(A) in result.output
    assert A not in result.output
    assert "wage_income" in result.output
    assert "eligible 1000.00" in result.output  # declared
    assert "not eligible 0.00" in result.output  # with the feeds
    assert "Changes eligibility: yes" in result.output


def test_run_alerts_assign_resolve(tmp_path: Path) -> None:
    url, _ = _registry(tmp_path)
    runner = CliRunner()
    run = ["monitor", "run", "--month", "2025-09", "--raised", "2025-10-09", "--quiet",
           "--url", url, *PARAMETERS]  # fmt: skip
    first = runner.invoke(app, run)
    assert first.exit_code == 0, first.output
    assert "income_crosses_standard" in first.output
    assert "new alerts: 1;" in first.output
    second = runner.invoke(app, run)
    assert "new alerts: 0; already stored for this month: 1" in second.output

    listed = runner.invoke(app, ["monitor", "alerts", "--office", "township_office", "--url", url])
    assert listed.exit_code == 0, listed.output
    assert "income_crosses_standard" in listed.output
    late = runner.invoke(
        app, ["monitor", "alerts", "--overdue", "--on", "2025-10-23", "--url", url]
    )
    assert "township_office: 1" in late.output

    db = create_database(url)
    try:
        with db.sessions() as session:
            alert_id = session.scalars(select(Alert.id)).one()
    finally:
        db.dispose()
    assigned = runner.invoke(
        app, ["monitor", "assign", str(alert_id), "--to", "clerk_ma", "--on", "2025-10-10",
              "--url", url],
    )  # fmt: skip
    assert assigned.exit_code == 0, assigned.output
    assert f"alert {alert_id} assigned to clerk_ma" in assigned.output
    refused = runner.invoke(
        app, ["monitor", "resolve", str(alert_id), "--outcome", "dismissed", "--url", url]
    )
    assert refused.exit_code != 0
    assert "reason" in refused.output
    resolved = runner.invoke(
        app, ["monitor", "resolve", str(alert_id), "--outcome", "dismissed", "--reason",
              "the job ended in September", "--on", "2025-10-14", "--url", url],
    )  # fmt: skip
    assert resolved.exit_code == 0, resolved.output
    assert "resolved: dismissed" in resolved.output
    after = runner.invoke(
        app, ["monitor", "alerts", "--overdue", "--on", "2025-10-23", "--url", url]
    )
    assert "per office: none" in after.output


def test_an_alert_due_in_a_year_without_a_notice_is_listed_as_provisional_until_it_is_added(
    tmp_path: Path,
) -> None:
    url, _ = _registry(tmp_path)
    runner = CliRunner()
    run = ["monitor", "run", "--month", "2025-09", "--raised", "2026-12-28", "--quiet",
           "--url", url, *PARAMETERS]  # fmt: skip
    try:
        assert runner.invoke(app, run).exit_code == 0
        wide = {"COLUMNS": "200"}
        # 10 working days after Monday 28 December 2026 on the provisional 2027 (1 January off).
        listed = runner.invoke(app, ["monitor", "alerts", "--url", url], env=wide)
        assert listed.exit_code == 0, listed.output
        assert "2027-01-12 (provisional)" in listed.output
        notice = tmp_path / "2027.yaml"
        notice.write_text(json.dumps(notice_2027(), ensure_ascii=False), encoding="utf-8")
        added = runner.invoke(app, ["calendar", "add-year", str(notice), "--url", url])
        assert added.exit_code == 0, added.output
        assert "1 moved" in added.output
        # 4 January is off under the notice.
        after = runner.invoke(app, ["monitor", "alerts", "--url", url], env=wide)
        assert "2027-01-13" in after.output
        assert "provisional" not in after.output
    finally:
        install_added_years([])
        forget_sync()
