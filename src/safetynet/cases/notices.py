"""Written notices of a track's decision as an office issues them, rendered as PDF (issue 13).

``notice_data(session, track_id)`` gathers what a notice shows from the case tables, the registry,
the issuing office (``cases.offices``) and the parameter tree; ``render_notice(data)`` turns it
into PDF bytes with reportlab. Two kinds, an approval (``…审批决定书``) and a refusal
(``…不予批准通知书``), laid out as an office's document:

- the issuing office at the head, the title and the **document number** (浦民救〔2025〕123号),
  allocated from the office's yearly sequence in the decision's transaction (``cases.numbering``);
- the addressee, the decision in plain Chinese (the amount and the month payment starts, or that
  the application is refused), the reasons and the legal basis;
- the **appeal rights**: administrative reconsideration before the body that hears them (the
  county government) and a lawsuit before the people's court, each with its time limit from the
  dated parameters ``common.procedure.appeal.*`` and the article it rests on;
- the office's name, the date and a place for the seal;
- for an approval, an **annex** in Chinese: each step of the rules core's calculation with its
  value and the rules it rests on.

The citizen's copy (the default) never shows a parameter id or a provenance flag; the office's
file copy (``copy="file"``) adds both to the annex. Every text comes from ``notice_text``, the
notices' catalogue, and every character is set in a glyph the font has (``glyph_safe``: the minus
sign U+2212, which AR PL UMing lacks, prints as the full-width minus).

Identity numbers are masked (``mask_identity_number``; free text through ``mask_text``). Chinese
text is set in AR PL UMing, embedded (subsetted) from Debian's ``fonts-arphic-uming`` (``./run``
installs it); where that font is absent, reportlab's CID font ``STSong-Light`` is referenced, not
embedded. The output is deterministic (``invariant=1``): the same data give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.cases.model import Application, Track
from safetynet.cases.notice_text import text
from safetynet.cases.offices import office
from safetynet.cases.workflow import PARAMETER_ROOT, WorkflowError, provisional_deadline
from safetynet.domain.identity import mask_identity_number
from safetynet.domain.money import format_yuan
from safetynet.domain.privacy import mask_text
from safetynet.domain.regions import NATION_CODE, default_registry
from safetynet.errors import UnknownNameError
from safetynet.policy.engine import programs
from safetynet.policy.parameters import ParameterTree, Provenance, default_tree
from safetynet.registry.model import Household, Membership, Person

__all__ = [
    "EMBEDDED_FONT",
    "FONT",
    "STEP_LABELS_ZH",
    "AppealRoute",
    "Copy",
    "NoticeData",
    "cite_zh",
    "glyph_safe",
    "issuing_department",
    "notice_data",
    "notice_font",
    "render_notice",
]

FONT = "STSong-Light"  # the CID fallback, referenced, not embedded
EMBEDDED_FONT = "AR-PL-UMing"
# TrueType CJK fonts from Debian packages that reportlab can embed (OpenType/CFF ones it cannot).
EMBEDDED_FONT_FILES = (
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),  # fonts-arphic-uming
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # fonts-wqy-zenhei
)

Copy = Literal["citizen", "file"]

# Chinese labels of the rules core's explanation steps (by step name) as a notice shows them; a
# step not listed keeps the program's English label.
STEP_LABELS_ZH: dict[str, str] = {
    "members": "共同生活的家庭成员人数",
    "excluded_income": "不计入家庭收入的项目",
    "employment_cost": "扣减的必要就业成本",
    "counted_income_person": "成员计入的月收入",
    "counted_income": "家庭月收入合计",
    "per_capita_income": "家庭月人均收入",
    "below_standard": "月人均收入是否低于当地低保标准",
    "difference_amount": "差额救助金额（（低保标准－人均收入）×人数）",
    "banded_amount": "分档救助金额",
    "special_member_supplement": "老年人、未成年人、重度残疾人、重病患者增发",
    "job_refusal_cut": "无正当理由拒绝就业人员停发的份额",
    "is_dibao_marginal": "是否为低保边缘家庭",
    "single_person_amount": "单人户施保金额",
    "gradual_exit": "是否处于渐退期",
    "eligible": "是否符合条件",
    "amount": "月保障金额",
    "dibao_standard": "当地低保标准",
    "rural_standard": "是否适用农村标准",
    "no_labour_capacity": "是否无劳动能力",
    "tekun_income": "特困人员收入",
    "income_below_standard": "收入是否低于当地低保标准",
    "no_able_supporter": "是否无法定赡养、抚养、扶养义务人或其无履行义务能力",
    "eligible_person": "本人是否符合特困人员条件",
    "basic_living": "基本生活标准",
    "basic_living_floor": "基本生活标准下限（低保标准的倍数）",
    "basic_living_local": "当地规定的基本生活标准",
    "selfcare_tier": "生活自理能力等级",
    "care": "照料护理标准",
    "concentrated": "是否集中供养",
    "chose_child_allowance": "是否选择儿童生活费",
    "person_amount": "个人月供养金额",
    "emergency_type": "是否为急难型",
    "spending_type": "是否为支出型",
    "annual_income": "家庭年收入",
    "income_below_reference": "收入是否低于上年当地人均可支配收入",
    "need": "救助需求",
    "emergency_standard_amount": "急难型标准救助金额",
    "cap": "救助金额上限",
    "amount_above_cap": "超过上限的金额",
    "needs_case_decision": "是否需一事一议",
    "township_advance": "乡镇先行救助金额",
    "county_top_up": "县级补足金额",
    "total": "救助金额合计",
    "standard": "保障标准",
    "father_unable": "父亲是否无法履行抚养义务",
    "mother_unable": "母亲是否无法履行抚养义务",
    "unsupported": "是否为事实无人抚养儿童",
}
_FLAG = {Provenance.SOURCE: "", Provenance.UNVERIFIED: "M", Provenance.ILLUSTRATIVE: "I"}


@dataclass(frozen=True)
class AppealRoute:
    """One way to challenge the decision: before whom, within what time, on what rule."""

    kind: str  # reconsideration | litigation
    limit: int
    unit: str  # days | months
    citation: str  # the parameter's citation as stored (the file copy)
    provenance: str  # S | M | I
    body: str = ""  # the reconsideration body or the court
    citation_zh: str = ""  # the rule in Chinese, as the citizen's copy says it
    parameter: str = ""  # the parameter's id (the file copy only)


@dataclass(frozen=True)
class NoticeData:
    """Everything a notice shows; identity numbers only in masked form."""

    track_id: int
    application_id: int
    program: str
    program_title_zh: str
    decision: str  # approved | refused
    decided_on: dt.date
    region_code: str
    region_name: str
    household_no: str
    applicant_name: str
    applicant_id_masked: str
    legal_basis: tuple[str, ...] = ()
    amount_fen: int | None = None
    amount_unit: str = "yuan/month"
    first_payment_month: str | None = None
    explanation: tuple[dict[str, Any], ...] = ()
    refusal_reasons: tuple[str, ...] = ()
    refusal_notice_due: dt.date | None = None
    # Computed across a year whose official holiday calendar is not out yet: shown as 暂定.
    refusal_notice_due_provisional: bool = False
    appeal_routes: tuple[AppealRoute, ...] = field(default_factory=tuple)
    issuing_department: str = ""  # e.g. 上海市浦东新区医疗保障局
    document_no: str = ""  # e.g. 浦民救〔2025〕123号
    submitted_on: dt.date | None = None


# -- citations in Chinese ------------------------------------------------------------------------

_PROVENANCE_MARK = re.compile(r"\s*\[(?:M|I)\b[^\]]*\]")
_ARTICLE = re.compile(r"\barts?\.?\s*(\d+(?:\s*[-–,]\s*\d+)*)")
_PARAGRAPH = re.compile(r"\bpara(?:graph)?s?\.?\s*(\d+)")
_LATIN = re.compile(r"[A-Za-z]")
_TITLE = re.compile(r"^(?P<title>[^(,;]+)\s*(?:\((?P<paren>[^)]*)\))?\s*,?\s*(?P<rest>.*)$")


def _article_zh(rest: str) -> str:
    article = _ARTICLE.search(rest)
    if article is None:
        return "" if _LATIN.search(rest) else rest.strip()
    numbers = re.sub(r"\s*[-–]\s*", "至", article.group(1))
    numbers = re.sub(r"\s*,\s*", "、", numbers)
    said = f"第{numbers}条"
    paragraph = _PARAGRAPH.search(rest)
    return said + (f"第{paragraph.group(1)}款" if paragraph else "")


def _one_cite_zh(ref: str) -> str:
    match = _TITLE.match(ref.strip())
    if match is None:  # pragma: no cover - the pattern matches any text
        return ref
    title, rest = match["title"].strip(), match["rest"]
    inline = re.search(r"\s+arts?\.?\s*\d", title)
    if inline is not None:  # "社会救助暂行办法 arts 9-13"
        title, rest = title[: inline.start()], title[inline.start() :] + " " + rest
    paren = match["paren"] or ""
    said = f"《{title}》"
    if paren and not _LATIN.search(paren):
        said += f"（{paren}）"
    return said + _article_zh(rest)


def cite_zh(citation: str) -> str:
    """A citation as the citizen's copy says it: titles in 《》, articles as 第N条, English notes
    and provenance marks left out (``社会救助暂行办法 arts 9-13`` -> ``《社会救助暂行办法》第9至13条``)."""
    plain = _PROVENANCE_MARK.sub("", citation).strip()
    refs = [r for r in plain.split("; ") if r.strip() and r.strip() != "no reference"]
    return "；".join(_one_cite_zh(r) for r in refs)


# -- gathering -----------------------------------------------------------------------------------


def _lineage(region: str) -> list[str]:
    return [NATION_CODE] if region == NATION_CODE else default_registry().lineage_codes(region)


def _region_name(region: str) -> str:
    registry = default_registry()
    return "".join(registry.get(code).name for code in _lineage(region) if code != NATION_CODE)


def _applicant(session: Session, app: Application) -> tuple[str, str]:
    """Name and masked identity number of the household head (registry first, else the facts
    given at submission)."""
    row = session.execute(
        select(Person.name, Person.id_number)
        .join(Membership, Membership.person_id == Person.id)
        .where(
            Membership.household_id == app.household_id,
            Membership.relation == "head",
            Membership.end_date.is_(None),
        )
        .order_by(Person.id)
    ).first()
    if row is not None:
        return str(row[0]), mask_identity_number(str(row[1]))
    for member in app.household_json.get("members", []):
        if member.get("relation") == "head":
            number = str(member.get("id_number") or "")
            return str(member.get("name") or ""), mask_identity_number(number) if number else ""
    return "", ""


def issuing_department(region: str, department: str) -> str:
    """The department that issues the notice: the region's name and the department's (the
    track's department, the one responsible for its program)."""
    return office(region, department).name


def _appeal_routes(
    tree: ParameterTree, region: str, department: str, on: dt.date
) -> tuple[AppealRoute, ...]:
    issuer = office(region, department)
    routes = []
    for kind, name, body in (
        ("reconsideration", "appeal.reconsideration_lodge", issuer.reconsideration_body),
        ("litigation", "appeal.litigation_lodge", issuer.court),
    ):
        r = tree.resolve(f"{PARAMETER_ROOT}.{name}", on, _lineage(region))
        refs = "; ".join(ref.cite() for ref in r.references)
        routes.append(
            AppealRoute(
                kind,
                int(r.value),
                r.unit,
                r.cite(),
                _FLAG[r.provenance] or "S",
                body=body,
                citation_zh=cite_zh(refs),
                parameter=r.name,
            )
        )
    return tuple(routes)


def _track_and_application(session: Session, track_id: int) -> tuple[Track, Application]:
    track = session.get(Track, track_id)
    if track is None:
        raise UnknownNameError("track", str(track_id))
    if track.decision is None or track.decided_on is None:
        raise WorkflowError.for_track(
            track, "write the notice of", "it has no decision yet (confirm or refuse it first)"
        )
    app = session.get(Application, track.application_id)
    if app is None:  # pragma: no cover - a foreign key guarantees it
        raise UnknownNameError("application", str(track.application_id))
    return track, app


def notice_data(session: Session, track_id: int, tree: ParameterTree | None = None) -> NoticeData:
    """What the notice of ``track_id``'s decision shows; an unknown track or one without a
    decision is refused with the reason."""
    track, app = _track_and_application(session, track_id)
    assert track.decided_on is not None  # checked above
    household = session.get(Household, app.household_id)
    name, masked = _applicant(session, app)
    program = programs().get(track.program)
    explanation = track.explanation or {}
    common: dict[str, Any] = {
        "track_id": track.id,
        "application_id": app.id,
        "program": track.program,
        "program_title_zh": program.title_zh if program is not None else track.program,
        "decision": track.decision,
        "decided_on": track.decided_on,
        "region_code": app.region_code,
        "region_name": _region_name(app.region_code),
        "household_no": household.household_no if household is not None else "",
        "applicant_name": name,
        "applicant_id_masked": masked,
        "legal_basis": tuple(
            explanation.get("legal_basis") or (program.legal_basis if program is not None else ())
        ),
        "issuing_department": issuing_department(app.region_code, track.department),
        "document_no": track.notice_no or "",
        "submitted_on": app.lodged_on,
        "appeal_routes": _appeal_routes(
            tree or default_tree(), app.region_code, track.department, track.decided_on
        ),
    }
    if track.decision == "approved":
        return NoticeData(
            **common,
            amount_fen=track.amount_fen,
            amount_unit=str(explanation.get("unit", "yuan/month")),
            first_payment_month=track.first_payment_month,
            explanation=tuple(explanation.get("explanation", ())),
        )
    return NoticeData(
        **common,
        refusal_reasons=tuple(track.refusal_reasons or ()),
        refusal_notice_due=track.refusal_notice_due,
        refusal_notice_due_provisional=provisional_deadline(track, "refusal_notice_due"),
    )


# -- fonts and glyphs ----------------------------------------------------------------------------

# Characters a CJK font may lack, and what a notice prints instead (the same meaning, a glyph the
# font has): typographic minus and dashes become the full-width hyphen-minus.
GLYPH_SUBSTITUTES: dict[str, str] = {
    "\u2212": "\uff0d",  # − MINUS SIGN -> － FULLWIDTH HYPHEN-MINUS
    "\u2013": "\uff0d",  # – EN DASH
    "\u2010": "-",  # ‐ HYPHEN
    "\u2011": "-",  # ‑ NON-BREAKING HYPHEN
    "\u2264": "\u2266",  # ≤ -> ≦
    "\u2265": "\u2267",  # ≥ -> ≧
    "\u2009": " ",  # thin space
    "\u00a0": " ",  # no-break space
}


def notice_font() -> str:
    """The font notices are set in: an embedded TrueType CJK font if one is installed, else the
    CID font."""
    registered = pdfmetrics.getRegisteredFontNames()
    if EMBEDDED_FONT in registered:
        return EMBEDDED_FONT
    for path in EMBEDDED_FONT_FILES:
        if path.is_file():
            pdfmetrics.registerFont(TTFont(EMBEDDED_FONT, str(path), subfontIndex=0))
            return EMBEDDED_FONT
    if FONT not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


@cache
def _font_chars(font: str) -> frozenset[int] | None:
    """The code points ``font`` has a glyph for (None for a CID font, which is not inspected)."""
    face = getattr(pdfmetrics.getFont(font), "face", None)
    char_to_glyph = getattr(face, "charToGlyph", None)
    return frozenset(char_to_glyph) if char_to_glyph else None


def glyph_safe(value: str, font: str | None = None) -> str:
    """``value`` with every character the notice font has no glyph for replaced by its
    substitute (``GLYPH_SUBSTITUTES``); with a CID font only the known substitutes apply."""
    chars = _font_chars(font or notice_font())
    out = []
    for ch in value:
        if ch == "\n" or (chars is not None and ord(ch) in chars):
            out.append(ch)
        else:
            out.append(GLYPH_SUBSTITUTES.get(ch, ch))
    return "".join(out)


# -- rendering -----------------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    font = notice_font()
    base = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=15.5, wordWrap="CJK")
    return {
        "office": ParagraphStyle(
            "office", parent=base, fontSize=16, leading=22, alignment=1, textColor=colors.red
        ),
        "title": ParagraphStyle(
            "title", parent=base, fontSize=18, leading=26, alignment=1, spaceBefore=2 * mm
        ),
        "number": ParagraphStyle("number", parent=base, alignment=1, spaceAfter=4 * mm),
        "h2": ParagraphStyle(
            "h2", parent=base, fontSize=12.5, leading=18, spaceBefore=4 * mm, spaceAfter=2 * mm
        ),
        "body": ParagraphStyle("para", parent=base, firstLineIndent=22),
        "plain": base,
        "right": ParagraphStyle("right", parent=base, alignment=2),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9.5, leading=13),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12),
    }


