"""What a citizen sees of their household's benefits: each benefit, its amount and why, and the
next payment, in plain Chinese (issue 13, self-service).

Every query takes the signed-in citizen's ``household_id`` and reads nothing of any other
household. The next payment is the month after the last one the roll has paid (or the first month
of the enrolment), payable by the day of the month the parameter
``payments.timeliness.paid_by_day`` names for the household's region; its amount is the sum of the
household's active enrolments in that month. The bank account shown is masked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safetynet.domain.money import format_yuan
from safetynet.domain.regions import default_registry
from safetynet.payments.masking import mask_account
from safetynet.payments.model import PayeeAccount, PaymentInstruction
from safetynet.policy.engine import programs
from safetynet.policy.parameters import ParameterTree
from safetynet.registry.model import Enrolment, Household

__all__ = ["Benefit", "HouseholdBenefits", "NextPayment", "household_benefits"]

PAID_BY_DAY = "payments.timeliness.paid_by_day"
_STATUS_ZH = {
    "active": "正在发放",
    "suspended": "暂停发放",
    "ended": "已停止",
    "pending": "待发放",
}


@dataclass(frozen=True)
class Benefit:
    program: str
    title_zh: str
    status: str
    status_zh: str
    amount_fen: int
    start: dt.date
    end: dt.date | None
    why_zh: str

    @property
    def amount_yuan(self) -> str:
        return format_yuan(self.amount_fen)


@dataclass(frozen=True)
class NextPayment:
    month: str  # YYYY-MM
    by_date: dt.date
    amount_fen: int
    account_masked: str | None
    said_zh: str

    @property
    def amount_yuan(self) -> str:
        return format_yuan(self.amount_fen)


@dataclass(frozen=True)
class HouseholdBenefits:
    household_id: int
    benefits: tuple[Benefit, ...]
    next_payment: NextPayment | None
    last_paid_month: str | None


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _month_zh(month: str) -> str:
    year, mon = month.split("-")
    return f"{int(year)}年{int(mon)}月"


def _next_month(month: str) -> str:
    year, mon = (int(x) for x in month.split("-"))
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def _why(enrolment: Enrolment, title: str) -> str:
    amount = format_yuan(enrolment.amount_fen)
    since = _month_zh(_month(enrolment.start_date))
    if enrolment.status == "active":
        said = f"你户经审批享受{title}，自{since}起每月{amount}元，按月发放到你户的银行账户。"
    elif enrolment.status == "suspended":
        said = f"你户的{title}已暂停发放（每月{amount}元），如有疑问请联系乡镇（街道）。"
    else:
        said = f"你户的{title}（自{since}起每月{amount}元）"
    if enrolment.end_date is not None:
        said += f"发放至{_month_zh(_month(enrolment.end_date))}为止。"
    return said


def _benefit(enrolment: Enrolment) -> Benefit:
    program = programs().get(enrolment.program)
    title = program.title_zh if program is not None else enrolment.program
    return Benefit(
        program=enrolment.program,
        title_zh=title,
        status=enrolment.status,
        status_zh=_STATUS_ZH.get(enrolment.status, enrolment.status),
        amount_fen=enrolment.amount_fen,
        start=enrolment.start_date,
        end=enrolment.end_date,
        why_zh=_why(enrolment, title),
    )


def _in_month(enrolment: Enrolment, month: str) -> bool:
    first = dt.date.fromisoformat(f"{month}-01")
    started = _month(enrolment.start_date) <= month
    not_ended = enrolment.end_date is None or enrolment.end_date >= first
    return enrolment.status == "active" and started and not_ended


def _account(session: Session, household_id: int, on: dt.date) -> str | None:
    number = session.execute(
        select(PayeeAccount.account_number)
        .where(
            PayeeAccount.household_id == household_id,
            PayeeAccount.valid_from <= on,
            (PayeeAccount.valid_to.is_(None)) | (PayeeAccount.valid_to >= on),
        )
        .order_by(PayeeAccount.valid_from.desc())
        .limit(1)
    ).scalar_one_or_none()
    return mask_account(number) if number else None


def _next_payment(
    session: Session,
    household: Household,
    enrolments: list[Enrolment],
    last_paid: str | None,
    today: dt.date,
    tree: ParameterTree,
) -> NextPayment | None:
    active = [e for e in enrolments if e.status == "active"]
    if not active:
        return None
    month = max(
        _next_month(last_paid) if last_paid else "0000-00",
        min(_month(e.start_date) for e in active),
        _month(today),
    )
    due = [e for e in active if _in_month(e, month)]
    if not due:
        return None
    lineage = default_registry().lineage_codes(household.region_code)
    first = dt.date.fromisoformat(f"{month}-01")
    day = int(tree.resolve(PAID_BY_DAY, first, lineage).value)
    by_date = first.replace(day=day)
    amount = sum(e.amount_fen for e in due)
    said = (
        f"下一次发放：{_month_zh(month)}的{format_yuan(amount)}元，"
        f"预计{by_date.month}月{by_date.day}日前到账。"
    )
    return NextPayment(month, by_date, amount, _account(session, household.id, by_date), said)


def household_benefits(
    session: Session, household_id: int, today: dt.date, tree: ParameterTree
) -> HouseholdBenefits:
    """The benefits of the household ``household_id`` and its next payment."""
    household = session.get(Household, household_id)
    if household is None:
        return HouseholdBenefits(household_id, (), None, None)
    enrolments = list(
        session.execute(
            select(Enrolment)
            .where(Enrolment.household_id == household_id)
            .order_by(Enrolment.start_date, Enrolment.id)
        ).scalars()
    )
    last_paid = session.execute(
        select(func.max(PaymentInstruction.month)).where(
            PaymentInstruction.household_id == household_id,
            PaymentInstruction.status == "paid",
            PaymentInstruction.award_id.is_(None),
        )
    ).scalar_one_or_none()
    return HouseholdBenefits(
        household_id=household_id,
        benefits=tuple(_benefit(e) for e in enrolments),
        next_payment=_next_payment(session, household, enrolments, last_paid, today, tree),
        last_paid_month=last_paid,
    )
