"""Exactly once under SIGKILL (issue 5 item 5): kill the roll at random points, resume, count.

A fresh PostgreSQL database gets ~3,000 enrolments (some not eligible), rolled for July and
August. Then retroactive changes are recorded: amounts raised or lowered from July and deaths in
July, so the September roll has arrears, overpayments, recoveries and offsets to make. Twenty
times a child process rolls September and is killed with SIGKILL after a seeded random delay
between 0 and the time a full roll takes; then a last roll runs to completion. Every eligible
enrolment must have exactly one instruction with the hand-derivable amounts, every changed month
exactly one adjustment, every overpayment exactly one recovery, and nothing else may exist.
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

from safetynet.audit.log import Actor, verify
from safetynet.bootstrap import upgrade
from safetynet.db.engine import Database, create_database
from safetynet.domain.money import Rounding, mul_ratio
from safetynet.payments.entitlements import (
    ChangeEntitlement,
    EndEntitlement,
    change_entitlement,
    end_entitlement,
)
from safetynet.payments.model import (
    PaymentAdjustment,
    PaymentInstruction,
    PaymentRecovery,
    PaymentRun,
)
from safetynet.payments.roll import OFFSET_ROUNDING, OFFSET_SHARE, roll_month
from safetynet.policy.parameters import default_tree
from tests.conftest import _create_database, _drop_database, _ensure_postgres
from tests.payments.helpers import Spec, duplicate_instructions, month_instructions, seed

pytestmark = pytest.mark.postgres

MONTH = "2025-09"
KILLS = 20
BATCH = 100
CHILD = """
import sys
from safetynet.payments.roll import roll_month
from safetynet.db.engine import create_database
from safetynet.bootstrap import upgrade
db = create_database(sys.argv[1])
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
    db = create_database(url)
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


def _retroactive_changes(
    db: Database, specs: list[Spec], rng: random.Random
) -> tuple[dict[int, int], dict[int, int]]:
    """Record changes from July for some paid enrolments: new amounts (raised or lowered) and
    deaths on 2025-07-15. Returns {enrolment id: new amount} and {enrolment id: old amount} of
    the dead."""
    clerk = Actor("clerk", "payments_clerk")
    at = dt.datetime(2025, 8, 20, 9, 0, tzinfo=dt.UTC)
    changed: dict[int, int] = {}
    dead: dict[int, int] = {}
    for i, spec in enumerate(specs):
        if spec.status != "active" or spec.end is not None or spec.start > dt.date(2025, 7, 1):
            continue
        roll = rng.random()
        if roll < 0.08:
            amount = spec.amount_fen + rng.randint(1, 5_000)
        elif roll < 0.12:
            amount = max(0, spec.amount_fen - rng.randint(1, 30_000))
        elif roll < 0.15:
            dead[i + 1] = spec.amount_fen
            reason = "death reported late"
            end_entitlement(
                db, EndEntitlement(i + 1, dt.date(2025, 7, 15), reason, clerk), lambda: at
            )
            continue
        else:
            continue
        changed[i + 1] = amount
        change = ChangeEntitlement(i + 1, "2025-07", amount, "reassessed", clerk)
        change_entitlement(db, change, lambda: at)
    return changed, dead


def test_sigkill_at_random_points_then_resume(fresh_postgres: Database) -> None:
    db = fresh_postgres
    rng = random.Random(20250905)
    specs = _specs(rng)
    seed(db, specs)
    assert roll_month(db, "2025-07", batch_size=BATCH).created > 2500
    # How long a full roll takes, timed on another month (same enrolments, same batches).
    began = time.monotonic()
    assert roll_month(db, "2025-08", batch_size=BATCH).created > 2500
    full = time.monotonic() - began

    changed, dead = _retroactive_changes(db, specs, rng)
    assert len(changed) > 200
    assert len(dead) > 50
    tree = default_tree()
    share = tree.resolve(OFFSET_SHARE, dt.date(2025, 9, 1), ["000000"]).value
    mode = Rounding(tree.resolve(OFFSET_ROUNDING, dt.date(2025, 9, 1), ["000000"]).value)
    expected: dict[tuple[int, str, str], tuple[int, int, int]] = {}
    expected_adjustments: dict[tuple[int, str], int] = {}
    for i, s in enumerate(specs):
        key = i + 1
        if key in dead:
            # July (the month of death) stays paid; August is overpaid in full.
            if dead[key]:
                expected_adjustments[(key, "2025-08")] = -dead[key]
            continue
        if not (s.status == "active" and s.end is None and s.start <= dt.date(2025, 9, 30)):
            continue
        amount = changed.get(key, s.amount_fen)
        difference = amount - s.amount_fen
        arrears = 2 * difference if difference > 0 else 0
        offset = min(-2 * difference, mul_ratio(amount, share, mode)) if difference < 0 else 0
        if difference:
            expected_adjustments[(key, "2025-07")] = difference
            expected_adjustments[(key, "2025-08")] = difference
        expected[(key, s.program, MONTH)] = (amount, arrears, offset)
    assert any(a for _, a, _ in expected.values())
    assert any(o for _, _, o in expected.values())
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
        duplicates = duplicate_instructions(session)
        rows = month_instructions(session, MONTH)
        adjustments = session.execute(
            select(
                PaymentAdjustment.enrolment_id,
                PaymentAdjustment.for_month,
                PaymentAdjustment.amount_fen,
                PaymentAdjustment.roll_month,
            )
        ).all()
        duplicate_adjustments = session.execute(
            text(
                "SELECT household_id, program, for_month, COUNT(*) FROM payment_adjustments "
                "GROUP BY household_id, program, for_month HAVING COUNT(*) > 1"
            )
        ).all()
        recoveries = session.execute(
            select(PaymentRecovery.household_id, func.sum(PaymentRecovery.amount_fen)).group_by(
                PaymentRecovery.household_id
            )
        ).all()
        runs = session.scalars(select(PaymentRun.status).where(PaymentRun.month == MONTH)).all()
        audit_problems = verify(session)
    assert count == len(expected)
    assert duplicates == []
    assert {(h, p, m): (a, r, o) for h, p, m, a, r, o in rows} == expected
    assert {(e, f): a for e, f, a, _ in adjustments} == expected_adjustments
    assert {r for *_, r in adjustments} == {MONTH}
    assert duplicate_adjustments == []
    assert dict(recoveries) == {
        h: -sum(a for (k, _), a in expected_adjustments.items() if k == h)
        for h in {k for (k, _), a in expected_adjustments.items() if a < 0}
    }
    assert runs.count("running") == 0
    assert audit_problems == []