def _date_zh(day: dt.date) -> str:
    return text("date.format", year=day.year, month=day.month, day=day.day)


def _month_zh(month: str) -> str:
    year, mon = month.split("-")
    return text("month.format", year=int(year), month=int(mon))


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return text("yes") if value else text("no")
    if isinstance(value, list):
        return text("list.sep").join(_show(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}: {_show(v)}" for k, v in value.items())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _p(value: str, style: ParagraphStyle) -> Paragraph:
    # Every text of a notice is drawn here: an identity number typed into a reason or any other
    # free text is masked like the applicant's own, and every character has a glyph.
    safe = glyph_safe(mask_text(value), style.fontName)
    return Paragraph(escape(safe).replace("\n", "<br/>"), style)


def _grid(rows: list[list[Paragraph]], widths: Sequence[float], header: bool = False) -> Table:
    table = Table(rows, colWidths=list(widths), repeatRows=1 if header else 0)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        (
            "BACKGROUND",
            (0, 0),
            (0 if not header else -1, -1 if not header else 0),
            colors.whitesmoke,
        ),
    ]
    table.setStyle(TableStyle(style))
    return table


def _facts_table(rows: Sequence[tuple[str, str]], st: dict[str, ParagraphStyle]) -> Table:
    return _grid([[_p(k, st["cell"]), _p(v, st["cell"])] for k, v in rows], [38 * mm, 132 * mm])


