"""``safetynet db``, ``safetynet import`` and ``safetynet audit``: the registry's commands.

Each command parses its arguments, builds the database in ``bootstrap`` and hands a command to a
handler; what is decided lives in ``safetynet.registry`` and ``safetynet.audit``. The lead wires
these sub-apps into ``main.app``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from safetynet.entrypoints.cli._common import (
    DryRunOption,
    EncodingOption,
    HeaderRowOption,
    QuarantineOption,
    RichProgress,
    UrlOption,
    cli_actor,
    current_database,
    date_or_today,
    err,
    finish_import,
    out,
    report_quarantine,
    reports_errors,
    unit_of_work,
)
from safetynet.entrypoints.cli.paths import fallback_file, input_dir, maybe_file, output_file
from safetynet.errors import InputError

__all__ = ["audit_app", "db_app", "import_app"]

db_app = typer.Typer(help="The registry database: create or migrate it.", no_args_is_help=True)
import_app = typer.Typer(help="Bulk imports into the registry.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


def _actor() -> Any:
    return cli_actor("registry_clerk")


@db_app.command("upgrade")
@reports_errors
def db_upgrade(url: UrlOption = None) -> None:
    """Create the database, or migrate it to the current schema, and load the region list."""
    from safetynet.bootstrap import upgrade
    from safetynet.db.engine import create_database, head_revision

    db = create_database(url)
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
    header_row: HeaderRowOption = None,
    dry_run: DryRunOption = False,
    accept_duplicate: Annotated[
        bool,
        typer.Option(
            "--accept-duplicate",
            help="Import persons held as likely duplicates of registered ones (audited).",
        ),
    ] = False,
) -> None:
    """Import households: good rows are committed, bad ones go to the quarantine file.

    Exit status: 0 every row accepted, 1 some rows quarantined, 2 the file could not be read."""
    from safetynet.registry.bulk_households import read_frame, validate_frame
    from safetynet.registry.handlers import ImportHouseholds, system_clock
    from safetynet.registry.handlers import import_households as handle
    from safetynet.registry.imports import read_table, validate

    if quarantine is not None:
        output_file(quarantine, "--quarantine")
    start = date_or_today(as_of, "--as-of")
    # A plain CSV is checked by column (registry.bulk_households); other files row by row.
    frame = read_frame(file, encoding, header_row)
    table = read_table(file, encoding, header_row) if frame is None else None
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    with current_database(url) as db, RichProgress(quiet=quiet) as progress:
        if table is not None:
            batch = validate(table, month=month, progress=progress, as_of=start)
        else:
            assert frame is not None
            batch = validate_frame(frame, month=month, progress=progress, as_of=start)
        command = ImportHouseholds(
            batch=batch,
            actor=_actor(),
            as_of=start,
            source=f"{file.name} sha256:{digest}",
            accept_duplicates=accept_duplicate,
        )
        with unit_of_work(db, dry_run=dry_run) as uow:
            report = handle(command, uow, system_clock, progress)

    layout = (table.header_row, table.ignored) if table else (1, frame.sheet().ignored)  # type: ignore[union-attr]
    out.print(f"{file.name}: {_layout(*layout)}", markup=False)
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
    report_quarantine(batch.quarantine, batch.headers, file, quarantine, dry_run=dry_run)
    finish_import(report.quarantined, dry_run=dry_run)


@import_app.command("roll")
@reports_errors
def import_roll(
    file: Annotated[
        Path, typer.Argument(help="CSV or XLSX roll (保障名册): one row per household and program.")
    ],
    encoding: EncodingOption = None,
    quarantine: QuarantineOption = None,
    url: UrlOption = None,
    header_row: HeaderRowOption = None,
    dry_run: DryRunOption = False,
) -> None:
    """Import a program's current roll as enrolments: households already in the registry
    (户编号, 户籍地), the program, the monthly amount and the start date.

    Exit status: 0 every row accepted, 1 some rows quarantined, 2 the file could not be read."""
    from safetynet.bootstrap import bootstrap
    from safetynet.registry.rolls import ImportRoll, read_roll, validate_roll

    if quarantine is not None:
        output_file(quarantine, "--quarantine")
    sheet = read_roll(file, encoding, header_row)
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    roll = validate_roll(sheet, date_or_today(None, "--as-of"))
    command = ImportRoll(roll=roll, actor=_actor(), source=f"{file.name} sha256:{digest}")
    with current_database(url) as db:
        bus = bootstrap(db)
        with bus.unit_of_work(dry_run=dry_run) as uow:
            report = bus.handle(command, uow)
    out.print(f"{file.name}: {_layout(sheet.header_row, sheet.ignored)}", markup=False)
    enrolled = ", ".join(f"{n} {p}" for p, n in sorted(report.enrolled.items())) or "none"
    out.print(
        f"read {report.read} rows: enrolled {enrolled}; {report.changed} amounts changed, "
        f"{report.already_present} already present, {report.quarantined} quarantined",
        markup=False,
    )
    report_quarantine(roll.quarantine, sheet.headers, file, quarantine, dry_run=dry_run)
    finish_import(report.quarantined, dry_run=dry_run)


def _layout(header_row: int, ignored: tuple[str, ...]) -> str:
    from safetynet.intake import Sheet

    return Sheet((), (), [], None, header_row, ignored).layout()


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
    """Enrol a snapshot's current recipients (dibao, tekun, pensions in payment), with the rules
    core's amounts."""
    from safetynet.batch.caseload import load_caseload
    from safetynet.db.engine import create_database
    from safetynet.policy.engine import caseload_programs
    from safetynet.policy.screening import load_parameter_values
    from safetynet.settings import load_settings

    snapshot = input_dir(snapshot or load_settings().path("population"), "--snapshot")
    fallback_parameters = fallback_file(fallback_parameters)
    fallbacks = load_parameter_values(fallback_parameters) if fallback_parameters else None
    db = create_database(url)
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
        enrolled = ", ".join(f"{p} {c.enrolments.get(p, 0):,}" for p in caseload_programs())
        out.print(
            f"county {c.county}: {c.households:,} households and {c.persons:,} persons added; "
            f"enrolments added: {enrolled}; {c.already_present:,} already present",
            markup=False,
        )


