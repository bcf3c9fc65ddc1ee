"""The bank file's re-check: every instruction about to be sent checked again, as it stands now,
against its enrolment and the deaths recorded (``payments.bankfile``, module docstring).

The instructions are read as columns in one locking query (their enrolments locked with them), the
enrolments' reasons and the deaths in one query each; only the instructions whose enrolment no
longer stands, that this check held before, or whose household has a death recorded are looked at
one by one (usually none), and what changes is written back in one statement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from safetynet.db.bulk import update_rows
from safetynet.payments.accounts import account_for_month
from safetynet.payments.deaths import KnownDeath, known_deaths
from safetynet.payments.holds import ENDED, NO_ACCOUNT, SUSPENDED, held_kind
from safetynet.payments.model import PayeeAccount, PaymentInstruction
from safetynet.payments.months import month_bounds, month_of
from safetynet.registry.model import Enrolment, EnrolmentHistory, Membership

__all__ = ["recheck"]

# Held for a reason the re-check gives (and takes back once the instruction stands again).
_RECHECK_KINDS = ("suspended", "ended", "payee died")


@dataclass(slots=True)
class _Instruction:
    """An instruction the re-check reads, as columns (its status and account may change)."""

    id: int
    enrolment_id: int
    household_id: int
    month: str
    amount_fen: int
    status: str
    held_reason: str | None
    account: str | None
    bank_code: str | None
    payee_account_id: int | None

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "held_reason": self.held_reason,
            "account": self.account,
            "bank_code": self.bank_code,
            "payee_account_id": self.payee_account_id,
        }


def _read(session: Session, scope: tuple[Any, ...]) -> list[Any]:
    """The instructions to check with their enrolment's status and end, locked (the enrolments
    too: a suspension or an end committed meanwhile is either seen or waits for the batch)."""
    i = PaymentInstruction
    rows: Any = session.execute(  # columns in the order of ``_Instruction``
        select(
            i.id,
            i.enrolment_id,
            i.household_id,
            i.month,
            i.amount_fen,
            i.status,
            i.held_reason,
            i.account,
            i.bank_code,
            i.payee_account_id,
            Enrolment.status,
            Enrolment.end_date,
        )
        .join(Enrolment, Enrolment.id == i.enrolment_id)
        .where(*scope, i.hold_id.is_(None), i.status.in_(("pending", "failed", "held")))
        .order_by(i.id)
        .with_for_update()
    )
    return list(rows)


def _reasons(session: Session, ids: set[int]) -> dict[int, str]:
    """The reason of each enrolment's last version."""
    reasons: dict[int, str] = {}
    if not ids:
        return reasons
    for enrolment_id, text in session.execute(
        select(EnrolmentHistory.enrolment_id, EnrolmentHistory.reason)
        .where(EnrolmentHistory.enrolment_id.in_(ids))
        .order_by(EnrolmentHistory.enrolment_id, EnrolmentHistory.version)
    ):
        reasons[enrolment_id] = text  # the last version's reason wins
    return reasons


def _reason(
    instruction: _Instruction,
    status: str,
    end: dt.date | None,
    why: str,
    dead: _Deaths | None,
) -> str | None:
    """Why the instruction no longer stands (None if it does)."""
    if status == "suspended":
        return f"{SUSPENDED}: {why}"
    if (
        status == "ended"
        and end is not None
        and instruction.month > month_of(end)
        and instruction.amount_fen > 0
    ):
        return f"{ENDED} on {end.isoformat()}: {why}"
    if dead is not None:
        return dead.reason(instruction)
    return None


def recheck(
    session: Session, scope: tuple[Any, ...], in_county: Any
) -> tuple[list[tuple[int, str, str]], int]:
    """Check the instructions about to be sent (and those this check held before) against their
    enrolments and the deaths recorded as they stand now (``payments.bankfile``). Returns the
    instructions newly held, with their reasons, and how many held ones stand again and are
    payable."""
    rows = _read(session, scope)
    dead = _Deaths.load(session, in_county) if rows else None
    concerned = set() if dead is None else set(dead.members)
    # The common case, told apart without a call or an object per instruction: an active
    # enrolment, not held by this check, no death in the household. Nothing changes for it.
    looked_at = [
        (_Instruction(*row[:10]), row[10], row[11])
        for row in rows
        if row[10] != "active"
        or row[2] in concerned
        or (row[5] == "held" and held_kind(None, row[6]) in _RECHECK_KINDS)
    ]
    reasons = _reasons(
        session, {i.enrolment_id for i, status, _ in looked_at if status != "active"}
    )
    stopped: list[tuple[int, str, str]] = []
    changed: list[_Instruction] = []
    resumed = 0
    for instruction, status, end in looked_at:
        before = instruction.row()
        why = reasons.get(instruction.enrolment_id) or "no reason recorded"
        reason = _reason(instruction, status, end, why, dead)
        if reason is None:
            if instruction.status == "held" and held_kind(None, instruction.held_reason) in (
                _RECHECK_KINDS
            ):
                if instruction.account is None:
                    instruction.held_reason = NO_ACCOUNT
                else:
                    instruction.status = "pending"
                    instruction.held_reason = None
                    resumed += 1
        elif not (instruction.status == "held" and instruction.held_reason == reason):
            instruction.status = "held"
            instruction.held_reason = reason
            stopped.append((instruction.id, instruction.month, reason))
        if instruction.row() != before:
            changed.append(instruction)
    update_rows(session, PaymentInstruction, "id", [i.row() for i in changed])
    return stopped, resumed


