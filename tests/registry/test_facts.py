"""Program facts: validated writes, values in force by date, and facts carried by an import."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy import select

from safetynet.audit.model import AuditEvent
from safetynet.db.engine import Database
from safetynet.errors import InputError
from safetynet.policy.population import Entity
from safetynet.registry.facts import (
    canonical_text,
    fact_field,
    fact_texts,
    facts_in_force,
    parse_fact,
    parse_values,
    write_facts,
)
from safetynet.registry.model import Household, HouseholdFact, Person, PersonFact
from tests.registry.helpers import HEADERS, count, id_number, person, run_import, write_csv

NOW = dt.datetime(2025, 9, 10, 8, 0, tzinfo=dt.UTC)


def clock() -> dt.datetime:
    return NOW


def _one_household(db: Database, tmp_path: Path) -> tuple[int, int]:
    run_import(db, write_csv(tmp_path / "h.csv", [person("H1")]), clock)
    with db.sessions() as session:
        return session.scalars(select(Person.id)).one(), session.scalars(select(Household.id)).one()


def test_write_facts_validates_with_the_field_parser(database: Database, tmp_path: Path) -> None:
    person_id, household_id = _one_household(database, tmp_path)
    with database.sessions.begin() as session:
        written = write_facts(
            session,
            [
                {
                    "person_id": person_id,
                    "field": "tekun_supporter_status",
                    "value": "none",
                    "valid_from": dt.date(2025, 1, 1),
                    "source": "assessment",
                },
                {
                    "person_id": person_id,
                    "field": "social_insurance_paid",
                    "value": "12.5",
                    "valid_from": dt.date(2025, 1, 1),
                    "source": "case:7",
                },
                {
                    "household_id": household_id,
                    "field": "housing_tenure",
                    "value": "rents",
                    "valid_from": dt.date(2025, 1, 1),
                    "source": "assessment",
                },
            ],
            recorded_at=NOW,
        )
    assert written == 3
    with database.sessions() as session:
        facts = facts_in_force(session, Entity.PERSON, [person_id])
    assert facts[(person_id, "social_insurance_paid")] == "12.50"  # canonical text
    bad = [
        ({"person_id": person_id, "field": "tekun_supporter_status", "value": "rich"}, "not one of"),
        ({"person_id": person_id, "field": "social_insurance_paid", "value": "-3"}, "negative"),
        ({"person_id": person_id, "field": "wage_income", "value": "3"}, "own tables"),
        ({"person_id": person_id, "field": "no_such_field", "value": "3"}, "not a declared"),
        ({"household_id": household_id, "field": "tekun_supporter_status", "value": "none"},
         "needs person_id"),
    ]  # fmt: skip
    for row, reason in bad:
        with database.sessions.begin() as session, pytest.raises(InputError, match=reason):
            write_facts(
                session,
                [{**row, "valid_from": dt.date(2025, 1, 1), "source": "x"}],
                recorded_at=NOW,
            )
    assert count(database, PersonFact) == 2


def test_value_in_force_is_the_latest_on_or_before_the_day(
    database: Database, tmp_path: Path
) -> None:
    person_id, _ = _one_household(database, tmp_path)

    def fact(value: str, day: dt.date) -> dict[str, object]:
        return {"person_id": person_id, "field": "ltc_disability_level", "value": value,
                "valid_from": day, "source": "assessment"}  # fmt: skip

    with database.sessions.begin() as session:
        write_facts(session, [fact("2", dt.date(2025, 3, 1)), fact("4", dt.date(2025, 8, 1))],
                    recorded_at=NOW)  # fmt: skip
        write_facts(session, [fact("5", dt.date(2025, 8, 1))], recorded_at=NOW)  # same day, later
    with database.sessions() as session:
        on = {d: facts_in_force(session, Entity.PERSON, [person_id], d) for d in
              (dt.date(2025, 2, 1), dt.date(2025, 7, 31), dt.date(2025, 9, 30))}  # fmt: skip
    assert on[dt.date(2025, 2, 1)] == {}
    assert on[dt.date(2025, 7, 31)][(person_id, "ltc_disability_level")] == "2"
    assert on[dt.date(2025, 9, 30)][(person_id, "ltc_disability_level")] == "5"


FACT_HEADERS = [*HEADERS, "赡养抚养扶养人情况", "失能等级", "住房性质", "social_insurance_paid"]


def test_import_carries_program_facts_with_source_and_date(
    database: Database, tmp_path: Path
) -> None:
    rows = [
        person("H1", id_number=id_number("19500101", 11), wage_income="100",
               income_month="2025-08", **{"赡养抚养扶养人情况": "无", "失能等级": "3",
                                          "住房性质": "租赁", "social_insurance_paid": "8.10"}),
        person("H1", "spouse", id_number=id_number("19520101", 12), **{"失能等级": "0"}),
    ]  # fmt: skip
    path = write_csv(tmp_path / "county.csv", rows, FACT_HEADERS)
    report, _batch = run_import(database, path, clock)
    assert report.quarantined == 0
    assert report.accepted == 2
    with database.sessions() as session:
        facts = session.execute(
            select(PersonFact.field, PersonFact.value, PersonFact.valid_from, PersonFact.source)
            .order_by(PersonFact.field, PersonFact.value)
        ).all()  # fmt: skip
        housing = session.execute(select(HouseholdFact.field, HouseholdFact.value)).all()
        audited = session.scalars(select(AuditEvent.event)).all()
        bulk = session.scalars(
            select(AuditEvent.after).where(AuditEvent.event == "HouseholdsRegisteredInBulk")
        ).one()
    assert ("tekun_supporter_status", "none", dt.date(2025, 8, 1), "import:county.csv") in facts
    assert ("social_insurance_paid", "8.10", dt.date(2025, 8, 1), "import:county.csv") in facts
    # The spouse's row has no income month: its facts hold from the record's date.
    assert ("ltc_disability_level", "0", dt.date(2025, 9, 1), "import:county.csv") in facts
    assert housing == [("housing_tenure", "rents")]
    # A household new to the registry is written in bulk: its facts are counted (and in the
    # digest) in the county's one audit entry.
    assert "HouseholdsRegisteredInBulk" in audited
    assert (bulk["person_facts"], bulk["household_facts"]) == (4, 1)
    # The same file again changes nothing and appends nothing.
    again, _ = run_import(database, path, clock)
    assert again.households_unchanged == 1
    assert count(database, PersonFact) == 4


def test_bad_facts_are_quarantined_with_row_field_and_reason(
    database: Database, tmp_path: Path
) -> None:
    rows = [
        person("H1", id_number=id_number("19500101", 11), **{"失能等级": "九"}),
        person("H2", id_number=id_number("19500101", 13), **{"住房性质": "宫殿"}),
        person("H3", id_number=id_number("19500101", 15), **{"social_insurance_paid": "-1"}),
        person("H4", id_number=id_number("19500101", 17), **{"住房性质": "租赁"}),
        person("H4", "spouse", id_number=id_number("19500101", 18), **{"住房性质": "自有"}),
        person("H5", id_number=id_number("19500101", 19)),
    ]  # fmt: skip
    path = write_csv(tmp_path / "county.csv", rows, FACT_HEADERS)
    report, batch = run_import(database, path, clock)
    assert report.accepted == 1
    assert report.quarantined == 5
    reasons = {(q.row, q.field): q.reason for q in batch.quarantine}
    assert "not a whole number" in reasons[(2, "ltc_disability_level")]
    assert "宫殿" in reasons[(3, "housing_tenure")]
    assert "negative" in reasons[(4, "social_insurance_paid")]
    assert "one value" in reasons[(6, "housing_tenure")]
    assert count(database, PersonFact) == 0


def test_an_unknown_column_is_refused_with_a_close_match(tmp_path: Path) -> None:
    from safetynet.registry.imports import read_table

    path = write_csv(tmp_path / "county.csv", [person("H1")], [*HEADERS, "tekun_suporter_status"])
    with pytest.raises(InputError, match="did you mean 'tekun_supporter_status'"):
        read_table(path)


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("child_dibao_received", [0, 5, 99, 100, 123_456, 5, 10**15 + 7]),  # money, fen
        ("child_father_status", [0, 1, 2, 1, 0]),  # a choice, by code
    ],
)
def test_fact_texts_are_the_text_write_facts_stores(name: str, values: list[int]) -> None:
    f = fact_field(name)
    texts = fact_texts(f, np.array(values, np.int64)).to_list()
    assert texts == [canonical_text(f, parse_fact(f, canonical_text(f, v))) for v in values]


def test_fact_texts_refuse_what_write_facts_refuses() -> None:
    f = fact_field("child_dibao_received")  # at least 0
    with pytest.raises(InputError, match="child_dibao_received"):
        fact_texts(f, np.array([100, -1], np.int64))
    assert fact_texts(f, np.zeros(0, np.int64)).to_list() == []


@pytest.mark.parametrize(
    ("name", "texts"),
    [
        # money: canonical amounts, and forms the parser also reads (not canonical)
        ("child_dibao_received", ["0.00", "12.50", "12.50", "1234567890123456.78", "12.5", "7"]),
        ("ltc_disability_level", ["0", "3", "3", "04", "+2"]),  # whole numbers
        ("child_father_status", ["dead", "seriously_ill", "dead"]),  # a choice
        ("medical_insured", ["true", "false", "true"]),
        ("child_dibao_received", []),
    ],
)
def test_values_read_back_are_those_the_field_parser_gives(name: str, texts: list[str]) -> None:
    f = fact_field(name)
    got = parse_values(f, pa.array(texts, type=pa.string()))
    assert got.dtype == f.dtype()
    assert got.tolist() == [parse_fact(f, t) for t in texts]


def test_values_read_back_are_refused_as_the_field_parser_refuses() -> None:
    money, level = fact_field("child_dibao_received"), fact_field("ltc_disability_level")
    for f, text in ((money, "-1.00"), (money, "12.345"), (level, "99"), (level, "x")):
        with pytest.raises(InputError) as expected:
            parse_fact(f, text)
        with pytest.raises(InputError) as got:
            parse_values(f, pa.array(["1", text], type=pa.string()))
        assert str(got.value) == str(expected.value)
