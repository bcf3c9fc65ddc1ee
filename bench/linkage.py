"""Benchmark: record linkage of persons (registry duplicates) on synthetic duplicates of known
truth — training, scoring, precision and recall at the review threshold, time and memory.

    ./run bench linkage [--persons 100000] [--seed 12]

The persons come from ``safetynet.registry.duplicates_synthetic`` (5 % duplicated with a mistyped
or legacy identity number, a name variant and/or a move; 1 % twins as hard non-duplicates). The
model is trained on them by EM (no labels), as ``FindDuplicates`` trains it on the registry.
Figures go to docs/performance.md ("Record linkage of persons").
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import time
from collections import Counter

from environment import machine, revision
from safetynet.registry.duplicates_synthetic import evaluate, synthetic_registry
from safetynet.registry.linkage import (
    features,
    linkage_settings,
    score_within,
    train_model,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()

    print(f"machine: {machine()}; revision {revision()}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    settings = linkage_settings(dt.date.today())

    started = time.perf_counter()
    registry = synthetic_registry(args.persons, seed=args.seed)
    generated = time.perf_counter()
    table = features(registry.records)
    featured = time.perf_counter()
    model = train_model(table, settings, seed=args.seed)
    trained = time.perf_counter()
    lowest = 0.5
    pairs = score_within(model, table, lowest)
    scored = time.perf_counter()

    print(
        f"{len(registry.records):,} rows ({args.persons:,} persons, {len(registry.truth):,} "
        f"duplicates, {len(registry.twins):,} twins); generate {generated - started:.1f} s "
        f"(not counted)"
    )
    print(
        f"features {featured - generated:.1f} s, train {trained - featured:.1f} s, "
        f"score {scored - trained:.1f} s: total {scored - generated:.1f} s, "
        f"{len(registry.records) / (scored - generated):,.0f} rows/s"
    )
    print("threshold | pairs | true | precision | recall")
    for threshold in sorted({lowest, 0.8, settings.review_probability, 0.95, 0.99}):
        e = evaluate(pairs, registry.truth, threshold)
        print(
            f"{threshold:9g} | {e.found_pairs:5,} | {e.true_positives:4,} | "
            f"{e.precision:9.4f} | {e.recall:6.4f}"
        )
    found = {
        (p.left_id, p.right_id) for p in pairs if p.match_probability >= settings.review_probability
    }
    missed = Counter(registry.kinds[k] for k in registry.truth - found)
    print(f"missed at {settings.review_probability:g}: {dict(missed) or 'none'}")
    print(f"twins taken for one person: {len(found & registry.twins)} of {len(registry.twins)}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MiB; load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
