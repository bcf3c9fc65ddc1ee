"""``safetynet run-month``: the monthly cycle over a county-partitioned snapshot — feeds,
comparison, alerts, the rules run and the payment roll (docs/cycle.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table


def run_month_cmd(
    month: Annotated[str, typer.Option(help="The month to run, YYYY-MM.")],
    county: Annotated[
        list[str] | None, typer.Option(help="Only this county (6-digit code; repeatable).")
    ] = None,
    snapshot: Annotated[
        Path | None,
        typer.Option(
            help="Population snapshot (Parquet by county, see docs/batch.md) for benchmarks and "
            "demos. Default: the registry's own snapshot of the month, taken first into the "
            "results folder (with --no-registry: population/ in the SafetyNet home)."
        ),
    ] = None,
    feeds: Annotated[
        Path | None,
        typer.Option(help="Department feed files by kind and county (docs/cycle.md)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Where results are written (default: results/ in the SafetyNet home)."),
    ] = None,
    stage: Annotated[
        list[str] | None,
        typer.Option(
            help="Run only this stage (repeatable): feeds, compare, rules, payments. Default: "
            "all that apply (feeds and compare need --feeds; payments needs the registry)."
        ),
    ] = None,
    bank_files: Annotated[
        Path | None, typer.Option(help="Write the month's bank files here (payments stage).")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="Registry database URL (default SAFETYNET_DATABASE_URL or SQLite)."),
    ] = None,
    no_registry: Annotated[bool, typer.Option(help="Write Parquet results only.")] = False,
    workers: Annotated[
        int | None, typer.Option(help="Counties evaluated at once (default: the CPU count).")
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            help="Where the county work and the step across counties run: local (worker "
            "processes, the default) or spark (Apache Spark; needs the spark extra and Java 17, "
            "docs/scale.md)."
        ),
    ] = "local",
    spark_master: Annotated[
        str | None,
        typer.Option(
            help="With --engine spark: the cluster (spark://host:7077, yarn, k8s://...; "
            "default local[N] with N = --workers, or every core)."
        ),
    ] = None,
    restart: Annotated[bool, typer.Option(help="Forget earlier progress for this month.")] = False,
    fallback_parameters: Annotated[
        Path | None,
        typer.Option(
            help="Illustrative values used only where a region has none in force, flagged [I]: "
            "a YAML file, or 'demo', the illustrative locality shipped with SafetyNet."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Run the month's cycle, county by county; resumable, each stage also alone."""
    from safetynet.entrypoints.cli._common import out as console
    from safetynet.entrypoints.cli._common import reports_errors
    from safetynet.settings import load_settings

    home = load_settings()
    if snapshot is None and no_registry:
        snapshot = home.path("population")
    out = out if out is not None else home.path("results")
    reports_errors(_run)(
        month=month, county=county, snapshot=snapshot, feeds=feeds, out=out, stage=stage,
        bank_files=bank_files, url=url, no_registry=no_registry, workers=workers,
        engine=engine, spark_master=spark_master, restart=restart, fallback_parameters=fallback_parameters, quiet=quiet, console=console,
    )  # fmt: skip


def synth_accounts_cmd(
    out: Annotated[Path, typer.Option(help="The accounts CSV to write.")],
    valid_from: Annotated[str, typer.Option(help="Start date of the accounts, YYYY-MM-DD.")],
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same file).")] = 1,
    missing_share: Annotated[
        float, typer.Option(help="Share of households left without an account (held payments).")
    ] = 0.005,
    url: Annotated[
        str | None,
        typer.Option(help="Registry database URL (default SAFETYNET_DATABASE_URL or SQLite)."),
    ] = None,
) -> None:
    """Write synthetic social-security-card accounts for the households the registry pays."""
    from safetynet.entrypoints.cli._common import out as console
    from safetynet.entrypoints.cli._common import reports_errors

    def run() -> None:
        from safetynet.batch.synth_accounts import write_synthetic_accounts
        from safetynet.db.engine import create_database, require_current_schema
        from safetynet.entrypoints.cli.paths import output_file
        from safetynet.policy.calculate import parse_date

        output_file(out, "--out")
        start = parse_date(valid_from, "--valid-from")
        db = create_database(url)
        try:
            require_current_schema(db)
            written, missing = write_synthetic_accounts(
                db, out, start, seed=seed, missing_share=missing_share
            )
        finally:
            db.dispose()
        console.print(
            f"{written:,} accounts written to {out}; {missing:,} households left without one",
            markup=False,
        )

    reports_errors(run)()


def default_stages(feeds: Path | None, registry: bool) -> tuple[str, ...]:
    stages = ["feeds", "compare"] if feeds is not None else []
    stages.append("rules")
    if registry:
        stages.append("payments")
    return tuple(stages)


