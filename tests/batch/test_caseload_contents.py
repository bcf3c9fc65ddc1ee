"""The registry's contents after loading a caseload, table by table, as checksums recorded from
the row-by-row loader (``insert_new`` of one dict per row) that the columnar one replaced: every
row of every table, on SQLite and on PostgreSQL, after a first load, a second load of the same
month, a load of everyone and a load that completes rows removed in between."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from safetynet.audit.log import verify
from safetynet.batch import caseload, synth
from safetynet.batch.caseload import CaseloadReport, load_caseload
from safetynet.bootstrap import all_metadata
from safetynet.db.engine import Database
from safetynet.policy.screening import load_parameter_values
from safetynet.registry.model import (
    Asset,
    Enrolment,
    Household,
    HouseholdFact,
    IncomeItem,
    Membership,
    Person,
    PersonFact,
)

ROOT = Path(__file__).resolve().parents[2]
FALLBACKS = load_parameter_values(ROOT / "examples" / "illustrative_locality.yaml")
COUNTIES = ["310115", "110105"]
MONTH = "2025-09"
ON = dt.date(2025, 9, 1)
NOW = dt.datetime(2025, 9, 2, 8, 30, 15, 123456, tzinfo=dt.UTC)
# Tables whose id is a surrogate from a sequence: PostgreSQL spends sequence values on rows that
# ON CONFLICT skips, so these ids are compared by their order (rank), not their value.
SURROGATE = {"memberships", "enrolments", "income_items", "assets", "person_facts",
             "household_facts", "enrolment_history"}  # fmt: skip


EMPTY = hashlib.sha256(b"").hexdigest()[:16]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("caseload-contents") / "population"
    synth.generate(out, 5_000, COUNTIES, seed=11, on=ON)
    return out


def _value(value: Any, snapshot: Path) -> Any:
    """A value in a form both databases give alike: UTC date-times without offset, ISO text."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
        return text.replace(str(snapshot), "<snapshot>")
    return value


def _table_digest(session: Session, table: Table, snapshot: Path) -> str:
    columns = [c for c in table.columns if c.name not in ("hash", "prev_hash", "mac")]
    rows = [list(r) for r in session.execute(select(*columns))]
    if table.name in SURROGATE:
        at = [c.name for c in columns].index("id")
        for rank, row in enumerate(sorted(rows, key=lambda r: r[at])):
            row[at] = rank
    text = sorted(json.dumps([_value(v, snapshot) for v in r], ensure_ascii=False) for r in rows)
    return hashlib.sha256("\n".join(text).encode()).hexdigest()[:16]


def contents(db: Database, snapshot: Path) -> dict[str, str]:
    """Table → checksum of its sorted rows, for the tables with rows besides the region list
    (audit entries without their hash chain, which ``verify`` checks; the snapshot's temporary
    folder written as ``<snapshot>``)."""
    with db.sessions() as session:
        assert verify(session) == []
        digests = {
            t.name: _table_digest(session, t, snapshot)
            for t in all_metadata().sorted_tables
            if t.name != "regions"
        }
    return {name: digest for name, digest in digests.items() if digest != EMPTY}


def counts(report: CaseloadReport) -> list[Any]:
    return [
        (c.county, c.households, c.persons, sorted(c.enrolments.items()), c.already_present)
        for c in report.counties
    ]


def _remove_some(db: Database) -> None:
    """Rows of a loaded registry taken away or closed, for the next load to complete: a person
    with everything of theirs, a household with everything of its own, memberships closed,
    enrolments ended or removed, income items removed."""
    with db.sessions.begin() as session:
        person = session.scalars(select(PersonFact.person_id).order_by(PersonFact.id)).first()
        assert person is not None
        for model in (PersonFact, IncomeItem, Membership):
            session.execute(delete(model).where(model.person_id == person))
        session.execute(delete(Person).where(Person.id == person))
        household = session.scalars(select(Asset.household_id).order_by(Asset.id.desc())).first()
        assert household is not None
        for table in (HouseholdFact, Asset, Enrolment, Membership):
            session.execute(delete(table).where(table.household_id == household))
        session.execute(delete(Household).where(Household.id == household))
        closed = list(session.scalars(select(Membership.id).order_by(Membership.id).limit(3)))
        session.execute(update(Membership).where(Membership.id.in_(closed)).values(end_date=ON))
        ended = list(session.scalars(select(Enrolment.id).order_by(Enrolment.id).limit(2)))
        session.execute(update(Enrolment).where(Enrolment.id.in_(ended)).values(status="ended"))
        gone = list(session.scalars(select(Enrolment.id).order_by(Enrolment.id.desc()).limit(2)))
        session.execute(delete(Enrolment).where(Enrolment.id.in_(gone)))
        items = list(session.scalars(select(IncomeItem.id).order_by(IncomeItem.id).limit(5)))
        session.execute(delete(IncomeItem).where(IncomeItem.id.in_(items)))