def _step_sources(step: dict[str, Any], copy: Copy) -> str:
    lines = []
    for p in step.get("parameters", ()):
        since = p.get("in_force_from")
        when = text("annex.in_force", date=_date_zh(dt.date.fromisoformat(since))) if since else ""
        if copy == "file":
            flag = str(p.get("provenance", ""))
            mark = f"[{flag}] " if flag in {"M", "I"} else ""
            lines.append(
                f"{p.get('name', '')} = {_show(p.get('value'))}：{mark}{p.get('citation')}"
            )
        else:
            said = cite_zh(str(p.get("citation", "")))
            if said and said + when not in lines:
                lines.append(said + when)
    return "\n".join(lines) or text("annex.none")


def _annex(data: NoticeData, st: dict[str, ParagraphStyle], copy: Copy) -> list[Any]:
    rows = [
        [
            _p(text("annex.step"), st["cell"]),
            _p(text("annex.value"), st["cell"]),
            _p(text("annex.source"), st["cell"]),
        ]
    ]
    for step in data.explanation:
        name = str(step.get("step", ""))
        label = STEP_LABELS_ZH.get(name) or str(step.get("label", name))
        if copy == "file" and step.get("formula"):
            label += f"\n（{step['formula']}）"
        value = _show(step.get("value", ""))
        rows.append(
            [
                _p(label, st["cell"]),
                _p(value, st["cell"]),
                _p(_step_sources(step, copy), st["cell"]),
            ]
        )
    story: list[Any] = [
        PageBreak(),
        _p(text("annex.title"), st["h2"]),
        _p(text("annex.intro"), st["plain"]),
        Spacer(1, 2 * mm),
        _grid(rows, [58 * mm, 30 * mm, 82 * mm], header=True),
    ]
    if copy == "file":
        story.append(_p(text("annex.flags"), st["small"]))
    return story


