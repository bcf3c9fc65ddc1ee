"""Exactly once under SIGKILL (issue 5 item 5): kill the roll at random points, resume, count.

A fresh PostgreSQL database gets ~3,000 enrolments (some not eligible), rolled for July and
August. Then retroactive changes are recorded: amounts raised or lowered from July and deaths in
July, so the September roll has arrears, overpayments, recoveries and offsets to make. Twenty
times a child process rolls September and is killed with SIGKILL after a seeded random delay
between 0 and the time a full roll takes; then a last roll runs to completion. Every eligible
enrolment must have exactly one instruction with the hand-derivable amounts, every changed month
exactly one adjustment, every overpayment exactly one recovery, and nothing else may exist.
One-off awards due in September (temporary assistance, disaster grants, one in twelve settled to
nothing by an advance) are rolled by the same killed children after the enrolments: each must end
with exactly one instruction, of its payable amount.
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
from sqlalchemy import func, insert, select, text

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
    OneOffAward,
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
AWARDS = 1500
CHILD = """
import sys
import safetynet.payments.roll_awards as awards
from safetynet.payments.roll import roll_month
from safetynet.db.engine import create_database
db = create_database(sys.argv[1])
with db.engine.connect():
    pass
apply = awards._apply
def announced(*args, **kwargs):
    # a batch of one-off awards is written, not yet committed: say so and wait for the parent,
    # which kills the roll here or lets it go on
    made = apply(*args, **kwargs)
    print("award batch", flush=True)
    sys.stdin.readline()
    return made
if sys.argv[4] == "wait":
    awards._apply = announced
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


def _kill_at_award_batch(child: subprocess.Popen[str], k: int) -> None:
    """Let the child commit k - 1 batches of awards, then kill it in the k-th (or let it finish
    when fewer are left)."""
    assert child.stdin is not None
    assert child.stdout is not None
    while child.stdout.readline() == "award batch\n":
        k -= 1
        if k == 0:
            os.kill(child.pid, signal.SIGKILL)
            return
        child.stdin.write("\n")
        child.stdin.flush()


def _seed_awards(db: Database, households: int, rng: random.Random) -> dict[int, int]:
    """One-off awards due in September, as the case workflow records them (straight into the
    table: ``BenefitAwarded`` is tested elsewhere). Returns {award id: payable}."""
    at = dt.datetime(2025, 9, 2, 9, 0, tzinfo=dt.UTC)
    rows = []
    for i in range(AWARDS):
        amount = rng.randint(1, 900_000)
        deducted = amount if i % 12 == 0 else 0
        rows.append(
            {"id": i + 1, "program": ("temporary_assistance", "disaster_assistance")[i % 2],
             "case_id": i + 1, "sequence": 1, "kind": "award",
             "household_id": rng.randint(1, households), "amount_fen": amount,
             "deducted_fen": deducted, "payable_fen": amount - deducted, "payee": "household",
             "due_on": dt.date(2025, 9, rng.randint(1, 30)), "reason": "approved",
             "recorded_at": at, "recorded_by": "county_chen"}
        )  # fmt: skip
    with db.sessions.begin() as session:
        session.execute(insert(OneOffAward), rows)
    return {r["id"]: r["payable_fen"] for r in rows}  # type: ignore[misc]


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
    awards = _seed_awards(db, len(specs), rng)
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
    after_kill: list[int] = []  # awards instructed when each killed child died
    for attempt in range(KILLS):
        wait = "wait" if attempt % 2 else "free"
        url = db.engine.url.render_as_string(False)
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, url, MONTH, str(BATCH), wait],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == "ready\n", child.communicate()[1]
            if wait == "wait":
                # every other child is killed while it rolls the awards (after the enrolments),
                # with its k-th batch of awards written and not committed
                _kill_at_award_batch(child, rng.randint(1, 4))
            else:
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
            with db.sessions() as session:
                after_kill.append(
                    session.scalar(
                        select(func.count())
                        .select_from(PaymentInstruction)
                        .where(PaymentInstruction.award_id.is_not(None))
                    )
                    or 0
                )
        else:
            assert child.returncode == 0, errors
    assert killed >= KILLS // 2, f"only {killed} of {KILLS} children were killed mid-roll"

    with db.sessions() as session:
        partial = session.scalar(
            select(func.count())
            .select_from(PaymentInstruction)
            .where(PaymentInstruction.month == MONTH, PaymentInstruction.award_id.is_(None))
        )
        awards_before = session.scalar(
            select(func.count())
            .select_from(PaymentInstruction)
            .where(PaymentInstruction.award_id.is_not(None))
        )
    final = roll_month(db, MONTH, batch_size=BATCH)
    assert final.eligible == len(expected)
    assert final.created == len(expected) - (partial or 0)
    assert final.awards_created == AWARDS - (awards_before or 0)
    assert any(0 < n < AWARDS for n in after_kill), f"none killed amid the awards: {after_kill}"

    with db.sessions() as session:
        count = session.scalar(
            select(func.count())
            .select_from(PaymentInstruction)
            .where(PaymentInstruction.month == MONTH, PaymentInstruction.award_id.is_(None))
        )
        paid_awards = session.execute(
            select(
                PaymentInstruction.award_id,
                func.count(),
                func.sum(PaymentInstruction.amount_fen),
                func.min(PaymentInstruction.month),
            )
            .where(PaymentInstruction.award_id.is_not(None))
            .group_by(PaymentInstruction.award_id)
        ).all()
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
    assert {a: (n, total, m) for a, n, total, m in paid_awards} == {
        a: (1, payable, MONTH) for a, payable in awards.items()
    }
    assert runs.count("running") == 0
    assert audit_problems == []
