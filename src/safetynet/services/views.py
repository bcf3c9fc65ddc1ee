"""Read-side queries of service assistance: a household's plans, the deliveries of a region by
month and status, and each contract's budget spent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safetynet.domain.regions import region_subtree
from safetynet.services.model import AssistancePlan, ServiceContract, ServiceDelivery

__all__ = ["contract_rows", "delivery_rows", "plan_view"]


def delivery_rows(
    session: Session, *, within: str, month: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """Deliveries of the contracts of ``within`` and below, oldest month first."""
    query = (
        select(ServiceDelivery, ServiceContract.code, ServiceContract.provider_name)
        .join(ServiceContract, ServiceContract.id == ServiceDelivery.contract_id)
        .where(ServiceContract.region_code.in_(region_subtree(within)))
        .order_by(ServiceDelivery.month, ServiceDelivery.id)
    )
    if month is not None:
        query = query.where(ServiceDelivery.month == month)
    if status is not None:
        query = query.where(ServiceDelivery.status == status)
    return [
        {
            "id": d.id,
            "plan_id": d.plan_id,
            "household_id": d.household_id,
            "member": d.member,
            "service": d.service,
            "month": d.month,
            "contract": code,
            "provider": provider,
            "planned_units": d.planned_units,
            "delivered_units": d.delivered_units,
            "status": d.status,
            "verification": d.verification,
            "amount_fen": d.amount_fen,
        }
        for d, code, provider in session.execute(query)
    ]


def contract_rows(session: Session, *, within: str) -> list[dict[str, Any]]:
    """Contracts of ``within`` and below with the budget spent on verified deliveries."""
    spent = (
        select(ServiceDelivery.contract_id, func.sum(ServiceDelivery.amount_fen).label("spent"))
        .where(ServiceDelivery.status == "verified")
        .group_by(ServiceDelivery.contract_id)
        .subquery()
    )
    query = (
        select(ServiceContract, spent.c.spent)
        .outerjoin(spent, spent.c.contract_id == ServiceContract.id)
        .where(ServiceContract.region_code.in_(region_subtree(within)))
        .order_by(ServiceContract.id)
    )
    return [
        {
            "code": k.code,
            "service": k.service,
            "region_code": k.region_code,
            "provider": k.provider_name,
            "unit_price_fen": k.unit_price_fen,
            "budget_fen": k.budget_fen,
            "spent_fen": int(used or 0),
            "from": k.starts_on.isoformat(),
            "to": k.ends_on.isoformat(),
        }
        for k, used in session.execute(query)
    ]


def plan_view(session: Session, plan_id: int) -> dict[str, Any] | None:
    """One plan: its cash lines and services, with the deliveries so far."""
    plan = session.get(AssistancePlan, plan_id)
    if plan is None:
        return None
    deliveries = session.scalars(
        select(ServiceDelivery)
        .where(ServiceDelivery.plan_id == plan_id)
        .order_by(ServiceDelivery.id)
    ).all()
    return {
        "id": plan.id, "household_id": plan.household_id, "region_code": plan.region_code,
        "assessed_on": plan.assessed_on.isoformat(), "assessed_by": plan.assessed_by,
        "months": f"{plan.first_month}..{plan.last_month}", "cash": plan.cash,
        "services": plan.services,
        "deliveries": [
            {"id": d.id, "service": d.service, "member": d.member, "month": d.month,
             "status": d.status, "planned_units": d.planned_units,
             "delivered_units": d.delivered_units, "amount_fen": d.amount_fen}
            for d in deliveries
        ],
    }  # fmt: skip
