"""Load a department feed (CSV, XLSX or Parquet) as one versioned delivery, every row validated.

Reading, encoding detection, header mapping and the quarantine file are those of the household
import (``registry.imports``); only the columns and the row checks differ per kind. A row is
accepted or quarantined with its reasons, never silently dropped: bad identity numbers (masked in
messages), dates that are not real or after the delivery date, amounts below 0 or with more than 2
decimals, region codes not in the division list, codes outside a kind's vocabulary, grades outside
1-4, repeated rows (the first is kept, the others counted as duplicates), and identity numbers not
in the registry ("unknown person"). A file whose SHA-256 was already loaded is refused before
anything is written. Parquet columns are turned into the same cell texts as a CSV file, so every
format is checked by the same rules; ``monitoring.columnar`` validates large tables with vector
operations and gives the same results. Schemas and storage: docs/feeds.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.audit.log import Actor, append
from safetynet.db.unit_of_work import UnitOfWork
from safetynet.domain.identity import mask_identity_number, parse_identity_number
from safetynet.errors import InputError, SafetyNetError
from safetynet.intake import (
    Column,
    IntakeLimits,
    QuarantineLine,
    RawRow,
    Sheet,
    cell_problems,
    intake_limits,
    map_headers,
    parse_area,
    parse_date_text,
    parse_money,
    parse_month,
    parse_region,
    read_sheet,
)
from safetynet.logs import logged_stage
from safetynet.monitoring.model import FEED_KINDS, FeedDelivery, FeedRecord, FeedRejection
from safetynet.policy.population import DISABILITY_CATEGORIES
from safetynet.registry.repository import RegistryRepository
from safetynet.registry.vocabulary import SYNONYMS

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
    "arrow_texts",
    "file_sha256",
    "headers_of",
    "load_feed",
    "parse_grade",
    "parse_kind",
    "parse_vocabulary",
    "read_feed",
    "reject_unknown",
    "rejections",
    "validate_feed",
]

CHUNK = 500  # persons looked up together
_ID = Column("id_number", ("身份证号", "身份证号码", "公民身份号码"), True, "identity number")
_NAME = Column("name", ("姓名",), False, "name (not stored; for the reader of the file)")


PARSERS = ("date", "month", "money", "area", "text", "identity", "region", "code", "grade")


@dataclass(frozen=True, slots=True)
class FeedField:
    """A column of a feed: how it is parsed and which ``feed_records`` column stores it.

    ``parser`` is one of ``PARSERS``; ``target`` one of event_date, month, reference, amount_fen,
    second_amount_fen, area_dm2, region_code, code, grade. A ``code`` field takes one of
    ``choices`` (or a Chinese word of ``synonyms``); an ``identity`` field is another person's
    identity number, validated and masked like ``id_number``.
    """

    column: Column
    parser: str
    target: str
    secret: bool = False  # never echoed in a message (vehicle plates)
    choices: tuple[str, ...] = ()
    synonyms: Mapping[str, str] = field(default_factory=dict)


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
    name: str,
    chinese: tuple[str, ...],
    parser: str,
    target: str,
    description: str,
    choices: tuple[str, ...] = (),
    synonyms: Mapping[str, str] | None = None,
) -> FeedField:
    return FeedField(
        Column(name, chinese, True, description),
        parser,
        target,
        name == "plate",
        choices,
        dict(synonyms or {}),
    )


_REGISTERED = ("登记日期", "注册登记日期", "登记时间")
MARRIAGE_EVENTS = ("married", "divorced")
SOCIAL_INSURANCE_ITEMS = (
    "pension_contribution",
    "medical_contribution",
    "unemployment_contribution",
    "pension_benefit",
    "unemployment_benefit",
    "work_injury_benefit",
)
DISASTER_DAMAGES = ("house_destroyed", "house_damaged", "property_loss", "injury")
UNEMPLOYMENT_STATUSES = ("registered", "ended")
CERTIFICATE_CATEGORIES = tuple(c for c in DISABILITY_CATEGORIES if c != "none")
_CATEGORY_WORDS = {w: c for w, c in SYNONYMS["disability_category"].items() if c != "none"}
_CATEGORY_WORDS.update({f"{w}残疾": c for w, c in list(_CATEGORY_WORDS.items())})
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
        FeedSpec(
            "births",
            "civil registration: births (出生登记); the row is about the parent",
            (
                _f(
                    "child_id_number",
                    ("子女身份证号", "新生儿身份证号", "出生人口身份证号"),
                    "identity",
                    "reference",
                    "the child's identity number",
                ),
                _f("birth_date", ("出生日期",), "date", "event_date", "YYYY-MM-DD"),
            ),
            ("child_id_number",),
        ),
        FeedSpec(
            "marriages",
            "civil registration: marriages and divorces (婚姻登记)",
            (
                _f(
                    "spouse_id_number",
                    ("配偶身份证号", "对方身份证号"),
                    "identity",
                    "reference",
                    "the spouse's identity number",
                ),
                _f("registered_date", _REGISTERED, "date", "event_date", "YYYY-MM-DD"),
                _f(
                    "event",
                    ("登记类型", "婚姻登记类型"),
                    "code",
                    "code",
                    "married or divorced (结婚/离婚)",
                    MARRIAGE_EVENTS,
                    {"结婚": "married", "结婚登记": "married", "离婚": "divorced"}
                    | {"离婚登记": "divorced"},
                ),
            ),
            ("registered_date",),
        ),
        FeedSpec(
            "hukou_moves",
            "public security: hukou moves (户口迁移)",
            (
                _f("moved_date", ("迁移日期", "迁出日期"), "date", "event_date", "YYYY-MM-DD"),
                _f(
                    "to_region",
                    ("迁入地", "迁入地代码", "迁入地区划代码"),
                    "region",
                    "region_code",
                    "6-digit division code moved to",
                ),
            ),
            ("moved_date",),
        ),
        FeedSpec(
            "social_insurance",
            "human resources and social security: contributions and benefits (社会保险)",
            (
                _f("month", ("所属月份", "费款所属期", "月份"), "month", "month", "YYYY-MM"),
                _f(
                    "item",
                    ("险种项目", "项目"),
                    "code",
                    "code",
                    "contribution or benefit (see docs/feeds.md)",
                    SOCIAL_INSURANCE_ITEMS,
                    {
                        "养老保险缴费": "pension_contribution",
                        "医疗保险缴费": "medical_contribution",
                        "失业保险缴费": "unemployment_contribution",
                        "养老金": "pension_benefit",
                        "失业保险金": "unemployment_benefit",
                        "工伤保险待遇": "work_injury_benefit",
                    },
                ),
                _f("amount", ("金额",), "money", "amount_fen", "yuan in that month"),
            ),
            ("month", "item"),
        ),
        FeedSpec(
            "bank_deposits",
            "banks: entrusted verification replies on deposits (存款核查)",
            (
                _f("bank", ("银行", "开户银行"), "text", "reference", "bank name or code"),
                _f("balance_date", ("余额日期", "查询日期"), "date", "event_date", "YYYY-MM-DD"),
                _f("balance", ("余额", "存款余额"), "money", "amount_fen", "yuan"),
            ),
            ("bank", "balance_date"),
        ),
        FeedSpec(
            "disaster_victims",
            "emergency management: disaster victims (受灾人员)",
            (
                _f("disaster_id", ("灾害编号",), "text", "reference", "the disaster's number"),
                _f("disaster_date", ("灾害日期", "受灾日期"), "date", "event_date", "YYYY-MM-DD"),
                _f(
                    "damage",
                    ("受灾类型", "灾损类型"),
                    "code",
                    "code",
                    "house_destroyed/house_damaged/property_loss/injury",
                    DISASTER_DAMAGES,
                    {
                        "房屋倒塌": "house_destroyed",
                        "房屋损坏": "house_damaged",
                        "财产损失": "property_loss",
                        "人员受伤": "injury",
                    },
                ),
                _f("loss", ("损失金额", "评估损失"), "money", "amount_fen", "assessed loss, yuan"),
            ),
            ("disaster_id",),
        ),
        FeedSpec(
            "unemployment_registration",
            "human resources and social security: unemployment registration (失业登记)",
            (
                _f("registered_date", _REGISTERED, "date", "event_date", "YYYY-MM-DD"),
                _f(
                    "status",
                    ("登记状态", "状态"),
                    "code",
                    "code",
                    "registered or ended (登记/注销)",
                    UNEMPLOYMENT_STATUSES,
                    {"登记": "registered", "登记失业": "registered", "注销": "ended"}
                    | {"终止": "ended"},
                ),
            ),
            ("registered_date",),
        ),
        FeedSpec(
            "disability_certificates",
            "disabled persons' federation: disability certificates (残疾人证)",
            (
                _f("certificate_no", ("残疾人证号", "证号"), "text", "reference", "certificate"),
                _f("issued_date", ("发证日期",), "date", "event_date", "YYYY-MM-DD"),
                _f(
                    "category",
                    ("残疾类别",),
                    "code",
                    "code",
                    "visual/hearing/speech/physical/intellectual/mental/multiple",
                    CERTIFICATE_CATEGORIES,
                    _CATEGORY_WORDS,
                ),
                _f("grade", ("残疾等级",), "grade", "grade", "1-4 (一级 to 四级)"),
            ),
            ("certificate_no",),
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
    """A feed file as cell texts. CSV and XLSX files hold their rows; a Parquet file holds
    ``arrow``, one text column per file column (``arrow_texts``), and makes rows on demand."""

    spec: FeedSpec
    path: Path
    sha256: str
    headers: tuple[str, ...]
    columns: tuple[str, ...]
    rows: list[RawRow]
    arrow: pa.Table | None = None  # Parquet: the cell texts, column names = ``columns``
    numeric: frozenset[str] = frozenset()  # Parquet: columns stored as numbers
    sheet: Sheet | None = None  # CSV and XLSX: where the header was, which columns were ignored

    @property
    def count(self) -> int:
        return self.arrow.num_rows if self.arrow is not None else len(self.rows)

    def raw_rows(self) -> list[RawRow]:
        if self.arrow is None:
            return self.rows
        texts = [self.arrow.column(i).to_pylist() for i in range(self.arrow.num_columns)]
        return [
            RawRow(i + FIRST_ROW, cells, self.numeric)
            for i, cells in enumerate(zip(*texts, strict=True))
        ]


FIRST_ROW = 2
"""The number of the first data row: the header is row 1, in Parquet files as in CSV."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_feed(
    spec: FeedSpec, path: Path, encoding: str | None = None, header_row: int | None = None
) -> FeedTable:
    """Read a CSV, XLSX or Parquet feed; file-level problems (wrong schema too) raise
    ``InputError``."""
    if not path.is_file():
        raise InputError(str(path), "no such file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _read_parquet(spec, path)
    if suffix not in (".xlsx", ".xlsm", ".csv", ".txt"):
        raise InputError(
            str(path), f"unknown file type {suffix!r}: expected .csv, .xlsx or .parquet"
        )
    sheet = read_sheet(path, encoding, spec.columns, header_row)
    return FeedTable(
        spec, path, file_sha256(path), sheet.headers, sheet.columns, sheet.rows, sheet=sheet
    )


def _read_parquet(spec: FeedSpec, path: Path) -> FeedTable:
    import pyarrow.parquet as pq  # deferred: only Parquet feeds need it

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(str(path), f"is not a readable Parquet file ({exc})") from None
    texts, columns, numeric = feed_texts(spec, table, str(path))
    return FeedTable(
        spec,
        path,
        file_sha256(path),
        tuple(table.column_names),
        columns,
        [],
        texts,
        numeric,
    )


def feed_texts(
    spec: FeedSpec, table: pa.Table, where: str
) -> tuple[pa.Table, tuple[str, ...], frozenset[str]]:
    """The cell texts of an Arrow table under ``spec``: (texts named by column, the column
    names, the columns stored as numbers). Headers are mapped as in a CSV file."""
    columns = tuple(map_headers(table.column_names, where, None, spec.columns))
    numeric = frozenset(
        name
        for name, f in zip(columns, table.schema, strict=True)
        if pa.types.is_integer(f.type)
        or pa.types.is_floating(f.type)
        or pa.types.is_decimal(f.type)
    )
    texts = pa.table(
        [arrow_texts(table.column(i), f"{where}: column {name}") for i, name in enumerate(columns)],
        names=list(columns),
    )
    return texts, columns, numeric


def arrow_texts(column: pa.ChunkedArray | pa.Array, where: str = "column") -> pa.Array:
    """A column as the texts a spreadsheet cell would show: strings trimmed, null as "", dates
    YYYY-MM-DD, integers and decimals as written (decimals keep their scale: 6500.00), floats as
    the shortest text that reads back as the same number, booleans 是/否."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = array.dictionary_decode()
        kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        text = pc.utf8_trim_whitespace(array.cast(pa.string()))
    elif pa.types.is_null(kind):
        text = pa.repeat(pa.scalar("", pa.string()), len(array))
    elif pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        text = pc.cast(pc.cast(array, pa.date32()), pa.string())
    elif pa.types.is_integer(kind) or pa.types.is_decimal(kind):
        text = pc.cast(array, pa.string())
    elif pa.types.is_floating(kind):
        text = pa.array(
            [
                None if v is None else str(int(v)) if v.is_integer() else repr(v)
                for v in array.to_pylist()
            ],
            pa.string(),
        )
    elif pa.types.is_boolean(kind):
        text = pc.if_else(array, "是", "否")
    else:
        raise InputError(where, f"type {kind} is not supported: use text, a date or a number")
    filled: pa.Array = pc.fill_null(text, "")
    return filled


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
    raw: Mapping[int, tuple[str, ...]] = field(repr=False)

    @property
    def read(self) -> int:
        return self.table.count

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


_GRADE_WORDS = {"一级": 1, "二级": 2, "三级": 3, "四级": 4}


def parse_grade(text: str, field_name: str) -> int:
    """A grade 1-4, written 3, 3级 or 三级."""
    if text in _GRADE_WORDS:
        return _GRADE_WORDS[text]
    digits = text.removesuffix("级")
    if digits in ("1", "2", "3", "4"):
        return int(digits)
    raise InputError(field_name, f"{text!r} is not a grade: 1, 2, 3 or 4 (一级 to 四级)")


def parse_vocabulary(feed_field: FeedField, text: str) -> str:
    """A code of ``feed_field.choices``, given as the code itself or one of its Chinese words."""
    value = feed_field.synonyms.get(text)
    if value is None and text.lower() in feed_field.choices:
        value = text.lower()
    if value is None:
        listed = ", ".join(feed_field.choices)
        words = ", ".join(feed_field.synonyms)
        also = f" (or {words})" if words else ""
        raise InputError(feed_field.column.name, f"{text!r} is not one of {listed}{also}")
    return value


def _parse_value(feed_field: FeedField, text: str, limits: IntakeLimits) -> Any:
    name = feed_field.column.name
    delivered_on = limits.as_of
    if feed_field.parser == "text":
        return _text(text, name)
    if feed_field.parser == "identity":
        try:
            return parse_identity_number(
                text, name, as_of=delivered_on, earliest_birth=limits.earliest_birth
            ).value
        except InputError as exc:
            raise InputError(name, _masked(exc.reason, text)) from None
    if feed_field.parser == "region":
        try:
            return parse_region(text)
        except InputError as exc:
            raise InputError(name, exc.reason) from None
    if feed_field.parser == "code":
        return parse_vocabulary(feed_field, text)
    if feed_field.parser == "grade":
        return parse_grade(text, name)
    if feed_field.parser == "money":
        return parse_money(text, name, limits.maximum_fen)
    if feed_field.parser == "area":
        return parse_area(text)
    if feed_field.parser == "month":
        month = parse_month(text, name)
        latest = f"{delivered_on.year:04d}-{delivered_on.month:02d}"
        if month > latest:
            raise InputError(name, f"{month} is after the delivery month ({latest})")
        earliest = f"{limits.earliest_date.year:04d}-{limits.earliest_date.month:02d}"
        if month < earliest:
            raise InputError(
                name,
                f"{month} is implausibly early (before {earliest}, parameter "
                "common.intake.business_date_years_back)",
            )
        return month
    day = parse_date_text(text, name, limits)
    assert day is not None  # blank is refused before parsing
    if day > delivered_on:
        raise InputError(name, f"{day} is after the delivery date ({delivered_on})")
    return day


def validate_feed(table: FeedTable, *, delivered_on: dt.date) -> ValidatedFeed:
    """Check every row, then repeats within the file; return what can be loaded."""
    spec = table.spec
    rows = table.raw_rows()
    raw = {r.number: r.cells for r in rows}
    quarantine: list[QuarantineLine] = []
    good: list[FeedRow] = []
    for raw_row in rows:
        values = {
            c: raw_row.cells[i].strip() if i < len(raw_row.cells) else ""
            for i, c in enumerate(table.columns)
        }
        problems = _parse_row(spec, raw_row, values, delivered_on, table.columns)
        if isinstance(problems, FeedRow):
            good.append(problems)
        else:
            quarantine.extend(
                QuarantineLine(raw_row.number, f, r, raw_row.cells) for f, r in problems
            )

    kept, repeats, duplicates = resolve_repeats(spec, good, raw)
    quarantine.extend(repeats)
    quarantine.sort(key=lambda q: q.row)
    kept.sort(key=lambda r: r.row)
    return ValidatedFeed(table, delivered_on, kept, quarantine, duplicates, raw)


def resolve_repeats(
    spec: FeedSpec, good: Sequence[FeedRow], raw: Mapping[int, tuple[str, ...]]
) -> tuple[list[FeedRow], list[QuarantineLine], int]:
    """Repeats within the file, among rows that passed their own checks (in row order): an
    identical row is a duplicate (the first is loaded, the others quarantined and counted); the
    same key with other values is a conflict (none is loaded). (kept, quarantine, duplicates)."""
    quarantine: list[QuarantineLine] = []
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
    return kept, quarantine, duplicates


_AS_NUMBER = (
    "is stored as a number in the spreadsheet, which loses digits: format the column as text"
)


def _parse_row(
    spec: FeedSpec,
    raw_row: RawRow,
    values: Mapping[str, str],
    delivered_on: dt.date,
    columns: Sequence[str] | None = None,
) -> FeedRow | list[tuple[str, str]]:
    problems = cell_problems(raw_row, list(values) if columns is None else columns)
    if problems:
        return problems
    limits = intake_limits(delivered_on)
    for column in spec.columns:
        if column.required and not values.get(column.name, ""):
            problems.append((column.name, f"is required ({column.description})"))
    if problems:
        return problems
    identity = None
    if "id_number" in raw_row.numeric:
        problems.append(("id_number", _AS_NUMBER))
    else:
        try:
            identity = parse_identity_number(
                values["id_number"],
                "id_number",
                raw_row.number,
                as_of=delivered_on,
                earliest_birth=limits.earliest_birth,
            )
        except InputError as exc:
            problems.append(("id_number", _masked(exc.reason, values["id_number"])))
    parsed: dict[str, Any] = {}
    for feed_field in spec.fields:
        name = feed_field.column.name
        if feed_field.parser == "identity" and name in raw_row.numeric:
            problems.append((name, _AS_NUMBER))
            continue
        try:
            parsed[feed_field.target] = _parse_value(feed_field, values[name], limits)
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


def reject_unknown(feed: ValidatedFeed, known: Callable[[str], bool]) -> None:
    """Move the rows of persons not in the registry to quarantine ("unknown person")."""
    for record in list(feed.rows):
        if not known(record.id_number):
            feed.reject(record, "id_number", "unknown person")
    feed.quarantine.sort(key=lambda q: q.row)


# -- Writing ---------------------------------------------------------------------------------


class AlreadyLoadedError(SafetyNetError):
    """The same file (same SHA-256) was loaded before: nothing is written."""

    def __init__(self, file_name: str, delivery_id: int) -> None:
        self.delivery_id = delivery_id
        super().__init__(
            f"{file_name}: already loaded as delivery {delivery_id} (its rejected rows: "
            f"safetynet feeds quarantine {delivery_id})"
        )


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


@logged_stage("feeds load")
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
    persons = _registered_persons(uow, feed)
    reject_unknown(feed, persons.__contains__)
    report = LoadReport(
        kind=table.spec.kind,
        read=feed.read,
        accepted=len(feed.rows),
        quarantined=feed.quarantined_rows,
        duplicates=feed.duplicates,
    )
    assert report.read == report.accepted + report.quarantined
    delivery = _delivery(feed, report, now)
    session.add(delivery)
    session.flush()
    report.delivery_id = delivery.id
    _add_rows(session, delivery.id, feed, persons)
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


def _registered_persons(uow: UnitOfWork, feed: ValidatedFeed) -> dict[str, int]:
    """Identity number -> person id of the feed's persons found in the registry."""
    persons: dict[str, int] = {}
    numbers = sorted({r.id_number for r in feed.rows})
    for start in range(0, len(numbers), CHUNK):
        found = uow.repo(RegistryRepository).persons_by_id_number(numbers[start : start + CHUNK])
        persons.update({number: p.id for number, p in found.items()})
    return persons


def _delivery(feed: ValidatedFeed, report: LoadReport, now: dt.datetime) -> FeedDelivery:
    table = feed.table
    return FeedDelivery(
        kind=table.spec.kind,
        file_name=table.path.name[:255],
        sha256=table.sha256,
        delivered_on=feed.delivered_on,
        loaded_at=now,
        read_count=report.read,
        accepted_count=report.accepted,
        quarantined_count=report.quarantined,
        duplicate_count=report.duplicates,
        headers=json.dumps(list(table.headers), ensure_ascii=False),
    )


def _add_rows(
    session: Session, delivery_id: int, feed: ValidatedFeed, persons: Mapping[str, int]
) -> None:
    """The delivery's quarantine lines and accepted records."""
    # The reasons are stored with the rows, in the same transaction: the quarantine file is
    # written from them and can be written again (``rejections``), whatever happens after.
    session.add_all(
        FeedRejection(
            delivery_id=delivery_id,
            row_number=line.row,
            field=line.field[:64],
            reason=line.reason,
            # JSON escapes control characters (\\u0000): the text stored never holds a NUL.
            cells=json.dumps(list(line.cells), ensure_ascii=False),
        )
        for line in feed.quarantine
    )
    session.add_all(
        FeedRecord(
            delivery_id=delivery_id,
            row_number=record.row,
            kind=feed.table.spec.kind,
            person_id=persons[record.id_number],
            **record.values,
        )
        for record in feed.rows
    )


def rejections(session: Session, delivery_id: int) -> tuple[tuple[str, ...], list[QuarantineLine]]:
    """The header and the quarantined rows of a delivery, as stored when it was loaded."""
    delivery = session.get(FeedDelivery, delivery_id)
    if delivery is None:
        raise InputError("delivery", f"there is no feed delivery {delivery_id}")
    headers = tuple(json.loads(delivery.headers)) if delivery.headers else ()
    lines = [
        QuarantineLine(r.row_number, r.field, r.reason, tuple(json.loads(r.cells)))
        for r in session.scalars(
            select(FeedRejection)
            .where(FeedRejection.delivery_id == delivery_id)
            .order_by(FeedRejection.row_number, FeedRejection.id)
        )
    ]
    return headers, lines


def headers_of(spec: FeedSpec, language: str = "en") -> Sequence[str]:
    """The required headers of a kind, English names or the first Chinese alias."""
    columns = [c for c in spec.columns if c.required]
    return [c.name if language == "en" else c.chinese[0] for c in columns]
