"""Every sentence a written notice prints, in one place (the notices' message catalogue).

Each entry is a message id (what it says, in English, as a gettext ``msgid`` would be) and its
Chinese text with ``{placeholders}`` filled by ``text(key, **values)``. Notices are issued in
Chinese; when the web application's Babel catalogue (domain ``notices``) is merged, these pairs
move to ``notices.po`` as they stand: the keys become the ``msgid`` and the values the ``msgstr``
of ``zh_CN``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["NOTICE_TEXT", "text"]

NOTICE_TEXT: Mapping[str, str] = {
    # headings
    "approval.title": "{program}审批决定书",
    "refusal.title": "{program}不予批准通知书",
    "document_no": "{document_no}",
    "document_no.missing": "（未编文号）",
    "addressee": "{applicant}（户编号：{household_no}）：",
    "case_no": "案件编号：{application_id}-{track_id}",
    # facts table
    "fact.place": "受理地",
    "fact.household_no": "户编号",
    "fact.applicant": "申请人",
    "fact.identity": "公民身份号码",
    "fact.decision": "决定",
    "fact.decided_on": "决定日期",
    "fact.amount": "保障金额",
    "fact.first_month": "起始发放月份",
    "fact.notice_due": "本通知书送达期限",
    "decision.approved": "批准",
    "decision.refused": "不予批准",
    "notice_due": "{date}前（3个工作日内）{mark}",
    "provisional": "（暂定：{year}年节假日安排公布后重新计算）",
    # the decision
    "approval.body": "你户于{submitted}提出的{program}申请，经审核确认，符合条件，决定予以批准。",
    "approval.monthly": "自{month}起按月发放{amount}元。",
    "approval.once": "发放金额{amount}元。",
    "refusal.body": "你户于{submitted}提出的{program}申请，经审核，不符合条件，决定不予批准。",
    "reasons.heading": "理由",
    "approval.reason": "经调查核实，你户的家庭收入、财产等情况符合{program}的条件，"
    "保障金额按附件所列计算方法确定。",
    "basis.heading": "法律依据",
    "basis.line": "{basis}",
    # appeal rights
    "appeal.heading": "权利告知",
    "appeal.reconsideration": "如对本决定不服，可以自收到本决定书之日起{limit}内，"
    "向{body}申请行政复议（依据{citation}）；",
    "appeal.litigation": "也可以自收到本决定书之日起{limit}内，"
    "直接向{court}提起行政诉讼（依据{citation}）。",
    "appeal.during": "行政复议或者行政诉讼期间，本决定不停止执行。",
    # signature
    "seal.place": "（盖章）",
    "seal.hint": "此处加盖{department}印章",
    "date": "{date}",
    "masked.note": "注：本文书中的公民身份号码已作遮蔽处理。",
    "copy.file": "存档联（含参数标识与来源标记，不交申请人）",
    # the annex
    "annex.title": "附件：保障金额计算说明",
    "annex.intro": "以下为计算你户保障金额的各个步骤、所得数值和所依据的规定。",
    "annex.step": "计算步骤",
    "annex.value": "数值",
    "annex.source": "依据",
    "annex.none": "—",
    "annex.in_force": "（{date}起施行）",
    "annex.flags": "依据标记：[M] 凭记忆录入、尚待与官方文本核对；[I] 示例值，非官方规定；"
    "无标记者已与来源核对。",
    # units and values
    "unit.days": "日",
    "unit.months": "个月",
    "unit.working_days": "个工作日",
    "per.yuan/month": "元/月",
    "per.yuan/year": "元/年",
    "per.yuan": "元",
    "yes": "是",
    "no": "否",
    "list.sep": "、",
    "date.format": "{year}年{month}月{day}日",
    "month.format": "{year}年{month}月",
}


def text(key: str, **values: Any) -> str:
    """The Chinese text of ``key`` with ``values`` filled in."""
    return NOTICE_TEXT[key].format(**values)