def _run(
    *,
    month: str,
    county: list[str] | None,
    snapshot: Path | None,
    feeds: Path | None,
    out: Path,
    stage: list[str] | None,
    bank_files: Path | None,
    url: str | None,
    no_registry: bool,
    workers: int | None,
    engine: str,
    spark_master: str | None,
    restart: bool,
    fallback_parameters: Path | None,
    quiet: bool,
    console: Console,
) -> None:
    from safetynet.batch.cycle import run_cycle
    from safetynet.batch.engines import make_engine
    from safetynet.batch.registry_month import registry_snapshot
    from safetynet.bootstrap import bootstrap
    from safetynet.db.engine import create_database
    from safetynet.entrypoints.cli._common import progress_bar
    from safetynet.entrypoints.cli.paths import fallback_file, input_dir, output_dir
    from safetynet.policy.screening import fallback_label, load_parameter_values

    if snapshot is not None:
        input_dir(snapshot, "--snapshot")
    if feeds is not None:
        input_dir(feeds, "--feeds")
    output_dir(out, "--out")
    if bank_files is not None:
        output_dir(bank_files, "--bank-files")
    fallback_parameters = fallback_file(fallback_parameters)
    fallbacks = load_parameter_values(fallback_parameters) if fallback_parameters else None
    note = (
        f"fallbacks from {fallback_label(fallback_parameters)}"
        if fallback_parameters
        else "regional parameters only"
    )
    stages = tuple(stage) if stage else default_stages(feeds, not no_registry)
    chosen_engine = make_engine(engine, workers=workers, master=spark_master)
    db = None if no_registry else create_database(url)
    progress = progress_bar(console, quiet=quiet)
    try:
        with progress:
            task = progress.add_task(f"{month}: counties", total=None)

            def tick(code: str, i: int, total: int) -> None:
                progress.update(task, completed=i, total=total, description=f"{month}: {code}")

            def step(name: str) -> None:
                progress.update(task, description=f"{month}: {name}")

            taken = None
            if snapshot is None:  # the registry is the input: its snapshot of the month first
                assert db is not None
                step("snapshot of the registry")
                snapshot, taken = registry_snapshot(
                    db, month, out, only=county, restart=restart, on_county=tick,
                    mapper=chosen_engine,
                )  # fmt: skip

            report = run_cycle(
                snapshot, month, out, feeds=feeds, db=db, stages=stages, only=county,
                workers=workers, engine=chosen_engine, bank_files=bank_files, fallbacks=fallbacks, restart=restart,
                parameters_note=note, on_county=tick, on_stage=step,
                unit_of_work=None if db is None else bootstrap(db).unit_of_work,
            )  # fmt: skip
    finally:
        if db is not None:
            db.dispose()
    log_stages(report)
    if taken is not None:
        head = taken["audit_head"]
        console.print(
            f"Snapshot of the registry as of {month}: {snapshot} — {taken['households']:,} "
            f"households, {taken['persons']:,} persons in {len(taken['counts'])} counties "
            f"(audit log head {'empty' if head is None else '#' + str(head['sequence'])})",
            markup=False,
        )
    print_report(console, report, stages)


def log_stages(report: Any) -> None:
    """One log record per stage of a monthly run: its time and what it counted."""
    import logging

    log = logging.getLogger("safetynet.batch")
    feeds = [f for c in report.counties for f in c.feeds]
    # The county stage ("population") reads, checks feeds, compares and runs the rules per county.
    per_county: dict[str, int] = {
        "counties": len(report.counties),
        "households": sum(c.households for c in report.counties),
        "persons": sum(c.persons for c in report.counties),
        "feed_rows_read": sum(f.read for f in feeds),
        "feed_rows_accepted": sum(f.accepted for f in feeds),
        "feed_rows_quarantined": sum(f.quarantined for f in feeds),
        "differences": sum(c.differences for c in report.counties),
    }
    counts: dict[str, dict[str, int]] = {
        "population": per_county,
        "across counties": {"duplicate_alerts": report.duplicate_alerts},
        "alerts": {
            "alerts": sum(sum(c.alerts.values()) for c in report.counties),
            "alerts_stored": sum(report.stored_alerts.values()),
            "holds_placed": report.holds_placed,
        },
    }
    if report.roll is not None:
        counts["roll"] = {"instructions": report.roll.created, "held": report.roll.held}
    counts["bank files"] = {
        "bank_files": sum(len(b.files) for b in report.bank_files),
        "payments": sum(w.count for b in report.bank_files for w in b.files),
    }
    for stage, seconds in report.seconds.items():
        log.info(
            "run-month %s, stage %s: %.1f s",
            report.month,
            stage,
            seconds,
            extra={"event": "stage", "run": "run-month", "month": report.month, "stage": stage,
                   "duration_ms": round(seconds * 1000), **counts.get(stage, {})},
        )  # fmt: skip


def print_not_available(console: Console, report: Any) -> None:
    """Programs not eligible in a county: no local standard for the region, or not in force."""
    skipped = [(c.county, t["program"], t["not_available"]) for c in report.counties
               for t in c.programs if t.get("not_available")]  # fmt: skip
    if not skipped:
        return
    table = Table("county", "program", "why", title="Not eligible here (skipped, not an error)")
    for row in skipped:
        table.add_row(*row)
    console.print(table)


