"""Written notices of a track's decision, rendered as PDF (issue 4 item 4).

``notice_data(session, track_id)`` gathers what a notice shows from the case tables, the registry
and the parameter tree; ``render_notice(data)`` turns it into PDF bytes with reportlab. Two kinds:

- an **approval** (``…审批决定书``): the household and applicant, the decision date, the monthly
  amount and the first payment month, every step of the rules core's explanation with its value
  and the citations of the parameters it used (provenance flags ``[M]``/``[I]`` shown), and the
  legal basis;
- a **refusal** (``…不予批准通知书``): the reasons, the legal basis, the appeal route
  (administrative reconsideration or litigation, with the time limits from
  ``common.procedure.appeal``) and the date by which the notice itself is due.

Identity numbers are masked (``mask_identity_number``): ``NoticeData`` only ever holds the masked
form, so the full number cannot reach the PDF. Chinese text is set in AR PL UMing, embedded
(subsetted) from Debian's ``fonts-arphic-uming`` (TrueType; ``./run`` installs it), so any viewer
shows the notice as printed; where that font is absent, reportlab's built-in CID font
``STSong-Light`` is used, referenced but not embedded (a viewer then needs an Asian font pack).
The output is deterministic (``invariant=1``): the same data give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.cases.model import Application, Track
from safetynet.cases.workflow import (
    DEPARTMENT_TITLES_ZH,
    PARAMETER_ROOT,
    Department,
    WorkflowError,
    provisional_deadline,
)
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
    "NoticeData",
    "issuing_department",
    "notice_data",
    "render_notice",
]

FONT = "STSong-Light"  # the CID fallback, referenced, not embedded
EMBEDDED_FONT = "AR-PL-UMing"
# TrueType CJK fonts from Debian packages that reportlab can embed (OpenType/CFF ones it cannot).
EMBEDDED_FONT_FILES = (
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),  # fonts-arphic-uming
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # fonts-wqy-zenhei
)

_APPEAL_TITLES = {
    "reconsideration": "行政复议",
    "litigation": "行政诉讼",
}
_UNITS_ZH = {"days": "日", "months": "个月"}

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
    """One way to challenge the decision and its time limit, with the parameter's citation."""

    kind: str  # reconsideration | litigation
    limit: int
    unit: str  # days | months
    citation: str
    provenance: str  # S | M | I


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


# -- gathering -------------------------------------------------------------------------------


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
    return _region_name(region) + DEPARTMENT_TITLES_ZH[Department(department)]


def _appeal_routes(tree: ParameterTree, region: str, on: dt.date) -> tuple[AppealRoute, ...]:
    routes = []
    for kind, name in (
        ("reconsideration", "appeal.reconsideration_lodge"),
        ("litigation", "appeal.litigation_lodge"),
    ):
        r = tree.resolve(f"{PARAMETER_ROOT}.{name}", on, _lineage(region))
        routes.append(AppealRoute(kind, int(r.value), r.unit, r.cite(), _FLAG[r.provenance] or "S"))
    return tuple(routes)


def notice_data(session: Session, track_id: int, tree: ParameterTree | None = None) -> NoticeData:
    """What the notice of ``track_id``'s decision shows; an unknown track or one without a
    decision is refused with the reason."""

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
    household = session.get(Household, app.household_id)
    name, masked = _applicant(session, app)
    program = programs().get(track.program)
    title_zh = program.title_zh if program is not None else track.program
    explanation = track.explanation or {}
    legal_basis = tuple(
        explanation.get("legal_basis") or (program.legal_basis if program is not None else ())
    )
    common: dict[str, Any] = {
        "track_id": track.id,
        "application_id": app.id,
        "program": track.program,
        "program_title_zh": title_zh,
        "decision": track.decision,
        "decided_on": track.decided_on,
        "region_code": app.region_code,
        "region_name": _region_name(app.region_code),
        "household_no": household.household_no if household is not None else "",
        "applicant_name": name,
        "applicant_id_masked": masked,
        "legal_basis": legal_basis,
        "issuing_department": issuing_department(app.region_code, track.department),
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
        appeal_routes=_appeal_routes(tree or default_tree(), app.region_code, track.decided_on),
    )


