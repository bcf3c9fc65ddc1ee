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
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from sqlalchemy import select
from typer.testing import CliRunner

from safetynet.audit.model import AuditEvent
from safetynet.cases import commands as c
from safetynet.cases.model import NoticeSequence, Track
from safetynet.cases.notice_text import MSGIDS, text
from safetynet.cases.notices import (
    EMBEDDED_FONT_FILES,
    NoticeData,
    cite_zh,
    glyph_safe,
    notice_data,
    notice_font,
    render_notice,
)
from safetynet.cases.numbering import next_number
from safetynet.cases.offices import office
from safetynet.cases.workflow import WorkflowError
from safetynet.db.engine import Database
from safetynet.domain.identity import mask_identity_number
from safetynet.domain.messages import LOCALES, catalogue_ids
from safetynet.entrypoints.cli.notice_cli import notice
from safetynet.errors import InputError, UnknownNameError
from tests.cases.helpers import (
    APPROVER,
    CLERK,
    HEAD,
    Clock,
    accepted_dibao,
    example,
    id_number,
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


PARAMETER_ID = re.compile(r"[a-z_]+\.[a-z_]+\.[a-z_.]+")


def test_approval_notice(database: Database, fixed_clock: Clock) -> None:
    tid = _accepted_dibao(database, fixed_clock, "approve")
    with database.sessions() as session, pytest.raises(WorkflowError, match="no decision yet"):
        notice_data(session, tid)
    run(database, fixed_clock, c.ConfirmTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=tid))

    pdf = _render(database, tid)
    assert pdf.startswith(b"%PDF-")
    assert pdf == _render(database, tid)  # deterministic
    text = _text(pdf)
    # The office, the title and the document number of the office's 2025 sequence.
    assert text.startswith("上海市浦东新区民政局最低生活保障审批决定书浦民救〔2025〕1号")
    assert "成员0（户编号：H1）：" in text  # the addressee
    assert "2550.00" in text  # (1,650 − 800) × 3 yuan a month
    assert "自2025年11月起按月发放2550.00元" in text  # the amount and the first payment month
    assert "2025年10月10日" in text
    assert "《最低生活保障审核确认办法》" in text  # the legal basis, in Chinese
    assert "《社会救助暂行办法》第9至13条" in text
    # Appeal rights: the reconsideration body, the court, their limits and the articles.
    assert "60日内，向上海市浦东新区人民政府申请行政复议" in text
    assert "《中华人民共和国行政复议法》第20条" in text
    assert "6个月内，直接向上海市浦东新区人民法院提起行政诉讼" in text
    assert "《中华人民共和国行政诉讼法》第46条" in text
    assert "（盖章）" in text  # a place for the seal
    # The annex: the calculation in Chinese, with the rules it rests on.
    assert "附件：保障金额计算说明" in text
    assert "家庭月人均收入" in text
    assert "差额救助金额" in text
    # The citizen's copy shows no parameter id, no provenance flag and no English formula.
    assert not PARAMETER_ID.search(text), PARAMETER_ID.findall(text)
    assert "[M]" not in text
    assert "unverified" not in text
    assert "income÷members" not in text
    assert mask_identity_number(HEAD) == "110***********0032"
    assert "110***********0032" in text
    assert HEAD not in text
    assert HEAD.encode() not in pdf
    # The office's file copy keeps the parameters and their flags in the annex.
    with database.sessions() as session:
        filed = _text(render_notice(notice_data(session, tid), copy="file"))
    assert "assistance.dibao.standard_monthly_urban" in filed
    assert "[M]" in filed  # the Shanghai standard is unverified
    assert "存档联" in filed
    assert "存档联" not in text


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
    assert "最低生活保障不予批准通知书浦民救〔2025〕1号" in text
    assert "经审核，不符合条件，决定不予批准" in text
    assert "家庭存款超过规定标准" in text
    assert "60日内，向上海市浦东新区人民政府申请行政复议" in text
    assert "6个月内，直接向上海市浦东新区人民法院提起行政诉讼" in text
    assert "《中华人民共和国行政诉讼法》第46条" in text
    assert [r.body for r in data.appeal_routes] == [
        "上海市浦东新区人民政府",
        "上海市浦东新区人民法院",
    ]
    assert not PARAMETER_ID.search(text)
    assert "[M]" not in text
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


# -- document numbers ----------------------------------------------------------------------------


def _notice_no(db: Database, tid: int) -> str | None:
    with db.sessions() as session:
        track = session.get(Track, tid)
        assert track is not None
        return track.notice_no


