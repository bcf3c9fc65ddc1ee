"""The monthly roll on SQLite and PostgreSQL: who is paid, how much, and never twice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from safetynet.audit.log import verify
from safetynet.audit.model import AuditEvent
from safetynet.bootstrap import upgrade
from safetynet.db.engine import Database, create_database
from safetynet.entrypoints.cli.payments_cli import payments_app
from safetynet.errors import InputError
from safetynet.payments.model import PaymentInstruction, PaymentRun
from safetynet.payments.roll import month_bounds, parse_month, roll_month
from safetynet.registry.model import Enrolment
from tests.payments.helpers import NOW, Spec, heads, planned_rows, seed

D = dt.date


def _instructions(db: Database) -> dict[tuple[int, str, str], int]:
    with db.sessions() as session:
        rows = session.execute(
            select(
                PaymentInstruction.household_id,
                PaymentInstruction.program,
                PaymentInstruction.month,
                PaymentInstruction.amount_fen,
            )
        ).all()
    return {(h, p, m): a for h, p, m, a in rows}


def test_roll_pays_active_enrolments_covering_the_month(database: Database) -> None:
    specs = [
        Spec(amount_fen=80_000),  # 1 open, paid
        Spec(program="tekun", amount_fen=123_456),  # 2 paid, its own amount
        Spec(status="suspended"),  # 3 suspended: not paid
        Spec(status="ended", end=D(2025, 8, 31)),  # 4 ended: not paid
        Spec(end=D(2025, 8, 31)),  # 5 ends before the month
        Spec(start=D(2025, 10, 1)),  # 6 starts after the month
        Spec(start=D(2025, 9, 30), amount_fen=50_000),  # 7 starts on the last day: paid
        Spec(end=D(2025, 9, 1), amount_fen=70_000),  # 8 ends on the first day: paid
        Spec(region="310115", amount_fen=90_000),  # 9 another county
    ]
    seed(database, specs)
    report = roll_month(database, "2025-09", batch_size=2)
    expected = {
        (1, "dibao", "2025-09"): 80_000,
        (2, "tekun", "2025-09"): 123_456,
        (7, "dibao", "2025-09"): 50_000,
        (8, "dibao", "2025-09"): 70_000,
        (9, "dibao", "2025-09"): 90_000,
    }
    assert _instructions(database) == expected
    assert (report.eligible, report.created, report.already_present) == (5, 5, 0)
    assert report.batches == 3
    with database.sessions() as session:
        instruction = session.scalars(
            select(PaymentInstruction).where(PaymentInstruction.household_id == 2)
        ).one()
        assert instruction.enrolment_id == 2
        assert instruction.status == "held"  # no payee account recorded: held, not dropped
        assert instruction.account is None
        assert instruction.run_id == report.run_id
        run = session.get_one(PaymentRun, report.run_id)
        assert run.status == "finished"
        assert run.finished_at is not None
        assert (run.eligible_count, run.created_count, run.present_count) == (5, 5, 0)
        assert run.last_enrolment_id == 9


def test_an_instruction_pays_only_its_enrolments_household(database: Database) -> None:
    """The household an instruction pays is checked through its enrolment (ADR 0035): moving it
    to another household, or making one for a household the enrolment is not of, is refused."""
    seed(database, [Spec(), Spec()])
    roll_month(database, "2025-09")
    with database.sessions() as session:
        moved = (
            update(PaymentInstruction)
            .where(PaymentInstruction.household_id == 1)
            .values(household_id=2, program="tekun")  # another program: no duplicate key
        )
        with pytest.raises(IntegrityError):
            session.execute(moved)
        session.rollback()
        paid = session.scalars(select(PaymentInstruction).order_by(PaymentInstruction.id)).all()
        assert [(i.household_id, i.enrolment_id) for i in paid] == [(1, 1), (2, 2)]


def test_rerun_creates_nothing_and_audits_once_per_run(database: Database) -> None:
    seed(database, [Spec(amount_fen=1000 + i) for i in range(7)])
    first = roll_month(database, "2025-09", batch_size=3)
    before = _instructions(database)
    second = roll_month(database, "2025-09", batch_size=3)
    assert (first.created, first.already_present) == (7, 0)
    assert (second.eligible, second.created, second.already_present) == (7, 0, 7)
    assert _instructions(database) == before
    with database.sessions() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [(e.event, e.entity_id) for e in events] == [
            ("payment_roll_finished", str(first.run_id)),
            ("payment_roll_finished", str(second.run_id)),
        ]
        assert events[1].after is not None
        assert events[1].after["already_present"] == 7
        assert verify(session) == []


def test_new_enrolment_after_a_roll_is_added_by_the_next_roll(database: Database) -> None:
    seed(database, [Spec(), Spec(status="suspended")])
    assert roll_month(database, "2025-09").created == 1
    with database.sessions.begin() as session:
        session.get_one(Enrolment, 2).status = "active"
    report = roll_month(database, "2025-09")
    assert (report.created, report.already_present) == (1, 1)
    assert set(_instructions(database)) == {(1, "dibao", "2025-09"), (2, "dibao", "2025-09")}


def test_county_filter_and_separate_months(database: Database) -> None:
    seed(database, [Spec(), Spec(region="310115"), Spec(region="310115")])
    assert roll_month(database, "2025-09", county="310115").created == 2
    assert roll_month(database, "2025-09").created == 1
    assert roll_month(database, "2025-10").created == 3
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PaymentInstruction)) == 6


def test_a_run_left_running_is_marked_interrupted(database: Database) -> None:
    seed(database, [Spec()])
    now = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)
    with database.sessions.begin() as session:
        crashed = PaymentRun(
            month="2025-09",
            county=None,
            started_at=now,
            status="running",
            batches=0,
            eligible_count=0,
            created_count=0,
            present_count=0,
        )
        other = PaymentRun(
            month="2025-09",
            county="310115",
            started_at=now,
            status="running",
            batches=0,
            eligible_count=0,
            created_count=0,
            present_count=0,
        )
        session.add_all([crashed, other])
    report = roll_month(database, "2025-09")
    assert report.interrupted_runs == (crashed.id,)
    with database.sessions() as session:
        assert session.get_one(PaymentRun, crashed.id).status == "interrupted"
        assert session.get_one(PaymentRun, other.id).status == "running"


def test_bad_arguments_are_refused(database: Database) -> None:
    for month in ("2025-13", "2025-9", "202509", "0000-01", "2025-00"):
        with pytest.raises(InputError, match="not a month"):
            roll_month(database, month)
    with pytest.raises(InputError, match="county"):
        roll_month(database, "2025-09", county="31")
    with pytest.raises(InputError, match="batch_size"):
        roll_month(database, "2025-09", batch_size=0)
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PaymentRun)) == 0


def test_month_helpers() -> None:
    assert parse_month("2024-02") == "2024-02"
    assert month_bounds("2024-02") == (D(2024, 2, 1), D(2024, 2, 29))
    assert month_bounds("2025-12") == (D(2025, 12, 1), D(2025, 12, 31))


def test_cli_roll(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db = create_database(url)
    try:
        upgrade(db)
        seed(db, [Spec(), Spec(region="310115")])
    finally:
        db.dispose()
    app = typer.Typer()
    app.add_typer(payments_app, name="payments")
    runner = CliRunner()
    args = ["payments", "roll", "--month", "2025-09", "--url", url]
    result = runner.invoke(app, [*args, "--county", "110105"])
    assert result.exit_code == 0, result.output
    assert "1 eligible: 1 created, 0 already present" in result.stdout
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 eligible: 1 created, 1 already present" in result.stdout
    result = runner.invoke(app, ["payments", "roll", "--month", "2025-9", "--url", url])
    assert result.exit_code == 2
    assert "not a month" in result.stderr


@pytest.mark.parametrize(("new_amount", "adjustment"), [(90_000, 10_000), (60_000, -20_000)])
def test_an_amount_changed_from_a_month_already_rolled_pays_only_the_difference(
    database: Database, new_amount: int, adjustment: int
) -> None:
    """A re-check or decision changes the amount from October after October was rolled: the old
    enrolment ends on 30 September and a new one starts on 1 October (as the case workflow
    does). October was paid 800.00 under the old one; it is due ``new_amount`` under the new one:
    November carries the difference (arrears, or a recovery), not a recovery of all October with
    nothing paying it again."""
    from safetynet.audit.log import Actor
    from safetynet.db.unit_of_work import UnitOfWork
    from safetynet.payments.model import PaymentAdjustment, PaymentRecovery
    from safetynet.registry.handlers import (
        ChangeEnrolment,
        EnrolHousehold,
        change_enrolment,
        enrol_household,
    )

    seed(database, [Spec(amount_fen=80_000)])
    if database.dialect == "postgresql":  # seed gives explicit ids: move the sequence past them
        with database.sessions.begin() as session:
            session.execute(text("SELECT setval(pg_get_serial_sequence('enrolments', 'id'), 1)"))
    roll_month(database, "2025-09")
    roll_month(database, "2025-10")
    clerk = Actor("clerk", "payments_clerk")
    with UnitOfWork(database.sessions) as uow:
        ended = ChangeEnrolment(1, "re-check", clerk, status="ended", end=dt.date(2025, 9, 30))
        change_enrolment(ended, uow, lambda: NOW)
    with UnitOfWork(database.sessions) as uow:
        new = EnrolHousehold("110105", "H0000001", "dibao", dt.date(2025, 10, 1), new_amount, clerk)
        enrol_household(new, uow, lambda: NOW)
    november = roll_month(database, "2025-11")
    with database.sessions() as session:
        adjustments = session.execute(
            select(PaymentAdjustment.for_month, PaymentAdjustment.amount_fen)
        ).all()
        recovered = session.scalar(select(func.sum(PaymentRecovery.amount_fen)))
        row = session.execute(
            select(PaymentInstruction.amount_fen, PaymentInstruction.arrears_fen).where(
                PaymentInstruction.month == "2025-11"
            )
        ).one()
    assert adjustments == [("2025-10", adjustment)]
    assert (november.arrears_fen, november.overpaid_fen) == (
        max(adjustment, 0),
        max(-adjustment, 0),
    )
    assert recovered == (None if adjustment > 0 else -adjustment)
    assert tuple(row) == (new_amount, max(adjustment, 0))


def _persons_and_accounts(db: Database, households: list[int]) -> None:
    """A head for each household (person id = household id) and, for these, an account."""
    from sqlalchemy import insert

    from safetynet.payments.model import PayeeAccount

    with db.sessions.begin() as session:
        heads(session, households)
        session.execute(
            insert(PayeeAccount),
            [
                {"household_id": h, "holder_person_id": h, "bank_code": "102",
                 "account_number": f"62{h:017d}", "valid_from": D(2025, 1, 1),
                 "created_at": NOW, "source": "test"}
                for h in households
            ],
        )  # fmt: skip


def _month_rows(db: Database, month: str) -> dict[tuple[int, str], tuple[object, ...]]:
    i = PaymentInstruction
    with db.sessions() as session:
        rows = session.execute(
            select(
                i.household_id, i.program, i.amount_fen, i.arrears_fen, i.recovery_fen,
                i.account, i.bank_code, i.payee_account_id, i.status, i.hold_id, i.held_reason,
            ).where(i.month == month)
        ).all()  # fmt: skip
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def test_a_batch_written_by_copy_gives_what_one_written_as_arrays_gives(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hundreds of instructions in a batch go in (and are brought up to date) by COPY on
    PostgreSQL; a few as arrays. A mix of households (an account or none, a payment hold, ended,
    suspended, two programs) rolled both ways gives the same instructions, each exactly once."""
    from safetynet.db import bulk
    from safetynet.payments.model import PaymentHold

    specs = [
        [
            Spec(),
            Spec(program="tekun", amount_fen=123_456),
            Spec(end=D(2025, 8, 31)),  # ended before both months: nothing
            Spec(status="suspended"),
            Spec(start=D(2025, 9, 15), amount_fen=50_000),
        ][n % 5]
        for n in range(700)
    ]
    households = seed(database, specs)
    _persons_and_accounts(database, [h for h in households if h % 3])
    with database.sessions.begin() as session:
        session.add_all(
            PaymentHold(household_id=h, program=None, from_month="2025-09", reason="review",
                        source="manual", placed_at=NOW, placed_by="clerk")
            for h in households[::7]
        )  # fmt: skip
    monkeypatch.setattr(bulk, "COPY_FROM", 10**9)
    september = roll_month(database, "2025-09", batch_size=2000)
    monkeypatch.setattr(bulk, "COPY_FROM", 1)
    october = roll_month(database, "2025-10", batch_size=2000)
    assert september.created == october.created == 420
    assert september.held == october.held > 0
    assert _month_rows(database, "2025-09") == _month_rows(database, "2025-10")
    assert roll_month(database, "2025-10", batch_size=2000).created == 0  # exactly once
    # the households without an account get one: both months' held instructions are brought up
    # to date (September's as arrays, October's by COPY), alike
    _persons_and_accounts(database, [h for h in households if h % 3 == 0])
    monkeypatch.setattr(bulk, "COPY_FROM", 10**9)
    roll_month(database, "2025-09", batch_size=2000)
    monkeypatch.setattr(bulk, "COPY_FROM", 1)
    again = roll_month(database, "2025-10", batch_size=2000)
    assert again.created == 0
    assert _month_rows(database, "2025-09") == _month_rows(database, "2025-10")
    statuses = {values[6] for values in _month_rows(database, "2025-10").values()}
    assert statuses == {"pending", "held"}
    assert all(v[3] is not None for v in _month_rows(database, "2025-10").values())


