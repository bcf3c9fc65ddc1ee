"""The workbench on the demo database: one demo sign-in per role (opened once, through the
accounts commands, so they are audited like any account), and how to open it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from safetynet.db.engine import Database

__all__ = [
    "DEMO_CITIZEN_PHONE",
    "DEMO_PASSWORD",
    "demo_sign_ins",
    "ensure_demo_accounts",
    "ensure_demo_citizen",
    "print_citizen",
    "print_workbench",
]

DEMO_PASSWORD = "safetynet-demo"
"""The password of every demo sign-in (a demo database only: synthetic people)."""

DEMO_CITIZEN_PHONE = "13800138000"
"""The mobile number the demo gives one synthetic citizen (the development SMS sender shows the
code on the sign-in page; nothing is sent)."""
CITIZEN_FILE = "demo-citizen.txt"


def demo_sign_ins(counties: Sequence[str]) -> list[tuple[str, str, str, str]]:
    """(username, role, region, name) of the demo sign-ins: every role in the first county, and
    a clerk of the second (who sees none of the first county's cases)."""
    from safetynet.entrypoints.api.policy import Role

    first = counties[0]
    names = {
        Role.INTAKE_CLERK: "李文（受理）",
        Role.INVESTIGATOR: "王强（调查）",
        Role.TOWNSHIP_REVIEWER: "周敏（乡镇审核）",
        Role.COUNTY_APPROVER: "孙丽（县级审批）",
        Role.AUDITOR: "赵刚（审计）",
        Role.ANALYST: "钱芳（统计）",
    }
    rows = [(f"demo.{role.value}", role.value, first, name) for role, name in names.items()]
    if len(counties) > 1:
        rows.append(("demo.other_clerk", Role.INTAKE_CLERK.value, counties[1], "陈静（邻区受理）"))
    return rows


def ensure_demo_accounts(db: Database, counties: Sequence[str]) -> list[tuple[str, str, str, str]]:
    """Open the demo sign-ins that do not exist yet; returns them all."""
    from safetynet.accounts.commands import AddStaffAccount
    from safetynet.accounts.model import StaffAccount
    from safetynet.audit.log import Actor
    from safetynet.bootstrap import bootstrap

    rows = demo_sign_ins(counties)
    with db.sessions() as session:
        existing = set(session.scalars(select(StaffAccount.username)))
    bus = bootstrap(db)
    for username, role, region, name in rows:
        if username not in existing:
            bus.handle(
                AddStaffAccount(
                    actor=Actor("demo", "administrator", None),
                    username=username,
                    display_name=name,
                    role=role,
                    region=region,
                    password=DEMO_PASSWORD,
                )
            )
    return rows


def print_workbench(out: Console, rows: Sequence[tuple[str, str, str, str]], url: str) -> None:
    """How to open the workbench, and the demo sign-ins."""
    out.print(
        f"\nThe web workbench (工作台): {url}  — sign in as one of these "
        f"(password {DEMO_PASSWORD}):",
        markup=False,
    )
    table = Table("username", "role", "region", "name")
    for row in rows:
        table.add_row(*row)
    out.print(table)


def ensure_demo_citizen(db: Database, county: str, workdir: Path) -> tuple[str, Path] | None:
    """One citizen who can sign in on the demo: the head of a household of ``county`` paid
    dibao, given a mobile number through a change request that a second person approves (as a
    township would). Their identity number is written to ``workdir/demo-citizen.txt`` (a
    synthetic person; every screen masks it) and returned masked with that path."""
    from safetynet.audit.log import Actor
    from safetynet.bootstrap import bootstrap
    from safetynet.domain.identity import mask_identity_number
    from safetynet.registry.changes import ApproveChange, ChangeDetails, RequestChange
    from safetynet.registry.model import Enrolment, Household, Membership, Person

    with db.sessions() as session:
        found = session.execute(
            select(Person, Household)
            .join(Membership, Membership.person_id == Person.id)
            .join(Household, Household.id == Membership.household_id)
            .join(Enrolment, Enrolment.household_id == Household.id)
            .where(
                Household.region_code == county,
                Membership.relation == "head",
                Membership.end_date.is_(None),
                Enrolment.program == "dibao",
                Enrolment.status == "active",
            )
            .order_by(Household.id)
            .limit(1)
        ).first()
    if found is None:
        return None
    person, household = found
    if person.phone != DEMO_CITIZEN_PHONE:
        bus = bootstrap(db)
        request_id = bus.handle(
            RequestChange(
                county, household.household_no, "fact_change",
                ChangeDetails(id_number=person.id_number, field="phone", value=DEMO_CITIZEN_PHONE),
                "演示：登记手机号 demo mobile number", Actor("demo.clerk", "intake_clerk", county),
            )
        )  # fmt: skip
        bus.handle(ApproveChange(request_id, Actor("demo.reviewer", "township_reviewer", county)))
    path = workdir / CITIZEN_FILE
    path.write_text(
        "演示居民登录 demo citizen sign-in (synthetic person)\n"
        f"身份证号 identity number: {person.id_number}\n"
        f"手机号 mobile: {DEMO_CITIZEN_PHONE} (the sign-in page shows the code)\n",
        encoding="utf-8",
    )
    return mask_identity_number(person.id_number), path


def print_citizen(out: Console, citizen: tuple[str, Path] | None, url: str) -> None:
    """How the demo citizen signs in (their number masked here; in full in the file)."""
    if citizen is None:
        return
    masked, path = citizen
    out.print(
        f"A citizen (居民) signs in on a phone at {url}citizen with the identity number {masked} "
        f"(in full in {path}) and the code the sign-in page shows.",
        markup=False,
    )
