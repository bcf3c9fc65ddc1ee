"""What "the same monthly cycle" means, whichever engine ran it (tests/batch/test_engines.py and
the demo's population in tests/entrypoints/cli/test_demo.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from safetynet.batch.cycle import CycleReport
from safetynet.batch.runner import largest_monthly_payments, month_dir

COUNTY_FILES = ("records", "other_county", "differences", "effects", "alerts", "recipients",
                "results", "person_results")  # fmt: skip
POPULATION_STAGES = ("feeds", "compare", "rules")


def sorted_alerts(table: pa.Table) -> pa.Table:
    keys = ["county", "rule", "subject", "household_id"]
    return table.sort_by([(k, "ascending") for k in keys])


def explained(snapshot: Path, out: Path, month: str, fallbacks: Mapping[str, Any]) -> list[Any]:
    """The largest monthly payments with each step of their explanation."""
    return [
        (top.county, top.household_id, top.monthly_fen,
         [(e.program.id, [(s.label, str(s.value), s.formula) for s in e.trace.steps])
          for e in top.evaluations])
        for top in largest_monthly_payments(snapshot, out, month, 5, fallbacks=fallbacks)
    ]  # fmt: skip


def counts(report: CycleReport) -> list[Any]:
    return [
        (c.county, c.households, c.persons, c.feeds, c.records, c.differences,
         c.households_changed, c.alerts, c.recipients, c.programs)
        for c in report.counties
    ]  # fmt: skip


def assert_same_cycle(
    ours: tuple[Path, CycleReport], theirs: tuple[Path, CycleReport], *, snapshot: Path,
    month: str, counties: Sequence[str], fallbacks: Mapping[str, Any],
) -> None:  # fmt: skip
    """Every household's amounts and explanations, every record, difference and alert, and the
    step across counties: equal between two runs of the population stages (output folder and
    report of each)."""
    (our_out, report), (their_out, ref) = ours, theirs
    assert counts(report) == counts(ref)
    mine, other = month_dir(our_out, month), month_dir(their_out, month)
    for county in counties:
        for name in COUNTY_FILES:
            path = f"county={county}/{name}.parquet"
            assert pq.read_table(mine / path).equals(pq.read_table(other / path)), path
    # The step across counties: the same persons matched in other counties, the same unknown
    # persons quarantined, the same persons paid in two regions.
    assert (report.other_county_rows, report.unknown_person_rows, report.duplicate_alerts) == (
        ref.other_county_rows, ref.unknown_person_rows, ref.duplicate_alerts,
    )  # fmt: skip
    duplicates = pq.read_table(mine / "duplicate_alerts.parquet")
    assert sorted_alerts(duplicates).equals(
        sorted_alerts(pq.read_table(other / "duplicate_alerts.parquet"))
    )
    unknown = "quarantine-unknown-persons.csv"
    assert (mine / unknown).is_file() == (other / unknown).is_file()
    if (other / unknown).is_file():
        assert (mine / unknown).read_bytes() == (other / unknown).read_bytes()
    # The explanations of the largest payments, step by step.
    assert explained(snapshot, our_out, month, fallbacks) == explained(
        snapshot, their_out, month, fallbacks
    )
