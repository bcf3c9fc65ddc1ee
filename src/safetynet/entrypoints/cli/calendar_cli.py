"""``safetynet calendar`` and ``safetynet workdays``: the working-day calendar an office counts time
limits on — add a year's official notice, list the years, and compute or list working days.

What is decided lives in ``safetynet.domain.calendar`` / ``domain.workdays`` and, for adding a
year, ``safetynet.cases.calendar_years``. Wired into ``main`` with ``add_typer``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from safetynet.entrypoints.cli._common import (
    UrlOption,
    cli_actor,
    current_database,
    out,
    reports_errors,
)
from safetynet.entrypoints.cli.paths import input_file
from safetynet.errors import InputError

__all__ = ["calendar_app", "workdays_app"]

calendar_app = typer.Typer(
    help="The official working-day calendar: the State Council's holiday notices, year by year.",
    no_args_is_help=True,
)
workdays_app = typer.Typer(
    help="Working days and time limits on the calendar in force.", no_args_is_help=True
)

_WEEKDAYS_ZH = "一二三四五六日"


def _actor() -> Any:
    return cli_actor("administrator")


def _sync_from_registry(url: str | None) -> None:
    """Install the years added in the registry, when there is a registry to read: a missing
    SQLite file means nothing was added, and is not created just to look."""
    from safetynet.db.calendar_years import sync_calendar
    from safetynet.db.engine import resolve_url

    parsed = resolve_url(url)
    if parsed.get_backend_name() == "sqlite" and (
        not parsed.database or not Path(parsed.database).exists()
    ):
        return
    with current_database(url) as db, db.sessions() as session:
        sync_calendar(session)


def _reference(year: int) -> str:
    from safetynet.domain.calendar import STATUTORY_PARAMETER, active_calendar

    calendar = active_calendar()
    if year in calendar.official:
        return calendar.official[year].cite()
    from safetynet.domain.regions import NATION_CODE
    from safetynet.policy.parameters import default_tree

    resolved = default_tree().resolve(STATUTORY_PARAMETER, dt.date(year, 1, 1), [NATION_CODE])
    return "statutory holidays only: " + resolved.cite()


@workdays_app.command("add")
@reports_errors
def workdays_add(
    date: Annotated[str, typer.Argument(help="The day of the triggering step (YYYY-MM-DD).")],
    days: Annotated[int, typer.Argument(help="The time limit in working days.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    url: UrlOption = None,
) -> None:
    """The day a limit of N working days ends (counted from the day after DATE), and whether it
    is provisional: counted across a year with no official calendar yet."""
    from safetynet.domain.workdays import add_working_days, calendar_sources
    from safetynet.policy.calculate import parse_date

    start = parse_date(date, "DATE")
    if days < 0:
        raise InputError("N", "a time limit cannot be negative")
    _sync_from_registry(url)
    due = add_working_days(start, days)
    years = [
        {"year": year, "source": source, "reference": _reference(year)}
        for year, source in calendar_sources(start, due)
    ]
    if as_json:
        out.print(
            json.dumps(
                {
                    "start": start.isoformat(),
                    "working_days": days,
                    "deadline": due.isoformat(),
                    "provisional": due.provisional,
                    "calendars": years,
                },
                ensure_ascii=False,
            ),
            markup=False,
        )
        return
    mark = " (provisional)" if due.provisional else ""
    out.print(f"{due.isoformat()}{mark}", markup=False)
    for item in years:
        out.print(f"  {item['year']}: {item['source']} — {item['reference']}", markup=False)


@workdays_app.command("list")
@reports_errors
def workdays_list(
    year: Annotated[int, typer.Argument(help="The year, e.g. 2027.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    url: UrlOption = None,
) -> None:
    """The year's non-working days (weekends and holidays), its adjusted working days, and the
    calendar they come from (the official notice, or provisional)."""
    from safetynet.domain.calendar import active_calendar

    _sync_from_registry(url)
    calendar = active_calendar()
    days = calendar.non_working_days(year)  # refuses a year beyond the supported range
    source = calendar.source(year)
    official = calendar.official.get(year)
    working = sorted(official.working_days.items()) if official else []
    if as_json:
        out.print(
            json.dumps(
                {
                    "year": year,
                    "source": source,
                    "reference": _reference(year),
                    "non_working_days": [{"date": d.isoformat(), "name": n} for d, n in days],
                    "adjusted_working_days": [
                        {"date": d.isoformat(), "name": n} for d, n in working
                    ],
                },
                ensure_ascii=False,
            ),
            markup=False,
        )
        return
    out.print(f"{year}: {source} — {_reference(year)}", markup=False)
    out.print(f"{len(days)} non-working days:", markup=False)
    for day, name in days:
        out.print(f"  {day.isoformat()} 周{_WEEKDAYS_ZH[day.weekday()]}  {name}", markup=False)
    if working:
        out.print(f"{len(working)} adjusted working days (调休上班):", markup=False)
        for day, name in working:
            out.print(f"  {day.isoformat()} 周{_WEEKDAYS_ZH[day.weekday()]}  {name}", markup=False)


@calendar_app.command("add-year")
@reports_errors
def calendar_add_year(
    file: Annotated[
        Path, typer.Argument(help="The year's calendar file (YAML, docs/calendar.md).")
    ],
    url: UrlOption = None,
) -> None:
    """Add a year's official calendar from its State Council notice; every deadline computed
    provisionally for that year is computed again (and audited)."""
    from safetynet.cases.calendar_years import AddCalendarYear, add_calendar_year
    from safetynet.domain.calendar import read_official_year

    input_file(file, "FILE")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("FILE", f"cannot read {file}: {exc}") from None
    calendar = read_official_year(text, str(file))
    from safetynet.bootstrap import bootstrap

    with current_database(url) as db, bootstrap(db).unit_of_work() as uow:
        result = add_calendar_year(uow, AddCalendarYear(_actor(), calendar))
    out.print(f"added the official calendar of {result.year}: {calendar.cite()}", markup=False)
    out.print(
        f"{result.recomputed} provisional deadlines recomputed, {result.moved} moved; "
        f"{result.still_provisional} still provisional (they cross a later year without a notice)",
        markup=False,
    )


@calendar_app.command("recompute")
@reports_errors
def calendar_recompute(url: UrlOption = None) -> None:
    """Compute the stored provisional deadlines again on the calendar in force (audited); for one
    written while a year was being added."""
    from safetynet.bootstrap import bootstrap
    from safetynet.cases.calendar_years import (
        RecomputeProvisional,
        recompute_provisional_deadlines,
    )

    with current_database(url) as db, bootstrap(db).unit_of_work() as uow:
        recomputed, moved, still = recompute_provisional_deadlines(
            uow, RecomputeProvisional(_actor())
        )
    out.print(
        f"{recomputed} provisional deadlines recomputed, {moved} moved; {still} still provisional",
        markup=False,
    )


@calendar_app.command("list")
@reports_errors
def calendar_list(url: UrlOption = None) -> None:
    """The years with an official calendar (shipped or added) and the notices they rest on."""
    from safetynet.domain.calendar import (
        LAST_PROVISIONAL_YEAR,
        active_calendar,
        shipped_years,
    )

    _sync_from_registry(url)
    calendar = active_calendar()
    shipped = shipped_years()
    for year, official in sorted(calendar.official.items()):
        origin = "shipped" if year in shipped and shipped[year] == official else "added"
        out.print(
            f"{year}  {origin:<7}  {len(official.holidays):>2} holidays  "
            f"{len(official.working_days):>2} working days  {official.cite()}",
            markup=False,
        )
    last = max(calendar.official)
    out.print(
        f"{last + 1}-{LAST_PROVISIONAL_YEAR}: provisional (weekends and the statutory holidays "
        "only) until a year's notice is added with `safetynet calendar add-year`",
        markup=False,
    )
