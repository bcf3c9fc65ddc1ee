"""The plain enrolments' instructions written set at a time equal what ``plan_roll`` decides.

A registry of households drawn at random (one or two enrolments, of one program or two, active,
suspended or ended, starting and ending in and around the months; no account, one, or two with
different starts, one ending; holds of every program or of one, from this month or a later one,
released; entitlements changed after a month was paid; an amount paid other than due; a start moved
after its month was paid) is planned by ``plan_roll`` and then written by ``insert_plain``, in
its first month and again in the next, after the first was rolled and changed. Each instruction
the statement writes is the one the plan makes for its enrolment, field by field, and the plan
does nothing else for that enrolment: no adjustment, no earlier month's held instruction brought
up to date, no arrears to carry.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from safetynet.audit.log import Actor
from safetynet.db.engine import Database
from safetynet.payments.entitlements import ChangeEntitlement, change_entitlement
from safetynet.payments.holds import ENDED
from safetynet.payments.model import (
    PayeeAccount,
    PaymentAdjustment,
    PaymentHold,
    PaymentInstruction,
    PaymentRecovery,
    PaymentRun,
)
from safetynet.payments.months import month_bounds
from safetynet.payments.roll import _RecoveryParams, load_roll_inputs, roll_candidates, roll_month
from safetynet.payments.roll_plain import insert_plain
from safetynet.payments.roll_plan import Candidate, InstructionValues, RollPlan, plan_roll
from safetynet.policy.parameters import default_tree
from safetynet.registry.model import Enrolment
from tests.payments.helpers import NOW, Spec, heads, seed

D = dt.date
CLERK = Actor(name="clerk", role="payments_clerk")
STARTS = [D(2024, 6, 1), D(2025, 9, 1), D(2025, 9, 20), D(2025, 10, 5), D(2025, 11, 1)]
ENDS = [None, None, None, D(2025, 8, 31), D(2025, 9, 10), D(2025, 10, 31)]
AMOUNTS = [0, 50_000, 80_000, 123_456]
# a household's accounts: none, one, two with different starts, one ending, one not yet valid
ACCOUNTS: list[list[tuple[dt.date, dt.date | None]]] = [
    [],
    [(D(2025, 1, 1), None)],
    [(D(2025, 1, 1), None), (D(2025, 10, 15), None)],
    [(D(2025, 1, 1), D(2025, 9, 30))],
    [(D(2025, 1, 1), D(2025, 9, 30)), (D(2025, 10, 1), None)],
    [(D(2025, 12, 1), None)],
]


def _registry(db: Database, rng: random.Random, households: int) -> None:
    """Households drawn at random (module docstring), with accounts and holds."""
    specs = [
        Spec(
            program=rng.choice(["dibao", "tekun"]),
            start=rng.choice(STARTS),
            end=rng.choice(ENDS),
            amount_fen=rng.choice(AMOUNTS),
            status=rng.choice(["active"] * 6 + ["suspended", "ended"]),
        )
        for _ in range(households)
    ]
    specs = [s for s in specs if s.end is None or s.end >= s.start]
    ids = seed(db, specs)
    with db.sessions.begin() as session:
        next_id = len(ids) + 1
        for household, first in zip(ids, specs, strict=True):
            if rng.random() < 0.25:  # a second enrolment, of the same program or another
                program = rng.choice(["dibao", "tekun"])
                # one enrolment of a program not ended at a time
                both_open = program == first.program and first.status != "ended"
                session.execute(
                    insert(Enrolment),
                    {"id": next_id, "household_id": household, "program": program,
                     "start_date": rng.choice(STARTS), "end_date": None,
                     "amount_fen": rng.choice(AMOUNTS),
                     "status": "ended" if both_open else rng.choice(["active", "ended"]),
                     "version": 1},
                )  # fmt: skip
                next_id += 1
        heads(session, ids)
        accounts: list[dict[str, Any]] = []
        for h in ids:
            windows = rng.choice(ACCOUNTS)
            accounts += [
                {"household_id": h, "holder_person_id": h, "bank_code": f"10{n}",
                 "account_number": f"62{h:015d}{n:02d}", "valid_from": start, "valid_to": end,
                 "created_at": NOW, "source": "test"}
                for n, (start, end) in enumerate(windows)
            ]  # fmt: skip
        session.execute(insert(PayeeAccount), accounts)
        for h in ids:
            for _ in range(rng.choice([0, 0, 0, 1, 2])):
                released = rng.random() < 0.3
                session.add(
                    PaymentHold(
                        household_id=h,
                        program=rng.choice([None, "dibao", "tekun"]),
                        from_month=rng.choice(["2025-09", "2025-10", "2025-11"]),
                        reason=f"review {rng.randrange(100)}",
                        source="manual",
                        placed_at=NOW,
                        placed_by="clerk",
                        released_at=NOW if released else None,
                        released_by="clerk" if released else None,
                        release_reason="checked" if released else None,
                    )
                )


def _changes_after_a_month(db: Database, rng: random.Random) -> None:
    """What happens between two rolls: entitlements changed from a month already paid, an
    amount paid other than due, a start moved past a paid month."""
    with db.sessions() as session:
        paid = [
            (instruction_id, enrolment_id)
            for instruction_id, enrolment_id in session.execute(
                select(PaymentInstruction.id, PaymentInstruction.enrolment_id)
            )
            if enrolment_id is not None  # monthly, not a one-off award's
        ]
    for _, enrolment_id in rng.sample(paid, len(paid) // 10):
        change_entitlement(
            db,
            ChangeEntitlement(enrolment_id, "2025-09", rng.choice(AMOUNTS), "standard", CLERK),
            lambda: NOW,
        )
    with db.sessions.begin() as session:
        for instruction_id, _ in rng.sample(paid, len(paid) // 10):
            session.execute(
                update(PaymentInstruction)
                .where(PaymentInstruction.id == instruction_id)
                .values(amount_fen=PaymentInstruction.amount_fen + 1_000)
            )
        for _, enrolment_id in rng.sample(paid, len(paid) // 20):
            session.execute(
                update(Enrolment)
                .where(Enrolment.id == enrolment_id, Enrolment.end_date.is_(None))
                .values(start_date=D(2025, 10, 1))
            )
    _corrections(db, rng, [instruction_id for instruction_id, _ in paid])


def _corrections(db: Database, rng: random.Random, paid: list[int]) -> None:
    """Rows the roll reads that no roll wrote here, each on households of its own, so that only
    one of the plain conditions excludes them: arrears of a household's program recorded by an
    earlier roll of October under another household's enrolment; an overpayment recovered from a
    household's program under another household's adjustment; an adjustment of another program
    made under an enrolment; an instruction of another program held under an enrolment. The last
    ten households carry the other households' enrolments and adjustments."""
    i = PaymentInstruction
    with db.sessions.begin() as session:
        run_id = session.scalar(select(PaymentRun.id).order_by(PaymentRun.id))
        picked = session.execute(
            select(i.household_id, i.program, i.enrolment_id).where(i.id.in_(rng.sample(paid, 50)))
        ).all()

        def adjustment(
            household: int, program: str, for_month: str, enrolment: int | None, amount: int
        ) -> PaymentAdjustment:
            return PaymentAdjustment(
                household_id=household, program=program, for_month=for_month,
                roll_month="2025-10", enrolment_id=enrolment,
                kind="arrears" if amount > 0 else "overpayment", amount_fen=amount,
                due_fen=max(amount, 0), paid_before_fen=max(-amount, 0), run_id=run_id,
                created_at=NOW,
            )  # fmt: skip

        # arrears of a household's program recorded under another household's enrolment
        for (household, program, _), (_, _, enrolment) in zip(
            picked[:10], picked[40:], strict=True
        ):
            session.add(adjustment(household, program, "2025-09", enrolment, 300))
        overpaid = [adjustment(h, p, "2025-08", e, -500) for h, p, e in picked[40:]]
        session.add_all(overpaid)
        session.flush()
        for (household, program, _), source in zip(picked[10:20], overpaid, strict=True):
            session.add(
                PaymentRecovery(household_id=household, program=program,
                                adjustment_id=source.id, amount_fen=500, created_at=NOW)
            )  # fmt: skip
        for household, program, enrolment in picked[20:30]:
            other = "tekun" if program == "dibao" else "dibao"
            session.add(adjustment(household, other, "2025-09", enrolment, 700))
        for household, program, enrolment in picked[30:40]:
            session.add(
                i(household_id=household, program="tekun" if program == "dibao" else "dibao",
                  month="2025-08", amount_fen=1, account=None, enrolment_id=enrolment,
                  status="held", created_at=NOW, run_id=run_id,
                  held_reason=f"{ENDED} on 2025-08-31: test")
            )  # fmt: skip


