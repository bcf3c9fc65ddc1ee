"""Finding households and persons, masked, and one household whole with its history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from safetynet.bootstrap import bootstrap
from safetynet.db.engine import Database
from safetynet.errors import InputError
from safetynet.registry.changes import ApproveChange, ChangeDetails, RequestChange
from safetynet.registry.search import (
    SearchQuery,
    household_id,
    household_view,
    search_households,
    search_persons,
)
from tests.registry.helpers import id_number, person, run_import, write_csv
from tests.registry.test_changes import APPROVER, CLERK, COLUMNS

Clock = Callable[[], dt.datetime]
HEAD = id_number("19800101", 11)
WIFE = id_number("19820202", 12)
OTHER = id_number("19750303", 21)
SHANGHAI = id_number("19700101", 31, region="310115")
LEGACY_HEAD = HEAD[:6] + HEAD[8:17]  # the same person's 15-digit number (no century, no check)


@pytest.fixture
def populated(database: Database, tmp_path: Path, fixed_clock: Clock) -> Database:
    rows = [
        person("H1", "head", name="张伟", id_number=HEAD, address="朝阳区和平街1号"),
        person("H1", "spouse", name="王芳", id_number=WIFE, address="朝阳区和平街1号"),
        person("H2", "head", name="张伟华", id_number=OTHER, address="朝阳区幸福路8号"),
        person("S1", "head", name="陈静", id_number=SHANGHAI, region="310115", address="浦东新区"),
    ]
    rows[0] |= {"wage_income": "1500", "income_month": "2025-08"}
    run_import(database, write_csv(tmp_path / "h.csv", rows, COLUMNS), fixed_clock)
    return database


def _persons(db: Database, **query: object) -> tuple[int, list[str]]:
    with db.sessions() as session:
        page = search_persons(session, SearchQuery(**query))  # type: ignore[arg-type]
    return page.total, [h.name for h in page.hits]


def _households(db: Database, **query: object) -> tuple[int, list[str]]:
    with db.sessions() as session:
        page = search_households(session, SearchQuery(**query))  # type: ignore[arg-type]
    return page.total, [h.household_no for h in page.hits]


def test_a_person_is_found_by_identity_number_masked(populated: Database) -> None:
    with populated.sessions() as session:
        page = search_persons(session, SearchQuery(id_number=HEAD))
    [hit] = page.hits
    assert (hit.name, hit.household_no, hit.relation) == ("张伟", "H1", "head")
    assert hit.id_number == HEAD[:3] + "*" * 11 + HEAD[-4:]
    assert _persons(populated, id_number=LEGACY_HEAD) == (1, ["张伟"])  # 15 digits → 18


def test_names_match_exactly_by_their_start_or_by_a_part(populated: Database) -> None:
    assert _persons(populated, name="张伟") == (1, ["张伟"])
    assert _persons(populated, name="张伟", name_match="prefix") == (2, ["张伟", "张伟华"])
    assert _persons(populated, name="伟", name_match="contains") == (2, ["张伟", "张伟华"])
    assert _persons(populated, name="%", name_match="contains") == (0, [])  # no wildcard


def test_households_are_found_by_address_and_region(populated: Database) -> None:
    assert _households(populated, address="和平街") == (1, ["H1"])
    assert _households(populated, address="朝阳区") == (2, ["H1", "H2"])
    assert _households(populated, region="110105") == (2, ["H1", "H2"])  # a county
    assert _households(populated, region="110000") == (2, ["H1", "H2"])  # its province
    assert _households(populated, region="310000") == (1, ["S1"])
    assert _households(populated, name="王芳") == (1, ["H1"])  # through a current member
    with populated.sessions() as session:
        [hit] = search_households(session, SearchQuery(address="和平街")).hits
    assert (hit.head_name, hit.members) == ("张伟", 2)
    assert hit.head_id_number is not None
    assert HEAD not in hit.head_id_number


def test_the_searcher_region_limits_what_is_found(populated: Database) -> None:
    assert _persons(populated, name="陈静", within="110000") == (0, [])
    assert _persons(populated, name="陈静", within="310000") == (1, ["陈静"])
    assert _households(populated, region="310115", within="110105") == (0, [])


def test_pages_and_totals(populated: Database) -> None:
    with populated.sessions() as session:
        page = search_persons(session, SearchQuery(region="110105", limit=2, offset=2))
    assert (page.total, [h.name for h in page.hits]) == (3, ["王芳"])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"id_number": "110105198001011"}, "id_number"),
        ({"name": "张" * 101}, "name"),
        ({"region": "11"}, "region"),
        ({"region": "999999"}, "region"),
        ({"name": "张", "limit": 0}, "limit"),
        ({"name": "张", "offset": -1}, "offset"),
    ],
)
def test_bad_queries_name_the_field(
    populated: Database, query: dict[str, object], field: str
) -> None:
    with pytest.raises(InputError) as refused, populated.sessions() as session:
        search_persons(session, SearchQuery(**query))  # type: ignore[arg-type]
    assert refused.value.field == field


def test_the_household_view_shows_members_income_requests_and_history(
    populated: Database, fixed_clock: Clock
) -> None:
    bus = bootstrap(populated, clock=fixed_clock)
    details = ChangeDetails(id_number=WIFE, on=dt.date(2025, 9, 1))
    request = bus.handle(
        RequestChange("110105", "H1", "member_moves_out", details, "迁出 moved away", CLERK)
    )
    bus.handle(ApproveChange(request, APPROVER))
    with populated.sessions() as session:
        hid = household_id(session, "110105", "H1")
        assert hid is not None
        view = household_view(session, hid)
    assert view is not None
    assert view.address == "朝阳区和平街1号"
    assert [(m.name, m.current) for m in view.members] == [("张伟", True), ("王芳", False)]
    assert view.members[1].end_date == dt.date(2025, 9, 1)
    assert [(i.month, i.total_fen) for i in view.income] == [("2025-08", 150_000)]
    [shown] = view.change_requests
    assert (shown.status, shown.details["id_number"]) == (
        "approved",
        WIFE[:3] + "*" * 11 + WIFE[-4:],
    )
    events = [e.event for e in view.history]
    assert events[:3] == ["ChangeApproved", "MemberLeft", "ChangeRequested"]
    assert "HouseholdRegistered" in events
    assert "IncomeRecorded" in events
    assert WIFE not in str([e.after for e in view.history])