def test_the_roll_finds_a_batchs_earlier_instructions_by_index_and_fresh_statistics(
    database: Database,
) -> None:
    """From the second month on each batch sums what was recovered from its households'
    instructions of every month; with no index it could use, PostgreSQL read the whole table
    once per batch of 2,000 (a month at 1 M persons: 234.6 s, 39.7 s with the index and the
    statistics refreshed before the first batch; ADR 0034)."""
    seed(database, [Spec(amount_fen=80_000), Spec(program="tekun", amount_fen=123_456)])
    roll_month(database, "2025-09")
    roll_month(database, "2025-10")
    assert len(_instructions(database)) == 4
    if database.dialect != "postgresql":
        return
    with database.sessions.begin() as session:
        analyzed = session.scalar(
            text(
                "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'payment_instructions'"
            )
        )
        assert analyzed is not None  # refreshed by the roll itself, not left to autovacuum
        session.execute(text("SET LOCAL enable_seqscan = off"))  # an index if there is one
        plan = session.scalars(
            text(
                "EXPLAIN SELECT household_id, program, sum(recovery_fen) FROM payment_instructions"
                " WHERE household_id = ANY(CAST(:households AS integer[])) AND month <> :month"
                " GROUP BY household_id, program"
            ),
            {"households": [1, 2], "month": "2025-11"},
        ).all()
    assert not any("Seq Scan on payment_instructions" in line for line in plan), plan


