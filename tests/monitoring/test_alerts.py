"""Alert rules on the hand-made county of test_compare, the step across counties, and the alerts'
storage and lifecycle in the registry (SQLite and PostgreSQL).

Due dates on the official 2025 calendar: raised on Thursday 2025-10-09, the working days after it
are Fri 10-10, Sat 10-11 (an adjusted working day after the National Day holiday), Mon 10-13,
Tue 10-14, Wed 10-15, Thu 10-16, Fri 10-17, Mon 10-20, Tue 10-21, Wed 10-22.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from safetynet.audit.log import Actor, verify
from safetynet.audit.model import AuditEvent
from safetynet.batch.synth import generate
from safetynet.batch.synth_feeds import delivery_date, feed_path, generate_feeds
from safetynet.bootstrap import bootstrap
from safetynet.cases.calendar_years import (
    AddCalendarYear,
    RecomputeProvisional,
    add_calendar_year,
    recompute_provisional_deadlines,
)
from safetynet.cases.model import Application, Track
from safetynet.db.calendar_years import OfficialCalendarYear, forget_sync
from safetynet.db.engine import Database
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.calendar import install_added_years, parse_official_year
from safetynet.domain.identity import mask_identity_number
from safetynet.errors import InputError
from safetynet.monitoring.alerts import (
    ALERT_SCHEMA,
    AssignAlert,
    ResolveAlert,
    alert_counts,
    assign_alert,
    duplicate_alerts,
    list_alerts,
    overdue_by_office,
    raise_alerts,
    recipients_of,
    resolve_alert,
    rule_settings,
    store_alerts,
)
from safetynet.monitoring.alerts_model import Alert
from safetynet.monitoring.columnar import validate_columns
from safetynet.monitoring.compare import compare_county
from safetynet.monitoring.feeds import FEEDS
from safetynet.registry.county_data import CountyData, read_county
from safetynet.registry.model import Household, Person
from tests.cases.helpers import register_household
from tests.monitoring.helpers import (
    FALLBACKS,
    HOUSEHOLDS,
    OVERRIDES,
    A,
    B,
    E,
    G,
    compare,
    county_data,
    member,
)

RAISED = dt.date(2025, 10, 9)
MONTH = dt.date(2025, 9, 1)
OFFICER = Actor("officer_he", "monitoring_officer", "310115")
ADMIN = Actor("admin_he", "administrator")
D = dt.date
P = "assistance.monitoring.alerts."


def alerts(extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    table = raise_alerts(compare(), RAISED, overrides={**OVERRIDES, **(extra or {})})
    return list(table.to_pylist())


def test_alerts_of_the_hand_made_county() -> None:
    got = [(a["rule"], a["subject"], a["severity"], a["office"], a["due_on"]) for a in alerts()]
    assert sorted(got) == [
        # G died in dibao household 40: 3 working days → Mon 2025-10-13
        ("death", "person:700", "critical", "county_civil_affairs", dt.date(2025, 10, 13)),
        # household 10: 50,000 of deposits > 48,000 allowed; 10 working days → Wed 2025-10-22
        ("deposits_above_limit", "household:10", "high", "township_office", dt.date(2025, 10, 22)),
        # per capita 500 → 1,500 (household 10) and 750 → 1,500 (household 20): above 1,000
        ("income_crosses_standard", "household:10", "high", "township_office",
         dt.date(2025, 10, 22)),
        ("income_crosses_standard", "household:20", "high", "township_office",
         dt.date(2025, 10, 22)),
        # E paid 12,000 out of pocket ≥ 10,000 (active discovery: E receives nothing); 5 days
        ("medical_out_of_pocket", "person:500", "medium", "county_medical_security",
         dt.date(2025, 10, 15)),
    ]  # fmt: skip
    # Not raised under the default scopes: E's car (household 30 is not monitored), and K's
    # birth and move (household 50 is dibao-marginal, those rules watch recipients).


def test_evidence_is_masked_and_explains_the_alert() -> None:
    by_subject = {(a["rule"], a["subject"]): json.loads(a["evidence"]) for a in alerts()}
    death = by_subject[("death", "person:700")]
    assert death["id_number"] == mask_identity_number(G)
    assert death["event_date"] == "2025-09-03"
    income = by_subject[("income_crosses_standard", "household:10")]
    assert income == {
        "direction": "above",
        "standard_fen": 100_000,
        "members": 2,
        "declared_per_capita_fen": 50_000,
        "found_per_capita_fen": 150_000,
        "dibao": {
            "declared_eligible": True,
            "declared_amount_fen": 100_000,
            "found_eligible": False,
            "found_amount_fen": 0,
        },
    }
    for a in alerts():
        for number in (A, B, E, G):
            assert number not in a["evidence"]


def test_scope_switch_and_threshold_are_parameters() -> None:
    wider = alerts({P + "new_vehicle.scope": "everyone", P + "hukou_moved_out.scope": "monitored"})
    subjects = {(a["rule"], a["subject"]) for a in wider}
    assert ("new_vehicle", "household:30") in subjects
    assert ("hukou_moved_out", "person:800") in subjects
    car = next(a for a in wider if a["rule"] == "new_vehicle")
    assert "沪A" not in car["evidence"]  # plates are never echoed
    off = alerts({P + "death.enabled": False, P + "medical_out_of_pocket.threshold": 1_200_001})
    assert {a["rule"] for a in off} == {"deposits_above_limit", "income_crosses_standard"}


def test_an_income_falling_below_the_standard_is_raised_too() -> None:
    # Marginal household 50 declared 1,200 of wages; the feed finds 800 in September: it falls
    # below the standard of 1,000 (a candidate for dibao).
    households = [(50, {"is_dibao_marginal_registered": True,
                        "members": [member(HOUSEHOLDS[4][1]["members"][0]["id_number"], "head",
                                           "1200")]})]  # fmt: skip
    data = county_data(households)
    number = str(np.asarray(data.id_number)[0])
    rows = [{"kind": "wages", "id_number": number, "month": "2025-09", "amount_fen": 80_000}]
    found = raise_alerts(compare(rows, data), RAISED, overrides=OVERRIDES).to_pylist()
    assert [(a["rule"], json.loads(a["evidence"])["direction"]) for a in found] == [
        ("income_crosses_standard", "below")
    ]


def test_counts_per_county_and_rule() -> None:
    assert alert_counts(raise_alerts(compare(), RAISED, overrides=OVERRIDES)) == [
        ("310115", "death", 1),
        ("310115", "deposits_above_limit", 1),
        ("310115", "income_crosses_standard", 2),
        ("310115", "medical_out_of_pocket", 1),
    ]


def test_rule_settings_are_read_from_the_dated_parameters() -> None:
    s = rule_settings(RAISED, "310115")["duplicate_payment"]
    assert (s.severity, s.office, s.sla, s.action) == ("critical", "county_supervision", 5,
                                                       "supervision")  # fmt: skip
    assert frozenset({"dibao", "tekun"}) in s.exclusive


def _other_county(households: list[tuple[int, dict[str, Any]]]) -> CountyData:
    data = county_data(households, county="310112")
    data.person_id = data.person_id + 10_000
    return data


def test_the_same_person_paid_in_two_counties() -> None:
    # A is a dibao member in household 10 of 310115 and in household 99 of 310112.
    elsewhere = _other_county([(99, {"is_dibao_recipient": True, "members": [member(A, "head")]})])
    found = duplicate_alerts(
        [recipients_of(county_data()), recipients_of(elsewhere)], MONTH, RAISED
    ).to_pylist()
    assert [(a["county"], a["subject"], a["due_on"]) for a in found] == [
        ("310112", "person:10100", dt.date(2025, 10, 15)),
        ("310115", "person:100", dt.date(2025, 10, 15)),
    ]
    evidence = json.loads(found[0]["evidence"])
    assert evidence["counties"] == ["310112", "310115"]
    assert evidence["id_number"] == mask_identity_number(A)


def test_two_exclusive_programs_in_one_county() -> None:
    # B is supported as tekun inside dibao household 10: dibao + tekun are exclusive.
    households = [(10, {"is_dibao_recipient": True,
                        "members": [member(A, "head"), {**member(B, "spouse"),
                                                        "is_tekun_recipient": True}]})]  # fmt: skip
    found = duplicate_alerts([recipients_of(county_data(households))], MONTH, RAISED).to_pylist()
    assert [a["subject"] for a in found] == ["person:200"]
    assert json.loads(found[0]["evidence"])["exclusive_pairs"] == ["dibao+tekun"]
    assert duplicate_alerts([recipients_of(county_data())], MONTH, RAISED).num_rows == 0


# -- registry: storage and lifecycle -------------------------------------------------------------

Clock = Callable[[], dt.datetime]


def _registered(db: Database) -> tuple[int, int]:
    register_household(db, "M1", ["310115198001010112"])
    with db.sessions() as session:
        household = session.scalars(select(Household)).one()
        person = session.scalars(select(Person)).one()
        return household.id, person.id


def _alert_rows(household: int, person: int, month: str = "2025-09") -> pa.Table:
    base = {"county": "310115", "household_id": household, "month": month,
            "raised_on": RAISED, "evidence": json.dumps({"source": "test"})}  # fmt: skip
    rows = [
        {**base, "rule": "death", "severity": "critical", "office": "county_civil_affairs",
         "action": "stop_next_payment", "person_id": person, "subject": f"person:{person}",
         "due_on": dt.date(2025, 10, 13)},
        {**base, "rule": "income_crosses_standard", "severity": "high",
         "office": "township_office", "action": "recheck_income", "person_id": None,
         "subject": f"household:{household}", "due_on": dt.date(2025, 10, 22)},
    ]  # fmt: skip
    return pa.Table.from_pylist(rows, schema=ALERT_SCHEMA)


def _store(db: Database, table: pa.Table, clock: Clock) -> Any:
    with bootstrap(db).unit_of_work() as uow:
        counts = store_alerts(uow, table, actor=OFFICER, clock=clock)
        uow.commit()
        return counts


def test_storing_a_month_twice_raises_nothing_new(database: Database, fixed_clock: Clock) -> None:
    household, person = _registered(database)
    first = _store(database, _alert_rows(household, person), fixed_clock)
    assert first.rows() == [("310115", "death", 1), ("310115", "income_crosses_standard", 1)]
    again = _store(database, _alert_rows(household, person), fixed_clock)
    assert (again.rows(), again.repeated, again.still_open) == ([], 2, 0)
    # Next month the same findings are still open: not raised again.
    later = _store(database, _alert_rows(household, person, "2025-10"), fixed_clock)
    assert (later.rows(), later.still_open) == ([], 2)
    with database.sessions() as session:
        assert len(session.scalars(select(Alert)).all()) == 2
        events = session.scalars(select(AuditEvent.event)).all()
        assert events.count("AlertsRaised") == 3
        assert verify(session) == []


def _resolve(
    db: Database,
    clock: Clock,
    alert_id: int,
    outcome: str,
    *,
    on: dt.date = dt.date(2025, 10, 10),
    reason: str = "",
) -> None:
    """The officer resolves the alert (on 10 October unless told), in a unit of work of its own
    from the bus (payments and cases follow)."""
    with bootstrap(db).unit_of_work() as uow:
        resolve_alert(
            ResolveAlert(alert_id=alert_id, outcome=outcome, reason=reason, actor=OFFICER, on=on),
            uow,
            clock,
        )


def _ids(db: Database) -> dict[str, int]:
    with db.sessions() as session:
        return {a.rule: a.id for a in session.scalars(select(Alert))}


def test_assign_and_resolve(database: Database, fixed_clock: Clock) -> None:
    household, person = _registered(database)
    _store(database, _alert_rows(household, person), fixed_clock)
    ids = _ids(database)
    with UnitOfWork(database.sessions) as uow:
        version = assign_alert(
            AssignAlert(
                alert_id=ids["death"], assignee="clerk_ma", actor=OFFICER, on=dt.date(2025, 10, 10)
            ),
            uow,
            fixed_clock,
        )
    assert version == 2
    with pytest.raises(InputError, match="reason"):
        _resolve(database, fixed_clock, ids["death"], "dismissed")
    with pytest.raises(InputError, match="outcome"):
        _resolve(database, fixed_clock, ids["death"], "fixed")
    _resolve(database, fixed_clock, ids["death"], "payment_stopped", on=dt.date(2025, 10, 11))
    with pytest.raises(InputError, match="already resolved"):
        _resolve(database, fixed_clock, ids["death"], "referred", on=dt.date(2025, 10, 12))
    with database.sessions() as session:
        alert = session.get(Alert, ids["death"])
        assert alert is not None
        assert (alert.status, alert.assigned_to, alert.outcome, alert.resolved_by) == (
            "resolved", "clerk_ma", "payment_stopped", "officer_he")  # fmt: skip
        events = session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)).all()
        assert events[-2:] == ["AlertAssigned", "AlertResolved"]
        assert verify(session) == []
    # Resolved: the next month's finding is raised again.
    later = _store(database, _alert_rows(household, person, "2025-10"), fixed_clock)
    assert later.rows() == [("310115", "death", 1)]


def test_a_confirmed_recheck_is_linked_to_the_paying_case(
    database: Database, fixed_clock: Clock
) -> None:
    household, person = _registered(database)
    _store(database, _alert_rows(household, person), fixed_clock)
    with database.sessions.begin() as session:
        app = Application(household_id=household, region_code="310115",
                          hukou_region_code="310115", lodged_on=dt.date(2025, 1, 2),
                          submitted_by="clerk", household_json={}, screening=[],
                          created_at=fixed_clock(), version=1)  # fmt: skip
        session.add(app)
        session.flush()
        paying = Track(application_id=app.id, program="dibao", procedure="dibao",
                       department="civil_affairs", status="paying", version=1)  # fmt: skip
        session.add(paying)
        session.flush()
        track_id = paying.id
    recheck = _ids(database)["income_crosses_standard"]
    _resolve(database, fixed_clock, recheck, "recheck_started", on=dt.date(2025, 10, 14))
    with database.sessions() as session:
        alert = session.get(Alert, _ids(database)["income_crosses_standard"])
        assert alert is not None
        assert alert.track_id == track_id


def test_overdue_alerts_per_office(database: Database, fixed_clock: Clock) -> None:
    household, person = _registered(database)
    _store(database, _alert_rows(household, person), fixed_clock)
    with database.sessions() as session:
        # On 2025-10-14 the death alert (due 10-13) is late, the income one (due 10-22) is not.
        assert overdue_by_office(session, dt.date(2025, 10, 14)) == [("county_civil_affairs", 1)]
        late = list_alerts(session, overdue_on=dt.date(2025, 10, 14))
        assert [a.rule for a in late] == ["death"]
        assert [a.rule for a in list_alerts(session, office="township_office")] == [
            "income_crosses_standard"
        ]
        assert overdue_by_office(session, dt.date(2025, 10, 13)) == []


def test_assigning_to_an_unknown_office_is_refused(database: Database, fixed_clock: Clock) -> None:
    household, person = _registered(database)
    _store(database, _alert_rows(household, person), fixed_clock)
    with UnitOfWork(database.sessions) as uow, pytest.raises(InputError, match="office"):
        assign_alert(
            AssignAlert(
                alert_id=_ids(database)["death"],
                assignee="x",
                office="nowhere",
                actor=OFFICER,
                on=dt.date(2025, 10, 10),
            ),
            uow,
            fixed_clock,
        )


# -- the synthetic population and its feeds with planted discrepancies ---------------------------

PLANTED_RULES = {
    "recipient_died": "death",
    "undeclared_vehicle": "new_vehicle",
    "undeclared_property": "new_property",
    "undeclared_business": "new_business",
    "wage_above_declared": "income_crosses_standard",
    "deposits_above_limit": "deposits_above_limit",
    "disaster_victim": "disaster_victim",
    "large_out_of_pocket": "medical_out_of_pocket",
}


def test_every_planted_discrepancy_raises_its_alert(tmp_path: Path) -> None:
    """The synthetic feeds of a synthetic county: each planted discrepancy (the generator's
    truth file) is found by the comparison and raises the matching rule for that household."""
    generate(tmp_path / "pop", 20_000, ["310115"], seed=5, on=MONTH)
    generate_feeds(tmp_path / "pop", tmp_path / "feeds", "2025-09", 5)
    delivered = delivery_date("2025-09")
    parts = [
        validate_columns(spec, pq.read_table(path), delivered_on=delivered).records
        for kind, spec in FEEDS.items()
        if (path := feed_path(tmp_path / "feeds", kind, "310115")).is_file()
    ]
    data = read_county(tmp_path / "pop", "310115")
    comparison = compare_county(data, pa.concat_tables(parts), MONTH, fallbacks=FALLBACKS)
    raised = raise_alerts(comparison, RAISED, fallbacks=FALLBACKS).to_pylist()
    got = {(a["rule"], a["household_id"]) for a in raised}
    planted = pq.read_table(tmp_path / "feeds" / "planted.parquet").to_pylist()
    expected = {
        (PLANTED_RULES[p["discrepancy"]], p["household_id"])
        for p in planted
        if p["discrepancy"] in PLANTED_RULES and p["feed_county"] == "310115"
    }
    assert expected  # the generator planted something of each kind checked here
    assert {rule for rule, _ in expected} >= {"death", "income_crosses_standard"}
    assert expected - got == set()


def _holds(db: Database) -> list[tuple[int | None, str, bool]]:
    from safetynet.payments.model import PaymentHold

    with db.sessions() as session:
        return [
            (h.alert_id, h.from_month, h.released_at is None)
            for h in session.scalars(select(PaymentHold).order_by(PaymentHold.id))
        ]


def test_a_stop_payment_alert_holds_the_household_until_dismissed(
    database: Database, fixed_clock: Clock
) -> None:
    household, person = _registered(database)
    first = _store(database, _alert_rows(household, person), fixed_clock)
    # Only the death alert (stop_next_payment) holds; the income re-check does not.
    assert first.holds_placed == 1
    assert _store(database, _alert_rows(household, person), fixed_clock).holds_placed == 0
    ids = _ids(database)
    # Nothing of September went to the bank: the hold starts with the alert's month.
    assert _holds(database) == [(ids["death"], "2025-09", True)]
    wage = ids["income_crosses_standard"]
    _resolve(database, fixed_clock, wage, "dismissed", reason="seasonal wage")
    assert _holds(database) == [(ids["death"], "2025-09", True)]
    _resolve(database, fixed_clock, ids["death"], "dismissed", reason="death record of a namesake")
    assert _holds(database) == [(ids["death"], "2025-09", False)]
    with database.sessions() as session:
        events = session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)).all()
        assert events[-2:] == ["AlertResolved", "PaymentHoldReleased"]
        assert verify(session) == []


def test_a_confirmed_death_keeps_its_hold_and_a_later_alert_adds_none(
    database: Database, fixed_clock: Clock
) -> None:
    household, person = _registered(database)
    _store(database, _alert_rows(household, person), fixed_clock)
    death = _ids(database)["death"]
    _resolve(database, fixed_clock, death, "payment_stopped")
    # The finding persists in October: a new alert, but the household is already held.
    later = _store(database, _alert_rows(household, person, "2025-10"), fixed_clock)
    assert (later.rows(), later.holds_placed) == ([("310115", "death", 1)], 0)
    assert _holds(database) == [(death, "2025-09", True)]


# -- due dates across a year with no official calendar yet ---------------------------------------

AT_YEAR_END = dt.date(2026, 12, 28)  # a Monday; 2027 has no official calendar in the package


def notice_2027() -> dict[str, Any]:
    """A 2027 notice as a test makes it up (not the real one): 1-4 January off, no working
    weekend day; the provisional calendar has only 1 January off."""
    return {
        "year": 2027,
        "references": [{"title": "国务院办公厅关于2027年部分节假日安排的通知",
                        "number": "国办发明电〔2026〕99号", "date": "2026-12-10"}],
        "holidays": [{"date": f"2027-01-0{d}", "name": "元旦"} for d in (1, 2, 3, 4)],
        "working_days": [],
    }  # fmt: skip


@pytest.fixture
def added_years_forgotten() -> Iterator[None]:
    """This process's calendar is the shipped one again after a test that adds a year."""
    yield
    install_added_years([])
    forget_sync()


