"""The ``safetynet`` command: turns arguments into calls of the service layer and prints results."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from safetynet.entrypoints.cli._common import err, out, reports_errors
from safetynet.entrypoints.cli.paths import fallback_file, input_path, output_file
from safetynet.entrypoints.cli.paths import input_file as input_file_
from safetynet.errors import InputError, SafetyNetError

log = logging.getLogger("safetynet.cli")


class LoggedGroup(TyperGroup):
    """The top-level command group: one log record per command run (which command, who, how
    long, exit code), whatever way it ends."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click Context
        from safetynet.logs import os_user

        rest = list(ctx.args)  # what follows the command's name (its subcommand, if a group)
        started = time.perf_counter()
        code, outcome, crash = 0, "ok", None
        try:
            return super().invoke(ctx)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
            raise
        except KeyboardInterrupt:
            code, outcome = 130, "interrupted"
            raise
        except Exception as exc:
            if isinstance(getattr(exc, "exit_code", None), int):  # typer.Exit, usage errors
                code = exc.exit_code  # type: ignore[attr-defined]
            else:  # a defect: its traceback goes to the log too (identity numbers masked)
                code, outcome, crash = 1, "error", exc
            raise
        finally:
            command = self._command_path(ctx, rest)
            seconds = time.perf_counter() - started
            if outcome == "ok" and code != 0:
                outcome = "failed"
            log.log(
                logging.INFO if code == 0 else logging.ERROR if crash else logging.WARNING,
                "command %s: exit %s in %.2f s",
                command,
                code,
                seconds,
                exc_info=crash,
                extra={
                    "event": "command",
                    "command": command,
                    "user": os_user(),
                    "duration_ms": round(seconds * 1000),
                    "exit_code": code,
                    "outcome": outcome,
                },
            )

    def _command_path(self, ctx: typer.Context, rest: list[str]) -> str:
        """The command's words, e.g. ``payments accounts import``, without its arguments."""
        name = ctx.invoked_subcommand
        if name is None:
            return ctx.command_path
        words, sub = [name], self.get_command(ctx, name)
        following = iter(w for w in rest if not w.startswith("-"))
        while isinstance(sub, TyperGroup):
            word = next(following, None)
            if word is None or sub.get_command(ctx, word) is None:
                break
            words.append(word)
            sub = sub.get_command(ctx, word)
        return " ".join(words)


