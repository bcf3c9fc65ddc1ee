"""``safetynet registry``: find households and persons, show one whole, and change its facts
through requests that a second person approves (docs/registry.md, ADR 0011).

Identity numbers are masked in every line printed; account numbers too. The commands only parse
their arguments, call a query of ``registry.search`` or hand a command to the bus.
"""

from __future__ import annotations

from typing import Annotated, Any

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

__all__ = ["registry_app"]

registry_app = typer.Typer(
    help="The registry: search, one household whole, and change requests (maker-checker).",
    no_args_is_help=True,
)
change_app = typer.Typer(
    help="Change requests of a household's facts: one person asks, another approves.",
    no_args_is_help=True,
)
registry_app.add_typer(change_app, name="change")

LimitOption = Annotated[int, typer.Option("--limit", min=1, max=100, help="Rows per page.")]
OffsetOption = Annotated[int, typer.Option("--offset", min=0, help="Rows to skip (paging).")]


def _table(*headers: str, title: str) -> Table:
    """A table whose cells fold rather than cut: a masked number or a household number is
    never shortened to an ellipsis on a narrow terminal."""
    table = Table(title=title)
    for header in headers:
        table.add_column(header, overflow="fold", no_wrap=header in _WHOLE)
    return table


# Short codes and numbers kept on one line; the free text around them wraps instead.
_WHOLE = frozenset({"request", "kind", "status", "identity number", "month", "region/number"})


def _compact(values: dict[str, Any] | None) -> str:
    """``key=value`` pairs of a JSON object (already masked), for one table cell."""
    return ", ".join(f"{k}={v}" for k, v in (values or {}).items())


def _yuan(fen: int | None) -> str:
    from safetynet.domain.money import format_yuan

    return "" if fen is None else format_yuan(fen)


@registry_app.command("search")
@reports_errors
def search(
    id_number: Annotated[
        str | None, typer.Option("--id-number", help="Identity number (18 or legacy 15 digits).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Name (see --match).")] = None,
    match: Annotated[
        str, typer.Option("--match", help="How a name matches: exact, prefix or contains.")
    ] = "exact",
    address: Annotated[
        str | None, typer.Option("--address", help="A part of the household's address.")
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            "--region",
            help="6-digit region code (a county, or every county of a city or province), or the "
            "first 9 or 12 digits of a statistical code (township, village).",
        ),
    ] = None,
    persons: Annotated[
        bool, typer.Option("--persons", help="List persons instead of households.")
    ] = False,
    limit: LimitOption = 20,
    offset: OffsetOption = 0,
    url: UrlOption = None,
) -> None:
    """Find households (or, with --persons, persons); identity numbers are shown masked."""
    from safetynet.registry.search import SearchQuery, search_households, search_persons

    if match not in ("exact", "prefix", "contains"):
        raise InputError("--match", f"{match!r} is not one of exact, prefix, contains")
    query = SearchQuery(
        id_number=id_number,
        name=name,
        name_match=match,  # type: ignore[arg-type]  # checked just above
        address=address,
        region=region,
        offset=offset,
        limit=limit,
    )
    with current_database(url) as db, db.sessions() as session:
        if persons:
            people = search_persons(session, query)
            table = _table("person", "identity number", "name", "sex", "born", "household",
                          "relation", "address", title=f"{people.total} persons")  # fmt: skip
            for p in people.hits:
                where = f"{p.region}/{p.household_no}" if p.household_id else "(none)"
                table.add_row(str(p.person_id), p.id_number, p.name, p.sex, str(p.birth_date),
                              where, p.relation or "", p.address or "")  # fmt: skip
            total, shown = people.total, len(people.hits)
        else:
            households = search_households(session, query)
            table = _table("household", "region/number", "address", "head", "head's identity number",
                          "members", title=f"{households.total} households")  # fmt: skip
            for h in households.hits:
                table.add_row(str(h.household_id), f"{h.region}/{h.household_no}",
                              h.address or "", h.head_name or "", h.head_id_number or "",
                              str(h.members))  # fmt: skip
            total, shown = households.total, len(households.hits)
    out.print(table)
    out.print(f"rows {offset + 1 if shown else 0}-{offset + shown} of {total}", markup=False)


