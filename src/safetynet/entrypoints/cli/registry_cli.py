"""``safetynet db``, ``safetynet import`` and ``safetynet audit``: the registry's commands.

Each command parses its arguments, builds the database in ``bootstrap`` and hands a command to a
handler; what is decided lives in ``safetynet.registry`` and ``safetynet.audit``. The lead wires
these sub-apps into ``main.app``.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from safetynet.entrypoints.cli.paths import fallback_file, input_dir, output_file
from safetynet.errors import InputError

__all__ = ["audit_app", "db_app", "import_app", "progress_bar"]

db_app = typer.Typer(help="The registry database: create or migrate it.", no_args_is_help=True)
import_app = typer.Typer(help="Bulk imports into the registry.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])

EncodingOption = Annotated[
    str | None,
    typer.Option(help="Text encoding of a CSV file (default: detect UTF-8 or GBK/GB18030)."),
]
QuarantineOption = Annotated[
    Path | None,
    typer.Option(help="Where to write rejected rows (default: FILE.quarantine.csv beside it)."),
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Database URL (default: $SAFETYNET_DATABASE_URL, the config file, else safetynet.db "
        "in the SafetyNet home: docs/settings.md).",
    ),
]


def reports_errors(fn: F) -> F:
    """main.reports_errors, looked up when the command runs (main imports this module)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from safetynet.entrypoints.cli.main import reports_errors as report

        return report(fn)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def progress_bar(console: Console, *, quiet: bool) -> Progress:
    """The commands' progress bar: description, bar, done/total, time; it disappears when done
    and is off when quiet or when ``console`` is not a terminal."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=quiet or not console.is_terminal,
        transient=True,
    )


class RichProgress:
    """A progress bar on stderr, one task per step; silent when quiet or not on a terminal."""

    def __init__(self, *, quiet: bool) -> None:
        self._progress = progress_bar(err, quiet=quiet)
        self._task: Any = None

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def start(self, description: str, total: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, visible=False)
        self._task = self._progress.add_task(description, total=total)

    def advance(self, amount: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, amount)


def _actor() -> Any:
    from safetynet.audit.log import Actor

    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment (some containers)
        name = "unknown"
    return Actor(name=name, role="registry_clerk")


def _parse_date(value: str | None, field: str) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(field, f"{value!r} is not a date (YYYY-MM-DD)") from None


@db_app.command("upgrade")
@reports_errors
def db_upgrade(url: UrlOption = None) -> None:
    """Create the database, or migrate it to the current schema, and load the region list."""
    from safetynet.registry.db import bootstrap, head_revision, upgrade

    db = bootstrap(url)
    try:
        upgrade(db)
        out.print(f"database {db.url} is at revision {head_revision()}", markup=False)
    finally:
        db.dispose()


@import_app.command("households")
@reports_errors
def import_households(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX household list, one row per person.")],
    encoding: EncodingOption = None,
    quarantine: QuarantineOption = None,
    month: Annotated[
        str | None, typer.Option(help="Month (YYYY-MM) of wages given without 收入月份.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Start date of new memberships (YYYY-MM-DD); default today."),
    ] = None,
    url: UrlOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Import households: good rows are committed, bad ones go to the quarantine file."""
    from safetynet.registry.db import bootstrap, require_current_schema
    from safetynet.registry.handlers import ImportHouseholds, system_clock
    from safetynet.registry.handlers import import_households as handle
    from safetynet.registry.imports import (
        default_quarantine_path,
        read_table,
        validate,
        write_quarantine,
    )
    from safetynet.registry.unit_of_work import UnitOfWork

    if quarantine is not None:
        output_file(quarantine, "--quarantine")
    start = _parse_date(as_of, "--as-of")
    table = read_table(file, encoding)
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    db = bootstrap(url)
    try:
        require_current_schema(db)
        with RichProgress(quiet=quiet) as progress:
            batch = validate(table, month=month, progress=progress)
            command = ImportHouseholds(
                batch=batch,
                actor=_actor(),
                as_of=start,
                source=f"{file.name} sha256:{digest}",
            )
            with UnitOfWork(db.sessions) as uow:
                report = handle(command, uow, system_clock, progress)
    finally:
        db.dispose()

    out.print(
        f"read {report.read} rows: {report.accepted} accepted, {report.quarantined} quarantined",
        markup=False,
    )
    out.print(
        f"households: {report.households_created} created, {report.households_updated} "
        f"updated, {report.households_unchanged} unchanged",
        markup=False,
    )
    out.print(
        f"persons: {report.persons_created} created, {report.persons_updated} updated, "
        f"{report.persons_unchanged} unchanged",
        markup=False,
    )
    if batch.quarantine:
        target = quarantine or default_quarantine_path(file)
        write_quarantine(sorted(batch.quarantine, key=lambda q: q.row), table.headers, target)
        out.print(f"quarantine: {target}", markup=False)
    else:
        out.print("quarantine: none", markup=False)