app = typer.Typer(
    cls=LoggedGroup,
    help="SafetyNet: social assistance, welfare and social insurance, rules as code. "
    "Where the database, outputs and logs go: docs/settings.md "
    "(flag > environment variable > config file > default).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
params_app = typer.Typer(help="Dated, cited, regional parameters.", no_args_is_help=True)
cases_app = typer.Typer(help="Rule tests written as YAML case files.", no_args_is_help=True)
app.add_typer(params_app, name="params")
app.add_typer(cases_app, name="cases")


@app.callback()
def start_up() -> None:
    """Read the settings once and configure logging, before any command runs."""
    from safetynet.logs import configure_logging
    from safetynet.settings import load_settings

    try:
        settings = load_settings()
        configure_logging(settings, default_file=settings.path("logs", "safetynet.log"))
    except SafetyNetError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(exc.exit_code) from None


def _date(value: str | None) -> dt.date:
    from safetynet.policy.calculate import parse_date

    return parse_date(value, "--date") if value else dt.date.today()


@params_app.command("list")
@reports_errors
def params_list(
    prefix: Annotated[str, typer.Argument(help="Only names starting with this.")] = "",
) -> None:
    """List every parameter with its unit and description."""
    from safetynet.policy.parameters import default_tree

    tree = default_tree()
    names = [n for n in tree.names() if n.startswith(prefix)]
    width = max((len(n) for n in names), default=0)
    for name in names:
        spec = tree.spec(name)
        out.print(f"{name:<{width}}  {spec.unit:<12} {spec.description}", markup=False)


@params_app.command("show")
@reports_errors
def params_show(
    name: str,
    region: Annotated[str, typer.Option(help="6-digit region code.")] = "000000",
    date: Annotated[str | None, typer.Option(help="Date (YYYY-MM-DD); default today.")] = None,
) -> None:
    """Show the value in force for a region on a date, where it comes from, and its history."""
    from safetynet.domain.regions import default_registry, validate_region_code
    from safetynet.policy.calculate import parameter_record
    from safetynet.policy.parameters import NATION, default_tree

    tree = default_tree()
    spec = tree.spec(name)
    region = validate_region_code(region, "--region")
    on = _date(date)
    lineage = default_registry().lineage_codes(region) if region != NATION else [NATION]
    out.print(f"[bold]{name}[/bold]  ({spec.unit})")
    out.print(spec.description)
    try:
        rec = parameter_record(tree.resolve(name, on, lineage))
        out.print(
            f"\nIn force on {on} for {region}: [bold]{rec['value']}[/bold] "
            f"(level {rec['level']}, since {rec['in_force_from']}, provenance {rec['provenance']})"
        )
        out.print(f"Source: {rec['citation']}", markup=False)
    except SafetyNetError as exc:
        out.print(f"\nNo value in force: {exc}", markup=False)
    out.print("\nHistory by level:")
    for level in lineage:
        for v in tree.history(name, level):
            label = "nation" if level == NATION else f"{level} {tree.region_names.get(level, '')}"
            refs = "; ".join(r.cite() for r in v.references)
            shown = "not in force" if v.value is None else str(v.value)
            out.print(f"  {label:<14} {v.start}  {shown}  [{v.provenance}] {refs}", markup=False)


@app.command("programs")
def programs_cmd() -> None:
    """List the programs the rules engine knows."""
    from safetynet.policy.engine import programs

    found = programs()
    width = max(len(pid) for pid in found)
    for pid, prog in found.items():
        out.print(f"{pid:<{width}}  {prog.period:<6} {prog.title} ({prog.title_zh})", markup=False)


@app.command("fields")
def fields_cmd() -> None:
    """Print the reference of household input fields (Markdown, as in docs/inputs.md)."""
    from safetynet.policy.inputs_doc import fields_markdown

    sys.stdout.write(fields_markdown() + "\n")


@app.command("calc")
@reports_errors
def calc(
    program_name: Annotated[
        str | None,
        typer.Argument(
            metavar="[PROGRAM]",
            help="e.g. dibao, tekun, childcare-subsidy (with --batch: only this one; default all)",
        ),
    ] = None,
    input_file: Annotated[
        Path | None, typer.Option("--input", help="Household JSON (see docs/inputs.md).")
    ] = None,
    batch: Annotated[
        Path | None,
        typer.Option(
            help="Many households: JSON, JSON lines, CSV or Parquet (docs/calculate.md); NDJSON "
            "answers on standard output."
        ),
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="With --batch: write a Parquet or CSV table instead."),
    ] = None,
    date: Annotated[str | None, typer.Option(help="Date (YYYY-MM-DD); default today.")] = None,
    region: Annotated[
        str | None, typer.Option(help="6-digit region code; default from the input.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a parameter: NAME=VALUE (repeatable)."),
    ] = None,
    fallback_parameters: Annotated[
        Path | None,
        typer.Option(
            help="With --batch: illustrative values used only where the region has none "
            "(flagged [I]): a YAML file, or 'demo'."
        ),
    ] = None,
    explain: Annotated[
        bool, typer.Option(help="Show formulas and citations for each step.")
    ] = False,
) -> None:
    """Calculate one program for one household (--input) and print JSON, or every program for
    many households (--batch)."""
    # Every path given is checked first, each error naming its option.
    out_file = output_file(out_file, "--out") if out_file is not None else None
    fallback_parameters = fallback_file(fallback_parameters)
    if batch is not None:
        _calc_batch(
            program_name, input_file_(batch, "--batch"), out_file, date, region, set_,
            fallback_parameters, explain,
        )  # fmt: skip
        return
    from safetynet.policy.calculate import calculate, read_json, result_json
    from safetynet.policy.engine import program
    from safetynet.policy.parameters import default_tree, parse_override

    if input_file is None:
        raise InputError("--input", "give a household JSON file, or --batch FILE")
    input_file_(input_file, "--input")
    if program_name is None:
        raise InputError("PROGRAM", "give a program (safetynet programs), or --batch FILE")
    prog = program(program_name)
    household = read_json(input_file)
    tree = default_tree()
    overrides = dict(parse_override(tree, s) for s in (set_ or []))
    on = _date(date)
    ev, code = calculate(prog, household, on, region, overrides, explain=True)
    result = result_json(ev, on, code, explain=True)
    if not explain:
        result.pop("parameters", None)
        result["explanation"] = [
            {"step": s["step"], "label": s["label"], "value": s["value"]}
            for s in result["explanation"]
        ]
    from safetynet.domain.privacy import mask_value

    sys.stdout.write(json.dumps(mask_value(result), ensure_ascii=False, indent=2) + "\n")


