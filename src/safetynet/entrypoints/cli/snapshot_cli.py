"""``safetynet snapshot``: the registry as of a month, as the batch format (Parquet by county)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safetynet.entrypoints.cli._common import (
    EngineOption,
    SparkMasterOption,
    UrlOption,
    current_database,
    out,
    progress_bar,
    reports_errors,
)
from safetynet.entrypoints.cli.paths import output_dir

__all__ = ["snapshot_cmd"]


@reports_errors
def snapshot_cmd(
    month: Annotated[str, typer.Option(help="The month the snapshot is of, YYYY-MM.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write (replaced if it holds a snapshot).")
    ],
    county: Annotated[
        list[str] | None, typer.Option(help="Only this county (6-digit code; repeatable).")
    ] = None,
    url: UrlOption = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Counties exported at once on PostgreSQL, in one snapshot of the database "
            "(default: the CPU count; the embedded SQLite registry is exported one county at a "
            "time)."
        ),
    ] = None,
    engine: EngineOption = "local",
    spark_master: SparkMasterOption = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Export every program fact of the registry as of MONTH, county by county (docs/registry.md)."""
    from safetynet.batch.engines import make_engine
    from safetynet.registry.snapshot import export_snapshot

    output_dir(out_dir, "--out")
    with current_database(url) as db, progress_bar(out, quiet=quiet) as progress:
        task = progress.add_task(f"snapshot {month}", total=None)

        def tick(code: str, i: int, total: int) -> None:
            progress.update(task, completed=i, total=total, description=f"snapshot {code}")

        mapper = make_engine(engine, workers=workers, master=spark_master)
        manifest = export_snapshot(db, month, out_dir, only=county, on_county=tick, mapper=mapper)
    head = manifest["audit_head"]
    at = "empty" if head is None else f"#{head['sequence']}"
    for c in manifest["counts"]:
        out.print(f"{c['county']}: {c['households']:,} households, {c['persons']:,} persons")
    out.print(
        f"Snapshot {manifest['month']} of the registry: {len(manifest['counts'])} counties, "
        f"{manifest['households']:,} households, {manifest['persons']:,} persons → {out_dir} "
        f"(audit log head: {at})",
        markup=False,
    )