@registry_app.command("show")
@reports_errors
def show(
    region: Annotated[str, typer.Argument(help="The household's 6-digit region code.")],
    household_no: Annotated[str, typer.Argument(help="The county's household number.")],
    history: Annotated[int, typer.Option("--history", min=0, max=200, help="Audit entries.")] = 20,
    url: UrlOption = None,
) -> None:
    """One household whole: members past and present, income by month, assets, enrolments with
    their versions, change requests and the audit history (newest first)."""
    from safetynet.errors import UnknownNameError
    from safetynet.registry.search import household_id, household_view

    with current_database(url) as db, db.sessions() as session:
        hid = household_id(session, region, household_no)
        view = household_view(session, hid) if hid is not None else None
    if view is None:
        raise UnknownNameError("household", f"{region}/{household_no}")
    out.print(
        f"household {view.household_id}: {view.region}/{view.household_no} ({view.region_name}), "
        f"{view.hukou_type}; statistical code {view.statistical_code or '-'}; "
        f"address {view.address or '-'}",
        markup=False,
    )
    members = _table("person", "identity number", "name", "sex", "born", "relation", "from",
                    "until", title="Members (current first)")  # fmt: skip
    for m in view.members:
        members.add_row(str(m.person_id), m.id_number, m.name, m.sex, str(m.birth_date),
                        m.relation, str(m.start_date), str(m.end_date or ""))  # fmt: skip
    out.print(members)
    income = _table("month", "person", "kind", "amount (yuan)", title="Income by month")
    for month in view.income:
        for item in month.items:
            income.add_row(month.month, item.name, item.kind, _yuan(item.amount_fen))
        income.add_row(month.month, "", "total", _yuan(month.total_fen), style="bold")
    out.print(income)
    assets = _table("kind", "value (yuan)", "count", "area (m²)", "source", title="Assets")
    for a in view.assets:
        area = "" if a.area_dm2 is None else f"{a.area_dm2 / 100:.2f}"
        assets.add_row(a.kind, _yuan(a.value_fen), str(a.count or ""), area, a.source)
    out.print(assets)
    enrolments = _table("enrolment", "program", "version", "status", "from", "until",
                       "amount (yuan)", "reason", title="Enrolments and their versions")  # fmt: skip
    for e in view.enrolments:
        for v in e.history:
            enrolments.add_row(str(e.enrolment_id), e.program, str(v.version), v.status,
                               str(v.start_date), str(v.end_date or ""), _yuan(v.amount_fen),
                               v.reason)  # fmt: skip
    out.print(enrolments)
    out.print(_requests_table(view.change_requests, "Change requests"))
    log = _table("entry", "when", "who", "role", "event", "about", "after",
                title=f"History (newest {history})")  # fmt: skip
    for entry in view.history[:history]:
        log.add_row(str(entry.entry_id), f"{entry.occurred_at:%Y-%m-%d %H:%M}", entry.actor,
                    entry.role, entry.event, f"{entry.entity} {entry.entity_id}",
                    _compact(entry.after))  # fmt: skip
    out.print(log)


def _requests_table(requests: Any, title: str) -> Table:
    table = _table("request", "household", "kind", "status", "details", "reason", "asked by",
                  "decided by", title=title)  # fmt: skip
    for r in requests:
        table.add_row(str(r.request_id), str(r.household_id), r.kind, r.status,
                      _compact(r.details), r.reason,
                      f"{r.requested_by} {r.requested_at:%Y-%m-%d}",
                      f"{r.decided_by} {r.decided_at:%Y-%m-%d}" if r.decided_by else "")  # fmt: skip
    return table


