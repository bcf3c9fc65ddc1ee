"""Written notices as PDF: an approval and a refusal from a real workflow, on SQLite and
PostgreSQL; text extracted with pypdf."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from pypdf import PdfReader
from typer.testing import CliRunner

from safetynet.cases import commands as c
from safetynet.cases.notices import EMBEDDED_FONT_FILES, notice_data, render_notice
from safetynet.cases.workflow import WorkflowError
from safetynet.db.engine import Database
from safetynet.domain.identity import mask_identity_number
from safetynet.entrypoints.cli.notice_cli import notice
from safetynet.errors import UnknownNameError
from tests.cases.helpers import (
    APPROVER,
    CLERK,
    HEAD,
    Clock,
    accepted_dibao,
    example,
    investigate_and_propose,
    register_household,
    run,
    submit,
    to_county,
)

D = dt.date


def _accepted_dibao(db: Database, clock: Clock, proposal: str) -> int:
    tid = accepted_dibao(db, clock)
    to_county(db, clock, tid, proposal)
    return tid


def _text(pdf: bytes) -> str:
    """The PDF's text with all whitespace removed (wrapped lines may split a phrase)."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def _render(db: Database, track_id: int) -> bytes:
    with db.sessions() as session:
        return render_notice(notice_data(session, track_id))


def test_approval_notice(database: Database, fixed_clock: Clock) -> None:
    tid = _accepted_dibao(database, fixed_clock, "approve")
    with database.sessions() as session, pytest.raises(WorkflowError, match="no decision yet"):
        notice_data(session, tid)
    run(database, fixed_clock, c.ConfirmTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=tid))

    pdf = _render(database, tid)
    assert pdf.startswith(b"%PDF-")
    assert pdf == _render(database, tid)  # deterministic
    text = _text(pdf)
    assert "最低生活保障审批决定书" in text
    assert "2550.00" in text  # (1,650 − 800) × 3 yuan a month
    assert "2025年11月" in text  # the first payment month
    assert "2025年10月10日" in text
    assert "最低生活保障审核确认办法" in text  # a citation and the legal basis
    assert "assistance.dibao.standard_monthly_urban" in text
    assert "[M]" in text  # the Shanghai standard is unverified
    assert mask_identity_number(HEAD) == "110***********0032"
    assert "110***********0032" in text
    assert HEAD not in text
    assert HEAD.encode() not in pdf
    # Issued by the department responsible for dibao; the steps carry their Chinese labels.
    assert "上海市浦东新区民政局" in text
    assert "家庭月人均收入" in text
    assert "差额救助金额" in text


def test_chinese_text_is_set_in_an_embedded_font(database: Database, fixed_clock: Clock) -> None:
    if not any(path.is_file() for path in EMBEDDED_FONT_FILES):
        pytest.skip("no TrueType CJK font installed (./run installs Debian's fonts-arphic-uming)")
    tid = _accepted_dibao(database, fixed_clock, "approve")
    run(database, fixed_clock, c.ConfirmTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=tid))
    reader = PdfReader(io.BytesIO(_render(database, tid)))
    resources: Any = reader.pages[0]["/Resources"]
    fonts = resources["/Font"]
    embedded = []
    for ref in fonts.values():
        font = ref.get_object()
        descendants = font.get("/DescendantFonts")
        for desc in [d.get_object() for d in descendants] if descendants else [font]:
            descriptor = desc.get("/FontDescriptor")
            if descriptor is not None and "/FontFile2" in descriptor.get_object():
                embedded.append(str(desc["/BaseFont"]))
    assert embedded
    assert all("UMing" in name or "ZenHei" in name for name in embedded), embedded