def print_report(console: Console, report: Any, stages: tuple[str, ...]) -> None:
    """The run report: what each stage did, county by county, then the totals."""
    from safetynet.batch.runner import describe_totals, month_totals
    from safetynet.domain.money import format_yuan
    from safetynet.payments.bankfile import describe_held

    if report.resumed:
        console.print(f"Resumed: {len(report.resumed)} counties were finished by an earlier run.")
    persons = sum(c.persons for c in report.counties)
    households = sum(c.households for c in report.counties)
    console.print(
        f"Month {report.month}: {len(report.counties)} counties, {households:,} households, "
        f"{persons:,} persons; stages: {', '.join(stages)}"
    )
    if "feeds" in stages:
        feeds = Table("kind", "files", "read", "accepted", "not this county's", "quarantined",
                      "duplicates", title="Feeds (read = accepted + not this county's + quarantined)")  # fmt: skip
        sums: dict[str, list[int]] = {}
        for c in report.counties:
            for f in c.feeds:
                counts = sums.setdefault(f.kind, [0, 0, 0, 0, 0, 0])
                values = (1, f.read, f.accepted, f.other_county, f.quarantined, f.duplicates)
                for i, n in enumerate(values):
                    counts[i] += n
        for kind in sorted(sums):
            feeds.add_row(kind, *(f"{n:,}" for n in sums[kind]))
        console.print(feeds)
        quarantined = sum(r[4] for r in sums.values())
        if quarantined:
            console.print(
                f"Quarantined rows with their reasons: {report.out}/month={report.month}/"
                "county=*/quarantine-<kind>.csv",
                markup=False,
            )
        if report.other_county_rows or report.unknown_person_rows:
            console.print(
                f"Rows about persons of another county: {report.other_county_rows:,} matched "
                f"across counties; {report.unknown_person_rows:,} about persons no county knows, "
                f"quarantined as unknown persons in {report.out}/month={report.month}/"
                "quarantine-unknown-persons.csv",
                markup=False,
            )
    if "compare" in stages:
        alerts = Table("county", "rule", "alerts raised", title="Alerts")
        for c in report.counties:
            for rule in sorted(c.alerts):
                alerts.add_row(c.county, rule, f"{c.alerts[rule]:,}")
        console.print(alerts)
        differences = sum(c.differences for c in report.counties)
        changed = sum(c.households_changed for c in report.counties)
        console.print(
            f"Comparison: {differences:,} differences; {changed:,} households whose eligibility "
            f"or amount the feeds change; {report.duplicate_alerts:,} alerts across counties "
            "(paid in two regions or by exclusive programs)."
        )
        if report.stored_alerts or report.alerts_already_stored:
            stored = sum(report.stored_alerts.values())
            console.print(
                f"Registry: {stored:,} new alerts stored, {report.alerts_already_stored:,} "
                f"already stored or still open; {report.alerts_outside_registry:,} about "
                "households the registry does not hold (in alerts.parquet); "
                f"{report.holds_placed:,} payment holds placed (stop the next payment)."
            )
    if "rules" in stages:
        table = Table("program", "households", "persons", "amount (yuan)", "period",
                      title=f"Rules run {report.month}")  # fmt: skip
        for row in describe_totals(month_totals(report.out, report.month)):
            table.add_row(*row)
        console.print(table)
        print_not_available(console, report)
    for program, sub in report.subsidies.items():
        console.print(
            f"{program} {report.month}: {sub.recorded:,} awarded "
            f"({format_yuan(sub.recorded_fen)} yuan), {sub.present:,} already awarded (never "
            f"twice), {sub.outside_registry:,} households the registry does not hold.",
            markup=False,
        )
    if report.roll is not None:
        roll = report.roll
        console.print(
            f"Payment roll {report.month}: run {roll.run_id}, {roll.eligible:,} instructions "
            f"for the month: {roll.created:,} created, {roll.already_present:,} already present "
            f"(never twice); {roll.held - roll.held_by_hold:,} held without an account, "
            f"{roll.held_by_hold:,} held by a payment hold; {roll.adjustments:,} "
            f"adjustments of earlier months: arrears {format_yuan(roll.arrears_fen)} yuan, "
            f"overpaid {format_yuan(roll.overpaid_fen)} yuan."
        )
    for bank in report.bank_files:
        for written in bank.files:
            console.print(
                f"Bank file {written.path}: {written.count:,} payments, "
                f"{format_yuan(written.total_fen)} yuan{'' if written.new else ' (unchanged)'}",
                markup=False,
            )
        if bank.still_held:
            console.print(f"county {bank.county}: {describe_held(bank)}", markup=False)
        for instruction, month, reason in bank.stopped:
            console.print(
                f"county {bank.county}: instruction {instruction} ({month}) held, no longer "
                f"due: {reason}",
                markup=False,
            )
    if report.seconds:
        console.print(
            "Stage times: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
        )
    console.print(f"Results: {report.out / f'month={report.month}'}", markup=False)