@import_app.command("caseload")
@reports_errors
def import_caseload(
    month: Annotated[str, typer.Option(help="Month the enrolments start, YYYY-MM.")],
    snapshot: Annotated[
        Path | None,
        typer.Option(
            help="Population snapshot (Parquet by county, docs/batch.md; default: population/ "
            "in the SafetyNet home, docs/settings.md)."
        ),
    ] = None,
    county: Annotated[
        list[str] | None, typer.Option(help="Only this county (6-digit code; repeatable).")
    ] = None,
    fallback_parameters: Annotated[
        Path | None,
        typer.Option(
            help="Illustrative values used where a region has none [I]: a YAML file, or 'demo', "
            "the illustrative locality shipped with SafetyNet."
        ),
    ] = None,
    everyone: Annotated[
        bool,
        typer.Option(
            help="Load every household and person of the snapshot, not only the caseload."
        ),
    ] = False,
    url: UrlOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Enrol a snapshot's current dibao and tekun recipients, with the rules core's amounts."""
    from safetynet.policy.screening import load_parameter_values
    from safetynet.registry.caseload import CASELOAD_PROGRAMS, load_caseload
    from safetynet.registry.db import bootstrap
    from safetynet.settings import load_settings

    snapshot = input_dir(snapshot or load_settings().path("population"), "--snapshot")
    fallback_parameters = fallback_file(fallback_parameters)
    fallbacks = load_parameter_values(fallback_parameters) if fallback_parameters else None
    db = bootstrap(url)
    try:
        with RichProgress(quiet=quiet) as progress:
            progress.start(f"caseload {month}", 0)

            def tick(code: str, i: int, total: int) -> None:
                progress.start(f"caseload {month}: {code}", total)
                progress.advance(i)

            report = load_caseload(
                db,
                snapshot,
                month,
                only=county,
                fallbacks=fallbacks,
                on_county=tick,
                everyone=everyone,
            )
    finally:
        db.dispose()
    for c in report.counties:
        enrolled = ", ".join(f"{p} {c.enrolments.get(p, 0):,}" for p in CASELOAD_PROGRAMS)
        out.print(
            f"county {c.county}: {c.households:,} households and {c.persons:,} persons added; "
            f"enrolments added: {enrolled}; {c.already_present:,} already present",
            markup=False,
        )


@audit_app.command("verify")
@reports_errors
def audit_verify(url: UrlOption = None) -> None:
    """Check the audit log's hash chain; name every altered, removed or reordered entry."""
    from sqlalchemy import func, select

    from safetynet.audit.log import verify
    from safetynet.audit.model import AuditEvent
    from safetynet.registry.db import bootstrap, require_current_schema

    db = bootstrap(url)
    try:
        require_current_schema(db)
        with db.sessions() as session:
            problems = verify(session)
            count = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    finally:
        db.dispose()
    if problems:
        for problem in problems:
            err.print(str(problem), markup=False)
        err.print(f"audit log: {len(problems)} problem(s) in {count} entries", markup=False)
        raise typer.Exit(1)
    out.print(f"audit log: {count} entries, chain intact", markup=False)
