"""Benchmark: fund projections (``safetynet project``), one process, each fund in turn.

    ./run bench funds                 # 30 years, 3 runs of each fund (first and best reported)
    ./run bench funds --years 50 --runs 2
    ./run bench funds --region 350000   # Fujian's employee pension fund (with the nation beside it)

For the employee pension fund a run is the whole command's work: the projection with the 2025
retirement-age reform and the one without it (the rules core evaluated for every cohort's
retirement month and, each year, for the retiring cohorts' awards). The simpler funds run one
projection. Data: the shipped schedules and parameters of the region (the nation by default). A
province runs the employee pension fund only, and each of its projections also projects the nation
beside it for the pooling transfers.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from environment import machine, revision
from safetynet.analysis.funds.scenario import Scenario
from safetynet.analysis.funds.service import FUNDS, project_fund
from safetynet.policy.parameters import NATION


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--region", default=NATION)
    args = parser.parse_args()
    funds = list(FUNDS) if args.region == NATION else ["employee_pension"]
    print(f"machine: {machine()}; revision {revision()}")
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"region {args.region}")
    print(f"\n| fund | years | projections | first run s | best of {args.runs} s | exhaustion |")
    print("|---|---:|---:|---:|---:|---|")
    for fund in funds:
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            report = project_fund(fund, args.region, args.years, Scenario())
            times.append(time.perf_counter() - started)
        years = ", ".join(
            f"{p.scenario.name}: {p.exhaustion_year or '—'}" for p in report.projections
        )
        print(
            f"| {fund} | {args.years} | {len(report.projections)} | {times[0]:.2f} | "
            f"{min(times):.2f} | {years} |"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\npeak RSS {peak:.0f} MiB; load average after: "
        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
