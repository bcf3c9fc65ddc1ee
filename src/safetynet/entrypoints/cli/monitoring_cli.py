"""``safetynet monitor``: economic status verification and dynamic monitoring alerts.

Each command turns its arguments into a call of ``safetynet.monitoring.verification`` or
``safetynet.monitoring.alerts`` and prints the result; identity numbers are printed masked.
See docs/monitoring.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from safetynet.domain.privacy import mask_value
from safetynet.entrypoints.cli._common import (
    UrlOption,
    cli_actor,
    current_database,
    date_or_today,
    out,
    progress_bar,
    reports_errors,
)

__all__ = ["monitor_app"]

monitor_app = typer.Typer(
    help="Economic status verification and dynamic monitoring alerts.", no_args_is_help=True
)

FallbackOption = Annotated[
    Path | None,
    typer.Option(
        help="Illustrative values used only where a region has none in force, flagged [I]: a "
        "YAML file, or 'demo', the illustrative locality shipped with SafetyNet."
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a parameter for this run: NAME=VALUE (repeatable)."),
]


def _actor(role: str = "monitoring_officer") -> Any:
    return cli_actor(role)


def _parameters(
    fallback_parameters: Path | None, set_: list[str] | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    from safetynet.entrypoints.cli.paths import fallback_file
    from safetynet.policy.parameters import default_tree, parse_override
    from safetynet.policy.screening import load_parameter_values

    fallback_parameters = fallback_file(fallback_parameters)
    tree = default_tree()
    overrides = dict(parse_override(tree, s) for s in (set_ or []))
    fallbacks = load_parameter_values(fallback_parameters) if fallback_parameters else None
    return overrides, fallbacks


def _yuan(fen: int | None) -> str:
    from safetynet.domain.money import format_yuan

    return "" if fen is None else format_yuan(int(fen))


def _value(unit: str, value: int | None) -> str:
    if value is None:
        return ""
    if unit.startswith("fen"):
        return _yuan(value)
    if unit == "flag":
        return "yes" if value else "no"
    return str(value)


def print_report(report: dict[str, Any]) -> None:
    """A verification report as tables (the report holds masked identity numbers only)."""
    out.print(
        f"Verification report {report.get('verification_report_id', '')}: household "
        f"{report['household_id']}, county {report['county']}, month {report['month']}",
        markup=False,
    )
    sources = Table(title="Sources consulted")
    sources.add_column("source")
    sources.add_column("records", justify="right")
    for s in report["sources"]:
        sources.add_row(s["kind"], str(s["records"]))
    out.print(sources)
    if report["differences"]:
        diffs = Table(title="Differences")
        for name in ("person", "source", "item", "declared", "found", "date"):
            diffs.add_column(name)
        for d in report["differences"]:
            diffs.add_row(
                d["person"] or "(household)",
                d["source"],
                d["item"],
                _value(d["unit"], d["declared"]),
                _value(d["unit"], d["found"]),
                d["event_date"] or "",
            )
        out.print(diffs)
    else:
        out.print("No difference between the declared facts and the feeds.")
    if report["effects"]:
        effects = Table(title="Eligibility under the rules core (declared → with the feeds)")
        for name in ("program", "declared", "with the feeds", "changed"):
            effects.add_column(name)
        for e in report["effects"]:
            d, f = e["declared"], e["found"]
            effects.add_row(
                e["program"],
                f"{'eligible' if d['eligible'] else 'not eligible'} {_yuan(d['amount_fen'])}",
                f"{'eligible' if f['eligible'] else 'not eligible'} {_yuan(f['amount_fen'])}",
                "yes" if e["changed"] else "no",
            )
        out.print(effects)
    out.print(
        "Changes eligibility: " + ("yes" if report["changes_eligibility"] else "no"), markup=False
    )


@monitor_app.command("verify")
@reports_errors
def verify(
    household: Annotated[int, typer.Option(help="Registry household id.")],
    on: Annotated[str | None, typer.Option(help="Date of the check (default today).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    fallback_parameters: FallbackOption = None,
    set_: SetOption = None,
    url: UrlOption = None,
) -> None:
    """Verify one household against the feeds and store the report (ids masked)."""
    from safetynet.monitoring.verification import verify_household

    overrides, fallbacks = _parameters(fallback_parameters, set_)
    day = date_or_today(on, "--on")
    with current_database(url) as db:
        report = verify_household(
            db, household, day, overrides=overrides, fallbacks=fallbacks, actor=_actor()
        )
    if as_json:
        out.print_json(json.dumps(mask_value(report), ensure_ascii=False))
    else:
        print_report(report)


@monitor_app.command("run")
@reports_errors
def run(
    month: Annotated[str, typer.Option(help="The month compared, YYYY-MM.")],
    county: Annotated[
        list[str] | None, typer.Option(help="Only this county (6-digit code; repeatable).")
    ] = None,
    raised: Annotated[
        str | None, typer.Option(help="Date the alerts are raised (default today).")
    ] = None,
    fallback_parameters: FallbackOption = None,
    set_: SetOption = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    url: UrlOption = None,
) -> None:
    """Compare every county (or the ones given), store reports and alerts; print counts."""

    from safetynet.batch.runner import parse_month
    from safetynet.bootstrap import bootstrap
    from safetynet.monitoring.verification import monitor_month

    overrides, fallbacks = _parameters(fallback_parameters, set_)
    first = parse_month(month)
    day = date_or_today(raised, "--raised")
    progress = progress_bar(out, quiet=quiet)
    with current_database(url) as db, progress:
        task = progress.add_task(f"monitor {month}", total=None)

        def step(_county: str, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = monitor_month(
            db,
            first,
            raised_on=day,
            unit_of_work=bootstrap(db).unit_of_work,
            counties=county,
            overrides=overrides,
            fallbacks=fallbacks,
            actor=_actor("system"),
            on_county=step,
        )
    out.print(
        f"month {result.month}: {len(result.counties)} counties, {result.households:,} households, "
        f"{result.persons:,} persons, {result.records:,} feed records, "
        f"{result.differences:,} differences, {result.reports:,} verification reports",
        markup=False,
    )
    table = Table(title=f"Alerts raised for {result.month}")
    for name in ("county", "rule", "found", "new"):
        table.add_column(name, justify="right" if name in ("found", "new") else "left")
    for c, r, n in result.found:
        table.add_row(c, r, str(n), str(result.stored.raised.get((c, r), 0)))
    out.print(table)
    out.print(
        f"new alerts: {sum(result.stored.raised.values())}; already stored for this month: "
        f"{result.stored.repeated}; still open from an earlier month: {result.stored.still_open}",
        markup=False,
    )


@monitor_app.command("alerts")
@reports_errors
def alerts(
    office: Annotated[str | None, typer.Option(help="Only alerts owned by this office.")] = None,
    county: Annotated[str | None, typer.Option(help="Only this county.")] = None,
    overdue: Annotated[
        bool, typer.Option(help="Only alerts not resolved and past their due date.")
    ] = False,
    on: Annotated[
        str | None, typer.Option(help="Date overdue is judged on (default today).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include resolved alerts.")] = False,
    url: UrlOption = None,
) -> None:
    """List alerts by office and due date (evidence masked); overdue counts per office."""
    from safetynet.monitoring.alerts import list_alerts, overdue_by_office

    day = date_or_today(on, "--on")
    with current_database(url) as db, db.sessions() as session:
        rows = list_alerts(
            session,
            office=office,
            county=county,
            overdue_on=day if overdue else None,
            include_resolved=all_,
        )
        late = overdue_by_office(session, day)
        table = Table(title="Overdue alerts" if overdue else "Alerts")
        for name in ("id", "office", "rule", "severity", "subject", "month", "due", "status"):
            table.add_column(name, overflow="fold")
        evidence = []
        for a in rows:
            table.add_row(
                str(a.id),
                a.office,
                a.rule,
                a.severity,
                f"{a.county}/{a.subject}",
                a.month,
                a.due_on.isoformat() + (" (provisional)" if a.due_provisional else ""),
                a.status if a.status != "resolved" else f"resolved: {a.outcome}",
            )
            evidence.append(
                f"{a.id} {a.rule}, household {a.household_id}: "
                + json.dumps(mask_value(a.evidence), ensure_ascii=False, sort_keys=True)
            )
    out.print(table)
    for line in evidence:
        out.print(line, markup=False)
    summary = ", ".join(f"{o}: {n}" for o, n in late) or "none"
    out.print(f"overdue on {day.isoformat()} per office: {summary}", markup=False)


@monitor_app.command("assign")
@reports_errors
def assign(
    alert_id: Annotated[int, typer.Argument(help="Alert id.")],
    to: Annotated[str, typer.Option("--to", help="User the alert is assigned to.")],
    office: Annotated[
        str | None, typer.Option(help="Move the alert to this office as well.")
    ] = None,
    on: Annotated[str | None, typer.Option(help="Date of the assignment (default today).")] = None,
    url: UrlOption = None,
) -> None:
    """Assign an alert to a user (and optionally another office)."""
    from safetynet.monitoring.alerts import AssignAlert, assign_alert
    from safetynet.registry.handlers import system_clock

    cmd = AssignAlert(
        alert_id=alert_id, assignee=to, office=office, actor=_actor(), on=date_or_today(on, "--on")
    )
    from safetynet.bootstrap import bootstrap

    with current_database(url) as db, bootstrap(db).unit_of_work() as uow:
        version = assign_alert(cmd, uow, system_clock)
    out.print(f"alert {alert_id} assigned to {to} (version {version})", markup=False)


@monitor_app.command("resolve")
@reports_errors
def resolve(
    alert_id: Annotated[int, typer.Argument(help="Alert id.")],
    outcome: Annotated[
        str,
        typer.Option(help="recheck_started, payment_stopped, referred or dismissed."),
    ],
    reason: Annotated[str, typer.Option(help="Why (required for dismissed).")] = "",
    on: Annotated[str | None, typer.Option(help="Date of the resolution (default today).")] = None,
    url: UrlOption = None,
) -> None:
    """Resolve an alert with an outcome; a confirmed re-check is linked to the paying case."""
    from sqlalchemy import select

    from safetynet.bootstrap import bootstrap
    from safetynet.monitoring.alerts import ResolveAlert, resolve_alert
    from safetynet.monitoring.alerts_model import Alert
    from safetynet.payments.model import PaymentHold
    from safetynet.registry.handlers import system_clock

    cmd = ResolveAlert(
        alert_id=alert_id,
        outcome=outcome,
        reason=reason,
        actor=_actor(),
        on=date_or_today(on, "--on"),
    )
    with current_database(url) as db:
        with bootstrap(db).unit_of_work() as uow:
            version = resolve_alert(cmd, uow, system_clock)
        with db.sessions() as session:
            alert = session.get(Alert, alert_id)
            track = None if alert is None else alert.track_id
            hold = session.scalar(select(PaymentHold).where(PaymentHold.alert_id == alert_id))
            held = None if hold is None else (hold.id, hold.released_at is None)
    linked = f"; re-check on case track {track}" if track is not None else ""
    if held is not None:
        linked += f"; payment hold {held[0]} " + ("stands" if held[1] else "released")
    out.print(f"alert {alert_id} resolved: {outcome} (version {version}){linked}", markup=False)
