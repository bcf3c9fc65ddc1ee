"""A citizen's own cases (issue 13, self-service): applying by self-declaration, following each
application's steps and deadlines, and lodging an appeal, in plain Chinese.

Everything here takes the signed-in citizen's ``household_id`` (``registry.citizen_access``) and
reads or names nothing of another household: ``household_cases`` lists only that household's
applications, and ``own_track`` refuses a track of any other household exactly as it refuses one
that does not exist, so a citizen cannot learn that it does. Commands are built here and handled by
the case workflow's handlers through the bus like a clerk's: ``self_declared_application`` turns
the declaration into ``SubmitApplication`` (the household's members from the registry, the
incomes and savings as the citizen declares them), ``citizen_appeal`` into ``LodgeAppeal``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor
from safetynet.cases import commands as c
from safetynet.cases.model import Appeal, Application, Complaint, Track
from safetynet.cases.workflow import (
    DEPARTMENTS,
    DeadlineRules,
    pending_deadlines,
    provisional_deadline,
)
from safetynet.domain.money import format_yuan
from safetynet.errors import InputError, UnknownNameError
from safetynet.policy.engine import programs
from safetynet.policy.parameters import ParameterTree
from safetynet.registry.model import Household, Membership, Person

__all__ = [
    "STATUS_ZH",
    "AppealOption",
    "CaseStep",
    "CitizenCase",
    "CitizenComplaint",
    "CitizenTrack",
    "MemberIncome",
    "SelfDeclaration",
    "citizen_appeal",
    "citizen_complaint",
    "household_cases",
    "household_complaints",
    "own_track",
    "self_declared_application",
    "self_service_programs",
]

STATUS_ZH = {
    "submitted": "已提交，等待受理",
    "accepted": "已受理，等待入户调查",
    "advance_paid": "已先行救助，正在补办手续",
    "investigating": "正在调查核实",
    "verified": "调查核实完成，等待乡镇（街道）审核",
    "township_opinion": "乡镇（街道）已提出审核意见",
    "notice_posted": "正在公示",
    "notice_closed": "公示结束，等待县级审批",
    "approved": "已批准",
    "refused": "不予批准",
    "paying": "正在发放",
    "suspended": "暂停发放",
    "gradual_exit": "渐退期",
    "termination_notice": "停发公示中",
    "terminated": "已停止",
}
_DEADLINE_ZH = {
    "investigation_start": "开始入户调查",
    "township_opinion": "乡镇（街道）提出审核意见",
    "county_decision": "县级民政部门作出审批决定",
    "overall": "办结全部审核确认",
    "emergency_paperwork": "补齐先行救助的手续",
    "refusal_notice": "书面告知不予批准的理由",
    "recheck": "复核",
    "gradual_exit_end": "渐退期结束",
}
_APPEAL_ZH = {"reconsideration": "申请行政复议", "litigation": "提起行政诉讼"}


@dataclass(frozen=True)
class CaseStep:
    label_zh: str
    done_on: dt.date | None
    due: dt.date | None = None
    provisional: bool = False


@dataclass(frozen=True)
class AppealOption:
    kind: str
    label_zh: str
    due: dt.date


@dataclass(frozen=True)
class CitizenTrack:
    track_id: int
    program: str
    title_zh: str
    status: str
    status_zh: str
    steps: tuple[CaseStep, ...]
    next_deadline_zh: str | None
    decision_zh: str | None
    notice_no: str | None
    appeals: tuple[AppealOption, ...]
    lodged_appeals: tuple[str, ...]


@dataclass(frozen=True)
class CitizenCase:
    application_id: int
    lodged_on: dt.date
    tracks: tuple[CitizenTrack, ...]


def _date_zh(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _title(program: str) -> str:
    prog = programs().get(program)
    return prog.title_zh if prog is not None else program


def _steps(track: Track, app: Application) -> tuple[CaseStep, ...]:
    def mark(name: str) -> bool:
        return provisional_deadline(track, name)

    steps = [
        CaseStep("提交申请", app.lodged_on),
        CaseStep("乡镇（街道）受理", app.accepted_on),
        CaseStep(
            "入户调查",
            track.home_visit_on or track.investigation_started_on,
            track.investigation_start_due,
            mark("investigation_start_due"),
        ),
        CaseStep(
            "乡镇（街道）审核意见",
            track.township_opinion_on,
            track.township_opinion_due,
            mark("township_opinion_due"),
        ),
    ]
    if track.procedure in {"dibao", "tekun"}:
        steps.append(CaseStep("公示（7天）", track.notice_posted_on, track.notice_ends_on))
    steps.append(
        CaseStep(
            "县级审批决定",
            track.decided_on,
            track.county_decision_due,
            mark("county_decision_due"),
        )
    )
    if track.decision != "refused":
        steps.append(CaseStep("开始发放", track.payment_started_on))
    return tuple(steps)


def _next_deadline(track: Track) -> str | None:
    due = pending_deadlines(track)
    if not due:
        return None
    name, day = due[0]
    mark = "（暂定）" if provisional_deadline(track, name) else ""
    return f"{_DEADLINE_ZH.get(name, name)}：{_date_zh(day)}前{mark}"


def _decision(track: Track) -> str | None:
    if track.decision == "approved":
        amount = format_yuan(track.amount_fen) if track.amount_fen is not None else "—"
        start = track.first_payment_month
        since = f"，自{int(start[:4])}年{int(start[5:])}月起" if start else ""
        return f"{_date_zh(track.decided_on) if track.decided_on else ''}批准{since}每月{amount}元"
    if track.decision == "refused":
        reasons = "；".join(track.refusal_reasons or ())
        return f"{_date_zh(track.decided_on) if track.decided_on else ''}不予批准：{reasons}"
    return None


def _appeal_options(
    track: Track, app: Application, tree: ParameterTree, today: dt.date
) -> tuple[AppealOption, ...]:
    if track.decided_on is None:
        return ()
    rules = DeadlineRules(tree, app.region_code)
    known = track.refusal_notified_on or track.decided_on
    options = []
    for kind in ("reconsideration", "litigation"):
        due = rules.appeal_lodge_due(kind, known)
        if today <= due:
            options.append(AppealOption(kind, _APPEAL_ZH[kind], due))
    return tuple(options)


def _citizen_track(
    session: Session, track: Track, app: Application, tree: ParameterTree, today: dt.date
) -> CitizenTrack:
    lodged = session.execute(
        select(Appeal.kind, Appeal.lodged_on, Appeal.status).where(Appeal.track_id == track.id)
    ).all()
    return CitizenTrack(
        track_id=track.id,
        program=track.program,
        title_zh=_title(track.program),
        status=track.status,
        status_zh=STATUS_ZH.get(track.status, track.status),
        steps=_steps(track, app),
        next_deadline_zh=_next_deadline(track),
        decision_zh=_decision(track),
        notice_no=track.notice_no,
        appeals=_appeal_options(track, app, tree, today),
        lodged_appeals=tuple(
            f"{_date_zh(on)}{_APPEAL_ZH[kind]}（{'已作出决定' if status == 'decided' else '处理中'}）"
            for kind, on, status in lodged
        ),
    )


def household_cases(
    session: Session, household_id: int, today: dt.date, tree: ParameterTree
) -> list[CitizenCase]:
    """The household's applications, newest first, each with its tracks' steps and deadlines."""
    apps = session.execute(
        select(Application)
        .where(Application.household_id == household_id)
        .order_by(Application.lodged_on.desc(), Application.id.desc())
    ).scalars()
    cases = []
    for app in apps:
        tracks = session.execute(
            select(Track).where(Track.application_id == app.id).order_by(Track.id)
        ).scalars()
        cases.append(
            CitizenCase(
                app.id,
                app.lodged_on,
                tuple(_citizen_track(session, t, app, tree, today) for t in tracks),
            )
        )
    return cases


def own_track(session: Session, household_id: int, track_id: int) -> Track:
    """The track ``track_id`` if it belongs to ``household_id``; any other is unknown."""
    row = session.execute(
        select(Track)
        .join(Application, Application.id == Track.application_id)
        .where(Track.id == track_id, Application.household_id == household_id)
    ).scalar_one_or_none()
    if row is None:
        raise UnknownNameError("track", str(track_id))
    return row


def citizen_appeal(
    session: Session,
    household_id: int,
    track_id: int,
    *,
    kind: Literal["reconsideration", "litigation"],
    grounds: str,
    decision_known_on: dt.date,
    on: dt.date,
    actor: Actor,
) -> c.LodgeAppeal:
    """The appeal a citizen lodges against their own track's decision, as a command."""
    own_track(session, household_id, track_id)
    return c.LodgeAppeal(
        actor=actor,
        on=on,
        track_id=track_id,
        kind=kind,
        decision_known_on=decision_known_on,
        grounds=grounds,
    )


