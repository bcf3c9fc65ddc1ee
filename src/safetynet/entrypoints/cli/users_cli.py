"""``safetynet users add|list``: staff accounts of the web workbench (passwords hashed with
Argon2; each account opened is recorded in the audit log)."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from safetynet.entrypoints.cli._common import (
    UrlOption,
    cli_actor,
    current_database,
    out,
    reports_errors,
)
from safetynet.errors import InputError

__all__ = ["PASSWORD_ENV_VAR", "users_app"]

PASSWORD_ENV_VAR = "SAFETYNET_NEW_PASSWORD"

users_app = typer.Typer(
    help="工作人员账户 Staff accounts of the web workbench: add, list.", no_args_is_help=True
)


def _role(value: str) -> str:
    from safetynet.entrypoints.api.policy import Role

    roles = [r.value for r in Role]
    if value not in roles:
        raise InputError("--role", f"{value!r} is not one of {', '.join(roles)}")
    return value


@users_app.command("add")
@reports_errors
def add(
    username: Annotated[str, typer.Argument(help="The sign-in name.")],
    role: Annotated[
        str,
        typer.Option(
            help="intake_clerk, investigator, township_reviewer, "
            "county_approver, auditor or analyst."
        ),
    ],
    region: Annotated[str, typer.Option(help="The region they act for (6-digit code).")],
    name: Annotated[
        str | None, typer.Option(help="Their name as shown (default: username).")
    ] = None,
    locale: Annotated[str, typer.Option(help="Page language: zh_CN or en.")] = "zh_CN",
    person: Annotated[
        str | None,
        typer.Option(
            help="The person, if they hold accounts in several roles (maker-checker "
            "holds across them; default: username)."
        ),
    ] = None,
    url: UrlOption = None,
) -> None:
    """Open an account; the password is asked for (or read from $SAFETYNET_NEW_PASSWORD)."""
    from safetynet.accounts.commands import AddStaffAccount
    from safetynet.bootstrap import bootstrap

    password = os.environ.get(PASSWORD_ENV_VAR) or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    command = AddStaffAccount(
        actor=cli_actor("administrator"),
        username=username,
        display_name=name or username,
        role=_role(role),
        region=region,
        password=password,
        locale=locale,
        person=person or username,
    )
    with current_database(url) as db:
        event = bootstrap(db).handle(command)
    out.print(f"account {event.entity_id}: {username} ({role}, {region})", markup=False)


@users_app.command("list")
@reports_errors
def list_users(url: UrlOption = None) -> None:
    """Every staff account (never a password)."""
    from safetynet.accounts.views import accounts

    with current_database(url) as db, db.sessions() as session:
        rows = accounts(session)
    table = Table("username", "name", "role", "region")
    for row in rows:
        table.add_row(*row)
    out.print(table)