CheckpointsOption = Annotated[
    Path | None,
    typer.Option(
        "--checkpoints",
        help="The checkpoint file (default: $SAFETYNET_AUDIT_CHECKPOINTS, else beside the "
        "SQLite database; see docs/audit.md).",
    ),
]
_SHOWN_PROBLEMS = 50


@audit_app.command("verify")
@reports_errors
def audit_verify(url: UrlOption = None, checkpoints: CheckpointsOption = None) -> None:
    """Check the hash chain, every entry's HMAC and every checkpoint; exit 1 on any problem.

    Names each altered, removed, reordered or forged entry, and each checkpoint that shows the
    log was truncated or rewritten.
    """
    from safetynet.audit.checkpoints import checkpoints_path
    from safetynet.audit.log import verify_log

    with current_database(url) as db:
        path = maybe_file(checkpoints, "--checkpoints") if checkpoints else None
        path = path or checkpoints_path(db.engine.url)
        with db.sessions() as session:
            report = verify_log(session, checkpoints=path)
    for note in report.notes:
        out.print(f"note: {note}", markup=False)
    summary = (
        f"{report.entries} entries ({report.authenticated} authenticated), "
        f"{report.checkpoints} checkpoint{'' if report.checkpoints == 1 else 's'} in "
        f"{path or '(no checkpoint file)'}"
    )
    if report.problems:
        for problem in report.problems[:_SHOWN_PROBLEMS]:
            err.print(str(problem), markup=False)
        if len(report.problems) > _SHOWN_PROBLEMS:
            err.print(f"... and {len(report.problems) - _SHOWN_PROBLEMS} more", markup=False)
        err.print(f"audit log: {len(report.problems)} problem(s); {summary}", markup=False)
        raise typer.Exit(1)
    out.print(f"audit log: chain intact, every MAC and checkpoint valid; {summary}", markup=False)


