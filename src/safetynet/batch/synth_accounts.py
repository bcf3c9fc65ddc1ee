"""Synthetic social-security-card accounts for the households the registry pays.

For the demo and the benchmarks: a CSV in the account import format of docs/payments.md, one row
per household with a current enrolment, the card held by the household's head (or its first
member), at one of the card-issuing banks, with a 19-digit card number carrying a valid Luhn
check digit. A share of the households (``missing_share``) gets no row, so that the roll holds
their payments until an account is recorded, as it must. Deterministic for a seed.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
from sqlalchemy import select
from stdnum import luhn

from safetynet.db.engine import Database
from safetynet.errors import InputError
from safetynet.payments.accounts import BANK_CATEGORIES
from safetynet.registry.model import Enrolment, Household, Membership, Person

__all__ = ["HEADERS", "write_synthetic_accounts"]

HEADERS = (
    "行政区划代码",
    "户编号",
    "持卡人身份证号",
    "持卡人姓名",
    "开户行行号",
    "社保卡银行账号",
    "启用日期",
)
_CARD_BANKS = ("102", "103", "104", "105", "403")  # the banks issuing most social-security cards


def write_synthetic_accounts(
    db: Database, out: Path, valid_from: dt.date, *, seed: int = 1, missing_share: float = 0.005
) -> tuple[int, int]:
    """Write the accounts file; returns (rows written, households left without an account)."""
    if not 0 <= missing_share < 1:
        raise InputError("--missing-share", "must be at least 0 and less than 1")
    assert set(_CARD_BANKS) <= set(BANK_CATEGORIES)
    with db.sessions() as session:
        paid = select(Enrolment.household_id).where(Enrolment.status != "ended").distinct()
        rows = session.execute(
            select(Household.id, Household.region_code, Household.household_no,
                   Person.id_number, Person.name, Membership.relation)
            .join(Membership, Membership.household_id == Household.id)
            .join(Person, Person.id == Membership.person_id)
            .where(Household.id.in_(paid), Membership.end_date.is_(None))
            .order_by(Household.id, Membership.relation != "head", Person.id)
        ).all()  # fmt: skip
    holders: dict[int, tuple[str, str, str, str]] = {}
    for household_id, region, number, id_number, name, _relation in rows:
        holders.setdefault(household_id, (region, number, id_number, name))
    rng = np.random.default_rng([seed, 20250901])
    ids = sorted(holders)
    skip = rng.random(len(ids)) < missing_share
    banks = rng.integers(0, len(_CARD_BANKS), len(ids))
    bodies = rng.integers(0, 10**12, len(ids))
    written = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for i, household_id in enumerate(ids):
            if skip[i]:
                continue
            region, number, id_number, name = holders[household_id]
            stem = f"621{int(banks[i]):02d}{int(bodies[i]):012d}{household_id % 1000:03d}"[:18]
            card = stem + luhn.calc_check_digit(stem)
            writer.writerow(
                [
                    region,
                    number,
                    id_number,
                    name,
                    _CARD_BANKS[banks[i]],
                    card,
                    valid_from.isoformat(),
                ]
            )
            written += 1
    tmp.replace(out)
    return written, int(skip.sum())
