"""Load a department feed (CSV or XLSX) as one versioned delivery, every row validated.

Reading, encoding detection, header mapping and the quarantine file are those of the household
import (``registry.imports``); only the columns and the row checks differ per kind. A row is
accepted or quarantined with its reasons, never silently dropped: bad identity numbers (masked in
messages), dates that are not real or after the delivery date, amounts below 0 or with more than 2
decimals, repeated rows (the first is kept, the others counted as duplicates), and identity
numbers not in the registry ("unknown person"). A file whose SHA-256 was already loaded is refused
before anything is written. Schemas and storage: docs/feeds.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from safetynet.audit.log import Actor, append
from safetynet.domain.identity import mask_identity_number, parse_identity_number
from safetynet.errors import InputError, SafetyNetError
from safetynet.monitoring.model import FEED_KINDS, FeedDelivery, FeedRecord
from safetynet.registry.imports import (
    Column,
    QuarantineLine,
    RawRow,
    decode,
    map_headers,
    parse_area,
    parse_date_text,
    parse_money,
    parse_month,
    read_csv_rows,
    read_xlsx_rows,
)
from safetynet.registry.unit_of_work import UnitOfWork

__all__ = [
    "FEEDS",
    "AlreadyLoadedError",
    "FeedField",
    "FeedRow",
    "FeedSpec",
    "FeedTable",
    "LoadFeed",
    "LoadReport",
    "ValidatedFeed",
    "file_sha256",
    "headers_of",
    "load_feed",
    "parse_kind",
    "read_feed",
    "validate_feed",
]

CHUNK = 500  # persons looked up together
_ID = Column("id_number", ("身份证号", "身份证号码", "公民身份号码"), True, "identity number")
_NAME = Column("name", ("姓名",), False, "name (not stored; for the reader of the file)")


@dataclass(frozen=True, slots=True)
class FeedField:
    """A column of a feed: how it is parsed and which ``feed_records`` column stores it."""

    column: Column
    parser: str  # "date", "month", "money", "area" or "text"
    target: str  # event_date, month, reference, amount_fen, second_amount_fen, area_dm2
    secret: bool = False  # never echoed in a message (vehicle plates)


@dataclass(frozen=True)
class FeedSpec:
    kind: str
    description: str
    fields: tuple[FeedField, ...]
    key: tuple[str, ...]  # natural key within one file, besides the identity number

    @property
    def columns(self) -> tuple[Column, ...]:
        return (_ID, *(f.column for f in self.fields), _NAME)


def _f(
    name: str, chinese: tuple[str, ...], parser: str, target: str, description: str
) -> FeedField:
    return FeedField(Column(name, chinese, True, description), parser, target, name == "plate")


_REGISTERED = ("登记日期", "注册登记日期", "登记时间")
FEEDS: Mapping[str, FeedSpec] = {
    spec.kind: spec
    for spec in (
        FeedSpec(
            "deaths",
            "civil registration: deaths (死亡登记)",
            (_f("death_date", ("死亡日期",), "date", "event_date", "YYYY-MM-DD"),),
            (),
        ),
        FeedSpec(
            "vehicles",
            "public security traffic administration: vehicles (机动车登记)",
            (
                _f("plate", ("号牌号码", "车牌号", "车牌号码"), "text", "reference", "plate"),
                _f("registered_date", _REGISTERED, "date", "event_date", "YYYY-MM-DD"),
                _f("value", ("车辆价值", "价值"), "money", "amount_fen", "yuan"),
            ),
            ("plate",),
        ),
        FeedSpec(
            "real_estate",
            "natural resources: real estate registration (不动产登记)",
            (
                _f(
                    "property_id",
                    ("不动产单元号", "不动产权证号", "房产编号"),
                    "text",
                    "reference",
                    "property unit or certificate number",
                ),
                _f("area", ("建筑面积", "面积"), "area", "area_dm2", "floor area in m²"),
                _f("registered_date", _REGISTERED, "date", "event_date", "YYYY-MM-DD"),
            ),
            ("property_id",),
        ),
        FeedSpec(
            "business",
            "market regulation: business registration (工商登记)",
            (
                _f(
                    "company_id",
                    ("统一社会信用代码", "企业编号"),
                    "text",
                    "reference",
                    "unified social credit code",
                ),
                _f("registered_date", ("成立日期", *_REGISTERED), "date", "event_date", "date"),
                _f("capital", ("注册资本",), "money", "amount_fen", "registered capital, yuan"),
            ),
            ("company_id",),
        ),
        FeedSpec(
            "wages",
            "tax and wage records (工资薪金)",
            (
                _f("month", ("所属月份", "工资月份", "月份"), "month", "month", "YYYY-MM"),
                _f("gross_wage", ("应发工资", "工资总额"), "money", "amount_fen", "yuan"),
            ),
            ("month",),
        ),
        FeedSpec(
            "hospital_bills",
            "medical insurance: hospital bills (住院结算)",
            (
                _f("admission_date", ("入院日期",), "date", "event_date", "YYYY-MM-DD"),
                _f(
                    "in_policy_cost",
                    ("政策范围内费用", "政策内费用"),
                    "money",
                    "amount_fen",
                    "yuan",
                ),
                _f(
                    "out_of_pocket",
                    ("个人自付", "自付费用", "个人自付费用"),
                    "money",
                    "second_amount_fen",
                    "yuan",
                ),
            ),
            ("admission_date",),
        ),
    )
}
assert tuple(FEEDS) == FEED_KINDS


def parse_kind(text: str) -> FeedSpec:
    spec = FEEDS.get(text.strip().lower().replace("-", "_"))
    if spec is None:
        listed = ", ".join(k.replace("_", "-") for k in FEEDS)
        raise InputError("KIND", f"{text!r} is not a feed kind: one of {listed}")
    return spec


# -- Reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedTable:
    spec: FeedSpec
    path: Path
    sha256: str
    headers: tuple[str, ...]
    columns: tuple[str, ...]
    rows: list[RawRow]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_feed(spec: FeedSpec, path: Path, encoding: str | None = None) -> FeedTable:
    """Read a CSV or XLSX feed; file-level problems (wrong schema too) raise ``InputError``."""
    if not path.is_file():
        raise InputError(str(path), "no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        headers, rows = read_xlsx_rows(path)
        used: str | None = None
    elif suffix in (".csv", ".txt"):
        text, used = decode(path.read_bytes(), encoding, str(path))
        headers, rows = read_csv_rows(text, str(path))
    else:
        raise InputError(str(path), f"unknown file type {suffix!r}: expected .csv or .xlsx")
    columns = map_headers(headers, str(path), used, spec.columns)
    named = [
        RawRow(
            r.number, r.cells, frozenset(columns[i] for i in r.numeric_indexes if i < len(columns))
        )
        for r in rows
    ]
    return FeedTable(spec, path, file_sha256(path), tuple(headers), tuple(columns), named)


# -- Validation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedRow:
    row: int
    id_number: str
    values: Mapping[str, Any]  # feed_records column -> value

    def key(self, spec: FeedSpec) -> tuple[Any, ...]:
        targets = {f.column.name: f.target for f in spec.fields}
        return (self.id_number, *(self.values[targets[k]] for k in spec.key))

    def signature(self) -> tuple[Any, ...]:
        return (self.id_number, *sorted(self.values.items()))


@dataclass
class ValidatedFeed:
    table: FeedTable
    delivered_on: dt.date
    rows: list[FeedRow]
    quarantine: list[QuarantineLine]
    duplicates: int
    raw: dict[int, tuple[str, ...]] = field(repr=False)

    @property
    def read(self) -> int:
        return len(self.table.rows)

    @property
    def quarantined_rows(self) -> int:
        return len({q.row for q in self.quarantine})

    def reject(self, record: FeedRow, field_name: str, reason: str) -> None:
        self.rows.remove(record)
        self.quarantine.append(QuarantineLine(record.row, field_name, reason, self.raw[record.row]))


def _text(text: str, name: str) -> str:
    if len(text) > 64:
        raise InputError(name, "is longer than 64 characters")
    return text


def _parse_value(feed_field: FeedField, text: str, delivered_on: dt.date) -> Any:
    name = feed_field.column.name
    if feed_field.parser == "text":
        return _text(text, name)
    if feed_field.parser == "money":
        return parse_money(text, name)
    if feed_field.parser == "area":
        return parse_area(text)
    if feed_field.parser == "month":
        month = parse_month(text, name)
        latest = f"{delivered_on.year:04d}-{delivered_on.month:02d}"
        if month > latest:
            raise InputError(name, f"{month} is after the delivery month ({latest})")
        return month
    day = parse_date_text(text)
    assert day is not None  # blank is refused before parsing
    if day > delivered_on:
        raise InputError(name, f"{day} is after the delivery date ({delivered_on})")
    return day


def validate_feed(table: FeedTable, *, delivered_on: dt.date) -> ValidatedFeed:
    """Check every row, then repeats within the file; return what can be loaded."""
    spec = table.spec
    raw = {r.number: r.cells for r in table.rows}
    quarantine: list[QuarantineLine] = []
    good: list[FeedRow] = []
    for raw_row in table.rows:
        values = {
            c: raw_row.cells[i].strip() if i < len(raw_row.cells) else ""
            for i, c in enumerate(table.columns)
        }
        problems = _parse_row(spec, raw_row, values, delivered_on)
        if isinstance(problems, FeedRow):
            good.append(problems)
        else:
            quarantine.extend(
                QuarantineLine(raw_row.number, f, r, raw_row.cells) for f, r in problems
            )

    # Repeats within the file: an identical row is a duplicate (the first is loaded, the others
    # quarantined and counted); the same key with other values is a conflict (none is loaded).
    by_key: dict[tuple[Any, ...], list[FeedRow]] = {}
    for record in good:
        by_key.setdefault(record.key(spec), []).append(record)
    kept: list[FeedRow] = []
    duplicates = 0
    key_names = " and ".join(("identity number", *spec.key))
    for records in by_key.values():
        first = records[0]
        same = [r for r in records[1:] if r.signature() == first.signature()]
        if len(same) == len(records) - 1:
            kept.append(first)
            for r in same:
                duplicates += 1
                quarantine.append(
                    QuarantineLine(r.row, "row", f"duplicate of row {first.row}", raw[r.row])
                )
            continue
        rows = ", ".join(str(r.row) for r in records)
        for r in records:
            quarantine.append(
                QuarantineLine(
                    r.row,
                    "row",
                    f"conflict: rows {rows} have the same {key_names} with different values; "
                    "none of them was loaded",
                    raw[r.row],
                )
            )
    quarantine.sort(key=lambda q: q.row)
    kept.sort(key=lambda r: r.row)
    return ValidatedFeed(table, delivered_on, kept, quarantine, duplicates, raw)


def _parse_row(
    spec: FeedSpec, raw_row: RawRow, values: Mapping[str, str], delivered_on: dt.date
) -> FeedRow | list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    width = len(values)
    if len(raw_row.cells) > width and any(raw_row.cells[width:]):
        problems.append(("row", f"has {len(raw_row.cells)} cells but the header has {width}"))
    for column in spec.columns:
        if column.required and not values.get(column.name, ""):
            problems.append((column.name, f"is required ({column.description})"))
    if problems:
        return problems
    identity = None
    if "id_number" in raw_row.numeric:
        problems.append(
            (
                "id_number",
                "is stored as a number in the spreadsheet, which loses digits: "
                "format the column as text",
            )
        )
    else:
        try:
            identity = parse_identity_number(values["id_number"], "id_number", raw_row.number)
        except InputError as exc:
            problems.append(("id_number", _masked(exc.reason, values["id_number"])))
    parsed: dict[str, Any] = {}
    for feed_field in spec.fields:
        name = feed_field.column.name
        try:
            parsed[feed_field.target] = _parse_value(feed_field, values[name], delivered_on)
        except InputError as exc:
            reason = "is not valid" if feed_field.secret else exc.reason
            problems.append((name, reason))
    if problems or identity is None:
        return problems
    return FeedRow(raw_row.number, identity.value, parsed)


def _masked(reason: str, text: str) -> str:
    """A reason about an identity number with the number itself masked."""
    text = text.strip()
    return reason.replace(text, mask_identity_number(text)) if len(text) > 7 else reason


# -- Writing ---------------------------------------------------------------------------------


class AlreadyLoadedError(SafetyNetError):
    """The same file (same SHA-256) was loaded before: nothing is written."""

    def __init__(self, file_name: str, delivery_id: int) -> None:
        self.delivery_id = delivery_id
        super().__init__(f"{file_name}: already loaded as delivery {delivery_id}")


@dataclass(frozen=True)
class LoadFeed:
    feed: ValidatedFeed
    actor: Actor


@dataclass
class LoadReport:
    delivery_id: int = 0
    kind: str = ""
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0


def load_feed(cmd: LoadFeed, uow: UnitOfWork, clock: Callable[[], dt.datetime]) -> LoadReport:
    """Write one delivery and its accepted rows in one transaction, with one audit entry. Rows of
    persons not in the registry are moved to ``cmd.feed.quarantine`` ("unknown person")."""
    feed = cmd.feed
    table = feed.table
    session = uow.session
    earlier = session.scalars(
        select(FeedDelivery.id).where(FeedDelivery.sha256 == table.sha256)
    ).first()
    if earlier is not None:
        raise AlreadyLoadedError(table.path.name, earlier)
    now = clock()
    persons: dict[str, int] = {}
    numbers = sorted({r.id_number for r in feed.rows})
    for start in range(0, len(numbers), CHUNK):
        found = uow.registry.persons_by_id_number(numbers[start : start + CHUNK])
        persons.update({number: p.id for number, p in found.items()})
    for record in list(feed.rows):
        if record.id_number not in persons:
            feed.reject(record, "id_number", "unknown person")
    feed.quarantine.sort(key=lambda q: q.row)
    report = LoadReport(
        kind=table.spec.kind,
        read=feed.read,
        accepted=len(feed.rows),
        quarantined=feed.quarantined_rows,
        duplicates=feed.duplicates,
    )
    assert report.read == report.accepted + report.quarantined
    delivery = FeedDelivery(
        kind=table.spec.kind,
        file_name=table.path.name[:255],
        sha256=table.sha256,
        delivered_on=feed.delivered_on,
        loaded_at=now,
        read_count=report.read,
        accepted_count=report.accepted,
        quarantined_count=report.quarantined,
        duplicate_count=report.duplicates,
    )
    session.add(delivery)
    session.flush()
    report.delivery_id = delivery.id
    session.add_all(
        FeedRecord(
            delivery_id=delivery.id,
            row_number=record.row,
            kind=table.spec.kind,
            person_id=persons[record.id_number],
            **record.values,
        )
        for record in feed.rows
    )
    append(
        session,
        actor=cmd.actor,
        command="LoadFeed",
        event="FeedDelivered",
        entity="feed_delivery",
        entity_id=delivery.id,
        after={
            "kind": table.spec.kind,
            "file": table.path.name,
            "sha256": table.sha256,
            "delivered_on": feed.delivered_on.isoformat(),
            "read": report.read,
            "accepted": report.accepted,
            "quarantined": report.quarantined,
            "duplicates": report.duplicates,
        },
        occurred_at=now,
    )
    uow.commit()
    return report


def headers_of(spec: FeedSpec, language: str = "en") -> Sequence[str]:
    """The required headers of a kind, English names or the first Chinese alias."""
    columns = [c for c in spec.columns if c.required]
    return [c.name if language == "en" else c.chinese[0] for c in columns]
