"""``safetynet registry duplicates find|list|merge|separate``: the duplicates review queue.

Each command turns its arguments into a command or a query of ``safetynet.registry.duplicates``;
identity numbers are shown masked.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from safetynet.entrypoints.cli._common import (
    UrlOption,
    cli_actor,
    current_database,
    out,
    reports_errors,
)
from safetynet.errors import InputError

__all__ = ["duplicates_app"]

duplicates_app = typer.Typer(
    help="疑似重复登记 Likely duplicate persons: find, review, merge or separate.",
    no_args_is_help=True,
)

RegionOption = Annotated[
    str | None,
    typer.Option(help="Only persons of this region (6-digit code of a province, city or county)."),
]
ReasonOption = Annotated[str, typer.Option(help="Why (kept in the audit log).")]
STATUSES = ("open", "merged", "separated", "all")


def _actor() -> Any:
    return cli_actor("registry_clerk")


@duplicates_app.command("find")
@reports_errors
def find(
    region: RegionOption = None,
    train: Annotated[
        bool,
        typer.Option(
            "--train/--no-train",
            help="Train a new model on these persons (default), or use the latest stored one.",
        ),
    ] = True,
    url: UrlOption = None,
) -> None:
    """Score the persons (the whole registry by default, which finds a person enrolled in two
    counties) and queue the likely duplicates not queued yet."""
    from safetynet.bootstrap import bootstrap
    from safetynet.domain.regions import validate_region_code
    from safetynet.registry.duplicates import FindDuplicates

    if region is not None:
        region = validate_region_code(region, "--region")
    with current_database(url) as db:
        report = bootstrap(db).handle(FindDuplicates(_actor(), region, train))
    out.print(
        f"查重 compared {report.persons} persons with model {report.model_id}: "
        f"{report.scored} pairs at or above probability {report.threshold:g}, "
        f"{report.queued} newly queued, {report.known} queued or decided before",
        markup=False,
    )


@duplicates_app.command("list")
@reports_errors
def list_pairs(
    status: Annotated[str, typer.Option(help="open, merged, separated or all.")] = "open",
    region: RegionOption = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many pairs.")] = 50,
    url: UrlOption = None,
) -> None:
    """The review queue, most probable first (identity numbers masked)."""
    from safetynet.domain.regions import validate_region_code
    from safetynet.registry.duplicates import duplicate_pairs

    if region is not None:
        region = validate_region_code(region, "--region")
    if status not in STATUSES:
        raise InputError("--status", f"{status!r} is not one of {list(STATUSES)}")
    with current_database(url) as db, db.sessions() as session:
        pairs = duplicate_pairs(
            session, status=None if status == "all" else status, region=region, limit=limit
        )
    table = Table(title=f"疑似重复 Likely duplicates ({status})")
    for column in ("pair", "p", "status", "person", "id number", "name", "born", "region"):
        table.add_column(column)
    for p in pairs:
        table.add_row(
            str(p.pair_id),
            f"{p.match_probability:.3f}",
            p.status,
            str(p.person_id),
            p.masked_id_number,
            p.name,
            p.birth_date.isoformat(),
            p.region,
        )
        table.add_row(
            "",
            "",
            p.decided_by or "",
            str(p.other_person_id),
            p.other_masked_id_number,
            p.other_name,
            p.other_birth_date.isoformat(),
            p.other_region,
        )
    out.print(table)
    out.print(f"{len(pairs)} pairs", markup=False)


@duplicates_app.command("merge")
@reports_errors
def merge(
    pair: Annotated[int, typer.Argument(help="The pair's number (from list).")],
    keep: Annotated[int, typer.Option(help="The person id to keep (one of the pair).")],
    reason: ReasonOption,
    url: UrlOption = None,
) -> None:
    """One person: the other's memberships and income move to the person kept; the other is
    marked merged (never deleted)."""
    from safetynet.bootstrap import bootstrap
    from safetynet.registry.duplicates import MergePersons

    with current_database(url) as db:
        kept = bootstrap(db).handle(MergePersons(pair, keep, _actor(), reason))
    out.print(f"合并 pair {pair} merged: person {kept} kept", markup=False)


@duplicates_app.command("separate")
@reports_errors
def separate(
    pair: Annotated[int, typer.Argument(help="The pair's number (from list).")],
    reason: ReasonOption,
    url: UrlOption = None,
) -> None:
    """Two persons: the pair is never queued again."""
    from safetynet.bootstrap import bootstrap
    from safetynet.registry.duplicates import SeparatePersons

    with current_database(url) as db:
        bootstrap(db).handle(SeparatePersons(pair, _actor(), reason))
    out.print(f"分开 pair {pair} separated: two persons", markup=False)
