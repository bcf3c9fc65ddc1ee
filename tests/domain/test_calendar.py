"""The working-day calendar as data: the shipped notices, their validation, the provisional years."""

from __future__ import annotations

import datetime as dt
from typing import Any

import chinese_calendar
import pytest
from chinese_calendar.constants import holidays as package_holidays
from chinese_calendar.constants import workdays as package_workdays

from safetynet.domain.calendar import (
    CalendarFileError,
    WorkCalendar,
    active_calendar,
    install_added_years,
    parse_official_year,
    provisional_holidays,
    read_official_year,
    shipped_years,
)
from safetynet.domain.workdays import add_working_days


def test_every_shipped_year_agrees_with_the_package_day_by_day() -> None:
    years = shipped_years()
    package_years = {d.year for d in package_holidays} | {d.year for d in package_workdays}
    assert set(years) == package_years
    calendar = WorkCalendar(years)
    for year in sorted(years):
        day = dt.date(year, 1, 1)
        while day.year == year:
            assert calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
            day += dt.timedelta(days=1)
        assert set(years[year].holidays) == {d for d in package_holidays if d.year == year}
        assert set(years[year].working_days) == {d for d in package_workdays if d.year == year}


def test_recent_shipped_years_cite_their_notice_with_its_number() -> None:
    years = shipped_years()
    assert years[2025].references[0].number == "国办发明电〔2024〕12号"
    assert years[2025].references[0].date == dt.date(2024, 11, 12)
    assert years[2024].references[0].number == "国办发明电〔2023〕7号"
    for year in range(2020, 2027):
        ref = years[year].references[0]
        assert ref.title == f"国务院办公厅关于{year}年部分节假日安排的通知"
        assert ref.number
        assert ref.date
    for official in years.values():  # an unchecked number is said to be so, never invented
        for ref in official.references:
            assert ref.number or "not checked" in ref.note


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_provisional_calendar_computes_the_statutory_days_the_notices_gave(year: int) -> None:
    official = shipped_years()[year]
    provisional = provisional_holidays(year)
    assert len(provisional) == 13  # 1 + 4 + 1 + 2 + 1 + 1 + 3 days since the 2024 revision
    for day, name in provisional.items():
        assert day in official.holidays, (day, name)
        assert official.holidays[day] == name or {name, official.holidays[day]} == {
            "中秋节",
            "国庆节",
        }


def test_the_provisional_calendar_follows_the_measures_in_force_that_year() -> None:
    # Before 2025 (Decree 644): Spring Festival 初一 to 初三, Labour Day 1 May only.
    days = provisional_holidays(2024)
    assert dt.date(2024, 2, 9) not in days  # 除夕
    assert [d for d, n in days.items() if n == "春节"] == [
        dt.date(2024, 2, 10),
        dt.date(2024, 2, 11),
        dt.date(2024, 2, 12),
    ]
    assert dt.date(2024, 5, 2) not in days
    for day in days:
        assert day in shipped_years()[2024].holidays


def test_the_provisional_2027_calendar() -> None:
    days = provisional_holidays(2027)
    assert days[dt.date(2027, 2, 5)] == "春节"  # 除夕
    assert days[dt.date(2027, 2, 8)] == "春节"  # 初三
    assert days[dt.date(2027, 4, 5)] == "清明节"
    assert days[dt.date(2027, 6, 9)] == "端午节"
    assert days[dt.date(2027, 9, 15)] == "中秋节"
    assert active_calendar().source(2027) == "provisional"


def _doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "year": 2027,
        "references": [
            {
                "title": "国务院办公厅关于2027年部分节假日安排的通知",
                "number": "国办发明电〔2026〕1号",
            }
        ],
        "holidays": [{"date": dt.date(2027, 1, 1), "name": "元旦"}],
        "working_days": [{"date": dt.date(2027, 2, 20), "name": "春节"}],
    }
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"year": "next"}, "year", "expected a year"),
        ({"references": []}, "references", "notice is required"),
        ({"references": [{"title": "通知"}]}, "references[0].number", "document number"),
        ({"references": [{"number": "国办发明电〔2026〕1号"}]}, "references[0].title", "title"),
        (
            {"holidays": [{"date": dt.date(2026, 12, 31), "name": "元旦"}]},
            "holidays[0].date",
            "not in the file's year 2027",
        ),
        (
            {
                "holidays": [
                    {"date": dt.date(2027, 1, 1), "name": "元旦"},
                    {"date": dt.date(2027, 1, 1), "name": "元旦"},
                ]
            },
            "holidays[1].date",
            "listed twice",
        ),
        ({"holidays": [{"date": "2027-02-30", "name": "春节"}]}, "holidays[0].date", "real date"),
        (
            {"working_days": [{"date": dt.date(2027, 1, 1), "name": "元旦"}]},
            "working_days[0].date",
            "both as a holiday and a working day",
        ),
        (
            {"working_days": [{"date": dt.date(2027, 2, 22), "name": "春节"}]},
            "working_days[0].date",
            "falls on a weekend",
        ),
        ({"holidays": []}, "holidays", "at least one holiday"),
        ({"holiday": []}, "holiday", "unknown field"),
    ],
)
def test_a_bad_calendar_file_is_refused_naming_the_field(
    changes: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(CalendarFileError, match=reason) as caught:
        parse_official_year(_doc(**changes))
    assert caught.value.field == field


def test_a_file_that_is_not_yaml_is_refused() -> None:
    with pytest.raises(CalendarFileError, match="not valid YAML"):
        read_official_year("year: [2027", "2027.yaml")


def test_an_installed_year_replaces_the_provisional_one() -> None:
    added = parse_official_year(
        _doc(
            holidays=[{"date": dt.date(2027, 1, 1), "name": "元旦"}],
            working_days=[{"date": dt.date(2027, 1, 9), "name": "调休"}],
        )
    )
    try:
        install_added_years([added])
        assert active_calendar().source(2027) == "official"
        due = add_working_days(dt.date(2027, 1, 1), 6)
        assert due == dt.date(2027, 1, 9)
        assert not due.provisional
    finally:
        install_added_years([])
    assert active_calendar().source(2027) == "provisional"
