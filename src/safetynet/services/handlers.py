"""Handlers of service assistance: each command in one transaction with its audit entries.

A plan is made from one needs assessment: the rules core screens the household for every cash
program and says which services its members need (``policy.services``); each need is planned
month by month with the county's contract for that service in force, or listed as not offered
where there is none. A delivery is recorded by the provider and verified by another person; an
accepted verification publishes ``ServiceDeliveryVerified``, which payments records as a one-off
award to the provider, paid once by the next roll. A contract's budget is never overspent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, select

from safetynet.audit.log import Actor, append
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.money import format_yuan
from safetynet.domain.regions import default_registry, validate_region_code
from safetynet.errors import InputError, UnknownNameError
from safetynet.policy.engine import Params
from safetynet.policy.screening import screen
from safetynet.policy.services import SERVICES, service_needs
from safetynet.registry.repository import RegistryRepository
from safetynet.services import commands as c
from safetynet.services.events import ServiceDeliveryVerified
from safetynet.services.model import AssistancePlan, ServiceContract, ServiceDelivery

__all__ = ["HANDLERS", "PROGRAM_PREFIX", "months_between"]

Clock = Callable[[], dt.datetime]
PROGRAM_PREFIX = "service."
MAX_PLAN_MONTHS = 12


class ServiceRefusedError(InputError):
    """A step the rules of service assistance do not allow (the same person verifying what they
    recorded, a budget overspent, a delivery verified twice)."""


def months_between(first: str, last: str) -> list[str]:
    """``YYYY-MM`` months from ``first`` to ``last`` inclusive (at most a year)."""
    try:
        start = dt.date.fromisoformat(first + "-01")
        end = dt.date.fromisoformat(last + "-01")
    except ValueError:
        raise InputError("first_month", f"{first!r} or {last!r} is not a month YYYY-MM") from None
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if not months:
        raise InputError("last_month", "the plan's last month is before its first")
    if len(months) > MAX_PLAN_MONTHS:
        raise InputError("last_month", f"a plan covers at most {MAX_PLAN_MONTHS} months")
    return months


def _audit(uow: UnitOfWork, actor: Actor, command: str, event: str, entity: str, entity_id: int,
           after: Mapping[str, Any], now: dt.datetime) -> None:  # fmt: skip
    append(uow.session, actor=actor, command=command, event=event, entity=entity,
           entity_id=entity_id, after=after, occurred_at=now)  # fmt: skip


def add_service_contract(cmd: c.AddServiceContract, uow: UnitOfWork, clock: Clock) -> int:
    """Record a purchase contract; returns its id."""
    if cmd.service not in SERVICES:
        raise InputError("service", f"{cmd.service!r} is not one of {', '.join(SERVICES)}")
    region = validate_region_code(cmd.region)
    default_registry().get(region)
    if cmd.unit_price_fen <= 0 or cmd.budget_fen <= 0:
        raise InputError("unit_price", "the unit price and the budget are positive amounts")
    if cmd.ends_on < cmd.starts_on:
        raise InputError("ends_on", "the contract ends before it starts")
    code, provider = cmd.code.strip(), cmd.provider_code.strip()
    if not code or not provider or not cmd.provider_name.strip():
        raise InputError("code", "the contract, the provider's code and name are required")
    now = clock()
    contract = ServiceContract(
        code=code, service=cmd.service, region_code=region, provider_code=provider,
        provider_name=cmd.provider_name.strip(), unit_price_fen=cmd.unit_price_fen,
        budget_fen=cmd.budget_fen, starts_on=cmd.starts_on, ends_on=cmd.ends_on, created_at=now,
    )  # fmt: skip
    uow.session.add(contract)
    uow.session.flush()
    after = {"code": code, "service": cmd.service, "region": region, "provider": provider,
             "unit_price": format_yuan(cmd.unit_price_fen), "budget": format_yuan(cmd.budget_fen),
             "from": cmd.starts_on.isoformat(), "to": cmd.ends_on.isoformat()}  # fmt: skip
    _audit(uow, cmd.actor, "AddServiceContract", "ServiceContractAdded", "service_contract",
           contract.id, after, now)  # fmt: skip
    uow.commit()
    return contract.id


def _contract(uow: UnitOfWork, service: str, region: str, on: dt.date) -> ServiceContract | None:
    """The county's contract for ``service`` in force on ``on`` (the earliest signed)."""
    return uow.session.scalars(
        select(ServiceContract)
        .where(
            ServiceContract.service == service,
            ServiceContract.region_code == region,
            ServiceContract.starts_on <= on,
            ServiceContract.ends_on >= on,
        )
        .order_by(ServiceContract.id)
        .limit(1)
    ).first()


