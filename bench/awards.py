"""Benchmark: one-off awards in the payment roll, and the re-run that finds them all paid.

    .venv/bin/python bench/awards.py --url postgresql://postgres@127.0.0.1/DB --awards 100000
    .venv/bin/python bench/awards.py --awards 20000          # a SQLite file in a temporary folder

The database (empty, or not yet created for SQLite) is migrated; ``--awards`` households are
inserted, each with a payee account for nine in ten (the tenth is held for want of one), and one
award each (temporary assistance or a disaster grant, due in September 2025, one in twelve
settled to nothing by an advance), straight into the tables. Timed: the roll of September (its
enrolment phase finds nothing), the re-run (every award already instructed: nothing made) and the
bank file of the county. Synthetic data, illustrative [I]. Needs an audit key in the environment
(``SAFETYNET_AUDIT_KEY``, as every command that writes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from safetynet.audit.log import Actor
from safetynet.bootstrap import upgrade
from safetynet.db.engine import create_database
from safetynet.payments.bankfile import export_bank_files
from safetynet.payments.model import OneOffAward, PayeeAccount
from safetynet.payments.roll import roll_month
from safetynet.registry.model import Household, Membership, Person

AT = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)
COUNTY = "110105"


def _seed(url: str, n: int, seed: int) -> None:
    rng = random.Random(seed)
    db = create_database(url)
    upgrade(db)
    with db.sessions.begin() as session:
        for start in range(0, n, 5000):
            ids = range(start + 1, min(n, start + 5000) + 1)
            session.execute(
                insert(Household),
                [
                    {
                        "id": i,
                        "region_code": COUNTY,
                        "household_no": f"H{i:08d}",
                        "hukou_type": "urban",
                        "created_at": AT,
                        "updated_at": AT,
                    }
                    for i in ids
                ],
            )
            session.execute(
                insert(Person),
                [
                    {
                        "id": i,
                        "id_number": f"{COUNTY}{i:011d}X",
                        "name": "李",
                        "sex": "male",
                        "birth_date": dt.date(1970, 5, 1),
                        "hukou_region_code": COUNTY,
                        "hukou_type": "urban",
                        "created_at": AT,
                        "updated_at": AT,
                    }
                    for i in ids
                ],
            )
            session.execute(
                insert(Membership),
                [
                    {
                        "person_id": i,
                        "household_id": i,
                        "relation": "head",
                        "start_date": dt.date(2020, 1, 1),
                    }
                    for i in ids
                ],
            )
            session.execute(
                insert(PayeeAccount),
                [
                    {
                        "household_id": i,
                        "holder_person_id": i,
                        "bank_code": "102",
                        "account_number": f"6212{i:015d}",
                        "valid_from": dt.date(2025, 1, 1),
                        "created_at": AT,
                        "source": "bench",
                    }
                    for i in ids
                    if i % 10
                ],
            )
            rows = []
            for i in ids:
                amount = rng.randint(10_000, 900_000)
                deducted = amount if i % 12 == 0 else 0
                rows.append(
                    {
                        "program": ("temporary_assistance", "disaster_assistance")[i % 2],
                        "case_id": i,
                        "sequence": 1,
                        "kind": "award",
                        "household_id": i,
                        "amount_fen": amount,
                        "deducted_fen": deducted,
                        "payable_fen": amount - deducted,
                        "payee": "household",
                        "due_on": dt.date(2025, 9, rng.randint(1, 30)),
                        "reason": "bench",
                        "recorded_at": AT,
                        "recorded_by": "bench",
                    }
                )
            session.execute(insert(OneOffAward), rows)
    db.dispose()  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: a SQLite file, temporary)")
    parser.add_argument("--awards", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-awards-"))
    url = args.url or f"sqlite:///{folder / 'bench.db'}"
    began = time.perf_counter()
    _seed(url, args.awards, 20251201)
    print(f"seeded {args.awards:,} households and awards in {time.perf_counter() - began:.1f} s")
    db = create_database(url)
    clerk = Actor("bench", "payments_clerk")
    began = time.perf_counter()
    first = roll_month(db, "2025-09", batch_size=args.batch, actor=clerk)
    roll = time.perf_counter() - began
    began = time.perf_counter()
    again = roll_month(db, "2025-09", batch_size=args.batch, actor=clerk)
    rerun = time.perf_counter() - began
    began = time.perf_counter()
    bank = export_bank_files(db, "2025-09", COUNTY, folder, actor=clerk, clock=lambda: AT)
    files = time.perf_counter() - began
    print(
        f"{db.dialect}: roll {roll:.1f} s ({first.awards_created:,} instructed, "
        f"{first.awards_held:,} held, {first.awards_settled:,} settled; "
        f"{args.awards / roll:,.0f} awards/s); re-run {rerun:.1f} s "
        f"({again.awards_created} made); bank file {files:.1f} s "
        f"({sum(f.count for f in bank.files):,} records); load average {os.getloadavg()[0]:.1f}"
    )
    db.dispose()


if __name__ == "__main__":
    main()