def test_a_due_date_that_crosses_into_a_year_without_a_notice_is_provisional() -> None:
    raised = raise_alerts(compare(), AT_YEAR_END, overrides=OVERRIDES).to_pylist()
    by_rule = {a["rule"]: a for a in raised}
    # 3 working days: 29, 30, 31 December, all on the official 2026 calendar.
    assert (by_rule["death"]["due_on"], by_rule["death"]["due_basis"]) == (D(2026, 12, 31), None)
    # 10 working days: 29-31 December, then 4-8 and 11-12 January (1 January off).
    income = by_rule["income_crosses_standard"]
    assert income["due_on"] == D(2027, 1, 12)
    assert json.loads(income["due_basis"]) == {"start": "2026-12-28", "days": 10, "kind": "working"}


def _raised_at_year_end(household: int, person: int) -> pa.Table:
    """The registered household's alerts as the rules raise them on 28 December 2026: a death
    (3 working days) and a medical expense (5 working days, into 2027)."""
    found = raise_alerts(compare(), AT_YEAR_END, overrides=OVERRIDES).to_pylist()
    chosen = [a for a in found if a["rule"] in ("death", "medical_out_of_pocket")]
    for a in chosen:
        a.update(household_id=household, person_id=person, subject=f"person:{person}")
    return pa.Table.from_pylist(chosen, schema=ALERT_SCHEMA)