@change_app.command("request")
@reports_errors
def change_request(
    region: Annotated[str, typer.Argument(help="The household's 6-digit region code.")],
    household_no: Annotated[str, typer.Argument(help="The county's household number.")],
    kind: Annotated[
        str,
        typer.Argument(
            help="member_moves_in, member_moves_out, income_change, bank_account_change or "
            "fact_change."
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept with the request).")],
    id_number: Annotated[
        str | None,
        typer.Option("--id-number", help="The member concerned (the account holder)."),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Name of a newcomer not yet registered.")
    ] = None,
    relation: Annotated[
        str | None, typer.Option("--relation", help="Relation to the head.")
    ] = None,
    on: Annotated[
        str | None,
        typer.Option("--on", help="Date the move takes effect or the account is used from."),
    ] = None,
    to_region: Annotated[
        str | None, typer.Option("--to-region", help="Moving out into this region's household")
    ] = None,
    to_household_no: Annotated[
        str | None, typer.Option("--to-household", help="... with this number.")
    ] = None,
    income_kind: Annotated[
        str | None, typer.Option("--income-kind", help="wage, business, property, ...")
    ] = None,
    month: Annotated[str | None, typer.Option("--month", help="Income month YYYY-MM.")] = None,
    amount: Annotated[str | None, typer.Option("--amount", help="Monthly income in yuan.")] = None,
    bank_code: Annotated[
        str | None, typer.Option("--bank-code", help="3-digit bank or 12-digit CNAPS number.")
    ] = None,
    account_number: Annotated[
        str | None, typer.Option("--account-number", help="12-19 digits.")
    ] = None,
    field: Annotated[str | None, typer.Option("--field", help="The fact to change.")] = None,
    value: Annotated[str | None, typer.Option("--value", help="Its new value.")] = None,
    url: UrlOption = None,
) -> None:
    """Ask for a change of a household's facts; nothing changes until another person approves."""
    from safetynet.bootstrap import bootstrap
    from safetynet.domain.money import yuan_to_fen
    from safetynet.policy.calculate import parse_date
    from safetynet.registry.changes import ChangeDetails, RequestChange

    details = ChangeDetails(
        id_number=id_number,
        name=name,
        relation=relation,
        on=parse_date(on, "--on") if on else None,
        to_region=to_region,
        to_household_no=to_household_no,
        income_kind=income_kind,
        month=month,
        amount_fen=yuan_to_fen(amount, "--amount") if amount else None,
        bank_code=bank_code,
        account_number=account_number,
        field=field,
        value=value,
    )
    cmd = RequestChange(region, household_no, kind, details, reason, cli_actor("registry_clerk"))
    with current_database(url) as db:
        request_id = bootstrap(db).handle(cmd)
    out.print(
        f"change request {request_id}: {kind} of household {region}/{household_no} is pending; "
        "another person approves it (safetynet registry change approve)",
        markup=False,
    )


@change_app.command("approve")
@reports_errors
def change_approve(
    request_id: Annotated[int, typer.Argument(help="The change request.")],
    note: Annotated[str, typer.Option("--note", help="A note kept with the decision.")] = "",
    url: UrlOption = None,
) -> None:
    """Approve and apply a change request made by someone else (maker-checker)."""
    from safetynet.bootstrap import bootstrap
    from safetynet.registry.changes import ApproveChange

    with current_database(url) as db:
        bootstrap(db).handle(ApproveChange(request_id, cli_actor("registry_approver"), note))
    out.print(f"change request {request_id}: approved and applied", markup=False)


@change_app.command("reject")
@reports_errors
def change_reject(
    request_id: Annotated[int, typer.Argument(help="The change request.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is rejected.")],
    url: UrlOption = None,
) -> None:
    """Reject a change request made by someone else; the household stays as it is."""
    from safetynet.bootstrap import bootstrap
    from safetynet.registry.changes import RejectChange

    with current_database(url) as db:
        bootstrap(db).handle(RejectChange(request_id, reason, cli_actor("registry_approver")))
    out.print(f"change request {request_id}: rejected", markup=False)


@change_app.command("list")
@reports_errors
def change_list(
    status: Annotated[
        str | None, typer.Option("--status", help="pending, approved or rejected.")
    ] = "pending",
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    url: UrlOption = None,
) -> None:
    """Change requests, oldest first (pending ones by default); identity numbers masked."""
    from safetynet.registry.change_model import CHANGE_STATUSES
    from safetynet.registry.search import change_requests

    if status is not None and status not in CHANGE_STATUSES:
        raise InputError("--status", f"{status!r} is not one of {', '.join(CHANGE_STATUSES)}")
    with current_database(url) as db, db.sessions() as session:
        page = change_requests(session, status=status, offset=offset, limit=limit)
    out.print(_requests_table(page.hits, f"{page.total} change requests ({status or 'all'})"))
