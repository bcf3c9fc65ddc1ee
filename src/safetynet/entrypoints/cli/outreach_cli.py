"""``safetynet hotline`` and ``safetynet leads``: calls and messages to the social-assistance
hotline (recorded, routed, answered, rated, escalated when overdue) and active discovery (persons
in difficulty reported, visited, closed), with each office's lists and figures (docs/services.md).

The commands only parse their arguments, hand a command to the bus or call a query of
``outreach.views``; identity and telephone numbers are masked in every line printed.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from safetynet.entrypoints.cli._common import (
    UrlOption,
    cli_actor,
    current_database,
    date_or_today,
    out,
    reports_errors,
)

__all__ = ["hotline_app", "leads_app"]

hotline_app = typer.Typer(
    help="The social-assistance hotline: calls and messages, routed with a deadline, answered, "
    "rated, escalated when overdue.",
    no_args_is_help=True,
)
leads_app = typer.Typer(
    help="Active discovery: persons in difficulty reported, visited within the deadline, and "
    "ended in an application, a referral or a note.",
    no_args_is_help=True,
)

OnOption = Annotated[
    str | None, typer.Option("--on", help="The business date YYYY-MM-DD (default today).")
]
RegionOption = Annotated[str, typer.Option("--region", help="6-digit region code of the office.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _subject(
    name: str | None, id_number: str | None, household: str | None
) -> Any:  # outreach.commands.Subject | None
    from safetynet.errors import InputError
    from safetynet.outreach.commands import Subject

    if name is None:
        return None
    region = number = None
    if household is not None:
        region, sep, number = household.partition("/")
        if not sep or not number:
            raise InputError("--household", "give it as REGION/NUMBER, e.g. 310115/H000123")
    return Subject(name=name, id_number=id_number, household_region=region, household_no=number)


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...], title: str) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    return table


def _print(rows: list[dict[str, Any]], columns: tuple[str, ...], title: str, as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(rows, ensure_ascii=False))
    else:
        out.print(_table(rows, columns, title))


@hotline_app.command("record")
@reports_errors
def record(
    topic: Annotated[
        str,
        typer.Argument(
            help="consultation, application, person_in_need, complaint or staff_conduct."
        ),
    ],
    region: RegionOption,
    caller: Annotated[str, typer.Option("--caller", help="The caller's name.")],
    phone: Annotated[str, typer.Option("--phone", help="The caller's telephone number.")],
    summary: Annotated[str, typer.Option("--summary", help="What the call is about.")],
    channel: Annotated[str, typer.Option("--channel", help="phone, message, web or letter.")] = (
        "phone"
    ),
    subject: Annotated[
        str | None, typer.Option("--subject", help="Name of the person a report is about.")
    ] = None,
    subject_id: Annotated[
        str | None, typer.Option("--subject-id", help="Their identity number, if known.")
    ] = None,
    household: Annotated[
        str | None, typer.Option("--household", help="Their household, REGION/NUMBER, if known.")
    ] = None,
    need: Annotated[
        list[str] | None,
        typer.Option("--need", help="A need (repeatable), e.g. elderly_living_alone."),
    ] = None,
    on: OnOption = None,
    url: UrlOption = None,
) -> None:
    """Record a call or message; it is routed at once with its answer deadline, and a report of
    a person in need opens a lead with its home-visit deadline."""
    from safetynet.bootstrap import bootstrap
    from safetynet.outreach.commands import RecordContact
    from safetynet.outreach.model import Contact

    command = RecordContact(
        actor=cli_actor("hotline_operator", region),
        on=date_or_today(on, "--on"),
        channel=channel,
        topic=topic,
        region=region,
        caller_name=caller,
        caller_phone=phone,
        summary=summary,
        subject=_subject(subject, subject_id, household),
        needs=tuple(need or ()),
    )
    with current_database(url) as db:
        contact_id = bootstrap(db).handle(command)
        with db.sessions() as session:
            contact = session.get(Contact, contact_id)
            assert contact is not None
            line = (
                f"contact {contact_id}: routed to {contact.routed_to} ({contact.unit}), "
                f"answer due {contact.due.isoformat()}"
            )
            if contact.lead_id is not None:
                line += f"; lead {contact.lead_id} opened"
    out.print(line, markup=False)


@hotline_app.command("answer")
@reports_errors
def answer(
    contact_id: Annotated[int, typer.Argument(help="The contact.")],
    text: Annotated[str, typer.Option("--answer", help="What the caller was told.")],
    on: OnOption = None,
    url: UrlOption = None,
) -> None:
    """Record the answer given to the caller (on time or late, as the log keeps it)."""
    from safetynet.bootstrap import bootstrap
    from safetynet.outreach.commands import AnswerContact

    command = AnswerContact(
        actor=cli_actor("hotline_operator"),
        on=date_or_today(on, "--on"),
        contact_id=contact_id,
        answer=text,
    )
    with current_database(url) as db:
        bootstrap(db).handle(command)
    out.print(f"contact {contact_id} answered", markup=False)


@hotline_app.command("rate")
@reports_errors
def rate(
    contact_id: Annotated[int, typer.Argument(help="The contact.")],
    rating: Annotated[int, typer.Argument(help="1 (very dissatisfied) to 5 (very satisfied).")],
    comment: Annotated[str, typer.Option("--comment", help="The caller's words.")] = "",
    on: OnOption = None,
    url: UrlOption = None,
) -> None:
    """Record the caller's rating of the answer."""
    from safetynet.bootstrap import bootstrap
    from safetynet.outreach.commands import RateContact

    command = RateContact(
        actor=cli_actor("hotline_operator"),
        on=date_or_today(on, "--on"),
        contact_id=contact_id,
        rating=rating,
        comment=comment,
    )
    with current_database(url) as db:
        bootstrap(db).handle(command)
    out.print(f"contact {contact_id} rated {rating}", markup=False)


