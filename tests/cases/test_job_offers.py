"""Refused and accepted job offers: the share of a member stops after 3 refusals *in a row*
(2021 dibao measures art. 34); an accepted suitable offer starts the count again; on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from safetynet.audit.log import verify
from safetynet.audit.model import AuditEvent
from safetynet.cases import commands as c
from safetynet.cases.model import Application
from safetynet.db.engine import Database
from safetynet.errors import InputError
from tests.cases.helpers import (
    HEAD,
    INVESTIGATOR,
    Clock,
    enrolment_rows,
    id_number,
    paying_dibao,
    run,
    track,
)

D = dt.date


def _refuse(db: Database, clock: Clock, tid: int, on: dt.date) -> None:
    run(
        db,
        clock,
        c.RecordJobRefusal(
            actor=INVESTIGATOR, on=on, track_id=tid, id_number=HEAD, offer="warehouse clerk"
        ),
    )


def _accept(db: Database, clock: Clock, tid: int, on: dt.date, number: str = HEAD) -> None:
    run(
        db,
        clock,
        c.RecordJobAcceptance(
            actor=INVESTIGATOR, on=on, track_id=tid, id_number=number, offer="bus conductor"
        ),
    )


def _head_count(db: Database) -> int:
    with db.sessions() as session:
        app = session.scalars(select(Application)).one()
        head = next(m for m in app.household_json["members"] if m["id_number"] == HEAD)
        return int(head.get("refused_job_offers", 0))


def test_an_accepted_offer_starts_the_count_of_refusals_again(
    database: Database, fixed_clock: Clock
) -> None:
    tid = paying_dibao(database, fixed_clock)  # 2,550 yuan a month for 3 members
    _refuse(database, fixed_clock, tid, D(2025, 12, 1))
    _refuse(database, fixed_clock, tid, D(2025, 12, 8))
    assert _head_count(database) == 2
    with pytest.raises(InputError, match=r"on: 2025-12-05 is before 110\*+0032 refused an offer"):
        _accept(database, fixed_clock, tid, D(2025, 12, 5))
    with pytest.raises(InputError, match="not a member"):
        _accept(database, fixed_clock, tid, D(2025, 12, 10), id_number("19500101", 5))
    _accept(database, fixed_clock, tid, D(2025, 12, 10))
    assert _head_count(database) == 0
    with pytest.raises(InputError, match=r"on: 2025-12-09 is before 110\*+0032 accepted"):
        _refuse(database, fixed_clock, tid, D(2025, 12, 9))

    # Two more refusals: the third and fourth in all, but only two in a row.
    _refuse(database, fixed_clock, tid, D(2025, 12, 15))
    _refuse(database, fixed_clock, tid, D(2025, 12, 22))
    assert (_head_count(database), track(database, tid).amount_fen) == (2, 255000)
    assert enrolment_rows(database) == [("active", D(2025, 11, 1), None, 255000)]

    # The third in a row stops his share from the following month: 2,550 − 2,550 / 3 = 1,700.
    _refuse(database, fixed_clock, tid, D(2025, 12, 29))
    assert (_head_count(database), track(database, tid).amount_fen) == (3, 170000)
    assert enrolment_rows(database) == [
        ("ended", D(2025, 11, 1), D(2025, 12, 31), 255000),
        ("active", D(2026, 1, 1), None, 170000),
    ]
    with database.sessions() as session:
        entry = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "JobAcceptanceRecorded")
        ).one()
        assert entry.after is not None
        assert (entry.after["refusals_in_a_row_before"], entry.after["refusals_in_a_row"]) == (
            2,
            0,
        )
        assert HEAD not in str(entry.after)  # masked
        assert verify(session) == []


def test_accepting_an_offer_after_the_share_stopped_does_not_restore_it_by_itself(
    database: Database, fixed_clock: Clock
) -> None:
    tid = paying_dibao(database, fixed_clock)
    for day in (1, 8, 15):
        _refuse(database, fixed_clock, tid, D(2025, 12, day))
    assert track(database, tid).amount_fen == 170000
    _accept(database, fixed_clock, tid, D(2026, 1, 5))
    # The count is back to zero; the amount waits for the re-check that counts the new wage.
    assert (_head_count(database), track(database, tid).amount_fen) == (0, 170000)