def _submitted(data: NoticeData) -> str:
    return _date_zh(data.submitted_on) if data.submitted_on else ""


def _approval(data: NoticeData, st: dict[str, ParagraphStyle]) -> list[Any]:
    per = (
        text(f"per.{data.amount_unit}")
        if data.amount_unit in {"yuan/month", "yuan/year", "yuan"}
        else "元"
    )
    amount = format_yuan(data.amount_fen) if data.amount_fen is not None else text("annex.none")
    facts = [
        (text("fact.decision"), text("decision.approved")),
        (text("fact.decided_on"), _date_zh(data.decided_on)),
        (text("fact.amount"), f"{amount} {per}"),
    ]
    if data.first_payment_month:
        facts.append((text("fact.first_month"), _month_zh(data.first_payment_month)))
        paid = text("approval.monthly", month=_month_zh(data.first_payment_month), amount=amount)
    else:
        paid = text("approval.once", amount=amount)
    body = text("approval.body", submitted=_submitted(data), program=data.program_title_zh)
    return [
        _p(body + paid, st["body"]),
        Spacer(1, 2 * mm),
        _facts_table(facts, st),
        _p(text("reasons.heading"), st["h2"]),
        _p(text("approval.reason", program=data.program_title_zh), st["body"]),
    ]