# Recorded from the row-by-row loader (commit f89baac), alike on SQLite and PostgreSQL.
FIRST = {
    "audit_events": "41d1616717b76da2", "households": "07ca63908aba3266",
    "persons": "48601ae1fae55724", "assets": "5419371bbb84e1f6",
    "enrolments": "761fd4e324a10b69", "household_facts": "6441a904ce4ced07",
    "income_items": "e170d4acc2d363b6", "memberships": "35579aea9c7c1b75",
    "person_facts": "2cbb32b42613bbb8",
}  # fmt: skip
EVERYONE = {
    "audit_events": "cc535881f52f6f82", "households": "b3a22dc4237aae2d",
    "persons": "17957620b6f8d4a1", "assets": "5cdf3a9da1195973",
    "enrolments": "761fd4e324a10b69", "household_facts": "978eda0802abb959",
    "income_items": "f8a5f77b2757bd84", "memberships": "dd36424effe93e69",
    "person_facts": "de6c9be959d13039",
}  # fmt: skip
COMPLETED = {
    "audit_events": "06cd84c7c92c41cd", "households": "b3a22dc4237aae2d",
    "persons": "17957620b6f8d4a1", "assets": "5cdf3a9da1195973",
    "enrolments": "1cf05aaf260ff8b1", "household_facts": "430f4ece2a9999b8",
    "income_items": "3977e4bdf89d7bcc", "memberships": "f656309887246808",
    "person_facts": "0fa615cb8a9d4e3c",
}  # fmt: skip
PROGRAMS = ("dibao", "employee_pension", "resident_pension", "tekun")
FIRST_COUNTS = [
    ("110105", 455, 1177, list(zip(PROGRAMS, (31, 345, 137, 2), strict=True)), 0),
    ("310115", 396, 1054, list(zip(PROGRAMS, (21, 296, 127, 4), strict=True)), 0),
]
SECOND_COUNTS = [
    ("110105", 0, 0, list(zip(PROGRAMS, (0, 0, 0, 0), strict=True)), 970),
    ("310115", 0, 0, list(zip(PROGRAMS, (0, 0, 0, 0), strict=True)), 844),
]
EVERYONE_COUNTS = [
    ("110105", 510, 1323, list(zip(PROGRAMS, (0, 0, 0, 0), strict=True)), 970),
    ("310115", 540, 1446, list(zip(PROGRAMS, (0, 0, 0, 0), strict=True)), 844),
]
COMPLETED_COUNTS = [
    ("110105", 0, 1, list(zip(PROGRAMS, (2, 0, 0, 0), strict=True)), 1478),
    ("310115", 1, 0, list(zip(PROGRAMS, (0, 0, 0, 2), strict=True)), 1381),
]


@pytest.mark.parametrize("keys_once", [False, True], ids=["keys-per-row", "keys-checked-once"])
def test_the_registry_holds_the_same_rows_as_the_row_by_row_loader(
    database: Database, snapshot: Path, keys_once: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if keys_once and database.engine.dialect.name != "postgresql":
        pytest.skip("foreign keys are checked once only on PostgreSQL")
    # Every county's foreign keys dropped and added again around its rows, or never.
    monkeypatch.setattr(caseload, "SET_BASED_FROM", 0 if keys_once else 10**12)

    def load(everyone: bool = False) -> CaseloadReport:
        return load_caseload(
            database, snapshot, MONTH, fallbacks=FALLBACKS, clock=lambda: NOW, everyone=everyone
        )

    first = load()
    after_first = contents(database, snapshot)
    second = load()
    after_second = contents(database, snapshot)
    everyone = load(everyone=True)
    after_everyone = contents(database, snapshot)
    _remove_some(database)
    completed = load(everyone=True)
    after_completed = contents(database, snapshot)
    # A second load of the month adds nothing but its audit entries.
    assert {k: v for k, v in after_second.items() if k != "audit_events"} == {
        k: v for k, v in after_first.items() if k != "audit_events"
    }
    assert (after_first, after_everyone, after_completed) == (FIRST, EVERYONE, COMPLETED)
    assert (counts(first), counts(second), counts(everyone), counts(completed)) == (
        FIRST_COUNTS, SECOND_COUNTS, EVERYONE_COUNTS, COMPLETED_COUNTS,
    )  # fmt: skip
