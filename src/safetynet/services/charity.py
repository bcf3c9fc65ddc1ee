"""Charity linkage (慈善帮扶衔接): a need the government programs leave unmet — a gap the rules core
states (medical costs left after medical assistance, a hardship above the county's temporary
assistance limit) or a service a plan needs that the county does not offer — is referred, with
the person's consent, to a registered charitable organisation, which answers what it gave.

Every step is a command with its audit entry; the figures of needs referred and met per kind
come from ``charity_stats``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.audit.log import append
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.money import format_yuan
from safetynet.domain.regions import default_registry, region_subtree, validate_region_code
from safetynet.errors import InputError, UnknownNameError
from safetynet.policy.services import unmet_needs
from safetynet.registry.model import Household
from safetynet.registry.repository import RegistryRepository
from safetynet.services import commands as c
from safetynet.services.model import (
    REFERRAL_KINDS,
    AssistancePlan,
    CharityOrganisation,
    CharityReferral,
)

__all__ = ["HANDLERS", "KindStats", "charity_stats"]

Clock = Callable[[], dt.datetime]


def register_charity(cmd: c.RegisterCharity, uow: UnitOfWork, clock: Clock) -> int:
    """Add an organisation; returns its id."""
    region = validate_region_code(cmd.region)
    default_registry().get(region)
    credit = cmd.credit_code.strip().upper()
    if len(credit) != 18 or not credit.isalnum():
        raise InputError("credit_code", "is the 18-character unified social credit code")
    unknown = [f for f in cmd.fields if f not in REFERRAL_KINDS]
    if unknown or not cmd.fields:
        raise InputError("fields", f"name the kinds of need it takes: {', '.join(REFERRAL_KINDS)}")
    if not cmd.code.strip() or not cmd.name.strip():
        raise InputError("code", "the organisation's code and name are required")
    now = clock()
    row = CharityOrganisation(code=cmd.code.strip(), name=cmd.name.strip(), credit_code=credit,
                              region_code=region, fields=list(cmd.fields), created_at=now)  # fmt: skip
    uow.session.add(row)
    uow.session.flush()
    append(uow.session, actor=cmd.actor, command="RegisterCharity", event="CharityRegistered",
           entity="charity_organisation", entity_id=row.id,
           after={"code": row.code, "name": row.name, "region": region, "fields": row.fields},
           occurred_at=now)  # fmt: skip
    uow.commit()
    return row.id


def _need(uow: UnitOfWork, cmd: c.ReferToCharity, household: Household) -> tuple[int | None, str]:
    """The need referred, as the rules core or the plan states it: (amount in fen, words)."""
    if cmd.kind == "service_not_offered":
        plan = uow.session.get(AssistancePlan, cmd.plan_id) if cmd.plan_id else None
        if plan is None or plan.household_id != household.id:
            raise InputError("plan_id", "name the household's assistance plan")
        wanted = [s for s in plan.services if s["service"] == cmd.service and not s["offered"]]
        if not wanted:
            raise InputError("service", f"the plan has no {cmd.service!r} need left unoffered")
        return None, f"{wanted[0]['reason']}：{cmd.service}（本县无购买服务合同）"
    if cmd.household is None:
        raise InputError("household", "the household's facts are needed to state the gap")
    gaps = [g for g in unmet_needs(cmd.household, cmd.on, household.region_code,
                                   fallbacks=cmd.fallbacks) if g.kind == cmd.kind]  # fmt: skip
    if not gaps:
        raise InputError(
            "kind", f"the rules core finds no {cmd.kind} for this household: nothing to refer"
        )
    return gaps[0].amount_fen, gaps[0].explanation


def refer_to_charity(cmd: c.ReferToCharity, uow: UnitOfWork, clock: Clock) -> int:
    """Refer the need (with consent) to the organisation; returns the referral's id."""
    if cmd.kind not in REFERRAL_KINDS:
        raise InputError("kind", f"{cmd.kind!r} is not one of {', '.join(REFERRAL_KINDS)}")
    if not cmd.consent or not cmd.consent_by.strip():
        raise InputError(
            "consent", "a referral needs the person's consent, and who gave it (本人同意)"
        )
    household = uow.repo(RegistryRepository).household(cmd.household_region, cmd.household_no)
    if household is None:
        raise UnknownNameError("household", f"{cmd.household_region}/{cmd.household_no}")
    organisation = uow.session.scalars(
        select(CharityOrganisation).where(CharityOrganisation.code == cmd.organisation)
    ).one_or_none()
    if organisation is None:
        raise UnknownNameError("charity organisation", cmd.organisation)
    if cmd.kind not in organisation.fields:
        raise InputError("organisation", f"{organisation.name} does not take {cmd.kind}")
    amount, words = _need(uow, cmd, household)
    now = clock()
    referral = CharityReferral(
        household_id=household.id, organisation_id=organisation.id, kind=cmd.kind,
        need_fen=amount, need=words, consent_by=cmd.consent_by.strip(), consent_on=cmd.on,
        referred_on=cmd.on, referred_by=cmd.actor.name,
    )  # fmt: skip
    uow.session.add(referral)
    uow.session.flush()
    after = {"household_id": household.id, "organisation": organisation.code, "kind": cmd.kind,
             "need": format_yuan(amount) if amount is not None else None, "words": words,
             "consent_by": referral.consent_by}  # fmt: skip
    append(uow.session, actor=cmd.actor, command="ReferToCharity", event="CharityReferred",
           entity="charity_referral", entity_id=referral.id, after=after, occurred_at=now)  # fmt: skip
    uow.commit()
    return referral.id


