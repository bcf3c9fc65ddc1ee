"""Read a county office's household list (CSV or XLSX, one row per person) and validate it.

``read_table`` turns a file into rows of text (detecting UTF-8 or GB18030/GBK, mapping Chinese or
English headers to the registry's column names); ``validate`` turns rows into whole households
ready to import and quarantined rows, each with its row number, field and reason. A household
with any bad row is quarantined whole, so no half household is ever imported. File-level
problems (corrupt workbook, unknown column, undecodable text) raise ``InputError``.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from safetynet.domain.identity import Sex, parse_identity_number
from safetynet.domain.money import yuan_to_fen
from safetynet.domain.privacy import mask_text
from safetynet.domain.regions import NATION_CODE, parse_statistical_code, validate_region_code
from safetynet.errors import InputError
from safetynet.registry.vocabulary import (
    DISABILITY_CATEGORIES,
    EMPLOYMENT,
    HUKOU_TYPES,
    LABOUR_CAPACITY,
    RELATIONS,
    SCHOOLING,
    SEXES,
    SYNONYMS,
)

__all__ = [
    "COLUMNS",
    "AssetTotal",
    "HouseholdRecord",
    "NullProgress",
    "PersonRecord",
    "ProgressSink",
    "QuarantineLine",
    "RawRow",
    "RawTable",
    "ValidatedImport",
    "default_quarantine_path",
    "read_table",
    "validate",
    "write_quarantine",
]


# -- Columns ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    chinese: tuple[str, ...]
    required: bool
    description: str


COLUMNS: tuple[Column, ...] = (
    Column("household_no", ("户编号", "户号"), True, "the county's household number"),
    Column("name", ("姓名",), True, "name"),
    Column("id_number", ("身份证号", "身份证号码", "公民身份号码"), True, "identity number"),
    Column("relation", ("与户主关系",), True, "relation to the head (户主 = head)"),
    Column("region", ("户籍地", "户籍地代码", "行政区划代码"), True, "6-digit hukou region"),
    Column("hukou_type", ("户籍性质", "户口性质"), True, "城镇/农村 (urban/rural)"),
    Column("statistical_code", ("统计区划代码",), False, "12-digit statistical code"),
    Column("sex", ("性别",), False, "男/女; must agree with the identity number"),
    Column("birth_date", ("出生日期",), False, "YYYY-MM-DD; must agree with the identity number"),
    Column("disability_category", ("残疾类别",), False, "无/视力/听力/言语/肢体/智力/精神/多重"),
    Column("disability_grade", ("残疾等级",), False, "0 (none) or 1-4"),
    Column("has_serious_illness", ("重病",), False, "是/否"),
    Column("labour_capacity", ("劳动能力",), False, "有/部分/无 (full/partial/none)"),
    Column("self_care_items_failed", ("生活自理", "生活不能自理项数"), False, "0-6"),
    Column("schooling", ("在学",), False, "无/学前/小学/初中/高中/中职/高等教育"),
    Column("employment", ("就业",), False, "就业/灵活就业/失业/未就业"),
    Column("wage_income", ("月工资",), False, "monthly wage in yuan"),
    Column("income_month", ("收入月份",), False, "YYYY-MM of the wage (or --month)"),
    Column("deposits", ("存款",), False, "bank deposits in yuan"),
    Column("securities", ("有价证券", "证券"), False, "securities in yuan"),
    Column("vehicles", ("车辆", "车辆数"), False, "number of vehicles"),
    Column("vehicle_value", ("车辆价值",), False, "value of the vehicles in yuan"),
    Column("properties", ("房产", "房产数"), False, "number of properties"),
    Column("property_area", ("房产面积",), False, "floor area of the properties in m²"),
    Column("business_registrations", ("工商登记",), False, "number of business registrations"),
)
_BY_NAME = {c.name: c for c in COLUMNS}
_HEADER_TO_NAME = {
    **{c.name: c.name for c in COLUMNS},
    **{alias: c.name for c in COLUMNS for alias in c.chinese},
}
# Asset kind -> its (value in yuan, count, area in m²) columns; None where a kind has no such column.
_ASSET_PARTS: Mapping[str, tuple[str | None, str | None, str | None]] = {
    "deposits": ("deposits", None, None),
    "securities": ("securities", None, None),
    "vehicle": ("vehicle_value", "vehicles", None),
    "property": (None, "properties", "property_area"),
    "business": (None, "business_registrations", None),
}
_PERSON_COLUMNS = (
    "sex",
    "birth_date",
    "region",
    "hukou_type",
    "disability_category",
    "disability_grade",
    "has_serious_illness",
    "labour_capacity",
    "self_care_items_failed",
    "schooling",
    "employment",
)


def normalise_header(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).replace("\ufeff", "").strip().rstrip("*").strip()
    text = re.sub(r"\s*\([^)]*\)$", "", text)  # a unit in brackets: 月工资（元）
    return re.sub(r"[\s-]+", "_", text.lower())


# -- Reading files ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row: its number as the user sees it (the header is row 1) and its cell texts.

    ``numeric`` names the columns whose spreadsheet cell held a number rather than text.
    """

    number: int
    cells: tuple[str, ...]
    numeric: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RawTable:
    path: Path
    headers: tuple[str, ...]  # as written in the file
    columns: tuple[str, ...]  # the registry's names, same order
    rows: list[RawRow]
    encoding: str | None  # None for XLSX


