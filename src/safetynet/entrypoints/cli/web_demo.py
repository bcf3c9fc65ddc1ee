"""The workbench on the demo database: one demo sign-in per role (opened once, through the
accounts commands, so they are audited like any account), and how to open it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from safetynet.db.engine import Database

__all__ = ["DEMO_PASSWORD", "demo_sign_ins", "ensure_demo_accounts", "print_workbench"]

DEMO_PASSWORD = "safetynet-demo"
"""The password of every demo sign-in (a demo database only: synthetic people)."""


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
