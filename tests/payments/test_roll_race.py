"""Two rolls of one month started together (issue 10 item 8): arrears and recoveries are kept.

A fresh PostgreSQL database gets 300 enrolments, rolled for July and August; then amounts are
raised or lowered from July. Several times over, two spawned processes roll September at the same
moment (a barrier releases them together) in batches of 10. Every September instruction must
carry exactly the arrears and offset derivable by hand, every changed month exactly one
adjustment and every overpayment one recovery, whichever roll got there first.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import random
from multiprocessing.synchronize import Barrier

import pytest
from sqlalchemy import delete, func, select

from safetynet.audit.log import Actor
from safetynet.db.engine import Database, create_database
from safetynet.domain.money import Rounding, mul_ratio
from safetynet.payments.entitlements import ChangeEntitlement, change_entitlement
from safetynet.payments.model import (
    PaymentAdjustment,
    PaymentInstruction,
    PaymentRecovery,
    PaymentRun,
)
from safetynet.payments.roll import (
    OFFSET_ROUNDING,
    OFFSET_SHARE,
    RollInProgressError,
    month_lock,
    roll_month,
)
from safetynet.policy.parameters import default_tree
from tests.payments.helpers import Spec, duplicate_instructions, month_instructions, seed
from tests.payments.test_sigkill import fresh_postgres

__all__ = ["fresh_postgres"]

pytestmark = pytest.mark.postgres

MONTH = "2025-09"
TRIALS = 6
BATCH = 10


def _roll_child(url: str, barrier: Barrier) -> None:
    db = create_database(url)
    with db.engine.connect():
        pass  # connected before the start, so both rolls begin together
    barrier.wait(timeout=60)
    roll_month(db, MONTH, batch_size=BATCH)
    db.dispose()


def _forget_september(db: Database) -> None:
    """Undo the September roll so the next trial rolls it again from nothing."""
    with db.sessions.begin() as session:
        adjustments = select(PaymentAdjustment.id).where(PaymentAdjustment.roll_month == MONTH)
        session.execute(
            delete(PaymentRecovery).where(PaymentRecovery.adjustment_id.in_(adjustments))
        )
        session.execute(delete(PaymentAdjustment).where(PaymentAdjustment.roll_month == MONTH))
        session.execute(delete(PaymentInstruction).where(PaymentInstruction.month == MONTH))
        session.execute(delete(PaymentRun).where(PaymentRun.month == MONTH))


def test_two_rolls_of_one_month_at_once_keep_every_arrear(fresh_postgres: Database) -> None:
    db = fresh_postgres
    rng = random.Random(20251205)
    specs = [
        Spec(program=("dibao", "tekun")[i % 2], amount_fen=rng.randint(10_000, 200_000))
        for i in range(300)
    ]
    seed(db, specs)
    roll_month(db, "2025-07", batch_size=50)
    roll_month(db, "2025-08", batch_size=50)
    clerk = Actor("clerk", "payments_clerk")
    at = dt.datetime(2025, 8, 20, 9, 0, tzinfo=dt.UTC)
    changed: dict[int, int] = {}
    for i, spec in enumerate(specs):
        roll = rng.random()
        if roll < 0.4:
            changed[i + 1] = spec.amount_fen + rng.randint(1, 9_000)
        elif roll < 0.55:
            changed[i + 1] = spec.amount_fen - rng.randint(1, 9_000)
        else:
            continue
        change = ChangeEntitlement(i + 1, "2025-07", changed[i + 1], "reassessed", clerk)
        change_entitlement(db, change, lambda: at)
    tree = default_tree()
    share = tree.resolve(OFFSET_SHARE, dt.date(2025, 9, 1), ["000000"]).value
    mode = Rounding(tree.resolve(OFFSET_ROUNDING, dt.date(2025, 9, 1), ["000000"]).value)
    expected: dict[tuple[int, str], tuple[int, int, int]] = {}
    expected_adjustments: dict[tuple[int, str], int] = {}
    for i, spec in enumerate(specs):
        amount = changed.get(i + 1, spec.amount_fen)
        difference = amount - spec.amount_fen
        arrears = 2 * difference if difference > 0 else 0
        offset = min(-2 * difference, mul_ratio(amount, share, mode)) if difference < 0 else 0
        expected[(i + 1, spec.program)] = (amount, arrears, offset)
        if difference:
            expected_adjustments[(i + 1, "2025-07")] = difference
            expected_adjustments[(i + 1, "2025-08")] = difference
    assert sum(a for _, a, _ in expected.values()) > 0
    assert sum(o for _, _, o in expected.values()) > 0

    url = db.engine.url.render_as_string(False)
    context = multiprocessing.get_context("spawn")
    for trial in range(TRIALS):
        _forget_september(db)
        barrier = context.Barrier(2)
        children = [context.Process(target=_roll_child, args=(url, barrier)) for _ in range(2)]
        for child in children:
            child.start()
        for child in children:
            child.join(timeout=300)
            assert child.exitcode == 0, f"trial {trial}: a roll failed ({child.exitcode})"
        with db.sessions() as session:
            rows = month_instructions(session, MONTH)
            duplicates = duplicate_instructions(session)
            adjustments = session.execute(
                select(
                    PaymentAdjustment.enrolment_id,
                    PaymentAdjustment.for_month,
                    PaymentAdjustment.amount_fen,
                ).where(PaymentAdjustment.roll_month == MONTH)
            ).all()
            recoveries = session.scalar(
                select(func.count())
                .select_from(PaymentRecovery)
                .join(PaymentAdjustment, PaymentAdjustment.id == PaymentRecovery.adjustment_id)
                .where(PaymentAdjustment.roll_month == MONTH)
            )
            runs = session.scalars(select(PaymentRun.status).where(PaymentRun.month == MONTH)).all()
        assert duplicates == []
        got = {(h, p): (a, r, o) for h, p, _, a, r, o in rows}
        lost = {k: (got.get(k), v) for k, v in expected.items() if got.get(k) != v}
        assert lost == {}, f"trial {trial}: {len(lost)} instructions differ"
        assert len(rows) == len(expected)
        assert {(e, f): a for e, f, a in adjustments} == expected_adjustments
        assert recoveries == sum(a < 0 for a in expected_adjustments.values())
        assert sorted(runs) == ["finished", "finished"], f"trial {trial}: {runs}"


def test_a_roll_waiting_too_long_is_refused_with_the_running_roll_named(
    fresh_postgres: Database,
) -> None:
    db = fresh_postgres
    seed(db, [Spec()])
    with month_lock(db, MONTH, 1.0), pytest.raises(RollInProgressError, match=r"2025-09.*waited"):
        roll_month(db, MONTH, wait_seconds=0.3)
    # the lock is released with the block: the roll runs
    assert roll_month(db, MONTH, wait_seconds=0.3).created == 1
