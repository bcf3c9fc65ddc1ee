"""Tables of service assistance: purchase contracts, assistance plans and service deliveries.

A **contract** (政府购买服务合同) names the provider (a social-work organisation or a care
institution, known to payments by its code), the service, the county, the unit price in fen and
the budget. A **plan** (救助帮扶计划) records one needs assessment of a household: the programs it
is eligible for with their amounts (cash) and the services its members need (units a month, why,
the contract that delivers them). A **delivery** is one member's service for one month: planned,
delivered by the provider (units), then verified by a home visit or the person's signature by an
official other than the one who recorded it; only a verified delivery is paid, once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.db.base import Base

__all__ = [
    "DELIVERY_STATUSES",
    "REFERRAL_KINDS",
    "AssistancePlan",
    "CharityOrganisation",
    "CharityReferral",
    "ServiceContract",
    "ServiceDelivery",
]

DELIVERY_STATUSES = ("planned", "delivered", "verified", "rejected")
VERIFICATIONS = ("visit", "signature")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class ServiceContract(Base):
    """A purchase contract: one provider, one service, one county, a unit price and a budget."""

    __tablename__ = "service_contracts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    service: Mapped[str] = mapped_column(String(40))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    provider_code: Mapped[str] = mapped_column(String(40))
    provider_name: Mapped[str] = mapped_column(String(200))
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("unit_price_fen > 0", name="unit_price"),
        CheckConstraint("budget_fen > 0", name="budget"),
        CheckConstraint("ends_on >= starts_on", name="period"),
    )


class AssistancePlan(Base):
    """One needs assessment of a household: cash programs and services together."""

    __tablename__ = "assistance_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6))
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    assessed_by: Mapped[str] = mapped_column(String(100))
    first_month: Mapped[str] = mapped_column(String(7))
    last_month: Mapped[str] = mapped_column(String(7))
    cash: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    services: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ServiceDelivery(Base):
    """One member's service for one month, from plan to verified (and paid) or rejected."""

    __tablename__ = "service_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("assistance_plans.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("service_contracts.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    member: Mapped[int] = mapped_column(Integer)
    service: Mapped[str] = mapped_column(String(40))
    month: Mapped[str] = mapped_column(String(7))
    planned_units: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    delivered_units: Mapped[int | None] = mapped_column(Integer)
    delivered_on: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by: Mapped[str | None] = mapped_column(String(100))
    verification: Mapped[str | None] = mapped_column(String(10))
    verified_on: Mapped[dt.date | None] = mapped_column(Date)
    verified_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        UniqueConstraint("plan_id", "service", "member", "month"),
        CheckConstraint(_one_of("status", DELIVERY_STATUSES), name="status"),
        CheckConstraint(
            f"verification IS NULL OR {_one_of('verification', VERIFICATIONS)}",
            name="verification",
        ),
        CheckConstraint("planned_units > 0", name="planned_units"),
    )


REFERRAL_KINDS = ("medical_gap", "hardship_above_limit", "service_not_offered")
REFERRAL_OUTCOMES = ("met", "partly_met", "declined")


class CharityOrganisation(Base):
    """A registered charitable organisation (慈善组织) that takes referrals in a region."""

    __tablename__ = "charity_organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18))  # 统一社会信用代码
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    fields: Mapped[list[str]] = mapped_column(JSON)  # the kinds of need it takes
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class CharityReferral(Base):
    """A need the government programs leave unmet, referred with the person's consent, and what
    the organisation gave back."""

    __tablename__ = "charity_referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("charity_organisations.id"))
    kind: Mapped[str] = mapped_column(String(24))
    need_fen: Mapped[int | None] = mapped_column(BigInteger)
    need: Mapped[str] = mapped_column(Text)
    consent_by: Mapped[str] = mapped_column(String(100))
    consent_on: Mapped[dt.date] = mapped_column(Date)
    referred_on: Mapped[dt.date] = mapped_column(Date)
    referred_by: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(String(12))
    given_fen: Mapped[int | None] = mapped_column(BigInteger)
    given: Mapped[str | None] = mapped_column(Text)
    answered_on: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        CheckConstraint(_one_of("kind", REFERRAL_KINDS), name="kind"),
        CheckConstraint(
            f"outcome IS NULL OR {_one_of('outcome', REFERRAL_OUTCOMES)}", name="outcome"
        ),
    )