def test_the_roll_leaves_the_planner_knowing_the_months_instructions(database: Database) -> None:
    """The bank files that follow a roll choose their plans from the table's statistics: left
    as the roll found them (last month's rows), each county's export read every county's
    instructions (2 s a county at 10 M persons; ADR 0035)."""
    seed(database, [Spec(amount_fen=1000 + i) for i in range(30)])
    roll_month(database, "2025-09")
    if database.dialect != "postgresql":
        return
    assert planned_rows(database, "payment_instructions") == 30


def test_households_shared_out_among_workers_are_rolled_as_by_one(database: Database) -> None:
    """``workers=2``: on PostgreSQL two threads roll the households by halves (by household id),
    batch after batch, side by side; on SQLite one thread. Either way October's instructions
    are September's (rolled by one worker), each exactly once, and the run's progress adds up
    every batch of both halves."""
    from sqlalchemy import insert

    from safetynet.payments.model import PaymentHold

    specs = [
        [Spec(), Spec(program="tekun", amount_fen=123_456), Spec(status="suspended")][n % 3]
        for n in range(300)
    ]
    households = seed(database, specs)
    # a second program for some households, its enrolment far from their first one's (another
    # block of candidates): still in the household's half, rolled once
    with database.sessions.begin() as session:
        session.execute(
            insert(Enrolment),
            [
                {"id": 1000 + h, "household_id": h, "program": "temporary", "amount_fen": 30_000,
                 "start_date": D(2025, 1, 1), "status": "active", "version": 1}
                for h in households[::4]
            ],
        )  # fmt: skip
        session.add_all(
            PaymentHold(household_id=h, program="dibao", from_month="2025-09", reason="review",
                        source="manual", placed_at=NOW, placed_by="clerk")
            for h in households[::7]
        )  # fmt: skip
    _persons_and_accounts(database, [h for h in households if h % 5])
    september = roll_month(database, "2025-09", batch_size=40)
    october = roll_month(database, "2025-10", batch_size=40, workers=2)
    assert september.created == october.created == 200 + 75
    assert (september.held, september.held_by_hold) == (october.held, october.held_by_hold)
    assert _month_rows(database, "2025-09") == _month_rows(database, "2025-10")
    with database.sessions() as session:
        run = session.get_one(PaymentRun, october.run_id)
        assert (run.batches, run.eligible_count, run.created_count, run.present_count) == (
            october.batches,
            275,
            275,
            0,
        )
        assert run.last_enrolment_id == 1000 + households[::4][-1]
    again = roll_month(database, "2025-10", batch_size=40, workers=2)
    assert (again.created, again.already_present) == (0, 275)  # exactly once
    with pytest.raises(InputError, match="workers"):
        roll_month(database, "2025-10", workers=0)
