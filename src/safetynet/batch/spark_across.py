"""The monthly cycle's step across counties as Spark joins (``--engine spark``).

The same step as ``cycle._across_counties``, without gathering every county's rows in one process:

1. feed rows about persons of another county (``other_county.parquet``) are joined with every
   county's persons of the snapshot: matched rows are counted, the rest quarantined as unknown
   persons (``quarantine-unknown-persons.csv``);
2. the matched social-insurance benefit rows join each county's recipients as entries;
3. the persons with more than one entry (a count per identity number, a shuffle) are kept, and
   their entries are grouped by a hash of the identity number, so that all of one person's entries
   meet in one task, where the existing rule ``monitoring.alerts.duplicate_alerts`` runs unchanged
   (``applyInArrow``);
4. an alert is kept where its county pays the household (a semi-join with the recipients).

Only the alerts (and the quarantined unknown persons) come back to the driver, which stores them
in the registry county by county, exactly as the local engine does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from safetynet.batch.cycle import (
    BENEFIT_CODES,
    CycleReport,
    CycleSettings,
    _Plan,
    _write_unknown,
)
from safetynet.batch.engines import SparkEngine
from safetynet.domain.calendar import install_added_years
from safetynet.monitoring.alerts import ALERT_SCHEMA, RECIPIENT_SCHEMA, duplicate_alerts
from safetynet.monitoring.feeds import FEEDS
from safetynet.registry.county_data import counties as snapshot_counties
from safetynet.registry.county_data import write_parquet

if TYPE_CHECKING:
    from pathlib import Path

    from pyspark.sql import DataFrame, SparkSession

__all__ = ["ALERT_DDL", "across_counties"]

ALERT_DDL = (
    "rule string, severity string, county string, office string, action string, "
    "household_id bigint, person_id bigint, subject string, month string, raised_on date, "
    "due_on date, evidence string, due_basis string"
)


def across_counties(
    engine: SparkEngine, snapshot: Path, plan: _Plan, s: CycleSettings, report: CycleReport
) -> pa.Table:
    """The duplicate-payment alerts across counties (written to ``duplicate_alerts.parquet``),
    counting the other counties' rows into ``report`` as the local step does."""

    spark = engine.session
    folder = plan.folder
    recipients = spark.read.parquet(
        *[str(folder / f"county={c}" / "recipients.parquet") for c in plan.chosen]
    )
    entries = recipients
    others = [
        str(path)
        for c in plan.chosen
        if (path := folder / f"county={c}" / "other_county.parquet").is_file()
    ]
    rows = sum(pq.read_metadata(path).num_rows for path in others)
    if rows:  # (counted from the files' footers, without a Spark job)
        joined, benefits = _other_counties(
            spark.read.parquet(*others), rows, snapshot, folder, report
        )
        entries = recipients.unionByName(benefits)
        try:
            return _duplicates(spark, recipients, entries, folder, plan, s)
        finally:
            joined.unpersist()
    return _duplicates(spark, recipients, entries, folder, plan, s)


def _duplicates(
    spark: SparkSession,
    recipients: DataFrame,
    entries: DataFrame,
    folder: Path,
    plan: _Plan,
    s: CycleSettings,
) -> pa.Table:
    """The persons with more than one entry, their alerts by the unchanged rule, kept where the
    alert's county pays the household."""
    from pyspark.sql import (
        functions as fn,
    )  # pyspark is an optional extra, imported by the Spark engine only

    suspects = (
        entries.groupBy("id_number")
        .agg(fn.countDistinct("county").alias("counties"), fn.count(fn.lit(1)).alias("entries"))
        .where((fn.col("counties") > 1) | (fn.col("entries") > 1))
        .select("id_number")
    )
    month, raised_on, calendar_years = plan.on, plan.raised_on, plan.calendar_years
    overrides, fallbacks = s.overrides, s.fallbacks

    def rule(table: pa.Table) -> pa.Table:
        """One task's persons (all entries of each): the unchanged rule, on the registry's
        calendar (the executor's process may not have it installed)."""
        if calendar_years is not None:
            install_added_years(calendar_years)
        entries = table.select(RECIPIENT_SCHEMA.names).cast(RECIPIENT_SCHEMA)
        return duplicate_alerts(
            [entries], month, raised_on, overrides=overrides, fallbacks=fallbacks
        )

    # As many groups as shuffle partitions (spark.sql.shuffle.partitions): one call of the rule
    # per group, each with all the entries of its persons.
    buckets = int(spark.conf.get("spark.sql.shuffle.partitions") or 8)
    alerts = (
        entries.join(suspects, "id_number", "left_semi")
        .withColumn("bucket", fn.pmod(fn.xxhash64("id_number"), fn.lit(buckets)))
        .groupBy("bucket")
        .applyInArrow(rule, ALERT_DDL)
    )
    # Each county acts on the payments it makes: keep the alerts of the counties paying them.
    paying = recipients.select("county", "household_id").distinct()
    kept = alerts.join(paying, ["county", "household_id"], "left_semi")
    duplicates = kept.select(*ALERT_SCHEMA.names).toArrow().cast(ALERT_SCHEMA)
    duplicates = duplicates.sort_by(
        [("county", "ascending"), ("household_id", "ascending"), ("person_id", "ascending"),
         ("rule", "ascending")]
    )  # fmt: skip
    write_parquet(duplicates, folder / "duplicate_alerts.parquet")
    return duplicates


def _other_counties(
    other: DataFrame, rows: int, snapshot: Path, folder: Path, report: CycleReport
) -> tuple[DataFrame, DataFrame]:
    """Match the rows about persons of other counties with the snapshot's persons (a join);
    quarantine the unknown; return the join (cached: the alerts' job reads it again; the caller
    releases it) and the matched benefit rows as recipients' entries."""
    from pyspark.sql import (
        functions as fn,
    )  # pyspark is an optional extra, imported by the Spark engine only

    spark = other.sparkSession
    # Only the persons the rows name: the (small) set of their identity numbers is broadcast to
    # every task reading the snapshot, so the population itself is never shuffled.
    named = fn.broadcast(other.select("id_number").distinct())
    known = (
        spark.read.parquet(
            *[
                str(snapshot / "persons" / f"county={c}" / "part-0.parquet")
                for c in snapshot_counties(snapshot)
            ]
        )
        .select("id_number", "person_id", "household_id")
        .join(named, "id_number", "left_semi")
        .select(
            "id_number",
            fn.col("person_id").alias("known_person"),
            fn.col("household_id").alias("known_household"),
        )
        .dropDuplicates(["id_number"])
    )
    joined = other.join(known, "id_number", "left").cache()
    try:
        kinds = fn.array(*[fn.lit(k) for k in FEEDS])
        unknown = (
            joined.where(fn.col("known_person").isNull())
            .orderBy("feed_county", fn.array_position(kinds, fn.col("kind")), "row")
            .select("feed_county", "kind", "row", "id_number")
            .toArrow()
        )
        report.other_county_rows += rows - unknown.num_rows
        report.unknown_person_rows += unknown.num_rows
        _write_unknown(folder / "quarantine-unknown-persons.csv", unknown)
        benefits = joined.where(
            fn.col("known_person").isNotNull() & fn.col("code").isin(*BENEFIT_CODES)
        ).select(
            fn.col("feed_county").alias("county"),
            fn.col("known_household").alias("household_id"),
            fn.col("known_person").alias("person_id"),
            "id_number",
            fn.col("code").alias("program"),
        )
        return joined, benefits
    except BaseException:
        joined.unpersist()
        raise