def _check_month(db: Database, month: str) -> tuple[int, RollPlan]:
    """Plan the month's every candidate, then write the plain ones set at a time (rolled back):
    each written instruction is the plan's for its enrolment, and the plan does nothing else for
    it. Returns (instructions written set at a time, the plan)."""
    with db.sessions() as session:
        found = [Candidate(*row) for row in session.execute(roll_candidates(month))]
        params = _RecoveryParams(default_tree(), month_bounds(month)[0]).for_batch(found)
        inputs = load_roll_inputs(session, month, found)
        plan = plan_roll(inputs, params)
        run = PaymentRun(month=month, county=None, started_at=NOW, status="running", batches=0,
                         eligible_count=0, created_count=0, present_count=0)  # fmt: skip
        session.add(run)
        session.flush()
        made = insert_plain(session, month, [c.id for c in found if c.eligible], run.id, NOW)
        i = PaymentInstruction
        written: dict[int, InstructionValues] = {}
        for enrolment_id, *values in session.execute(
            select(
                i.enrolment_id, i.amount_fen, i.arrears_fen, i.recovery_fen, i.account,
                i.bank_code, i.payee_account_id, i.status, i.hold_id, i.held_reason,
            ).where(i.run_id == run.id)
        ):  # fmt: skip
            assert enrolment_id is not None
            written[enrolment_id] = InstructionValues(*values)
        session.rollback()
    assert sorted(written) == sorted(e for e, _, _ in made)
    assert {e: (s, h) for e, s, h in made} == {e: (v.status, v.hold_id) for e, v in written.items()}
    new = {p.candidate.id: p.values for p in plan.new}
    assert {e: new.get(e) for e in written} == written
    assert not {a.enrolment_id for a in plan.adjustments} & set(written)
    assert not {c.id for c in plan.carriers} & set(written)
    assert not {p.candidate.id for p in plan.updates + plan.unchanged} & set(written)
    held_before = {h.id for e in written for h in inputs.held_before.get(e, ())}
    assert not {u.id for u in plan.held_updates} & held_before
    return len(written), plan


