"""What every CLI command shares: the consoles, the error decorator, the progress bar, the
options of the imports, the actor the audit log records, and opening the current database.

Entry points only: commands parse their arguments with these and hand a command to a handler.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from safetynet.audit.log import Actor
from safetynet.db.engine import Database, create_database, require_current_schema
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.errors import SafetyNetError
from safetynet.intake import default_quarantine_path, write_quarantine
from safetynet.policy.calculate import parse_date

__all__ = [
    "DryRunOption",
    "EncodingOption",
    "HeaderRowOption",
    "QuarantineOption",
    "RichProgress",
    "UrlOption",
    "cli_actor",
    "current_database",
    "date_or_today",
    "err",
    "finish_import",
    "out",
    "progress_bar",
    "report_quarantine",
    "reports_errors",
    "unit_of_work",
]

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
HeaderRowOption = Annotated[
    int | None,
    typer.Option(
        "--header-row",
        min=1,
        help="Row number of the header (default: found among the first rows, below any title).",
    ),
]
DryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run", help="Check every row (against the database too) and report; write nothing."
    ),
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Database URL (default: $SAFETYNET_DATABASE_URL, the config file, else safetynet.db "
        "in the SafetyNet home: docs/settings.md).",
    ),
]
EngineOption = Annotated[
    str,
    typer.Option(
        "--engine",
        help="Where the county work runs: local (worker processes, the default) or spark "
        "(Apache Spark; needs the spark extra and Java 17, docs/scale.md).",
    ),
]
SparkMasterOption = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="With --engine spark: the cluster (spark://host:7077, yarn, k8s://...; "
        "default local[N] with N = --workers, or every core).",
    ),
]


def reports_errors(fn: F) -> F:
    """A user error becomes one line on stderr and its exit code (2), never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SafetyNetError as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(exc.exit_code) from None

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


def unit_of_work(db: Database, *, dry_run: bool) -> UnitOfWork:
    """The unit of work of an import, its events wired (``safetynet.bootstrap``): one that only
    flushes and rolls back for ``--dry-run``."""
    from safetynet.bootstrap import bootstrap  # every area's handlers: only when a command runs

    return bootstrap(db).unit_of_work(dry_run=dry_run)


def report_quarantine(
    lines: Any, headers: Any, source: Path, target: Path | None, *, dry_run: bool
) -> None:
    """Write the rejected rows to the quarantine file (FILE.quarantine.csv by default) and say
    where; in a dry run, print them instead (row, field, reason) and write nothing."""
    rows = sorted(lines, key=lambda q: q.row)
    if not rows:
        out.print("quarantine: none", markup=False)
    elif dry_run:
        for line in rows:
            out.print(f"row {line.row}, {line.field}: {line.reason}", markup=False)
    else:
        path = target or default_quarantine_path(source)
        write_quarantine(rows, headers, path)
        out.print(f"quarantine: {path}", markup=False)


def finish_import(quarantined: int, *, dry_run: bool) -> None:
    """End an import command with its exit status: 0 when every row was accepted, 1 when some
    rows were quarantined (the report is printed first); a file that cannot be read has already
    ended the command with 2."""
    if dry_run:
        out.print("dry run: nothing was written", markup=False)
    if quarantined:
        raise typer.Exit(1)


def cli_actor(role: str, region: str | None = None) -> Actor:
    """Who runs a command, as the audit log records them: the login name (``unknown`` where the
    environment has none) acting in ``role`` for ``region``."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment (some containers)
        name = "unknown"
    return Actor(name=name, role=role, region=region)


@contextmanager
def current_database(url: str | None) -> Iterator[Database]:
    """The database at the current schema, disposed of on the way out, whatever happens."""
    db = create_database(url)
    try:
        require_current_schema(db)
        yield db
    finally:
        db.dispose()


def date_or_today(value: str | None, field: str) -> dt.date:
    """The date given (YYYY-MM-DD), or today when none is; a bad one is an error naming ``field``."""
    return dt.date.today() if value is None else parse_date(value, field)