@audit_app.command("checkpoint")
@reports_errors
def audit_checkpoint(url: UrlOption = None, checkpoints: CheckpointsOption = None) -> None:
    """Sign the chain's current head into the checkpoint file now.

    Every command that adds entries already does this when it commits; run it after setting
    up the key on an existing log, after a key rotation, or on a schedule.
    """
    from safetynet.audit.checkpoints import checkpoints_path
    from safetynet.audit.keys import AuditKeyMissingError, default_keyring_path, load_keyring
    from safetynet.audit.log import write_head_checkpoint

    with current_database(url) as db:
        keyring = load_keyring(db.engine.url)
        if keyring is None:
            where = default_keyring_path(db.engine.url)
            raise AuditKeyMissingError(str(where) if where else "a keyring file")
        path = output_file(checkpoints, "--checkpoints") if checkpoints else None
        path = path or checkpoints_path(db.engine.url)
        if path is None:
            raise InputError("--checkpoints", "give the checkpoint file for this database")
        with db.sessions() as session:
            written = write_head_checkpoint(session, path, keyring)
    if written is None:
        out.print("audit log: empty, nothing to sign", markup=False)
        return
    out.print(
        f"checkpoint: entry {written.entry_id} ({written.head_hash[:12]}...) signed with key "
        f"{written.key_id!r}, appended to {path}",
        markup=False,
    )


@audit_app.command("new-key")
@reports_errors
def audit_new_key(
    url: UrlOption = None,
    keyring: Annotated[
        Path | None,
        typer.Option(
            "--keyring",
            help="The keyring file to add the key to (default: $SAFETYNET_AUDIT_KEY_FILE, "
            "else audit.keys beside the SQLite database).",
        ),
    ] = None,
    key_id: Annotated[
        str | None, typer.Option("--id", help="The new key's id (default: generated).")
    ] = None,
) -> None:
    """Add a new random audit key to a keyring file; it signs from now on (rotation).

    The keys already there stay: entries written with them keep verifying. The secret is
    written to the file (mode 0600) and never printed.
    """
    from safetynet.audit.keys import KEY_ENV_VAR, add_key, default_keyring_path
    from safetynet.db.engine import resolve_url

    path = output_file(keyring, "--keyring") if keyring else None
    path = path or default_keyring_path(resolve_url(url))
    if path is None:
        raise InputError("--keyring", "give the keyring file (or set $SAFETYNET_AUDIT_KEY_FILE)")
    new_id = add_key(path, key_id)
    if os.environ.get(KEY_ENV_VAR):
        err.print(
            f"warning: ${KEY_ENV_VAR} is set and takes precedence over {path}: add the new key "
            "to its value, or unset it and set $SAFETYNET_AUDIT_KEY_FILE",
            markup=False,
        )
    out.print(
        f"audit key {new_id!r} added to {path}; it signs new entries from now on. "
        "Keep a copy of this file away from the database server.",
        markup=False,
    )


@audit_app.command("read-id-number")
@reports_errors
def audit_read_id_number(
    person_id: Annotated[int, typer.Argument(help="The person's id in the registry.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why the full number is needed (kept in the log).")
    ],
    url: UrlOption = None,
) -> None:
    """Print a person's full identity number; who, when and why go to the audit log first.

    Everything else prints identity numbers masked: this is the one way to read one in full.
    """
    from safetynet.registry.disclosure import read_full_id_number

    with current_database(url) as db:
        number = read_full_id_number(db, actor=_actor(), person_id=person_id, reason=reason)
    out.print(number, markup=False)