def test_the_issuing_department_follows_the_program(database: Database, fixed_clock: Clock) -> None:
    register_household(database, "M1", [HEAD])
    _, (tid,) = submit(
        database,
        fixed_clock,
        example("dibao_household.json"),
        "M1",
        D(2025, 9, 25),
        ("medical_assistance",),
    )
    run(
        database, fixed_clock, c.AcceptApplication(actor=CLERK, on=D(2025, 9, 26), application_id=1)
    )
    investigate_and_propose(database, fixed_clock, tid, D(2025, 9, 28), proposal="refuse")
    run(
        database,
        fixed_clock,
        c.RefuseTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=tid, reasons=("no bills",)),
    )
    with database.sessions() as session:
        data = notice_data(session, tid)
    assert data.issuing_department == "上海市浦东新区医疗保障局"
    assert "上海市浦东新区医疗保障局" in _text(render_notice(data))


def test_refusal_notice(database: Database, fixed_clock: Clock) -> None:
    tid = _accepted_dibao(database, fixed_clock, "refuse")
    run(
        database,
        fixed_clock,
        c.RefuseTrack(
            actor=APPROVER, on=D(2025, 10, 10), track_id=tid, reasons=("家庭存款超过规定标准",)
        ),
    )
    with database.sessions() as session:
        data = notice_data(session, tid)
    assert [(r.kind, r.limit, r.unit) for r in data.appeal_routes] == [
        ("reconsideration", 60, "days"),
        ("litigation", 6, "months"),
    ]
    pdf = render_notice(data)
    assert pdf == render_notice(data)
    text = _text(pdf)
    assert "最低生活保障不予批准通知书" in text
    assert "家庭存款超过规定标准" in text
    assert "行政复议" in text
    assert "60日内" in text
    assert "6个月内" in text
    assert "行政诉讼法" in text
    assert "2025年10月14日前" in text  # the notice's own due date: 3 working days
    assert "最低生活保障审核确认办法" in text  # legal basis
    assert "110***********0032" in text
    assert HEAD not in text


def test_unknown_track(database: Database) -> None:
    with database.sessions() as session, pytest.raises(UnknownNameError, match="track"):
        notice_data(session, 999)


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(notice)
    return app


def test_cli_writes_the_pdf_and_reports_errors_in_one_line(
    database: Database, fixed_clock: Clock, tmp_path: Path
) -> None:
    tid = _accepted_dibao(database, fixed_clock, "approve")
    url = database.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    pending = runner.invoke(_cli(), [str(tid), "--url", url])
    assert pending.exit_code == 2
    assert pending.output.strip().splitlines() == [
        f"error: cannot write the notice of track {tid} (dibao, notice_closed): it has no "
        "decision yet (confirm or refuse it first)"
    ]
    unknown = runner.invoke(_cli(), ["999", "--url", url])
    assert (unknown.exit_code, unknown.output.strip()) == (2, "error: unknown track '999'")

    run(database, fixed_clock, c.ConfirmTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=tid))
    target = tmp_path / "notice.pdf"
    done = runner.invoke(_cli(), [str(tid), "--out", str(target), "--url", url])
    assert done.exit_code == 0, done.output
    assert "approval notice" in done.output
    assert "最低生活保障审批决定书" in _text(target.read_bytes())


def test_cli_writes_into_a_folder_it_creates_and_refuses_a_directory_as_the_file(
    database: Database, fixed_clock: Clock, tmp_path: Path
) -> None:
    tid = _accepted_dibao(database, fixed_clock, "approve")
    run(database, fixed_clock, c.ConfirmTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=tid))
    url = database.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    target = tmp_path / "letters" / "2025" / "notice.pdf"  # the folders do not exist yet
    done = runner.invoke(_cli(), [str(tid), "--out", str(target), "--url", url])
    assert done.exit_code == 0, done.output
    assert target.read_bytes().startswith(b"%PDF")
    into_folder = runner.invoke(_cli(), [str(tid), "--out", str(tmp_path), "--url", url])
    assert into_folder.exit_code == 2
    assert (
        into_folder.output.strip() == f"error: --out: {tmp_path} is a directory; give a file name"
    )
