"""Benchmark: registry searches and the household view on a registry of a county's size.

    ./run bench registry_search                   # 100 k households, SQLite
    ./run bench registry_search --url postgresql://postgres@127.0.0.1:5432/bench
    ./run bench registry_search --households 20000   # a smoke test

Synthetic registry (illustrative): households spread over four counties (朝阳区 110105, 浦东新区
310115, 天河区 440106, 武侯区 510107), 1-5 members each (3 on average), names drawn from 20
surnames × 40 given names (so a surname prefix matches about 5 % of persons), addresses
``<street><n>号`` over 200 streets, statistical codes with 20 townships × 30 villages per county.
Rows are written with bulk inserts (not through the import: this measures the queries), with an
audit entry per household and per person for the history view to find its own among. Each
query runs 5 times after a warm-up; the median is reported, with the hits' total. Results: a
Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert

from environment import machine, revision
from safetynet.audit.model import AuditEvent
from safetynet.bootstrap import upgrade
from safetynet.db.engine import create_database
from safetynet.domain.identity import check_character
from safetynet.registry.model import Household, Membership, Person
from safetynet.registry.search import (
    SearchQuery,
    household_id,
    household_view,
    search_households,
    search_persons,
)

COUNTIES = ("110105", "310115", "440106", "510107")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = [a + b for a in "伟芳娜敏静丽强磊军洋" for b in ("", "华", "明", "红")]
_WORDS = ("东", "西", "南", "北", "中", "新", "和平", "幸福", "光明", "人民", "解放", "建设")
STREETS = [f"{a}{b}路" for a in _WORDS for b in "一二三四五六七八九十"]
NOW = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)
_ENTRY = itertools.count(1)


def _id_number(county: str, i: int) -> str:
    born = dt.date(1950, 1, 1) + dt.timedelta(days=(i * 37) % 25_000)
    first17 = f"{county}{born:%Y%m%d}{i // 25_000 + 1:03d}"
    return first17 + check_character(first17)


def populate(url: str, households: int, seed: int) -> tuple[int, str, str]:
    """Write the synthetic registry; returns (persons, an identity number, a name) to look for."""
    db = create_database(url)
    upgrade(db)
    rng = random.Random(seed)
    persons = 0
    sample_id, sample_name = "", ""
    with db.engine.begin() as conn:
        for start in range(0, households, 10_000):
            h_rows, p_rows, m_rows = [], [], []
            for hid in range(start + 1, min(households, start + 10_000) + 1):
                county = COUNTIES[hid % len(COUNTIES)]
                township, village = rng.randint(1, 20), rng.randint(1, 30)
                h_rows.append({
                    "id": hid, "region_code": county, "household_no": f"H{hid:07d}",
                    "statistical_code": f"{county}{township:03d}{village:03d}",
                    "hukou_type": "urban", "created_at": NOW, "updated_at": NOW,
                    "address": f"{rng.choice(STREETS)}{rng.randint(1, 300)}号",
                })  # fmt: skip
                for k in range(rng.randint(1, 5)):
                    persons += 1
                    number = _id_number(county, persons)
                    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
                    sample_id, sample_name = sample_id or number, sample_name or name
                    p_rows.append({
                        "id": persons, "id_number": number, "name": name,
                        "sex": "male" if int(number[16]) % 2 else "female",
                        "birth_date": dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                        "hukou_region_code": county, "hukou_type": "urban",
                        "disability_category": "none", "disability_grade": 0,
                        "has_serious_illness": False, "self_care_items_failed": 0,
                        "created_at": NOW, "updated_at": NOW,
                    })  # fmt: skip
                    m_rows.append({
                        "person_id": persons, "household_id": hid,
                        "relation": "head" if k == 0 else "child",
                        "start_date": dt.date(2020, 1, 1),
                    })  # fmt: skip
            conn.execute(insert(Household), h_rows)
            conn.execute(insert(Person), p_rows)
            conn.execute(insert(Membership), m_rows)
            conn.execute(insert(AuditEvent), _audit_rows(h_rows, p_rows))
        conn.exec_driver_sql("ANALYZE")  # plans from real statistics, as on a live registry
    db.dispose()
    return persons, sample_id, sample_name


def _audit_rows(households: list[dict[str, Any]], persons: list[dict[str, Any]]) -> list[Any]:
    """An entry per household and per person, as an import writes them (the history view looks
    its household up among them). Hashes are placeholders: the benchmark times the lookup, not
    the chain."""
    rows = []
    for entity, batch in (("household", households), ("person", persons)):
        for row in batch:
            n = next(_ENTRY)
            rows.append({
                "id": n, "occurred_at": NOW, "actor": "bench", "role": "registry_clerk",
                "region": None, "command": "ImportHouseholds", "event": f"{entity.title()}Registered",
                "entity": entity, "entity_id": str(row["id"]), "before": None, "after": None,
                "prev_hash": f"{n - 1:064x}", "hash": f"{n:064x}",
            })  # fmt: skip
    return rows


def _median_ms(run: Callable[[], Any]) -> tuple[float, Any]:
    result = run()  # warm-up
    times = []
    for _ in range(5):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def measure(url: str, sample_id: str, sample_name: str) -> list[tuple[str, float, int]]:
    db = create_database(url)
    rows: list[tuple[str, float, int]] = []
    legacy = sample_id[:6] + sample_id[8:17]
    cases: list[tuple[str, str, SearchQuery]] = [
        ("persons", "identity number (18)", SearchQuery(id_number=sample_id)),
        ("persons", "identity number (legacy 15)", SearchQuery(id_number=legacy)),
        ("persons", "name, exact", SearchQuery(name=sample_name)),
        ("persons", "name, prefix (a surname)", SearchQuery(name=sample_name[0], name_match="prefix")),
        ("persons", "name, contains", SearchQuery(name=sample_name[1:], name_match="contains")),
        ("households", "address, contains", SearchQuery(address="和平一路1")),
        ("households", "region (a county)", SearchQuery(region="310115")),
        ("households", "statistical code (a village)", SearchQuery(region="310115001001")),
        ("households", "name within a province", SearchQuery(name=sample_name, within="110000")),
    ]  # fmt: skip
    with db.sessions() as session:
        for kind, label, query in cases:
            search = search_persons if kind == "persons" else search_households
            ms, page = _median_ms(lambda s=search, q=query: s(session, q))  # type: ignore[misc]
            rows.append((f"{kind}: {label}", ms, page.total))
        hid = household_id(session, "110105", "H0000004")
        assert hid is not None
        ms, _ = _median_ms(lambda: household_view(session, hid))
        rows.append(("household view (members, income, history)", ms, 1))
    db.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="Database URL (default: a new SQLite file).")
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/registry-search.db"
    started = time.perf_counter()
    persons, sample_id, sample_name = populate(url, args.households, args.seed)
    loaded = time.perf_counter() - started
    rows = measure(url, sample_id, sample_name)
    backend = url.split(":", 1)[0]
    print(f"Registry search, {backend}: {args.households:,} households, {persons:,} persons "
          f"(written in {loaded:.1f} s); {machine()}; revision {revision()}; "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print()
    print("| query | median of 5 (ms) | hits (total) |")
    print("|---|---:|---:|")
    for label, ms, total in rows:
        print(f"| {label} | {ms:.1f} | {total:,} |")


if __name__ == "__main__":
    main()