@dataclass(frozen=True, slots=True)
class _Account:
    id: int
    holder_person_id: int
    bank_code: str
    account_number: str
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass
class _Deaths:
    """The deaths recorded, by any door, of the county's members and account holders (one
    query), with the memberships and accounts of the households they concern, needed to tell
    whom an instruction pays (read only for those households: usually few or none)."""

    deaths: dict[int, KnownDeath]
    holders: dict[int, int]  # account id → holder, for the households concerned
    members: dict[int, list[tuple[int, dt.date, dt.date | None]]]  # household → memberships
    accounts: dict[int, list[_Account]]  # household → accounts, in id order

    @classmethod
    def load(cls, session: Session, in_county: Any) -> _Deaths:
        persons = union(
            select(Membership.person_id).where(Membership.household_id.in_(in_county)),
            select(PayeeAccount.holder_person_id).where(PayeeAccount.household_id.in_(in_county)),
        )
        deaths = known_deaths(session, persons)
        households = sorted(_concerned(session, sorted(deaths), in_county))
        members: dict[int, list[tuple[int, dt.date, dt.date | None]]] = {}
        accounts: dict[int, list[_Account]] = {}
        a = PayeeAccount
        for start in range(0, len(households), 900):
            chunk = households[start : start + 900]
            for household_id, person_id, begins, ends in session.execute(
                select(
                    Membership.household_id,
                    Membership.person_id,
                    Membership.start_date,
                    Membership.end_date,
                ).where(Membership.household_id.in_(chunk))
            ):
                members.setdefault(household_id, []).append((person_id, begins, ends))
            found: Any = session.execute(
                select(
                    a.household_id,
                    a.id,
                    a.holder_person_id,
                    a.bank_code,
                    a.account_number,
                    a.valid_from,
                    a.valid_to,
                )
                .where(a.household_id.in_(chunk))
                .order_by(a.id)
            )
            for household_id, *values in found:
                accounts.setdefault(household_id, []).append(_Account(*values))
        holders = {a.id: a.holder_person_id for found in accounts.values() for a in found}
        return cls(deaths, holders, members, accounts)

    def _dead_by(self, person_id: int, day: dt.date) -> KnownDeath | None:
        death = self.deaths.get(person_id)
        return death if death is not None and death.died_on <= day else None

    def reason(self, instruction: _Instruction) -> str | None:
        """Why the instruction no longer stands for a death (None if it does). The payee dead
        on or before the month's first day: another account of the household valid in the month,
        held by someone alive, is taken instead, else it is held. A household left with no member
        alive on that day (one person who died) is held too; the death of another member of a
        larger household is for its re-check, not the bank file."""
        if instruction.household_id not in self.members:
            return None  # no member or account holder of the household is recorded dead
        first, last = month_bounds(instruction.month)
        options = self.accounts.get(instruction.household_id, [])
        holder = (
            None
            if instruction.payee_account_id is None
            else self.holders.get(instruction.payee_account_id)
        )
        payee_death = None if holder is None else self._dead_by(holder, first)
        if payee_death is not None:
            chosen = account_for_month(options, first, last)  # type: ignore[arg-type]
            account = None if chosen is None else options[chosen]
            if account is None or self._dead_by(account.holder_person_id, first) is not None:
                return payee_death.reason
            instruction.account = account.account_number
            instruction.bank_code = account.bank_code
            instruction.payee_account_id = account.id
        alive, dead = False, []
        for person_id, start, end in self.members.get(instruction.household_id, []):
            death = self._dead_by(person_id, first)
            if death is None:
                alive = alive or (start <= first and (end is None or end >= first))
            elif start <= death.died_on:
                dead.append(death)
        if dead and not alive:
            return min(dead, key=lambda d: d.died_on).reason
        return None


def _concerned(session: Session, dead: list[int], in_county: Any) -> set[int]:
    """The county's households with a member or an account holder among ``dead``."""
    concerned: set[int] = set()
    for start in range(0, len(dead), 900):
        chunk = dead[start : start + 900]
        concerned.update(
            session.scalars(
                union(
                    select(Membership.household_id).where(
                        Membership.person_id.in_(chunk),
                        Membership.household_id.in_(in_county),
                    ),
                    select(PayeeAccount.household_id).where(
                        PayeeAccount.holder_person_id.in_(chunk),
                        PayeeAccount.household_id.in_(in_county),
                    ),
                )
            )
        )
    return concerned
