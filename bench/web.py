"""Benchmark: the workbench under 50 signed-in clerks — the work queue, one household whole and a
search by identity number — on a registry of a million persons.

    ./run bench web --url postgresql://postgres@127.0.0.1:5432/bench   # 333,334 households
    ./run bench web --households 20000 --users 10 --rounds 3            # a smoke test (SQLite)

The registry is written as bench/registry_search.py writes it (four counties, 1-5 members per
household, an audit entry per household and person); 200 dibao applications are lodged and
accepted in 浦东新区 (310115) through the message bus, so the queue has deadlines to show. The
server is `create_app` under uvicorn in its own process (one worker, as `safetynet serve` runs
it; ``--workers N`` runs N as `safetynet serve --workers N` does). Each simulated clerk of 310115
signs in through the sign-in form, then for ``--rounds`` rounds opens the work queue, one household of the county and a search by identity number, with a
think time of ``--think`` seconds (default 1 s) between requests, as a person reading the page.
Reports the median, p95 and maximum of each page's response time and the requests per second.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any
from urllib.parse import urlencode

from environment import free_port, machine, revision, wait_for_port
from registry_search import COUNTIES, populate

COUNTY = "310115"
PASSWORD = "bench password"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def _serve(url: str, port: int) -> None:
    import uvicorn

    from safetynet.db.engine import create_database
    from safetynet.entrypoints.api import InMemoryUserDirectory, create_app

    app = create_app(create_database(url), users=InMemoryUserDirectory({}))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _start_server(url: str, port: int, workers: int) -> Any:
    """One server process, or uvicorn's supervisor over ``workers`` as `safetynet serve
    --workers N` starts it (its own process: uvicorn hands its workers this process's stdin)."""
    if workers == 1:
        server = multiprocessing.get_context("spawn").Process(target=_serve, args=(url, port))
        server.start()
        return server
    from safetynet.db.engine import resolve_url
    from safetynet.entrypoints.cli.api_cli import FACTORY

    env = {**os.environ, "SAFETYNET_SERVE_DATABASE_URL":
           resolve_url(url).render_as_string(hide_password=False), "SAFETYNET_SERVE_DEMO": "1"}  # fmt: skip
    command = [sys.executable, "-m", "uvicorn", FACTORY, "--factory", "--workers", str(workers),
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
               "--no-access-log"]  # fmt: skip
    return subprocess.Popen(command, env=env)


def _stop_server(server: Any) -> None:
    server.terminate()
    if isinstance(server, subprocess.Popen):
        server.wait(30)
    else:
        server.join(10)


def _cases(url: str, count: int) -> None:
    """``count`` dibao applications lodged and accepted in the county today, and the clerk."""
    import datetime as dt

    from safetynet.accounts.commands import AddStaffAccount
    from safetynet.audit.log import Actor
    from safetynet.bootstrap import bootstrap
    from safetynet.cases import commands as c
    from safetynet.db.engine import create_database

    db = create_database(url)
    bus = bootstrap(db)
    clerk = Actor("bench_clerk", "intake_clerk", COUNTY)
    today = dt.date.today()
    bus.handle(AddStaffAccount(actor=clerk, username="bench_clerk", display_name="bench",
                               role="intake_clerk", region=COUNTY, password=PASSWORD))  # fmt: skip
    household = {
        "region": COUNTY,
        "hukou_type": "urban",
        "members": [{"relation": "head", "birth_date": "1985-03-01", "sex": "male",
                     "wage_income": "900"}],
    }  # fmt: skip
    county_index = COUNTIES.index(COUNTY)
    for i in range(count):
        hid = county_index + len(COUNTIES) * i or len(COUNTIES)
        event = bus.handle(c.SubmitApplication(
            actor=clerk, on=today, household_region=COUNTY, household_no=f"H{hid:07d}",
            region=COUNTY, household=household, programs=("dibao",)))  # fmt: skip
        bus.handle(c.AcceptApplication(actor=clerk, on=today, application_id=event.entity_id))
    db.dispose()


class Clerk:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed the idle keep-alive connection (5 s): a browser reconnects.
            self.conn.close()
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        text = response.read().decode("utf-8")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        return response.status, text

    def csrf(self, html: str) -> str:
        found = CSRF.search(html)
        assert found, html[:300]
        return found.group(1)


def _clerk_run(port: int, rounds: int, think: float, numbers: list[tuple[int, str]],
               timings: dict[str, list[float]], lock: threading.Lock,
               signed_in: threading.Barrier) -> None:  # fmt: skip
    clerk = Clerk(port)
    _, page = clerk.request("GET", "/sign-in")
    status, _ = clerk.request("POST", "/sign-in", {"csrf_token": clerk.csrf(page),
                                                    "username": "bench_clerk", "password": PASSWORD})  # fmt: skip
    assert status == 303, status
    signed_in.wait()  # every clerk signed in (Argon2 on purpose costs CPU) before the clock runs
    rng = random.Random(threading.get_ident())
    token = ""
    for _ in range(rounds):
        hid, number = rng.choice(numbers)
        for name, method, path, form in (
            ("work queue", "GET", "/", None),
            ("one household", "GET", f"/households/{hid}", None),
            ("search by identity number", "POST", "/households", {"q": number}),
        ):
            if form is not None:
                form = {**form, "csrf_token": token}
            time.sleep(think * rng.uniform(0.5, 1.5))
            started = time.perf_counter()
            status, text = clerk.request(method, path, form)
            elapsed = time.perf_counter() - started
            assert status == 200, (path, status)
            token = clerk.csrf(text)
            with lock:
                timings[name].append(elapsed * 1000)


def _numbers(url: str, count: int) -> list[tuple[int, str]]:
    from sqlalchemy import select

    from safetynet.db.engine import create_database
    from safetynet.registry.model import Household, Membership, Person

    db = create_database(url)
    with db.sessions() as session:
        rows = session.execute(
            select(Household.id, Person.id_number)
            .join(Membership, Membership.household_id == Household.id)
            .join(Person, Person.id == Membership.person_id)
            .where(Household.region_code == COUNTY, Membership.relation == "head")
            .limit(count)
        ).all()
    db.dispose()
    return [(int(h), str(n)) for h, n in rows]


def _persons(url: str) -> int:
    from sqlalchemy import func, select

    from safetynet.db.engine import create_database
    from safetynet.registry.model import Person

    db = create_database(url)
    with db.sessions() as session:
        count = session.scalar(select(func.count()).select_from(Person)) or 0
    db.dispose()
    return int(count)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="Database URL (default: a new SQLite file).")
    parser.add_argument("--households", type=int, default=333_334)  # about a million persons
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--workers", type=int, default=1, help="server processes (serve --workers)")
    parser.add_argument(
        "--reuse", action="store_true", help="The database at --url was written by a run before."
    )
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    url = args.url or f"sqlite:///{folder}/web.db"
    os.environ.setdefault("SAFETYNET_AUDIT_KEY", "bench-1:" + "5a" * 32)
    os.environ.setdefault("SAFETYNET_AUDIT_CHECKPOINTS", f"{folder}/checkpoints.jsonl")
    os.environ.setdefault("SAFETYNET_LOG_LEVEL", "WARNING")  # a line per request is not measured
    started = time.perf_counter()
    if args.reuse:
        persons = _persons(url)
    else:
        persons, _, _ = populate(url, args.households, args.seed)
        _cases(url, 200)
    loaded = time.perf_counter() - started
    numbers = _numbers(url, 2000)
    port = free_port()
    server = _start_server(url, port, args.workers)
    try:
        wait_for_port(port, tries=200)
        timings: dict[str, list[float]] = {k: [] for k in
                                           ("work queue", "one household", "search by identity number")}  # fmt: skip
        lock = threading.Lock()
        barrier = threading.Barrier(args.users)
        threads = [
            threading.Thread(target=_clerk_run,
                             args=(port, args.rounds, args.think, numbers, timings, lock,
                                   barrier))
            for _ in range(args.users)
        ]  # fmt: skip
        began = time.perf_counter()  # includes the sign-ins (not timed per page)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - began
    finally:
        _stop_server(server)
    requests = sum(len(v) for v in timings.values())
    backend = url.split(":", 1)[0]
    print(f"Web workbench, {backend}: {args.households:,} households, {persons:,} persons "
          f"(written in {loaded:.0f} s); {args.users} clerks × {args.rounds} rounds, think time "
          f"{args.think} s; {args.workers} server process(es); {requests} requests in {wall:.1f} s ({requests / wall:.1f}/s); "
          f"{machine()}; revision {revision()}; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print()
    print("| page | median (ms) | p95 (ms) | max (ms) | requests |")
    print("|---|---:|---:|---:|---:|")
    for name, values in timings.items():
        print(f"| {name} | {statistics.median(values):.0f} | {_percentile(values, 0.95):.0f} "
              f"| {max(values):.0f} | {len(values)} |")  # fmt: skip


if __name__ == "__main__":
    main()