def _month_rows(db: Database, month: str) -> dict[tuple[int, str], InstructionValues]:
    i = PaymentInstruction
    with db.sessions() as session:
        return {
            (h, p): InstructionValues(*values)
            for h, p, *values in session.execute(
                select(
                    i.household_id, i.program, i.amount_fen, i.arrears_fen, i.recovery_fen,
                    i.account, i.bank_code, i.payee_account_id, i.status, i.hold_id,
                    i.held_reason,
                ).where(i.month == month, i.award_id.is_(None))
            )
        }  # fmt: skip


def _planned_rows(plan: RollPlan) -> dict[tuple[int, str], InstructionValues]:
    """The month's instructions as the plan makes them: of two new ones for one household and
    program, the first (the second finds its key taken)."""
    rows: dict[tuple[int, str], InstructionValues] = {}
    for planned in plan.new:
        rows.setdefault(planned.candidate.key, planned.values)
    return rows


@pytest.mark.parametrize("seed_value", [20250901, 7])
def test_the_plain_instructions_written_at_once_are_those_the_plan_makes(
    database: Database, seed_value: int
) -> None:
    rng = random.Random(seed_value)
    _registry(database, rng, 300)
    september, plan = _check_month(database, "2025-09")
    assert 0 < september < len(plan.new)  # both ways are taken
    roll_month(database, "2025-09")
    assert _month_rows(database, "2025-09") == _planned_rows(plan)
    _changes_after_a_month(database, rng)
    october, plan = _check_month(database, "2025-10")
    assert 0 < october < len(plan.new)
    assert plan.adjustments  # the changes call for some
    # the whole roll (plain enrolments set at a time, the others planned) writes what the plan
    # alone says, and each instruction once
    a = PaymentAdjustment
    with database.sessions() as session:
        recorded = set(session.execute(select(a.household_id, a.program, a.for_month)).all())
    report = roll_month(database, "2025-10")
    assert _month_rows(database, "2025-10") == _planned_rows(plan)
    assert report.created == len(_planned_rows(plan))
    # an adjustment whose key an earlier roll of October recorded is not recorded twice
    new = [p for p in plan.adjustments if (p.household_id, p.program, p.for_month) not in recorded]
    assert report.adjustments == len(new)
    assert roll_month(database, "2025-10").created == 0
