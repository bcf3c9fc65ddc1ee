"""Builders for the one-off award tests: a household with an account, an award published as the
case workflow publishes it (``BenefitAwarded`` through the bus), a return file for a bank file."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from safetynet.audit.log import Actor
from safetynet.bootstrap import bootstrap
from safetynet.cases.events import BenefitAwarded
from safetynet.db.engine import Database
from safetynet.payments.model import BankFileItem
from safetynet.policy.parameters import ParameterTree
from safetynet.registry.model import Household, Membership, Person

AT = dt.datetime(2025, 9, 10, 9, 0, tzinfo=dt.UTC)
OFFICER = Actor("county_chen", "county_approver", "110105")
ACCOUNT = "6212260200012345678"


def household(
    db: Database, number: str = "H1", region: str = "110105", account: str | None = ACCOUNT
) -> int:
    """A household of one member (its head), with a payee account from 2025-01-01 unless
    ``account`` is None. Returns its id."""
    from safetynet.payments.model import PayeeAccount

    with db.sessions.begin() as session:
        row = Household(
            region_code=region, household_no=number, hukou_type="urban", created_at=AT,
            updated_at=AT,
        )  # fmt: skip
        session.add(row)
        session.flush()
        person = Person(
            id_number=f"{region}19700501{int(''.join(filter(str.isdigit, number))):03d}X",
            name="李强",
            sex="male",
            birth_date=dt.date(1970, 5, 1),
            hukou_region_code=region,
            hukou_type="urban",
            created_at=AT,
            updated_at=AT,
        )
        session.add(person)
        session.flush()
        session.add(
            Membership(
                person_id=person.id,
                household_id=row.id,
                relation="head",
                start_date=dt.date(2020, 1, 1),
            )
        )
        if account is not None:
            session.add(
                PayeeAccount(
                    household_id=row.id, holder_person_id=person.id, bank_code="102",
                    account_number=account, valid_from=dt.date(2025, 1, 1), created_at=AT,
                    source="test",
                )
            )  # fmt: skip
        return row.id


def award(household_id: int, amount_fen: int, **kw: Any) -> BenefitAwarded:
    """A ``BenefitAwarded`` as the case workflow publishes it (temporary assistance, case 7,
    sequence 1, to the household's account, due 2025-09-10 unless given)."""
    values: dict[str, Any] = {
        "program": "temporary_assistance",
        "case_id": 7,
        "sequence": 1,
        "kind": "award",
        "household_id": household_id,
        "amount_fen": amount_fen,
        "payee": "household",
        "provider": None,
        "township": None,
        "due_on": dt.date(2025, 9, 10),
        "reason": "track 7 approved",
        "actor": OFFICER,
        "occurred_at": AT,
    }
    return BenefitAwarded(**(values | kw))


def publish(db: Database, *events: object, tree: ParameterTree | None = None) -> None:
    """The events in one unit of work of the bus, as the deciding case command's transaction."""
    with bootstrap(db, parameters=tree).unit_of_work() as uow:
        uow.emit(*events)
        uow.commit()


def return_file(db: Database, path: Path, file_id: int, booked: str = "2025-09-14") -> Path:
    """The bank's return file paying every item of bank file ``file_id``."""
    with db.sessions() as session:
        items = session.scalars(
            select(BankFileItem)
            .where(BankFileItem.bank_file_id == file_id)
            .order_by(BankFileItem.line)
        ).all()
        rows = [
            [str(file_id), str(i.instruction_id), i.account, str(i.amount_fen), "paid", booked]
            for i in items
        ]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file_id", "instruction_id", "account", "amount_fen", "result",
                         "booked_on"])  # fmt: skip
        writer.writerows(rows)
    return path