def _calc_batch(
    program_name: str | None,
    batch: Path,
    out_file: Path | None,
    date: str | None,
    region: str | None,
    set_: list[str] | None,
    fallback_parameters: Path | None,
    explain: bool,
) -> None:
    from safetynet.domain.regions import validate_region_code
    from safetynet.entrypoints.cli.calc_batch import run_batch
    from safetynet.policy.screening import load_parameter_values

    if set_:
        raise InputError("--set", "not with --batch (use --fallback-parameters)")
    refused = run_batch(
        batch,
        _date(date),
        region=validate_region_code(region, "--region") if region else None,
        programs=[program_name] if program_name else [],
        explain=explain,
        fallbacks=load_parameter_values(fallback_parameters) if fallback_parameters else None,
        out=out_file,
    )
    if refused:
        raise typer.Exit(1)


@cases_app.command("run")
@reports_errors
def cases_run(
    path: Annotated[Path, typer.Argument(help="A case file or a folder of them.")],
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List passing cases too.")
    ] = False,
) -> None:
    """Run YAML case files; print `N passed, N failed`; exit 1 on any failure."""
    from safetynet.bootstrap import case_file_kinds
    from safetynet.policy.cases import run_path

    outcomes = run_path(input_path(path, "PATH"), case_file_kinds())
    failed = [o for o in outcomes if not o.passed]
    for o in outcomes:
        if not o.passed or verbose:
            mark = "[green]PASS[/green]" if o.passed else "[red]FAIL[/red]"
            out.print(f"{mark} {o.file}[{o.index}] {o.name}", markup=True)
            for f in o.failures:
                out.print(f"       {f}", markup=False)
    out.print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed", markup=False)
    if not outcomes:
        err.print("error: no case files found")
        raise typer.Exit(1)
    if failed:
        raise typer.Exit(1)


@app.command("screen")
@reports_errors
def screen_cmd(
    input_file: Annotated[
        Path, typer.Option("--input", help="Household JSON (see docs/inputs.md).")
    ],
    date: Annotated[str | None, typer.Option(help="Date (YYYY-MM-DD); default today.")] = None,
    region: Annotated[
        str | None, typer.Option(help="6-digit region code; default from the input.")
    ] = None,
    fallback_parameters: Annotated[
        Path | None,
        typer.Option(
            help="Illustrative values used only where the region has none (flagged [I]): a YAML "
            "file, or 'demo', the illustrative locality shipped with SafetyNet."
        ),
    ] = None,
) -> None:
    """One-door screening: check one household against every program and say why."""
    from safetynet.domain.money import format_yuan
    from safetynet.policy.calculate import read_json
    from safetynet.policy.engine import ILLUSTRATIVE_FALLBACK
    from safetynet.policy.screening import fallback_label, load_parameter_values, screen

    input_file_(input_file, "--input")
    fallback_parameters = fallback_file(fallback_parameters)
    household = read_json(input_file)
    fallbacks = load_parameter_values(fallback_parameters) if fallback_parameters else None
    on = _date(date)
    lines = screen(household, on, region, fallbacks=fallbacks)
    width = max(len(line.program) for line in lines)
    flagged = False
    for line in lines:
        # An answer that rests on an illustrative fallback value is not an official one: say so.
        mark = ""
        if line.evaluation is not None and any(
            r.level == ILLUSTRATIVE_FALLBACK for r in line.evaluation.params.used()
        ):
            mark, flagged = "  [I]", True
        if line.evaluation is None:
            out.print(f"{line.program:<{width}}  undecided  {line.problem}", markup=False)
        elif line.eligible:
            unit = {"month": "/month", "year": "/year", "event": " once"}[line.period]
            out.print(
                f"{line.program:<{width}}  eligible   {format_yuan(line.amount_fen)}{unit}{mark}",
                markup=False,
            )
        else:
            out.print(f"{line.program:<{width}}  no{mark}", markup=False)
    if flagged:
        out.print(
            "[I]: rests on illustrative values where the region has none ("
            f"{fallback_label(fallback_parameters or '').removesuffix(' [I]')}): "
            "not an official amount.",
            markup=False,
        )


