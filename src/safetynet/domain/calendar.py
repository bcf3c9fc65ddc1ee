"""China's working-day calendar as data the project owns: official years and provisional years.

An *official* year is one State Council holiday notice (国务院办公厅关于YYYY年部分节假日安排的通知): its
holidays and its adjusted working weekend days (调休上班日), cited by title and document number. The
years published so far ship with the package (``domain/data/calendar/YYYY.yaml``); an
administrator adds a newer year without a code release (``safetynet calendar add-year``, stored
in the registry database and installed here with ``install_added_years``).

A year no notice covers yet gets a *provisional* calendar: weekends plus the statutory holidays of
the Measures on National Holidays (parameter ``common.calendar.statutory_holidays``), lunar dates
computed, no adjusted working days. Deadlines computed on it are marked provisional
(``domain/workdays.py``) and recomputed when the year's notice is added.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import chinese_calendar
import lunardate
import yaml

from safetynet.errors import CoverageError, InputError

__all__ = [
    "FIRST_PROVISIONAL_YEAR",
    "LAST_PROVISIONAL_YEAR",
    "CalendarFileError",
    "NoticeReference",
    "OfficialYear",
    "Source",
    "StatutoryHolidays",
    "WorkCalendar",
    "active_calendar",
    "install_added_years",
    "install_statutory_holidays",
    "parse_official_year",
    "provisional_holidays",
    "read_official_year",
    "shipped_years",
]

Source = Literal["official", "provisional"]

# The lunar library's range (lunardate: lunar years 1900-2099); 除夕 of a Gregorian year belongs
# to the lunar year before it, so the provisional calendar reaches Gregorian 1901-2099.
FIRST_PROVISIONAL_YEAR = 1901
LAST_PROVISIONAL_YEAR = 2099

HOLIDAY_NAMES_ZH = {
    "new_year": "元旦",
    "spring_festival": "春节",
    "qingming": "清明节",
    "labour_day": "劳动节",
    "dragon_boat": "端午节",
    "mid_autumn": "中秋节",
    "national_day": "国庆节",
}
STATUTORY_PARAMETER = "common.calendar.statutory_holidays"


class CalendarFileError(InputError):
    """A calendar file is invalid: the field (``holidays[3].date``) and the reason."""


@dataclass(frozen=True)
class NoticeReference:
    """The notice a year's calendar rests on. ``number`` is None only in a shipped file whose
    document number could not be checked (the file says so in ``note``)."""

    title: str
    number: str | None
    date: dt.date | None
    url: str = ""
    note: str = ""

    def cite(self) -> str:
        parts = [self.title]
        if self.number:
            parts.append(self.number)
        if self.date:
            parts.append(self.date.isoformat())
        return ", ".join(parts)


@dataclass(frozen=True)
class OfficialYear:
    year: int
    holidays: Mapping[dt.date, str]
    working_days: Mapping[dt.date, str]
    references: tuple[NoticeReference, ...]

    def cite(self) -> str:
        return "; ".join(r.cite() for r in self.references)

    def to_document(self) -> dict[str, Any]:
        """The file's content as JSON-compatible data (what the registry stores)."""

        def ref(r: NoticeReference) -> dict[str, Any]:
            return {
                "title": r.title,
                "number": r.number,
                "date": None if r.date is None else r.date.isoformat(),
                "url": r.url,
                "note": r.note,
            }

        def days(table: Mapping[dt.date, str]) -> list[dict[str, str]]:
            return [{"date": d.isoformat(), "name": n} for d, n in sorted(table.items())]

        return {
            "year": self.year,
            "references": [ref(r) for r in self.references],
            "holidays": days(self.holidays),
            "working_days": days(self.working_days),
        }


# ---------------------------------------------------------------------------------------------
# Reading and validating a calendar file


