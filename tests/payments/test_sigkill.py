"""Exactly once under SIGKILL (issue 5 item 5): kill the roll at random points, resume, count.

A fresh PostgreSQL database gets ~3,000 enrolments (some not eligible). Twenty times a child
process rolls the month and is killed with SIGKILL after a seeded random delay between 0 and the
time a full roll takes; then a last roll runs to completion. Every eligible enrolment must have
exactly one instruction, and nothing else may have one.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text

from safetynet.audit.log import verify
from safetynet.payments.model import PaymentInstruction, PaymentRun
from safetynet.payments.roll import roll_month
from safetynet.registry.db import Database, bootstrap, upgrade
from tests.conftest import _create_database, _drop_database, _ensure_postgres
from tests.payments.helpers import Spec, seed

pytestmark = pytest.mark.postgres

MONTH = "2025-09"
KILLS = 20
BATCH = 100
CHILD = """
import sys
from safetynet.payments.roll import roll_month
from safetynet.registry.db import bootstrap
db = bootstrap(sys.argv[1])
with db.engine.connect():
    pass
print("ready", flush=True)
roll_month(db, sys.argv[2], batch_size=int(sys.argv[3]))
print("done", flush=True)
"""


@pytest.fixture
def fresh_postgres() -> Iterator[Database]:
    _ensure_postgres()
    url = _create_database("safetynet_sigkill")
    db = bootstrap(url)
    try:
        upgrade(db)
        yield db
    finally:
        db.dispose()
        _drop_database(url)


def _specs(rng: random.Random) -> list[Spec]:
    specs = []
    for i in range(3000):
        roll = rng.random()
        if roll < 0.04:
            spec = Spec(status="suspended")
        elif roll < 0.07:
            spec = Spec(end=dt.date(2025, 8, 31))
        elif roll < 0.10:
            spec = Spec(start=dt.date(2025, 10, 1))
        else:
            spec = Spec(program=("dibao", "tekun")[i % 2], amount_fen=rng.randint(1, 200_000))
        specs.append(spec)
    return specs


def test_sigkill_at_random_points_then_resume(fresh_postgres: Database) -> None:
    db = fresh_postgres
    rng = random.Random(20250905)
    specs = _specs(rng)
    seed(db, specs)
    expected = {
        (i + 1, s.program, MONTH): s.amount_fen
        for i, s in enumerate(specs)
        if s.status == "active" and s.end is None and s.start <= dt.date(2025, 9, 30)
    }
    assert len(expected) > 2500

    # How long a full roll takes, timed on another month (same enrolments, same batches).
    began = time.monotonic()
    assert roll_month(db, "2025-08", batch_size=BATCH).created > 2500
    full = time.monotonic() - began

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    killed = 0
    for _ in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, db.engine.url.render_as_string(False), MONTH, str(BATCH)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == "ready\n", child.communicate()[1]
            time.sleep(rng.uniform(0, full))
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
            _, errors = child.communicate(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
                child.communicate()
        if child.returncode == -signal.SIGKILL:
            killed += 1
        else:
            assert child.returncode == 0, errors
    assert killed >= KILLS // 2, f"only {killed} of {KILLS} children were killed mid-roll"

    with db.sessions() as session:
        partial = session.scalar(
            select(func.count())
            .select_from(PaymentInstruction)
            .where(PaymentInstruction.month == MONTH)
        )
    final = roll_month(db, MONTH, batch_size=BATCH)
    assert final.eligible == len(expected)
    assert final.created == len(expected) - (partial or 0)

    with db.sessions() as session:
        count = session.scalar(
            select(func.count())
            .select_from(PaymentInstruction)
            .where(PaymentInstruction.month == MONTH)
        )
        duplicates = session.execute(
            text(
                "SELECT household_id, program, month, COUNT(*) FROM payment_instructions "
                "GROUP BY household_id, program, month HAVING COUNT(*) > 1"
            )
        ).all()
        rows = session.execute(
            select(
                PaymentInstruction.household_id,
                PaymentInstruction.program,
                PaymentInstruction.month,
                PaymentInstruction.amount_fen,
            ).where(PaymentInstruction.month == MONTH)
        ).all()
        runs = session.scalars(select(PaymentRun.status).where(PaymentRun.month == MONTH)).all()
        audit_problems = verify(session)
    assert count == len(expected)
    assert duplicates == []
    assert {(h, p, m): a for h, p, m, a in rows} == expected
    assert runs.count("running") == 0
    assert audit_problems == []