@pytest.mark.usefixtures("added_years_forgotten")
def test_adding_the_year_moves_the_provisional_due_dates_with_an_audit_entry_each(
    database: Database, fixed_clock: Clock
) -> None:
    household, person = _registered(database)
    _store(database, _raised_at_year_end(household, person), fixed_clock)
    with database.sessions() as session:
        stored = {a.rule: a for a in list_alerts(session)}
        death, medical = stored["death"], stored["medical_out_of_pocket"]
        assert (death.due_on, death.due_provisional) == (D(2026, 12, 31), False)
        # 29-31 December, 4 and 5 January.
        assert (medical.due_on, medical.due_provisional) == (D(2027, 1, 5), True)
        medical_id = medical.id

    with bootstrap(database).unit_of_work() as uow:
        result = add_calendar_year(
            uow, AddCalendarYear(ADMIN, parse_official_year(notice_2027())), fixed_clock
        )
    assert (result.recomputed, result.moved, result.still_provisional) == (1, 1, 0)
    with database.sessions() as session:
        medical = session.get_one(Alert, medical_id)
        # 29-31 December, then 5 and 6 January: 4 January is off under the notice.
        assert (medical.due_on, medical.due_provisional) == (D(2027, 1, 6), False)
        assert medical.provisional_deadlines is None
        entries = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "DeadlineRecomputed")
        ).all()
        assert [(e.entity, e.entity_id, e.before, e.after) for e in entries] == [
            ("monitoring_alerts", str(medical_id),
             {"due_on": "2027-01-05", "provisional": True},
             {"due_on": "2027-01-06", "provisional": False}),
        ]  # fmt: skip
        assert verify(session) == []