def _refusal(data: NoticeData, st: dict[str, ParagraphStyle]) -> list[Any]:
    facts = [
        (text("fact.decision"), text("decision.refused")),
        (text("fact.decided_on"), _date_zh(data.decided_on)),
    ]
    if data.refusal_notice_due is not None:
        due = data.refusal_notice_due
        mark = text("provisional", year=due.year) if data.refusal_notice_due_provisional else ""
        facts.append((text("fact.notice_due"), text("notice_due", date=_date_zh(due), mark=mark)))
    body = text("refusal.body", submitted=_submitted(data), program=data.program_title_zh)
    story: list[Any] = [
        _p(body, st["body"]),
        Spacer(1, 2 * mm),
        _facts_table(facts, st),
        _p(text("reasons.heading"), st["h2"]),
    ]
    story.extend(
        _p(f"{i}. {reason}", st["body"]) for i, reason in enumerate(data.refusal_reasons, 1)
    )
    return story


def _appeal_rights(data: NoticeData, st: dict[str, ParagraphStyle], copy: Copy) -> list[Any]:
    story: list[Any] = [_p(text("appeal.heading"), st["h2"])]
    for route in data.appeal_routes:
        limit = f"{route.limit}{text('unit.' + route.unit)}"
        citation = route.citation_zh
        if copy == "file":
            citation += f"；{route.parameter}：{route.citation}"
        if route.kind == "reconsideration":
            said = text("appeal.reconsideration", limit=limit, body=route.body, citation=citation)
        else:
            said = text("appeal.litigation", limit=limit, court=route.body, citation=citation)
        story.append(_p(said, st["body"]))
    story.append(_p(text("appeal.during"), st["body"]))
    return story