@hotline_app.command("escalate")
@reports_errors
def escalate(on: OnOption = None, url: UrlOption = None) -> None:
    """Send every unanswered contact past its due date one level up, with a new deadline (run
    daily)."""
    from safetynet.bootstrap import bootstrap
    from safetynet.outreach.commands import EscalateOverdueContacts

    command = EscalateOverdueContacts(actor=cli_actor("system"), on=date_or_today(on, "--on"))
    with current_database(url) as db:
        moved = bootstrap(db).handle(command)
    out.print(f"{moved} overdue contact(s) escalated", markup=False)


@hotline_app.command("list")
@reports_errors
def list_contacts(
    region: RegionOption,
    unit: Annotated[str | None, typer.Option("--unit", help="assistance or supervision.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="open or answered.")] = None,
    on: OnOption = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
) -> None:
    """The calls routed to an office and those below it, overdue first."""
    from safetynet.outreach.views import contact_rows

    today = date_or_today(on, "--on")
    with current_database(url) as db, db.sessions() as session:
        rows = contact_rows(session, within=region, today=today, unit=unit, status=status)
    columns = ("id", "received_on", "topic", "caller_name", "caller_phone", "routed_to", "unit",
               "due", "answer", "escalation_level", "lead_id")  # fmt: skip
    _print(rows, columns, f"hotline contacts of {region} on {today.isoformat()}", as_json)


@hotline_app.command("stats")
@reports_errors
def hotline_stats(
    region: RegionOption, on: OnOption = None, as_json: JsonOption = False, url: UrlOption = None
) -> None:
    """Figures per office: calls, answered on time, overdue, escalated, ratings; leads visited
    on time, overdue and ended in an application."""
    from safetynet.outreach.views import office_stats

    today = date_or_today(on, "--on")
    with current_database(url) as db, db.sessions() as session:
        rows = [row.to_json() for row in office_stats(session, within=region, today=today)]
    columns = ("office", "calls", "answered", "answered_on_time", "overdue", "escalated",
               "mean_rating", "leads", "leads_visited_on_time", "leads_overdue",
               "leads_to_application")  # fmt: skip
    _print(rows, columns, f"hotline and leads per office under {region}", as_json)


@leads_app.command("report")
@reports_errors
def report(
    source: Annotated[
        str,
        typer.Argument(
            help="village_worker, community_worker, grid_worker, school, hospital, police or "
            "monitoring."
        ),
    ],
    region: RegionOption,
    name: Annotated[str, typer.Option("--name", help="The person found.")],
    situation: Annotated[str, typer.Option("--situation", help="What was seen.")],
    reported_by: Annotated[str, typer.Option("--reported-by", help="Who reported it.")],
    id_number: Annotated[
        str | None, typer.Option("--id-number", help="Their identity number, if known.")
    ] = None,
    household: Annotated[
        str | None, typer.Option("--household", help="Their household, REGION/NUMBER, if known.")
    ] = None,
    need: Annotated[list[str] | None, typer.Option("--need", help="A need (repeatable).")] = None,
    on: OnOption = None,
    url: UrlOption = None,
) -> None:
    """Open a lead: a person in difficulty someone found, with the home-visit deadline."""
    from safetynet.bootstrap import bootstrap
    from safetynet.outreach.commands import ReportLead

    command = ReportLead(
        actor=cli_actor("outreach_clerk", region),
        on=date_or_today(on, "--on"),
        source=source,
        region=region,
        reported_by=reported_by,
        subject=_subject(name, id_number, household),
        situation=situation,
        needs=tuple(need or ()),
    )
    with current_database(url) as db:
        lead_id = bootstrap(db).handle(command)
    out.print(f"lead {lead_id} opened", markup=False)


@leads_app.command("visit")
@reports_errors
def visit(
    lead_id: Annotated[int, typer.Argument(help="The lead.")],
    visitor: Annotated[list[str], typer.Option("--visitor", help="Who went (repeatable).")],
    findings: Annotated[str, typer.Option("--findings", help="What they found.")],
    on: OnOption = None,
    url: UrlOption = None,
) -> None:
    """Record the home visit of a lead."""
    from safetynet.bootstrap import bootstrap
    from safetynet.outreach.commands import RecordLeadVisit

    command = RecordLeadVisit(
        actor=cli_actor("investigator"),
        on=date_or_today(on, "--on"),
        lead_id=lead_id,
        visitors=tuple(visitor),
        findings=findings,
    )
    with current_database(url) as db:
        bootstrap(db).handle(command)
    out.print(f"lead {lead_id} visited", markup=False)


@leads_app.command("close")
@reports_errors
def close(
    lead_id: Annotated[int, typer.Argument(help="The lead.")],
    outcome: Annotated[str, typer.Argument(help="referral or closed_note.")],
    note: Annotated[str, typer.Option("--note", help="To whom it was referred, or why closed.")],
    on: OnOption = None,
    url: UrlOption = None,
) -> None:
    """End a lead by a referral or a note (an application closes it by itself)."""
    from safetynet.bootstrap import bootstrap
    from safetynet.outreach.commands import CloseLead

    command = CloseLead(
        actor=cli_actor("township_reviewer"),
        on=date_or_today(on, "--on"),
        lead_id=lead_id,
        outcome=outcome,
        note=note,
    )
    with current_database(url) as db:
        bootstrap(db).handle(command)
    out.print(f"lead {lead_id} closed ({outcome})", markup=False)


@leads_app.command("list")
@reports_errors
def list_leads(
    region: RegionOption,
    status: Annotated[str | None, typer.Option("--status", help="open, visited or closed.")] = None,
    on: OnOption = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
) -> None:
    """The leads of a region and those below it, overdue visits first."""
    from safetynet.outreach.views import lead_rows

    today = date_or_today(on, "--on")
    with current_database(url) as db, db.sessions() as session:
        rows = lead_rows(session, within=region, today=today, status=status)
    columns = ("id", "reported_on", "source", "subject_name", "subject_id_number", "region_code",
               "visit_due", "visit", "status", "outcome", "application_id")  # fmt: skip
    _print(rows, columns, f"leads of {region} on {today.isoformat()}", as_json)


@leads_app.command("show")
@reports_errors
def show(
    lead_id: Annotated[int, typer.Argument(help="The lead.")],
    on: OnOption = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
) -> None:
    """The lead's way from the report to the decision, each step's deadline met or flagged."""
    from safetynet.outreach.views import lead_progress

    today = date_or_today(on, "--on")
    with current_database(url) as db, db.sessions() as session:
        rows = [s.to_json() for s in lead_progress(session, lead_id, within=None, today=today)]
    _print(rows, ("step", "office", "due", "done", "state", "detail"), f"lead {lead_id}", as_json)