def make_assistance_plan(cmd: c.MakeAssistancePlan, uow: UnitOfWork, clock: Clock) -> int:
    """Assess the household and plan its cash and services; returns the plan's id."""
    household = uow.repo(RegistryRepository).household(cmd.household_region, cmd.household_no)
    if household is None:
        raise UnknownNameError("household", f"{cmd.household_region}/{cmd.household_no}")
    months = months_between(cmd.first_month, cmd.last_month)
    region = household.region_code
    lines = screen(cmd.household, cmd.on, region, fallbacks=cmd.fallbacks)
    eligible = {line.program for line in lines if line.eligible}
    cash = [{"program": line.program, "amount_fen": line.amount_fen}
            for line in lines if line.eligible]  # fmt: skip
    now = clock()
    plan = AssistancePlan(
        household_id=household.id, region_code=region, assessed_on=cmd.on,
        assessed_by=cmd.actor.name, first_month=months[0], last_month=months[-1], cash=cash,
        services=[], created_at=now,
    )  # fmt: skip
    uow.session.add(plan)
    uow.session.flush()
    services = []
    params = Params(cmd.on, region, fallbacks=cmd.fallbacks)
    for need in service_needs(cmd.household, cmd.on, region, eligible, params=params):
        contract = _contract(uow, need.service, region, cmd.on)
        services.append({
            "service": need.service, "member": need.member, "units_per_month": need.units_per_month,
            "unit": need.unit, "reason": need.reason, "parameters": list(need.parameters),
            "contract": contract.code if contract else None,
            "offered": contract is not None,
        })  # fmt: skip
        if contract is None:
            continue
        for month in months:
            uow.session.add(ServiceDelivery(
                plan_id=plan.id, contract_id=contract.id, household_id=household.id,
                member=need.member, service=need.service, month=month,
                planned_units=need.units_per_month, status="planned",
            ))  # fmt: skip
    plan.services = services
    after = {"household_id": household.id, "months": f"{months[0]}..{months[-1]}", "cash": cash,
             "services": services, "fallbacks": sorted(cmd.fallbacks or {})}  # fmt: skip
    _audit(uow, cmd.actor, "MakeAssistancePlan", "AssistancePlanMade", "assistance_plan", plan.id,
           after, now)  # fmt: skip
    uow.commit()
    return plan.id


def _delivery(uow: UnitOfWork, delivery_id: int) -> ServiceDelivery:
    delivery = uow.session.get(ServiceDelivery, delivery_id)
    if delivery is None:
        raise UnknownNameError("service delivery", str(delivery_id))
    return delivery


def record_delivery(cmd: c.RecordDelivery, uow: UnitOfWork, clock: Clock) -> None:
    """The provider's record of the month's service (at most the planned units)."""
    delivery = _delivery(uow, cmd.delivery_id)
    if delivery.status not in ("planned", "delivered"):
        raise ServiceRefusedError("delivery_id", f"delivery {delivery.id} is {delivery.status}")
    if not 0 < cmd.units <= delivery.planned_units:
        raise InputError(
            "units", f"between 1 and the {delivery.planned_units} units planned for the month"
        )
    if cmd.on.strftime("%Y-%m") < delivery.month:
        raise InputError("on", f"the service of {delivery.month} cannot be finished before it")
    now = clock()
    delivery.status, delivery.delivered_units = "delivered", cmd.units
    delivery.delivered_on, delivery.recorded_by = cmd.on, cmd.actor.name
    after = {"month": delivery.month, "service": delivery.service, "units": cmd.units,
             "on": cmd.on.isoformat()}  # fmt: skip
    _audit(uow, cmd.actor, "RecordDelivery", "ServiceDelivered", "service_delivery", delivery.id,
           after, now)  # fmt: skip
    uow.commit()


