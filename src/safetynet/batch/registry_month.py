"""The month's cycle on the registry: its snapshot first, then every stage on that snapshot.

``safetynet run-month`` with a database and no ``--snapshot`` calls ``registry_snapshot``: the
registry as of the month (``registry.snapshot.export_snapshot``) is written under the run's own
output (``<out>/month=<M>/snapshot``), and the run records that folder (``monthly_runs.snapshot``,
the run report); with the run's engine, its counties in parallel on PostgreSQL (one snapshot of
the database for all). A run that resumes keeps the snapshot its finished counties were computed on;
``--restart`` takes a new one. The synthetic Parquet path (``--snapshot DIR``) is for benchmarks
and demos.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from safetynet.batch.runner import month_dir
from safetynet.db.engine import Database
from safetynet.registry.county_data import MANIFEST, read_manifest
from safetynet.registry.snapshot import CountyMapper, export_snapshot

__all__ = ["SNAPSHOT_FOLDER", "registry_snapshot"]

SNAPSHOT_FOLDER = "snapshot"


def registry_snapshot(
    db: Database,
    month: str,
    out: Path,
    *,
    only: Sequence[str] | None = None,
    restart: bool = False,
    on_county: Callable[[str, int, int], None] | None = None,
    mapper: CountyMapper | None = None,
) -> tuple[Path, dict[str, Any]]:
    """The folder of the month's registry snapshot under ``out`` and its manifest: taken now, or
    (resuming, without ``restart``) the one an earlier run of the month took."""
    folder = month_dir(out, month) / SNAPSHOT_FOLDER
    if not restart and (folder / MANIFEST).is_file():
        manifest = read_manifest(folder)
        if manifest.get("source") == "registry" and manifest.get("month") == month:
            return folder, manifest
    folder.parent.mkdir(parents=True, exist_ok=True)
    return folder, export_snapshot(db, month, folder, only=only, on_county=on_county, mapper=mapper)
