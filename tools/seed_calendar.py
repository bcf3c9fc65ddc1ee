"""Writes the shipped official calendar files (src/safetynet/domain/data/calendar/YYYY.yaml) from
the chinesecalendar package, with the State Council notices each year rests on.

Run once per package release that adds a year: ``.venv/bin/python tools/seed_calendar.py``. The
files are the project's data from then on; tests/domain/test_calendar.py compares them with the
package day by day. A notice number is written only where it was checked against a published
copy of the notice; otherwise the file says it is unconfirmed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from chinese_calendar.constants import holidays, workdays

OUT = Path(__file__).resolve().parent.parent / "src/safetynet/domain/data/calendar"

NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}

CHECKED = "number and date checked against a published copy of the notice on 2026-12-05"

# year -> [(title, number or None, date or None, note)]
NOTICES: dict[int, list[tuple[str, str | None, str | None, str]]] = {
    2020: [
        (
            "国务院办公厅关于2020年部分节假日安排的通知",
            "国办发明电〔2019〕16号",
            "2019-11-21",
            CHECKED,
        ),
        (
            "国务院办公厅关于延长2020年春节假期的通知",
            "国办发明电〔2020〕1号",
            "2020-01-26",
            CHECKED
            + "; it extended the Spring Festival to 2 February (1 February no longer a working day)",
        ),
    ],
    2021: [
        (
            "国务院办公厅关于2021年部分节假日安排的通知",
            "国办发明电〔2020〕27号",
            "2020-11-25",
            CHECKED,
        )
    ],
    2022: [
        (
            "国务院办公厅关于2022年部分节假日安排的通知",
            "国办发明电〔2021〕11号",
            "2021-10-25",
            CHECKED,
        )
    ],
    2023: [
        (
            "国务院办公厅关于2023年部分节假日安排的通知",
            "国办发明电〔2022〕16号",
            "2022-12-08",
            CHECKED,
        )
    ],
    2024: [
        (
            "国务院办公厅关于2024年部分节假日安排的通知",
            "国办发明电〔2023〕7号",
            "2023-10-25",
            CHECKED,
        )
    ],
    2025: [
        (
            "国务院办公厅关于2025年部分节假日安排的通知",
            "国办发明电〔2024〕12号",
            "2024-11-12",
            CHECKED,
        )
    ],
    2026: [
        (
            "国务院办公厅关于2026年部分节假日安排的通知",
            "国办发明电〔2025〕7号",
            "2025-11-04",
            "date checked against several published copies; the number only against one reprint "
            "(the copies from news agencies omit it)",
        )
    ],
}
UNCONFIRMED = (
    "the document number was not checked against a published copy of the notice and is left out; "
    "the dates come from the chinesecalendar package 1.11.0"
)


def document(year: int) -> str:
    lines = [
        f"# The official working-day calendar of {year}: holidays (放假) and adjusted working weekend",
        "# days (调休上班日) as the State Council notices below set them. Seeded from the chinesecalendar",
        "# package 1.11.0 by tools/seed_calendar.py; see docs/calendar.md.",
        f"year: {year}",
        "references:",
    ]
    notices = NOTICES.get(year) or [
        (f"国务院办公厅关于{year}年部分节假日安排的通知", None, None, UNCONFIRMED)
    ]
    if year == 2015:
        notices = [
            *notices,
            (
                "国务院关于中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日调休放假的通知",
                None,
                None,
                UNCONFIRMED,
            ),
        ]
    for title, number, date, note in notices:
        lines.append(f"  - title: {title}")
        lines.append(f"    number: {number if number else 'null'}")
        lines.append(f"    date: {date if date else 'null'}")
        lines.append(f"    note: {note}")
    for label, table in (("holidays", holidays), ("working_days", workdays)):
        days = sorted((d, v) for d, v in table.items() if d.year == year)
        lines.append(f"{label}:" if days else f"{label}: []")
        for day, name in days:
            lines.append(f"  - {{date: {day.isoformat()}, name: {NAMES[name]}}}")
    return "\n".join(lines) + "\n"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    years = sorted({d.year for d in holidays} | {d.year for d in workdays})
    for year in years:
        (OUT / f"{year}.yaml").write_text(document(year), encoding="utf-8")
    print(f"wrote {len(years)} files, {years[0]}-{years[-1]}, to {OUT}")


if __name__ == "__main__":
    assert dt  # the dates above are ISO text on purpose
    main()