@pytest.mark.usefixtures("added_years_forgotten")
def test_alerts_raised_before_the_year_was_added_are_stored_on_its_calendar(
    database: Database, fixed_clock: Clock
) -> None:
    """A table raised before the notice was added (a resumed cycle's Parquet) is stored with the
    date the calendar in force gives, not the provisional one it was raised with."""
    household, person = _registered(database)
    raised_earlier = _raised_at_year_end(household, person)
    with bootstrap(database).unit_of_work() as uow:
        add_calendar_year(
            uow, AddCalendarYear(ADMIN, parse_official_year(notice_2027())), fixed_clock
        )
    _store(database, raised_earlier, fixed_clock)
    with database.sessions() as session:
        medical = session.scalars(select(Alert).where(Alert.rule == "medical_out_of_pocket")).one()
        assert (medical.due_on, medical.due_provisional) == (D(2027, 1, 6), False)


@pytest.mark.usefixtures("added_years_forgotten")
def test_calendar_recompute_corrects_an_alert_stored_while_the_year_was_being_added(
    database: Database, fixed_clock: Clock
) -> None:
    """An alert stored by a process that had not yet seen the year is corrected by ``safetynet
    calendar recompute``, with its audit entry."""
    household, person = _registered(database)
    _store(database, _raised_at_year_end(household, person), fixed_clock)
    with database.sessions.begin() as session:  # another process adds the year meanwhile
        session.add(OfficialCalendarYear(year=2027, document=notice_2027(),
                                         added_at=fixed_clock(), added_by="admin_he"))  # fmt: skip
    with bootstrap(database).unit_of_work() as uow:
        counts = recompute_provisional_deadlines(uow, RecomputeProvisional(ADMIN), fixed_clock)
    assert counts == (1, 1, 0)
    with database.sessions() as session:
        medical = session.scalars(select(Alert).where(Alert.rule == "medical_out_of_pocket")).one()
        assert (medical.due_on, medical.due_provisional) == (D(2027, 1, 6), False)
        events = session.scalars(select(AuditEvent.event)).all()
        assert events.count("DeadlineRecomputed") == 1
        assert verify(session) == []
