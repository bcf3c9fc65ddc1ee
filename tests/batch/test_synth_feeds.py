"""Synthetic feeds: every file is in the documented schema and validates with exactly its planted
bad rows quarantined; the feeds agree with the population except for the planted discrepancies,
which the truth file lists; the same seed gives the same files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from safetynet.batch.synth import generate
from safetynet.batch.synth_feeds import (
    BAD_ROWS,
    DISCREPANCIES,
    FeedRates,
    delivery_date,
    feed_path,
    generate_feeds,
)
from safetynet.entrypoints.cli.synth_cli import synth_feeds
from safetynet.errors import InputError
from safetynet.monitoring.columnar import ColumnarFeed, validate_columns
from safetynet.monitoring.feeds import FEEDS

COUNTIES = ["510104", "510181", "510121"]
MONTH = "2025-09"
# Rates high enough that a small population shows every discrepancy.
RATES = FeedRates(
    recipient_died=0.05,
    undeclared_vehicle=0.05,
    undeclared_property=0.1,
    undeclared_business=0.05,
    wage_above_declared=0.05,
    large_out_of_pocket=0.002,
    paid_in_two_regions=0.05,
    deposits_above_limit=0.05,
)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("population")
    generate(root, 30_000, COUNTIES, seed=3, on=dt.date(2025, 9, 1))
    return root


@pytest.fixture(scope="module")
def feeds(snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("feeds")
    generate_feeds(snapshot, out, MONTH, 5, rates=RATES)
    return out


def persons(snapshot: Path) -> pa.Table:
    return pa.concat_tables(
        pq.read_table(
            snapshot / "persons" / f"county={c}" / "part-0.parquet",
            columns=["person_id", "household_id", "id_number", "wage_income"],
        ).append_column("county", pa.array([c] * 10_000))
        for c in COUNTIES
    )


def validated(feeds: Path, snapshot: Path, kind: str, county: str) -> ColumnarFeed:
    known = persons(snapshot).column("id_number")
    table = pq.read_table(feed_path(feeds, kind, county))
    return validate_columns(FEEDS[kind], table, delivered_on=delivery_date(MONTH), known_ids=known)


def test_every_file_validates_with_only_its_bad_rows_quarantined(
    feeds: Path, snapshot: Path
) -> None:
    manifest = json.loads((feeds / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["delivered_on"] == "2025-09-30"
    for kind in FEEDS:
        for county in COUNTIES:
            result = validated(feeds, snapshot, kind, county)
            assert result.read == manifest["files"][kind][county]["rows"]
            assert result.read == result.accepted + result.quarantined_rows
            assert result.quarantined_rows == len(BAD_ROWS), (kind, county)
            last = result.read + 1  # rows are numbered from 2
            assert [q.row for q in result.quarantine] == list(range(last - 3, last + 1))
            assert "check character" in result.quarantine[0].reason
            assert "after the delivery" in result.quarantine[1].reason
            assert result.quarantine[2].reason == "duplicate of row 2"
            assert result.quarantine[3].reason == "unknown person"


def test_wages_equal_the_declared_ones_except_the_planted(feeds: Path, snapshot: Path) -> None:
    planted = pq.read_table(feeds / "planted.parquet")
    raised = set(
        np.asarray(
            planted.filter(pa.compute.equal(planted["discrepancy"], "wage_above_declared"))[
                "id_number"
            ].to_pylist()
        )
    )
    assert raised
    people = persons(snapshot)
    declared = dict(
        zip(people["id_number"].to_pylist(), people["wage_income"].to_pylist(), strict=True)
    )
    for county in COUNTIES:
        records = validated(feeds, snapshot, "wages", county).records
        for number, fen in zip(
            records["id_number"].to_pylist(), records["amount_fen"].to_pylist(), strict=True
        ):
            if number in raised:
                assert fen >= declared[number] + RATES.wage_raise_per_member_yuan * 100
            else:
                assert fen == declared[number]


def test_the_truth_file_lists_what_the_feeds_show(feeds: Path, snapshot: Path) -> None:
    planted = pq.read_table(feeds / "planted.parquet").to_pylist()
    assert {p["discrepancy"] for p in planted} == set(DISCREPANCIES)
    accepted = {
        (kind, county): set(
            validated(feeds, snapshot, kind, county).records["id_number"].to_pylist()
        )
        for kind in FEEDS
        for county in COUNTIES
    }
    for row in planted:
        assert row["id_number"] in accepted[(row["kind"], row["feed_county"])], row
    two_regions = [p for p in planted if p["discrepancy"] == "paid_in_two_regions"]
    assert two_regions
    assert all(p["feed_county"] != p["county"] for p in two_regions)
    households = {
        c: pq.read_table(snapshot / "households" / f"county={c}" / "part-0.parquet").to_pydict()
        for c in COUNTIES
    }
    for row in planted:
        if row["discrepancy"] == "undeclared_vehicle":
            h = households[row["county"]]
            assert h["vehicles"][h["household_id"].index(row["household_id"])] == 0


def test_same_seed_same_files_and_another_seed_other_files(
    feeds: Path, snapshot: Path, tmp_path: Path
) -> None:
    generate_feeds(snapshot, tmp_path / "again", MONTH, 5, rates=RATES)
    generate_feeds(snapshot, tmp_path / "other", MONTH, 6, rates=RATES)
    for kind in ("wages", "deaths", "vehicles"):
        first = pq.read_table(feed_path(feeds, kind, "510104"))
        assert pq.read_table(feed_path(tmp_path / "again", kind, "510104")).equals(first)
    assert not pq.read_table(feed_path(tmp_path / "other", "deaths", "510104")).equals(
        pq.read_table(feed_path(feeds, "deaths", "510104"))
    )


def test_refuses_a_folder_that_is_not_feeds(snapshot: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(InputError, match="choose another --out"):
        generate_feeds(snapshot, tmp_path, MONTH, 1)
    with pytest.raises(InputError, match="not a month"):
        generate_feeds(snapshot, tmp_path / "x", "2025-13", 1)


def test_cli(snapshot: Path, tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("synth-feeds")(synth_feeds)
    app.command("other")(lambda: None)  # two commands, so the name is required as in main
    out = tmp_path / "feeds"
    result = CliRunner().invoke(
        app,
        ["synth-feeds", "--snapshot", str(snapshot), "--out", str(out), "--month", MONTH],
    )
    assert result.exit_code == 0, result.output
    assert "wages:" in result.stdout
    assert "planted: recipient_died" in result.stdout
    assert feed_path(out, "disability_certificates", "510121").is_file()