# -- rendering -------------------------------------------------------------------------------


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


def _styles() -> dict[str, ParagraphStyle]:
    font = notice_font()
    base = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=15, wordWrap="CJK")
    return {
        "title": ParagraphStyle(
            "title", parent=base, fontSize=18, leading=26, alignment=1, spaceAfter=4 * mm
        ),
        "h2": ParagraphStyle(
            "h2", parent=base, fontSize=12.5, leading=18, spaceBefore=4 * mm, spaceAfter=2 * mm
        ),
        "body": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=12),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12),
    }


def _date_zh(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _provisional_mark(day: dt.date, provisional: bool) -> str:
    """Said beside a due date computed before that year's holiday arrangements were published."""
    return f"（暂定：{day.year}年节假日安排公布后重新计算）" if provisional else ""


def _month_zh(month: str) -> str:
    year, mon = month.split("-")
    return f"{int(year)}年{int(mon)}月"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(_show(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}: {_show(v)}" for k, v in value.items())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _flagged(citation: str, provenance: str) -> str:
    """The citation with its provenance flag in front: ``[M] …`` unverified, ``[I] …``
    illustrative; source-checked citations carry none."""
    return f"[{provenance}] {citation}" if provenance in {"M", "I"} else citation


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    # Every text of a notice is drawn here: an identity number typed into a reason or any other
    # free text is masked like the applicant's own.
    return Paragraph(escape(mask_text(text)).replace("\n", "<br/>"), style)


def _facts_table(rows: Sequence[tuple[str, str]], st: dict[str, ParagraphStyle]) -> Table:
    table = Table(
        [[_p(k, st["cell"]), _p(v, st["cell"])] for k, v in rows],
        colWidths=[38 * mm, 132 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _explanation_table(steps: Sequence[dict[str, Any]], st: dict[str, ParagraphStyle]) -> Table:
    rows: list[list[Paragraph]] = [
        [_p("步骤", st["cell"]), _p("数值", st["cell"]), _p("参数与依据", st["cell"])]
    ]
    for step in steps:
        name = str(step.get("step", ""))
        label = STEP_LABELS_ZH.get(name) or str(step.get("label", name))
        if step.get("formula"):
            label += f"\n（{step['formula']}）"
        cites = [
            f"{p.get('name', '')} = {_show(p.get('value'))}"
            f"（{p.get('in_force_from') or '—'} 起）："
            f"{_flagged(str(p.get('citation', '')), str(p.get('provenance', '')))}"
            for p in step.get("parameters", ())
        ]
        rows.append(
            [
                _p(label, st["cell"]),
                _p(_show(step.get("value", "")), st["cell"]),
                _p("\n".join(cites) or "—", st["cell"]),
            ]
        )
    table = Table(rows, colWidths=[52 * mm, 30 * mm, 88 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _approval(data: NoticeData, st: dict[str, ParagraphStyle]) -> list[Any]:
    per = {"yuan/month": "元/月", "yuan/year": "元/年", "yuan": "元"}.get(data.amount_unit, "元")
    amount = format_yuan(data.amount_fen) if data.amount_fen is not None else "—"
    facts = [
        ("决定", "批准"),
        ("决定日期", _date_zh(data.decided_on)),
        ("保障金额", f"{amount} {per}"),
    ]
    if data.first_payment_month:
        facts.append(("起始发放月份", _month_zh(data.first_payment_month)))
    story: list[Any] = [
        _p(
            f"经审核确认，你户符合{data.program_title_zh}条件，决定予以批准。"
            + (
                f"自{_month_zh(data.first_payment_month)}起按月发放{amount}元。"
                if data.first_payment_month
                else f"发放金额{amount}元。"
            ),
            st["body"],
        ),
        Spacer(1, 2 * mm),
        _facts_table(facts, st),
        _p("金额计算说明（规则核心的计算步骤、数值与参数依据）", st["h2"]),
        _explanation_table(data.explanation, st),
        _p(
            "依据标记：[M] 凭记忆录入、尚待与官方文本核对；[I] 示例值，非官方规定；"
            "无标记者已与来源核对。",
            st["small"],
        ),
    ]
    return story


def _refusal(data: NoticeData, st: dict[str, ParagraphStyle]) -> list[Any]:
    facts = [("决定", "不予批准"), ("决定日期", _date_zh(data.decided_on))]
    if data.refusal_notice_due is not None:
        due = data.refusal_notice_due
        mark = _provisional_mark(due, data.refusal_notice_due_provisional)
        facts.append(("本通知书送达期限", f"{_date_zh(due)}前（3个工作日内）{mark}"))
    story: list[Any] = [
        _p(f"经审核，你户申请的{data.program_title_zh}不符合条件，决定不予批准。", st["body"]),
        Spacer(1, 2 * mm),
        _facts_table(facts, st),
        _p("不予批准的理由", st["h2"]),
    ]
    story.extend(
        _p(f"{i}. {reason}", st["body"]) for i, reason in enumerate(data.refusal_reasons, 1)
    )
    story.append(_p("救济途径", st["h2"]))
    for route in data.appeal_routes:
        unit = _UNITS_ZH.get(route.unit, route.unit)
        if route.kind == "reconsideration":
            text = (
                f"如对本决定不服，可以自知道或者应当知道本决定之日起{route.limit}{unit}内，"
                "依法申请行政复议。"
            )
        else:
            text = (
                f"也可以自知道或者应当知道本决定之日起{route.limit}{unit}内，"
                "依法向人民法院提起行政诉讼。"
            )
        title = _APPEAL_TITLES.get(route.kind, route.kind)
        story.append(_p(f"{title}：{text}", st["body"]))
        story.append(_p(f"依据：{_flagged(route.citation, route.provenance)}", st["small"]))
    return story


def render_notice(data: NoticeData) -> bytes:
    """The notice as PDF bytes; the same ``data`` always give the same bytes."""
    st = _styles()
    approved = data.decision == "approved"
    heading = (
        f"{data.program_title_zh}审批决定书"
        if approved
        else f"{data.program_title_zh}不予批准通知书"
    )
    story: list[Any] = [
        _p(heading, st["title"]),
        _p(f"案件编号：{data.application_id}-{data.track_id}", st["small"]),
        Spacer(1, 3 * mm),
        _facts_table(
            [
                ("受理地", f"{data.region_name}（{data.region_code}）"),
                ("户编号", data.household_no or "—"),
                ("申请人", data.applicant_name or "—"),
                ("公民身份号码", data.applicant_id_masked or "—"),
            ],
            st,
        ),
        Spacer(1, 3 * mm),
    ]
    story.extend(_approval(data, st) if approved else _refusal(data, st))
    story.append(_p("法律依据", st["h2"]))
    story.extend(_p(f"· {basis}", st["body"]) for basis in data.legal_basis)
    story.append(Spacer(1, 8 * mm))
    story.append(_p(data.issuing_department or f"{data.region_name}民政局", st["body"]))
    story.append(_p(_date_zh(data.decided_on), st["body"]))
    story.append(Spacer(1, 4 * mm))
    story.append(_p("注：本通知书中的公民身份号码已作遮蔽处理。", st["small"]))

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=heading,
        author="SafetyNet",
        creator="SafetyNet",
        producer="SafetyNet",
        subject=f"track {data.track_id}",
        invariant=1,
    )
    doc.build(story)
    return buffer.getvalue()