@app.command("demo")
@reports_errors
def demo(
    workdir: Annotated[
        Path | None,
        typer.Option(
            help="Where the demo database and files go (default: demo/ in the SafetyNet home, "
            "docs/settings.md). A folder an earlier demo made is replaced; any other non-empty "
            "folder is refused, never deleted."
        ),
    ] = None,
    persons: Annotated[int, typer.Option(help="Synthetic persons in all.")] = 90_000,
    county: Annotated[
        list[str] | None,
        typer.Option(help="County code (repeatable; default 310115 and 310104, Shanghai)."),
    ] = None,
    month: Annotated[str, typer.Option(help="Month to run, YYYY-MM.")] = "2025-09",
) -> None:
    """The main job on the embedded database: a synthetic population, its feeds and caseload, one
    month's cycle (feeds, alerts, rules, payments, bank return), a summary."""
    from safetynet.entrypoints.cli.demo import DEMO_COUNTIES, run_demo
    from safetynet.errors import InputError
    from safetynet.settings import load_settings

    if persons <= 0:
        raise InputError("--persons", f"must be positive, got {persons}")
    counties = tuple(county) if county else DEMO_COUNTIES
    folder = workdir if workdir is not None else load_settings().path("demo")
    run_demo(out, folder, persons=persons, counties=counties, month=month)


def _add_registry_commands() -> None:
    # registry_cli imports this module's error decorator at call time, so it is wired in here.
    from safetynet.entrypoints.cli.registry_cli import audit_app, db_app, import_app

    app.add_typer(db_app, name="db")
    app.add_typer(import_app, name="import")
    app.add_typer(audit_app, name="audit")
    from safetynet.entrypoints.cli.duplicates_cli import duplicates_app
    from safetynet.entrypoints.cli.maintenance_cli import registry_app

    registry_app.add_typer(duplicates_app, name="duplicates")
    app.add_typer(registry_app, name="registry")
    from safetynet.entrypoints.cli.contributions_cli import contributions_app, import_contributions

    app.add_typer(contributions_app, name="contributions")
    import_app.command("contributions")(import_contributions)
    from safetynet.entrypoints.cli.batch_cli import run_month_cmd, synth_accounts_cmd

    app.command("run-month")(run_month_cmd)
    app.command("synth-accounts")(synth_accounts_cmd)
    from safetynet.entrypoints.cli.snapshot_cli import snapshot_cmd

    app.command("snapshot")(snapshot_cmd)
    from safetynet.entrypoints.cli.county_file_cli import synth_households_cmd

    app.command("synth-households")(synth_households_cmd)
    from safetynet.entrypoints.cli.synth_cli import synth, synth_check, synth_feeds

    app.command("synth")(synth)
    app.command("synth-check")(synth_check)
    app.command("synth-feeds")(synth_feeds)
    from safetynet.entrypoints.cli.api_cli import serve

    app.command("serve")(serve)
    from safetynet.entrypoints.cli.feeds_cli import feeds_app

    app.add_typer(feeds_app, name="feeds")
    from safetynet.entrypoints.cli.notice_cli import notice

    app.command("notice")(notice)
    from safetynet.entrypoints.cli.simulate_cli import simulate_app

    app.add_typer(simulate_app, name="simulate")
    from safetynet.entrypoints.cli.stats_cli import stats_cmd

    app.command("stats")(stats_cmd)
    from safetynet.entrypoints.cli.payments_cli import payments_app

    app.add_typer(payments_app, name="payments")
    from safetynet.entrypoints.cli.monitoring_cli import monitor_app

    app.add_typer(monitor_app, name="monitor")
    from safetynet.entrypoints.cli.outreach_cli import hotline_app, leads_app

    app.add_typer(hotline_app, name="hotline")
    app.add_typer(leads_app, name="leads")
    from safetynet.entrypoints.cli.services_cli import charity_app, services_app

    app.add_typer(services_app, name="services")
    app.add_typer(charity_app, name="charity")
    from safetynet.entrypoints.cli.calendar_cli import calendar_app, workdays_app

    app.add_typer(calendar_app, name="calendar")
    app.add_typer(workdays_app, name="workdays")
    from safetynet.entrypoints.cli.project_cli import project_cmd

    app.command("project")(project_cmd)
    from safetynet.entrypoints.cli.users_cli import users_app

    app.add_typer(users_app, name="users")


_add_registry_commands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