# -- applying by self-declaration ------------------------------------------------------------------


@dataclass(frozen=True)
class MemberIncome:
    """What the citizen declares of one member: the monthly wage and other income (business and
    other earnings: the rules core's ``business_income``), in yuan."""

    person_id: int
    wage_income: Decimal = Decimal(0)
    other_income: Decimal = Decimal(0)
    employed: bool = False


@dataclass(frozen=True)
class SelfDeclaration:
    programs: tuple[str, ...]
    members: tuple[MemberIncome, ...]
    financial_assets: Decimal = Decimal(0)
    promise: bool = False  # 本人承诺所填信息真实


def self_service_programs() -> list[tuple[str, str]]:
    """The programs a household applies for at the one door (id, Chinese title)."""
    return sorted((pid, _title(pid)) for pid in DEPARTMENTS)


def _money(value: Decimal, field: str) -> str:
    if value < 0 or value > Decimal(10_000_000):
        raise InputError(
            field, "金额应在0至10,000,000元之间 / must be between 0 and 10,000,000 yuan"
        )
    return f"{value.quantize(Decimal('0.01'))}"


def _members(
    session: Session, household_id: int, declared: dict[int, MemberIncome]
) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Person, Membership.relation)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.household_id == household_id, Membership.end_date.is_(None))
        .order_by(Person.id)
    ).all()
    unknown = set(declared) - {p.id for p, _ in rows}
    if unknown:
        raise InputError("members", "只能申报本户成员 / only members of your own household")
    members = []
    for person, relation in rows:
        income = declared.get(person.id, MemberIncome(person.id))
        members.append(
            {
                "id_number": person.id_number,
                "name": person.name,
                "relation": relation,
                "birth_date": person.birth_date.isoformat(),
                "sex": person.sex,
                "wage_income": _money(income.wage_income, f"members[{person.id}].wage_income"),
                "business_income": _money(
                    income.other_income, f"members[{person.id}].other_income"
                ),
                "is_employed": income.employed,
            }
        )
    return members