def read_table(path: Path, encoding: str | None = None) -> RawTable:
    """Read a CSV or XLSX household list; raise ``InputError`` naming the file if it cannot be."""
    if not path.is_file():
        raise InputError(str(path), "no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        headers, rows = read_xlsx_rows(path)
        used_encoding = None
    elif suffix in (".csv", ".txt"):
        text, used_encoding = decode(path.read_bytes(), encoding, str(path))
        headers, rows = read_csv_rows(text, str(path))
    elif suffix == ".xls":
        raise InputError(
            str(path), "the old .xls format is not supported: save the sheet as .xlsx or CSV"
        )
    else:
        raise InputError(str(path), f"unknown file type {suffix!r}: expected .csv or .xlsx")
    columns = map_headers(headers, str(path), used_encoding)
    named_rows = [
        RawRow(r.number, r.cells, frozenset(columns[i] for i in r.numeric_indexes)) for r in rows
    ]
    return RawTable(path, tuple(headers), tuple(columns), named_rows, used_encoding)


@dataclass(frozen=True, slots=True)
class _Row:
    number: int
    cells: tuple[str, ...]
    numeric_indexes: tuple[int, ...] = ()


def decode(data: bytes, encoding: str | None, where: str) -> tuple[str, str]:
    """Text of ``data`` and the encoding used: ``encoding`` if given, else UTF-8 or GB18030."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise InputError("--encoding", f"unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise InputError(
                where,
                f"is not valid {encoding} (byte {exc.start}); try --encoding utf-8 or gb18030",
            ) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(where, "is UTF-16 text: save it as UTF-8 or pass --encoding utf-16")
    if b"\x00" in data[:4096]:
        raise InputError(
            where, "looks like a binary file, not CSV text (an Excel workbook must end in .xlsx)"
        )
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312, the encodings Chinese Excel saves CSV in.
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise InputError(
            where,
            f"is neither UTF-8 nor GBK/GB18030 text (byte {exc.start}); "
            "pass --encoding with the file's encoding",
        ) from None


def read_csv_rows(text: str, where: str) -> tuple[list[str], list[_Row]]:
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InputError(where, f"is not valid CSV: {exc}") from None
    return _split_header(records, where)


def _split_header(
    records: Sequence[Sequence[str]], where: str, numeric: Sequence[tuple[int, ...]] = ()
) -> tuple[list[str], list[_Row]]:
    header_at = next((i for i, r in enumerate(records) if any(c.strip() for c in r)), None)
    if header_at is None:
        raise InputError(where, "is empty: expected a header row and one row per person")
    headers = [h.strip() for h in records[header_at]]
    while headers and not headers[-1]:
        headers.pop()  # trailing empty header cells, as spreadsheets often leave
    rows = []
    for i in range(header_at + 1, len(records)):
        cells = tuple(c.strip() for c in records[i])
        if not any(cells):
            continue
        rows.append(_Row(i + 1, cells, numeric[i] if numeric else ()))
    return headers, rows


def read_xlsx_rows(path: Path) -> tuple[list[str], list[_Row]]:
    import openpyxl  # deferred: only XLSX imports need it

    records: list[list[str]] = []
    numeric: list[tuple[int, ...]] = []
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styling and extensions it skips; styling carries no data.
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                for values in sheet.iter_rows(values_only=True):
                    records.append([_cell_text(v) for v in values])
                    numeric.append(
                        tuple(
                            i
                            for i, v in enumerate(values)
                            if isinstance(v, int | float) and not isinstance(v, bool)
                        )
                    )
            finally:
                workbook.close()
    except InputError:
        raise
    except Exception as exc:  # zipfile, zlib, XML and KeyError alike mean a damaged workbook
        raise InputError(
            str(path),
            f"is not a readable XLSX workbook ({type(exc).__name__}: {exc}); "
            "it may be corrupt or truncated: open and save it again in Excel or WPS",
        ) from None
    return _split_header(records, str(path), numeric)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def header_lookup(spec: Sequence[Column]) -> dict[str, str]:
    """Every accepted header (English name or Chinese alias) → the column name."""
    return {**{c.name: c.name for c in spec}, **{a: c.name for c in spec for a in c.chinese}}


def map_headers(
    headers: Sequence[str],
    where: str,
    encoding: str | None = None,
    spec: Sequence[Column] = COLUMNS,
) -> list[str]:
    """The column name of each header under ``spec`` (the household columns by default);
    unknown, repeated or missing columns are errors."""
    lookup = _HEADER_TO_NAME if spec is COLUMNS else header_lookup(spec)
    columns: list[str] = []
    for header in headers:
        name = lookup.get(normalise_header(header))
        if name is None:
            accepted = ", ".join(f"{c.chinese[0]}/{c.name}" for c in spec)
            close = difflib.get_close_matches(normalise_header(header), list(lookup), 1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            if encoding == "gb18030" and not close:
                hint = " (if the headers look garbled, pass --encoding with the file's encoding)"
            label = header if header else f"(empty header in column {len(columns) + 1})"
            raise InputError(where, f"unknown column {label!r}{hint}; accepted columns: {accepted}")
        if name in columns:
            raise InputError(where, f"column {header!r} appears twice (as {name})")
        columns.append(name)
    missing = [c for c in spec if c.required and c.name not in columns]
    if missing:
        names = ", ".join(f"{c.chinese[0]}/{c.name}" for c in missing)
        raise InputError(where, f"required column(s) missing: {names}")
    return columns


# -- Validated records -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssetTotal:
    """A household's asset of one kind, summed over its rows."""

    value_fen: int = 0
    count: int | None = None
    area_dm2: int | None = None

    def __add__(self, other: AssetTotal) -> AssetTotal:
        def plus(a: int | None, b: int | None) -> int | None:
            return None if a is None and b is None else (a or 0) + (b or 0)

        return AssetTotal(
            self.value_fen + other.value_fen,
            plus(self.count, other.count),
            plus(self.area_dm2, other.area_dm2),
        )


@dataclass(frozen=True)
class PersonRecord:
    """One validated row. ``attributes`` holds only the person facts the file gives."""

    row: int
    id_number: str
    name: str
    relation: str
    attributes: dict[str, Any]
    income: dict[tuple[str, str], int]  # (kind, YYYY-MM) -> fen
    assets: dict[str, AssetTotal]


@dataclass(frozen=True)
class HouseholdRecord:
    household_no: str
    region: str
    hukou_type: str
    statistical_code: str | None
    statistical_code_given: bool
    members: list[PersonRecord]
    assets: dict[str, AssetTotal]  # only the kinds whose columns the file has

    @property
    def rows(self) -> list[int]:
        return [m.row for m in self.members]

    @property
    def key(self) -> tuple[str, str]:
        return (self.region, self.household_no)


@dataclass(frozen=True, slots=True)
class QuarantineLine:
    row: int
    field: str
    reason: str
    cells: tuple[str, ...]


@dataclass
class ValidatedImport:
    path: Path
    headers: tuple[str, ...]
    read: int
    households: list[HouseholdRecord]
    quarantine: list[QuarantineLine]
    raw: dict[int, tuple[str, ...]] = field(repr=False)

    @property
    def quarantined_rows(self) -> int:
        return len({q.row for q in self.quarantine})

    def quarantine_household(self, household: HouseholdRecord, field: str, reason: str) -> None:
        """Move a whole household to quarantine (used for checks against the database)."""
        self.households.remove(household)
        for row in household.rows:
            self.quarantine.append(QuarantineLine(row, field, reason, self.raw[row]))


# -- Progress --------------------------------------------------------------------------------


class ProgressSink(Protocol):
    """Where long steps report how far they are (a Rich progress bar, or nothing)."""

    def start(self, description: str, total: int) -> None: ...

    def advance(self, amount: int = 1) -> None: ...


class NullProgress:
    def start(self, description: str, total: int) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass


# -- Validation ------------------------------------------------------------------------------

_MONTH_RE = re.compile(r"([0-9]{4})[-/.]?([0-9]{1,2})(?:[-/.]0?1)?")
_DATE_RE = re.compile(r"([0-9]{4})[-/.年]?([0-9]{1,2})[-/.月]?([0-9]{1,2})日?")
_GRADE_WORDS = {"一级": 1, "二级": 2, "三级": 3, "四级": 4, "无": 0}


def validate(
    table: RawTable, *, month: str | None = None, progress: ProgressSink | None = None
) -> ValidatedImport:
    """Check every row and every household; return what can be imported and what cannot."""
    sink = progress or NullProgress()
    default_month = parse_month(month, "--month") if month else None
    quarantine: list[QuarantineLine] = []
    raw = {r.number: r.cells for r in table.rows}
    groups: dict[str, list[PersonRecord]] = {}
    bad_rows: dict[str, list[int]] = {}
    sink.start("Validating rows", len(table.rows))
    for raw_row in table.rows:
        cells = raw_row.cells
        values = {c: cells[i] if i < len(cells) else "" for i, c in enumerate(table.columns)}
        household_no = _norm(values.get("household_no", ""))
        problems: list[tuple[str, str]] = []
        if len(raw_row.cells) > len(table.columns) and any(raw_row.cells[len(table.columns) :]):
            problems.append(
                ("row", f"has {len(raw_row.cells)} cells but the header has {len(table.columns)}")
            )
        record = _parse_row(raw_row, values, default_month, problems)
        if problems or record is None:
            quarantine.extend(
                QuarantineLine(raw_row.number, f, r, raw_row.cells) for f, r in problems
            )
            if household_no:
                bad_rows.setdefault(household_no, []).append(raw_row.number)
        else:
            groups.setdefault(household_no, []).append(record)
        sink.advance()

    # Identity numbers that occur in more than one household of the file.
    seen: dict[str, list[tuple[str, int]]] = {}
    for household_no, members in groups.items():
        for m in members:
            seen.setdefault(m.id_number, []).append((household_no, m.row))

    households: list[HouseholdRecord] = []
    for household_no, members in groups.items():
        bad = bad_rows.get(household_no, [])
        # With bad rows the head may be among them: count heads only in complete households.
        problems_by_row = _household_problems(household_no, members, seen, check_heads=not bad)
        if problems_by_row or bad:
            for m in members:
                for f, reason in problems_by_row.get(m.row, []):
                    quarantine.append(QuarantineLine(m.row, f, reason, raw[m.row]))
                if m.row not in problems_by_row:
                    where = ", ".join(str(r) for r in sorted(bad + list(problems_by_row)))
                    quarantine.append(
                        QuarantineLine(
                            m.row,
                            "household_no",
                            f"household {household_no} has bad rows ({where}); "
                            "none of its rows was imported",
                            raw[m.row],
                        )
                    )
            continue
        households.append(_household(household_no, members, table.columns))
    quarantine.sort(key=lambda q: q.row)
    return ValidatedImport(table.path, table.headers, len(table.rows), households, quarantine, raw)


def _household_problems(
    household_no: str,
    members: list[PersonRecord],
    seen: Mapping[str, list[tuple[str, int]]],
    *,
    check_heads: bool,
) -> dict[int, list[tuple[str, str]]]:
    problems: dict[int, list[tuple[str, str]]] = {}

    def add(row: int, field_name: str, reason: str) -> None:
        problems.setdefault(row, []).append((field_name, reason))

    first_row: dict[str, int] = {}
    for m in members:
        elsewhere = [(h, r) for h, r in seen[m.id_number] if h != household_no]
        if elsewhere:
            other, other_row = elsewhere[0]
            add(
                m.row,
                "id_number",
                f"the same person is also in household {other} (row {other_row}); "
                "a person belongs to one household",
            )
        if m.id_number in first_row:
            add(
                m.row,
                "id_number",
                f"duplicate identity number in household {household_no}: "
                f"also on row {first_row[m.id_number]}",
            )
        else:
            first_row[m.id_number] = m.row
    heads = [m.row for m in members if m.relation == "head"]
    if check_heads and len(heads) != 1:
        reason = (
            f"household {household_no} has no head (户主); it needs exactly one"
            if not heads
            else f"household {household_no} has {len(heads)} heads (rows "
            f"{', '.join(map(str, heads))}); it needs exactly one"
        )
        for m in members:
            add(m.row, "relation", reason)
    return problems


def _household(
    household_no: str, members: list[PersonRecord], columns: Sequence[str]
) -> HouseholdRecord:
    head = next(m for m in members if m.relation == "head")
    assets: dict[str, AssetTotal] = {}
    for kind, parts in _ASSET_PARTS.items():
        if any(c in columns for c in parts if c):
            total = AssetTotal()
            for m in members:
                total = total + m.assets.get(kind, AssetTotal())
            assets[kind] = total
    return HouseholdRecord(
        household_no=household_no,
        region=head.attributes["region"],
        hukou_type=head.attributes["hukou_type"],
        statistical_code=head.attributes.get("statistical_code"),
        statistical_code_given="statistical_code" in columns,
        members=members,
        assets=assets,
    )


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _parse_row(
    raw_row: RawRow,
    values: Mapping[str, str],
    default_month: str | None,
    problems: list[tuple[str, str]],
) -> PersonRecord | None:
    """Parse one row, appending each (field, reason) problem; None if a required part failed."""
    row = raw_row.number

    def attempt(field_name: str | None, parse: Callable[[str], Any]) -> Any:
        if field_name is None:
            return None
        text = _norm(values.get(field_name, ""))
        try:
            return parse(text)
        except InputError as exc:
            problems.append((field_name, exc.reason))
            return None

    for column in COLUMNS:
        if column.required and column.name in values and not _norm(values[column.name]):
            problems.append((column.name, f"is required ({column.description})"))
    if problems:
        return None

    name = _norm(values["name"])
    if "id_number" in raw_row.numeric:
        problems.append(
            (
                "id_number",
                "is stored as a number in the spreadsheet, which loses digits: "
                "format the column as text and type the numbers again",
            )
        )
        return None
    identity = attempt("id_number", lambda t: parse_identity_number(t, "id_number", row))
    relation = attempt("relation", lambda t: _choice(t, "relation", RELATIONS))
    attributes: dict[str, Any] = {}
    for name_of_field in _PERSON_COLUMNS:
        if name_of_field in values:
            attributes[name_of_field] = attempt(name_of_field, _PARSERS[name_of_field])
    if "statistical_code" in values:
        attributes["statistical_code"] = attempt(
            "statistical_code",
            lambda t: parse_statistical_code(t).code if t else None,
        )
    if identity is not None:
        _check_against_identity(identity, attributes, values, problems)
    if attributes.get("disability_grade") is not None and "disability_category" in attributes:
        category, grade = attributes["disability_category"], attributes["disability_grade"]
        if category == "none" and grade:
            problems.append(("disability_grade", f"is {grade} but the disability category is none"))
        elif category not in (None, "none") and not grade:
            problems.append(("disability_grade", f"a {category} disability needs a grade 1-4"))

    income: dict[tuple[str, str], int] = {}
    wage_text = _norm(values.get("wage_income", ""))
    if wage_text:
        wage = attempt("wage_income", lambda t: parse_money(t, "wage_income"))
        month_text = _norm(values.get("income_month", ""))
        income_month = (
            attempt("income_month", lambda t: parse_month(t, "income_month"))
            if month_text
            else default_month
        )
        if income_month is None and not month_text:
            problems.append(
                ("income_month", "is required when a wage is given (or pass --month YYYY-MM)")
            )
        if wage is not None and income_month is not None:
            income[("wage", income_month)] = wage
    elif _norm(values.get("income_month", "")):
        attempt("income_month", lambda t: parse_month(t, "income_month"))

    assets: dict[str, AssetTotal] = {}
    for kind, (value_col, count_col, area_col) in _ASSET_PARTS.items():
        if not any(c in values for c in (value_col, count_col, area_col) if c):
            continue
        value = attempt(value_col, _money_or_zero(value_col)) if value_col in values else 0
        count = attempt(count_col, _count_or_zero(count_col)) if count_col in values else None
        area = attempt(area_col, parse_area) if area_col in values else None
        assets[kind] = AssetTotal(value or 0, count, area)

    if problems or identity is None or relation is None:
        return None
    return PersonRecord(
        row=row,
        id_number=identity.value,
        name=name,
        relation=relation,
        attributes=attributes,
        income=income,
        assets=assets,
    )


def _check_against_identity(
    identity: Any,
    attributes: dict[str, Any],
    values: Mapping[str, str],
    problems: list[tuple[str, str]],
) -> None:
    born: dt.date = identity.birth_date
    sex = "male" if identity.sex is Sex.MALE else "female"
    given_birth = attributes.get("birth_date")
    if given_birth is not None and given_birth != born:
        problems.append(
            ("birth_date", f"{given_birth} contradicts the identity number ({identity.masked})")
        )
    given_sex = attributes.get("sex")
    if given_sex is not None and given_sex != sex:
        problems.append(
            ("sex", f"{values.get('sex')} contradicts the identity number ({identity.masked})")
        )
    attributes["birth_date"] = born
    attributes["sex"] = sex


def _choice(text: str, field_name: str, choices: tuple[str, ...]) -> str:
    synonyms: Mapping[str, str] = SYNONYMS.get(field_name, {})
    value = synonyms.get(text)
    if value is None and field_name == "disability_category":
        value = synonyms.get(text.removesuffix("残疾"))
    if value is None and text.lower() in choices:
        value = text.lower()
    if value is None:
        words = [w for w in synonyms if w]
        listed = "/".join(words + list(choices))
        raise InputError(field_name, f"{text!r} is not one of {listed}")
    return value


def _optional_choice(
    field_name: str, choices: tuple[str, ...], blank: str | None
) -> Callable[[str], Any]:
    def parse(text: str) -> str | None:
        return blank if not text else _choice(text, field_name, choices)

    return parse


def parse_region(text: str) -> str:
    code = validate_region_code(text, "region")
    if code == NATION_CODE:
        raise InputError("region", "000000 stands for the whole nation, not a hukou region")
    return code


def parse_date_text(text: str) -> dt.date | None:
    if not text:
        return None
    match = _DATE_RE.fullmatch(text)
    if match is None:
        raise InputError("birth_date", f"{text!r} is not a date: expected YYYY-MM-DD")
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise InputError("birth_date", f"{text!r} is not a real date") from None


def parse_month(text: str, field_name: str) -> str:
    match = _MONTH_RE.fullmatch(text.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise InputError(field_name, f"{text!r} is not a month: expected YYYY-MM, e.g. 2025-09")
    return f"{match[1]}-{int(match[2]):02d}"


def parse_money(text: str, field_name: str) -> int:
    fen = yuan_to_fen(text, field_name)
    if fen < 0:
        raise InputError(field_name, f"{text} is negative; amounts are 0 or more")
    return fen


def _count(text: str, maximum: int, field_name: str = "count") -> int:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InputError(field_name, f"{text!r} is not a whole number") from None
    if number != number.to_integral_value():
        raise InputError(field_name, f"{text!r} is not a whole number")
    if not 0 <= number <= maximum:
        raise InputError(field_name, f"{text} is outside 0-{maximum}")
    return int(number)


def _money_or_zero(field_name: str | None) -> Callable[[str], int]:
    return lambda text: parse_money(text, str(field_name)) if text else 0


def _count_or_zero(field_name: str | None) -> Callable[[str], int]:
    return lambda text: _count(text, 10_000, str(field_name)) if text else 0


def _grade(text: str) -> int:
    if not text:
        return 0
    if text in _GRADE_WORDS:
        return _GRADE_WORDS[text]
    return _count(text.removesuffix("级"), 4, "disability_grade")


def parse_area(text: str) -> int:
    if not text:
        return 0
    try:
        area = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise InputError("property_area", f"{text!r} is not an area in m²") from None
    dm2 = area * 100
    if not area.is_finite() or dm2 != dm2.to_integral_value():
        raise InputError("property_area", f"{text!r}: at most 2 decimals of m²")
    if area < 0:
        raise InputError("property_area", f"{text} is negative")
    return int(dm2)


def _yes_no(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("", "否", "无", "no", "n", "false", "0"):
        return False
    if lowered in ("是", "有", "yes", "y", "true", "1"):
        return True
    raise InputError("has_serious_illness", f"{text!r} is not 是/否 (yes/no)")


def _sex(text: str) -> str | None:
    return None if not text else _choice(text, "sex", SEXES)


def _required_choice(field_name: str, choices: tuple[str, ...]) -> Callable[[str], str]:
    return lambda text: _choice(text, field_name, choices)


def _self_care(text: str) -> int:
    return _count(text, 6, "self_care_items_failed") if text else 0


_PARSERS: dict[str, Callable[[str], Any]] = {
    "sex": _sex,
    "birth_date": parse_date_text,
    "region": parse_region,
    "hukou_type": _required_choice("hukou_type", HUKOU_TYPES),
    "disability_category": _optional_choice("disability_category", DISABILITY_CATEGORIES, "none"),
    "disability_grade": _grade,
    "has_serious_illness": _yes_no,
    "labour_capacity": _optional_choice("labour_capacity", LABOUR_CAPACITY, None),
    "self_care_items_failed": _self_care,
    "schooling": _optional_choice("schooling", SCHOOLING, None),
    "employment": _optional_choice("employment", EMPLOYMENT, None),
}


# -- Quarantine file -------------------------------------------------------------------------


def default_quarantine_path(source: Path) -> Path:
    return source.with_name(f"{source.stem}.quarantine.csv")


def write_quarantine(lines: Iterable[QuarantineLine], headers: Sequence[str], path: Path) -> None:
    """Write rejected rows as CSV (UTF-8 with BOM, so Excel shows Chinese): row, field, reason,
    then the row as it was in the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "field", "reason", *headers])
        for line in lines:
            # The cells stay as they were in the file (the office corrects and re-imports them);
            # the reason, which may quote a number, is masked like any display.
            writer.writerow([line.row, line.field, mask_text(line.reason), *line.cells])