def _spent(uow: UnitOfWork, contract_id: int) -> int:
    total = uow.session.scalar(
        select(func.sum(ServiceDelivery.amount_fen)).where(
            ServiceDelivery.contract_id == contract_id, ServiceDelivery.status == "verified"
        )
    )
    return int(total or 0)


def verify_delivery(cmd: c.VerifyDelivery, uow: UnitOfWork, clock: Clock) -> None:
    """Accept (and pay) or reject a delivered service; never by the person who recorded it."""
    delivery = _delivery(uow, cmd.delivery_id)
    if cmd.method not in ("visit", "signature"):
        raise InputError("method", "visit (回访) or signature (服务对象签字确认)")
    if delivery.status != "delivered":
        raise ServiceRefusedError(
            "delivery_id",
            f"delivery {delivery.id} is {delivery.status}: only a delivered one is verified",
        )
    if delivery.recorded_by == cmd.actor.name:
        raise ServiceRefusedError(
            "actor",
            "登记人不得核验本人登记的服务 (the person who recorded the delivery cannot verify it)",
        )
    contract = uow.session.get(ServiceContract, delivery.contract_id)
    assert contract is not None  # a foreign key
    amount = int(delivery.delivered_units or 0) * contract.unit_price_fen
    if cmd.accepted and _spent(uow, contract.id) + amount > contract.budget_fen:
        raise ServiceRefusedError(
            "budget", f"contract {contract.code}'s budget of {format_yuan(contract.budget_fen)} "
            "would be overspent: the county tops it up or signs another contract",
        )  # fmt: skip
    if not cmd.accepted and not cmd.note.strip():
        raise InputError("note", "say why the delivery is rejected")
    now = clock()
    delivery.status = "verified" if cmd.accepted else "rejected"
    delivery.verification, delivery.verified_on, delivery.verified_by = (
        cmd.method,
        cmd.on,
        cmd.actor.name,
    )
    delivery.note = cmd.note.strip() or None
    delivery.amount_fen = amount if cmd.accepted else None
    after = {"status": delivery.status, "method": cmd.method, "units": delivery.delivered_units,
             "amount": format_yuan(amount) if cmd.accepted else None, "note": delivery.note}  # fmt: skip
    event = "ServiceDeliveryVerified" if cmd.accepted else "ServiceDeliveryRejected"
    _audit(uow, cmd.actor, "VerifyDelivery", event, "service_delivery", delivery.id, after, now)
    if cmd.accepted:
        uow.emit(ServiceDeliveryVerified(
            program=PROGRAM_PREFIX + delivery.service, case_id=delivery.id, sequence=1,
            kind="award", household_id=delivery.household_id, amount_fen=amount,
            payee="provider", provider=contract.provider_code, township=None, due_on=cmd.on,
            reason=f"{contract.code} {delivery.month} {delivery.delivered_units} units",
            actor=cmd.actor, occurred_at=now,
        ))  # fmt: skip
    uow.commit()


HANDLERS: dict[type, Callable[[Any, UnitOfWork, Clock], Any]] = {
    c.AddServiceContract: add_service_contract,
    c.MakeAssistancePlan: make_assistance_plan,
    c.RecordDelivery: record_delivery,
    c.VerifyDelivery: verify_delivery,
}
"""Every service-assistance command with its handler (wired in ``safetynet.bootstrap``)."""