def self_declared_application(
    session: Session,
    household_id: int,
    declaration: SelfDeclaration,
    *,
    on: dt.date,
    actor: Actor,
) -> c.SubmitApplication:
    """The application a citizen lodges for their own household, as a command: the members from
    the registry, the incomes and savings as declared."""
    if not declaration.promise:
        raise InputError("promise", "请确认所填信息真实 / confirm that what you declare is true")
    unknown = [p for p in declaration.programs if p not in DEPARTMENTS]
    if unknown:
        raise InputError("programs", f"不能通过本渠道申请 / not applied for here: {unknown[0]}")
    household = session.get(Household, household_id)
    if household is None:
        raise UnknownNameError("household", str(household_id))
    facts = {
        "household_id": household.household_no,
        "region": household.region_code,
        "hukou_type": household.hukou_type,
        "financial_assets": _money(declaration.financial_assets, "financial_assets"),
        "members": _members(session, household_id, {m.person_id: m for m in declaration.members}),
    }
    return c.SubmitApplication(
        actor=actor,
        on=on,
        household_region=household.region_code,
        household_no=household.household_no,
        region=household.region_code,
        household=facts,
        programs=declaration.programs or None,
    )


# -- complaints ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CitizenComplaint:
    lodged_on: dt.date
    about_zh: str
    text: str
    status_zh: str
    answer: str | None
    answer_due: dt.date | None = None  # by when the office answers (None before migration 0030)


def household_complaints(session: Session, household_id: int) -> list[CitizenComplaint]:
    """The household's complaints, newest first, with the office's answer where given."""
    rows = session.execute(
        select(Complaint, Track.program)
        .outerjoin(Track, Track.id == Complaint.track_id)
        .where(Complaint.household_id == household_id)
        .order_by(Complaint.lodged_on.desc(), Complaint.id.desc())
    ).all()
    return [
        CitizenComplaint(
            complaint.lodged_on,
            _title(program) if program else "其他",
            complaint.text,
            "已答复" if complaint.status == "answered" else "处理中",
            complaint.answer,
            complaint.answer_due,
        )
        for complaint, program in rows
    ]


def citizen_complaint(
    session: Session,
    household_id: int,
    *,
    text: str,
    track_id: int | None,
    on: dt.date,
    actor: Actor,
) -> c.LodgeComplaint:
    """The complaint a citizen lodges for their household, as a command (a track named must be
    the household's own)."""
    if track_id is not None:
        own_track(session, household_id, track_id)
    return c.LodgeComplaint(
        actor=actor, on=on, household_id=household_id, text=text, track_id=track_id
    )