def _date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise CalendarFileError(field, f"expected a date (YYYY-MM-DD), got a time {value}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise CalendarFileError(field, f"{value!r} is not a real date (YYYY-MM-DD)")


def _days(raw: Any, field: str, year: int) -> dict[dt.date, str]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise CalendarFileError(field, "expected a list of {date, name} entries")
    out: dict[dt.date, str] = {}
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(item, dict) or "date" not in item:
            raise CalendarFileError(where, "expected {date: YYYY-MM-DD, name: ...}")
        day = _date(item["date"], f"{where}.date")
        if day.year != year:
            raise CalendarFileError(f"{where}.date", f"{day} is not in the file's year {year}")
        if day in out:
            raise CalendarFileError(f"{where}.date", f"{day} is listed twice")
        name = str(item.get("name") or "").strip()
        if not name:
            raise CalendarFileError(f"{where}.name", "a name is required (e.g. 春节)")
        out[day] = name
    return out


def _references(raw: Any, *, require_number: bool) -> tuple[NoticeReference, ...]:
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise CalendarFileError(
            "references", "the notice is required: a list of {title, number, date}"
        )
    refs = []
    for i, item in enumerate(raw):
        where = f"references[{i}]"
        if not isinstance(item, dict):
            raise CalendarFileError(where, "expected {title, number, date}")
        title = str(item.get("title") or "").strip()
        if not title:
            raise CalendarFileError(f"{where}.title", "the notice's title is required")
        number = item.get("number")
        number = None if number is None else str(number).strip() or None
        note = str(item.get("note") or "").strip()
        if number is None and (require_number or not note):
            raise CalendarFileError(
                f"{where}.number",
                "the notice's document number is required (e.g. 国办发明电〔2026〕9号)",
            )
        date = item.get("date")
        refs.append(
            NoticeReference(
                title,
                number,
                None if date is None else _date(date, f"{where}.date"),
                str(item.get("url") or ""),
                note,
            )
        )
    return tuple(refs)


def parse_official_year(doc: Any, *, require_number: bool = True) -> OfficialYear:
    """Validate a calendar document (a parsed YAML file, or what the registry stored).

    Every date must be a real date inside the year, listed once, never both a holiday and a
    working day; an adjusted working day must fall on a weekend (a weekday works anyway); the
    notice must be cited with its title and document number (shipped files seeded from the
    package may leave out a number that could not be checked, saying so in a note).
    """
    if not isinstance(doc, dict):
        raise CalendarFileError("file", "expected a mapping with year, references, holidays")
    raw_year = doc.get("year")
    if isinstance(raw_year, bool) or not isinstance(raw_year, int):
        raise CalendarFileError("year", f"expected a year such as 2027, got {raw_year!r}")
    if not FIRST_PROVISIONAL_YEAR <= raw_year <= LAST_PROVISIONAL_YEAR + 1:
        raise CalendarFileError("year", f"{raw_year} is outside the years supported")
    unknown = set(doc) - {"year", "references", "holidays", "working_days"}
    if unknown:
        raise CalendarFileError(
            sorted(unknown)[0], "unknown field (expected year, references, holidays, working_days)"
        )
    refs = _references(doc.get("references"), require_number=require_number)
    holidays = _days(doc.get("holidays"), "holidays", raw_year)
    if not holidays:
        raise CalendarFileError("holidays", "a year's notice lists at least one holiday")
    working = _days(doc.get("working_days"), "working_days", raw_year)
    for i, day in enumerate(sorted(working)):
        if day in holidays:
            raise CalendarFileError(
                f"working_days[{i}].date", f"{day} is listed both as a holiday and a working day"
            )
        if day.weekday() < 5:
            raise CalendarFileError(
                f"working_days[{i}].date",
                f"{day} is a {day:%A}: an adjusted working day (调休上班日) falls on a weekend",
            )
    return OfficialYear(raw_year, holidays, working, refs)


def read_official_year(text: str, label: str = "calendar file") -> OfficialYear:
    """Parse the text of a calendar YAML file (errors name ``label`` through the field)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CalendarFileError(label, f"not valid YAML: {exc}") from None
    return parse_official_year(doc)


@functools.cache
def shipped_years() -> dict[int, OfficialYear]:
    """The official years shipped with the package (loaded once per process)."""
    root = resources.files("safetynet.domain") / "data" / "calendar"
    years: dict[int, OfficialYear] = {}
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        try:
            parsed = parse_official_year(
                yaml.safe_load(entry.read_text(encoding="utf-8")), require_number=False
            )
        except CalendarFileError as exc:
            raise CalendarFileError(
                f"data/calendar/{entry.name}: {exc.field}", exc.reason
            ) from None
        if entry.name != f"{parsed.year}.yaml":
            raise CalendarFileError(f"data/calendar/{entry.name}", f"holds year {parsed.year}")
        years[parsed.year] = parsed
    return years


# ---------------------------------------------------------------------------------------------
# The provisional calendar


def _lunar(year: int, month: int, day: int) -> dt.date:
    solar: dt.date = lunardate.LunarDate(year, month, day).to_solar_date()
    return solar


StatutoryHolidays = Callable[[int], Mapping[str, int]]
"""The days of each statutory holiday (``new_year``, ``spring_festival``, ...) under the Measures
on National Holidays in force on 1 January of a year."""

_statutory: StatutoryHolidays | None = None


def install_statutory_holidays(days_of_year: StatutoryHolidays) -> None:
    """Where the provisional calendar takes the statutory holidays of a year from. The days are a
    dated parameter (``STATUTORY_PARAMETER``), which this layer cannot read:
    ``safetynet.policy.parameters`` installs its reader when it is loaded."""
    global _statutory, _active
    with _lock:
        _statutory = days_of_year
        _active = None
    provisional_holidays.cache_clear()


@functools.cache
def provisional_holidays(year: int) -> dict[dt.date, str]:
    """The statutory holidays of ``year`` under the Measures on National Holidays in force on
    1 January of that year, without the adjustments a notice adds."""
    if not FIRST_PROVISIONAL_YEAR <= year <= LAST_PROVISIONAL_YEAR:
        raise CoverageError(
            f"no calendar for {year}: no official notice has been added for it, and the "
            f"provisional calendar covers {FIRST_PROVISIONAL_YEAR}-{LAST_PROVISIONAL_YEAR} only"
        )
    if _statutory is None:
        raise CoverageError(
            f"no calendar for {year}: no official notice has been added for it, and the statutory "
            "holidays are not loaded (safetynet.policy.parameters installs them)"
        )
    counts = _statutory(year)
    qingming = next(
        day
        for day, name in chinese_calendar.get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 30))
        if name == "清明"
    )
    first_days = {
        "new_year": dt.date(year, 1, 1),
        "qingming": qingming,
        "labour_day": dt.date(year, 5, 1),
        "dragon_boat": _lunar(year, 5, 5),
        "mid_autumn": _lunar(year, 8, 15),
        "national_day": dt.date(year, 10, 1),
    }
    out: dict[dt.date, str] = {}
    for key, days in counts.items():
        name = HOLIDAY_NAMES_ZH.get(key, key)
        if key == "spring_festival":
            last = _lunar(year, 1, 3)
            first = last - dt.timedelta(days=int(days) - 1)
        else:
            first = first_days[key]
        for offset in range(int(days)):
            day = first + dt.timedelta(days=offset)
            if day.year == year:
                out.setdefault(day, name)
    return out


# ---------------------------------------------------------------------------------------------
# The calendar in force


class WorkCalendar:
    """Official years where there are any, provisional ones elsewhere."""

    def __init__(self, official: Mapping[int, OfficialYear]) -> None:
        self.official = dict(official)

    def source(self, year: int) -> Source:
        return "official" if year in self.official else "provisional"

    def holidays(self, year: int) -> Mapping[dt.date, str]:
        if year in self.official:
            return self.official[year].holidays
        return provisional_holidays(year)

    def is_working_day(self, day: dt.date) -> bool:
        official = self.official.get(day.year)
        if official is not None:
            if day in official.working_days:
                return True
            return day.weekday() < 5 and day not in official.holidays
        return day.weekday() < 5 and day not in provisional_holidays(day.year)

    def non_working_days(self, year: int) -> list[tuple[dt.date, str]]:
        """Every day of ``year`` that is not a working day, with what makes it one."""
        holidays = self.holidays(year)
        out = []
        day = dt.date(year, 1, 1)
        while day.year == year:
            if not self.is_working_day(day):
                out.append((day, holidays.get(day, "周末")))
            day += dt.timedelta(days=1)
        return out


_lock = threading.Lock()
_added: dict[int, OfficialYear] = {}
_active: WorkCalendar | None = None


def active_calendar() -> WorkCalendar:
    """The calendar deadlines are computed on in this process: the shipped years plus the years
    installed from the registry."""
    global _active
    with _lock:
        if _active is None:
            _active = WorkCalendar({**shipped_years(), **_added})
        return _active


def install_added_years(years: Iterable[OfficialYear]) -> None:
    """Make the years an administrator added (the registry's table) part of the calendar in force;
    replaces what was installed before."""
    global _active
    new = {y.year: y for y in years}
    with _lock:
        if new == _added:
            return
        _added.clear()
        _added.update(new)
        _active = None