def test_document_numbers_follow_the_office_sequence_and_a_rolled_back_decision_takes_none(
    database: Database, fixed_clock: Clock
) -> None:
    first = _accepted_dibao(database, fixed_clock, "approve")
    run(database, fixed_clock, c.ConfirmTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=first))
    assert _notice_no(database, first) == "浦民救〔2025〕1号"

    register_household(database, "H2", [id_number("19600101", 5)])
    _, (second,) = submit(
        database, fixed_clock, example("dibao_household.json"), "H2", D(2025, 9, 25), ("dibao",)
    )
    run(
        database, fixed_clock, c.AcceptApplication(actor=CLERK, on=D(2025, 9, 26), application_id=2)
    )
    to_county(database, fixed_clock, second, "refuse")
    # Refused without reasons: the decision is rolled back, and its number with it.
    with pytest.raises(InputError, match="reasons"):
        run(
            database,
            fixed_clock,
            c.RefuseTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=second, reasons=(" ",)),
        )
    assert _notice_no(database, second) is None
    run(
        database,
        fixed_clock,
        c.RefuseTrack(actor=APPROVER, on=D(2025, 10, 10), track_id=second, reasons=("收入超标",)),
    )
    assert _notice_no(database, second) == "浦民救〔2025〕2号"  # no gap, no reuse
    with database.sessions() as session:
        rows = session.execute(
            select(NoticeSequence.office, NoticeSequence.year, NoticeSequence.last_number)
        ).all()
        assert [tuple(r) for r in rows] == [("310115:civil_affairs", 2025, 2)]
        # The number is in the decision's audit entry.
        after = session.execute(
            select(AuditEvent.after).where(AuditEvent.event == "TrackRefused")
        ).scalar_one()
        assert after["notice_no"] == "浦民救〔2025〕2号"


def test_each_office_and_year_has_its_own_sequence(database: Database) -> None:
    with database.sessions.begin() as session:
        numbers = [
            next_number(session, "310115:civil_affairs", 2025),
            next_number(session, "310115:civil_affairs", 2025),
            next_number(session, "310115:medical_security", 2025),
            next_number(session, "310115:civil_affairs", 2026),
        ]
    assert numbers == [1, 2, 1, 1]
    assert office("310115", "medical_security").document_no(2025, 7) == "浦医保救〔2025〕7号"
    # A region without an entry: the first character of its name, its own government and court.
    other = office("110108", "civil_affairs")
    assert other.prefix == "海民救"
    assert other.reconsideration_body == "北京市海淀区人民政府"
    assert other.court == "北京市海淀区人民法院"


# -- Chinese citations and glyphs ----------------------------------------------------------------


def test_citations_in_chinese() -> None:
    assert cite_zh("社会救助暂行办法 arts 9-13") == "《社会救助暂行办法》第9至13条"
    assert (
        cite_zh(
            "中华人民共和国行政复议法 (2023 revision, in force 2024-01-01), art. 20 [M: unverified]"
        )
        == "《中华人民共和国行政复议法》第20条"
    )
    assert cite_zh(
        "国务院关于建立统一的城乡居民基本养老保险制度的意见 (国发〔2014〕8号), arts 3, 5"
    ) == ("《国务院关于建立统一的城乡居民基本养老保险制度的意见》（国发〔2014〕8号）第3、5条")
    assert cite_zh("no reference [I: illustrative, not official]") == ""


def _approved(explanation: tuple[dict[str, Any], ...]) -> NoticeData:
    return NoticeData(
        track_id=1,
        application_id=1,
        program="dibao",
        program_title_zh="最低生活保障",
        decision="approved",
        decided_on=D(2025, 10, 10),
        region_code="310115",
        region_name="上海市浦东新区",
        household_no="H1",
        applicant_name="张三",
        applicant_id_masked="110***********0032",
        amount_fen=255000,
        first_payment_month="2025-11",
        explanation=explanation,
        issuing_department="上海市浦东新区民政局",
        document_no="浦民救〔2025〕9号",
    )


def test_every_character_of_a_notice_has_a_glyph_the_minus_sign_too() -> None:
    if not any(path.is_file() for path in EMBEDDED_FONT_FILES):
        pytest.skip("no TrueType CJK font installed (./run installs Debian's fonts-arphic-uming)")
    font = notice_font()
    face_chars = set(pdfmetrics.getFont(font).face.charToGlyph)
    assert ord("\u2212") not in face_chars  # the font has no minus sign: it must be mapped
    assert glyph_safe("1650 \u2212 800", font) == "1650 \uff0d 800"
    steps = (
        {"step": "novel_step", "label": "标准 \u2212 收入 ≤ 0", "value": "850.00"},
        {"step": "amount", "label": "Amount", "value": "2550.00", "formula": "standard − income"},
    )
    for copy in ("citizen", "file"):
        text = _text(render_notice(_approved(steps), copy=copy))
        assert "\u2212" not in text
        assert "标准－收入" in text
        missing = {ch for ch in text if ord(ch) not in face_chars}
        assert not missing, missing


def test_every_sentence_of_a_notice_is_in_the_catalogue() -> None:
    for locale in LOCALES:
        missing = set(MSGIDS.values()) - set(catalogue_ids("notices", locale))
        assert not missing, (locale, missing)
    assert text("approval.title", program="最低生活保障") == "最低生活保障审批决定书"
    assert text("approval.title", "en", program="Dibao") == "Dibao: decision of approval"