def _signature(data: NoticeData, st: dict[str, ParagraphStyle]) -> list[Any]:
    department = data.issuing_department or f"{data.region_name}民政局"
    seal = Table(
        [
            [_p(text("seal.hint", department=department), st["small"])],
            [_p(text("seal.place"), st["right"])],
        ],
        colWidths=[60 * mm],
        rowHeights=[18 * mm, 7 * mm],
        hAlign="RIGHT",
    )
    seal.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (0, 0), 0.4, colors.lightgrey),
                ("VALIGN", (0, 0), (0, 0), "MIDDLE"),
            ]
        )
    )
    return [
        Spacer(1, 4 * mm),
        seal,
        _p(department, st["right"]),
        _p(_date_zh(data.decided_on), st["right"]),
    ]


def _head(data: NoticeData, st: dict[str, ParagraphStyle], heading: str, copy: Copy) -> list[Any]:
    number = data.document_no or text("document_no.missing")
    story: list[Any] = [
        _p(data.issuing_department or f"{data.region_name}民政局", st["office"]),
        _p(heading, st["title"]),
        _p(number, st["number"]),
    ]
    if copy == "file":
        story.append(_p(text("copy.file"), st["small"]))
    story += [
        _p(
            text(
                "addressee",
                applicant=data.applicant_name or "—",
                household_no=data.household_no or "—",
            ),
            st["plain"],
        ),
        Spacer(1, 2 * mm),
        _facts_table(
            [
                (text("fact.place"), data.region_name),
                (text("fact.household_no"), data.household_no or "—"),
                (text("fact.applicant"), data.applicant_name or "—"),
                (text("fact.identity"), data.applicant_id_masked or "—"),
            ],
            st,
        ),
        Spacer(1, 3 * mm),
    ]
    return story


def render_notice(data: NoticeData, copy: Copy = "citizen") -> bytes:
    """The notice as PDF bytes: the citizen's copy, or the office's ``file`` copy (parameter ids
    and provenance flags in the annex); the same ``data`` always give the same bytes."""
    st = _styles()
    approved = data.decision == "approved"
    heading = text("approval.title" if approved else "refusal.title", program=data.program_title_zh)
    story = _head(data, st, heading, copy)
    story.extend(_approval(data, st) if approved else _refusal(data, st))
    story.append(_p(text("basis.heading"), st["h2"]))
    for basis in data.legal_basis:
        said = basis if copy == "file" else cite_zh(basis)
        story.append(_p(text("basis.line", basis=said), st["body"]))
    story.extend(_appeal_rights(data, st, copy))
    story.extend(_signature(data, st))
    story.append(Spacer(1, 2 * mm))
    story.append(_p(text("masked.note"), st["small"]))
    story.append(
        _p(text("case_no", application_id=data.application_id, track_id=data.track_id), st["small"])
    )
    if approved and data.explanation:
        story.extend(_annex(data, st, copy))

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=glyph_safe(heading, st["plain"].fontName),
        author=data.issuing_department or "SafetyNet",
        creator="SafetyNet",
        producer="SafetyNet",
        subject=data.document_no or heading,
        invariant=1,
    )
    doc.build(story)
    return buffer.getvalue()