def record_charity_answer(cmd: c.RecordCharityAnswer, uow: UnitOfWork, clock: Clock) -> None:
    """Record what the organisation gave back (once)."""
    referral = uow.session.get(CharityReferral, cmd.referral_id)
    if referral is None:
        raise UnknownNameError("charity referral", str(cmd.referral_id))
    if referral.outcome is not None:
        raise InputError("referral_id", f"referral {referral.id} is already answered")
    if cmd.outcome not in ("met", "partly_met", "declined"):
        raise InputError("outcome", "met, partly_met or declined")
    if cmd.given_fen < 0 or (cmd.outcome == "declined" and cmd.given_fen):
        raise InputError("given_fen", "not negative, and nothing when declined")
    if cmd.on < referral.referred_on:
        raise InputError("on", "the answer cannot be before the referral")
    now = clock()
    referral.outcome, referral.given_fen = cmd.outcome, cmd.given_fen
    referral.given, referral.answered_on = cmd.given.strip() or None, cmd.on
    after = {"outcome": cmd.outcome, "given": format_yuan(cmd.given_fen), "what": referral.given}
    append(uow.session, actor=cmd.actor, command="RecordCharityAnswer", event="CharityAnswered",
           entity="charity_referral", entity_id=referral.id, after=after, occurred_at=now)  # fmt: skip
    uow.commit()


@dataclass
class KindStats:
    """Referrals of one kind of need: how many, answered how, amounts needed and given."""

    kind: str
    referred: int = 0
    met: int = 0
    partly_met: int = 0
    declined: int = 0
    waiting: int = 0
    need_fen: int = 0
    given_fen: int = 0
    organisations: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "referred": self.referred, "met": self.met,
            "partly_met": self.partly_met, "declined": self.declined, "waiting": self.waiting,
            "need": format_yuan(self.need_fen), "given": format_yuan(self.given_fen),
            "organisations": len(self.organisations),
        }  # fmt: skip


def charity_stats(session: Session, *, within: str) -> list[KindStats]:
    """Needs referred and met per kind, for households of ``within`` and below."""
    rows = session.execute(
        select(CharityReferral, CharityOrganisation.code)
        .join(Household, Household.id == CharityReferral.household_id)
        .join(CharityOrganisation, CharityOrganisation.id == CharityReferral.organisation_id)
        .where(Household.region_code.in_(region_subtree(within)))
    ).all()
    stats = {kind: KindStats(kind) for kind in REFERRAL_KINDS}
    for referral, organisation in rows:
        row = stats[referral.kind]
        row.referred += 1
        row.organisations.add(organisation)
        row.need_fen += referral.need_fen or 0
        row.given_fen += referral.given_fen or 0
        if referral.outcome is None:
            row.waiting += 1
        else:
            setattr(row, referral.outcome, getattr(row, referral.outcome) + 1)
    return [s for s in stats.values() if s.referred]


HANDLERS: dict[type, Callable[[Any, UnitOfWork, Clock], Any]] = {
    c.RegisterCharity: register_charity,
    c.ReferToCharity: refer_to_charity,
    c.RecordCharityAnswer: record_charity_answer,
}
"""The charity-linkage commands with their handlers (wired in ``safetynet.bootstrap``)."""
