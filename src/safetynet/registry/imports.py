"""Read a county office's household list (CSV or XLSX, one row per person) and validate it.

``read_table`` turns a file into rows of text (detecting UTF-8 or GB18030/GBK, mapping Chinese or
English headers to the registry's column names); ``validate`` turns rows into whole households
ready to import and quarantined rows, each with its row number, field and reason. A household
with any bad row is quarantined whole, so no half household is ever imported. File-level
problems (corrupt workbook, unknown column, undecodable text) raise ``InputError``.

It is also the intake kit of every other tabular reader (contributions, payee accounts, bank
returns, feeds): ``read_sheet`` finds the header below title rows and ignores 序号/备注 columns,
``cell_problems`` quarantines control characters, ``intake_limits`` gives the plausible window of
dates and the largest amount (parameters ``common.intake.*``).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import difflib
import functools
import io
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from safetynet.domain.identity import Sex, parse_identity_number
from safetynet.domain.money import MAX_FEN, parse_decimal_text, yuan_to_fen
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

if TYPE_CHECKING:
    from safetynet.policy.parameters import ParameterTree

__all__ = [
    "COLUMNS",
    "IGNORED",
    "NON_DATA_HEADERS",
    "AssetTotal",
    "HouseholdRecord",
    "IntakeLimits",
    "NullProgress",
    "PersonRecord",
    "ProgressSink",
    "QuarantineLine",
    "RawRow",
    "RawTable",
    "Sheet",
    "ValidatedImport",
    "cell_problems",
    "default_quarantine_path",
    "intake_limits",
    "read_sheet",
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
    header_row: int = 1
    ignored: tuple[str, ...] = ()


def read_table(path: Path, encoding: str | None = None, header_row: int | None = None) -> RawTable:
    """Read a CSV or XLSX household list; raise ``InputError`` naming the file if it cannot be."""
    sheet = read_sheet(path, encoding, COLUMNS, header_row)
    return RawTable(
        path,
        sheet.headers,
        sheet.columns,
        sheet.rows,
        sheet.encoding,
        sheet.header_row,
        sheet.ignored,
    )


# Columns offices add to their sheets that carry nothing to import: a running number, remarks.
NON_DATA_HEADERS = frozenset(
    {
        "序号",
        "编号序号",
        "行号",
        "no",
        "no.",
        "#",
        "备注",
        "说明",
        "remark",
        "remarks",
        "note",
        "notes",
    }
)
IGNORED = "_ignored"  # the column name of a non-data column
HEADER_SEARCH_ROWS = 30  # a header is looked for among the first rows (title rows above it)
# Control characters (NUL and the like) cannot be stored as text (PostgreSQL refuses NUL) and
# never belong in a cell; tab and line breaks inside a quoted cell are ordinary text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Sheet:
    """A file's rows under its header: what every tabular reader of the intake starts from."""

    headers: tuple[str, ...]  # as written in the file
    columns: tuple[str, ...]  # the column names under the reader's spec (IGNORED for non-data)
    rows: list[RawRow]
    encoding: str | None  # None for XLSX
    header_row: int  # the header's row number, 1-based
    ignored: tuple[str, ...]  # headers of the non-data columns

    def layout(self) -> str:
        """One line for the report: where the header was found and which columns were ignored."""
        parts = [f"header on row {self.header_row}"]
        if self.header_row > 1:
            parts[0] += f" (rows 1-{self.header_row - 1} above it ignored)"
        if self.ignored:
            parts.append("columns ignored: " + ", ".join(self.ignored))
        return "; ".join(parts)


def read_sheet(
    path: Path,
    encoding: str | None,
    spec: Sequence[Column],
    header_row: int | None = None,
    *,
    xlsx: bool = True,
) -> Sheet:
    """Read a CSV (or, when ``xlsx``, an XLSX) file under ``spec``: the header is found among the
    first rows (or is ``header_row``), non-data columns are ignored, empty rows skipped."""
    if not path.is_file():
        raise InputError(str(path), "no such file")
    suffix = path.suffix.lower()
    lookup = _HEADER_TO_NAME if spec is COLUMNS else header_lookup(spec)
    expected = ".csv or .xlsx" if xlsx else ".csv"
    if xlsx and suffix in (".xlsx", ".xlsm"):
        headers, rows, at = read_xlsx_rows(path, lookup=lookup, header_row=header_row)
        used_encoding = None
    elif suffix in (".csv", ".txt"):
        text, used_encoding = decode(path.read_bytes(), encoding, str(path))
        headers, rows, at = read_csv_rows(text, str(path), lookup=lookup, header_row=header_row)
    elif xlsx and suffix == ".xls":
        raise InputError(
            str(path), "the old .xls format is not supported: save the sheet as .xlsx or CSV"
        )
    else:
        raise InputError(str(path), f"unknown file type {suffix!r}: expected {expected}")
    columns = map_headers(headers, str(path), used_encoding, spec)
    data = [i for i, c in enumerate(columns) if c != IGNORED]
    named_rows = [
        RawRow(
            r.number,
            r.cells,
            frozenset(columns[i] for i in r.numeric_indexes if i < len(columns)),
        )
        for r in rows
        # A row with something only in 序号 or 备注 (numbered but empty lines) is an empty row.
        if any(r.cells[i] for i in data if i < len(r.cells)) or any(r.cells[len(columns) :])
    ]
    ignored = tuple(h for h, c in zip(headers, columns, strict=True) if c == IGNORED)
    return Sheet(tuple(headers), tuple(columns), named_rows, used_encoding, at, ignored)


def cell_problems(raw_row: RawRow, columns: Sequence[str]) -> list[tuple[str, str]]:
    """Problems of a row before its values are parsed: more cells than the header, control
    characters (a NUL byte) in a cell. Each is (field, reason)."""
    problems: list[tuple[str, str]] = []
    cells = raw_row.cells
    if len(cells) > len(columns) and any(cells[len(columns) :]):
        problems.append(("row", f"has {len(cells)} cells but the header has {len(columns)}"))
    for i, cell in enumerate(cells):
        bad = _CONTROL.search(cell)
        if bad is not None:
            name = columns[i] if i < len(columns) else "row"
            code = f"U+{ord(bad.group()):04X}"
            problems.append(
                (name, f"contains a control character ({code}) at position {bad.start() + 1}")
            )
    return problems


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
    if _looks_binary(data[:4096]):
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


# Workbooks, old Excel files and Parquet files start with these bytes.
_BINARY_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"PAR1")


def _looks_binary(head: bytes) -> bool:
    """A binary file rather than text with a stray NUL in a cell (that cell's row is quarantined):
    a known binary signature, or NUL bytes making up more than a tenth of the start."""
    return head.startswith(_BINARY_MAGIC) or head.count(0) * 10 > len(head)


def read_csv_rows(
    text: str,
    where: str,
    *,
    lookup: Mapping[str, str] | None = None,
    header_row: int | None = None,
) -> tuple[list[str], list[_Row], int]:
    """The header, the data rows and the header's row number of a CSV text."""
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InputError(where, f"is not valid CSV: {exc}") from None
    return _split_header(records, where, (), lookup=lookup, header_row=header_row)


def _find_header(
    records: Sequence[Sequence[str]], lookup: Mapping[str, str] | None, header_row: int | None
) -> int | None:
    """Index of the header: ``header_row`` if given; else, among the first rows, the one with
    the most known column names (a title row like XX街道2025年9月低保家庭花名册 has none);
    else the first non-empty row."""
    if header_row is not None:
        if not 1 <= header_row <= len(records) or not any(
            c.strip() for c in records[header_row - 1]
        ):
            raise InputError("--header-row", f"row {header_row} is empty or beyond the file")
        return header_row - 1
    first = next((i for i, r in enumerate(records) if any(c.strip() for c in r)), None)
    if first is None or lookup is None:
        return first
    best, best_score = first, 0
    for i, record in enumerate(records[: first + HEADER_SEARCH_ROWS]):
        names = {lookup.get(normalise_header(c)) for c in record if c.strip()}
        score = len(names - {None})
        if score > best_score:
            best, best_score = i, score
    return best if best_score >= 2 else first


def _split_header(
    records: Sequence[Sequence[str]],
    where: str,
    numeric: Sequence[tuple[int, ...]] = (),
    *,
    lookup: Mapping[str, str] | None = None,
    header_row: int | None = None,
) -> tuple[list[str], list[_Row], int]:
    header_at = _find_header(records, lookup, header_row)
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
    # A column with an empty header and no data (a spacer, or the tail of a merged header cell)
    # is dropped; one with data keeps its empty header, which map_headers refuses.
    empty = [
        j
        for j, h in enumerate(headers)
        if not h and not any(j < len(r.cells) and r.cells[j] for r in rows)
    ]
    if empty:
        keep = [j for j in range(len(headers)) if j not in set(empty)]
        headers = [headers[j] for j in keep]
        rows = [
            _Row(
                r.number,
                tuple(c for j, c in enumerate(r.cells) if j not in set(empty)),
                tuple(keep.index(j) for j in r.numeric_indexes if j in keep),
            )
            for r in rows
        ]
    return headers, rows, header_at + 1


# Workbooks up to this size are opened in full so merged cells can be filled; larger ones are
# streamed (read-only mode knows no merged cells, and a large data list seldom has them).
_MERGE_AWARE_BYTES = 8 * 1024 * 1024


def read_xlsx_rows(
    path: Path,
    *,
    lookup: Mapping[str, str] | None = None,
    header_row: int | None = None,
) -> tuple[list[str], list[_Row], int]:
    import openpyxl  # deferred: only XLSX imports need it

    records: list[list[str]] = []
    numeric: list[tuple[int, ...]] = []
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styling and extensions it skips; styling carries no data.
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            streamed = path.stat().st_size > _MERGE_AWARE_BYTES
            workbook = openpyxl.load_workbook(path, read_only=streamed, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                merged: dict[tuple[int, int], Any] = {}
                if not streamed:
                    # A merged cell holds its value in its top-left cell only: every cell of
                    # the range gets it (a header over two rows, a household number over its
                    # members' rows).
                    for span in sheet.merged_cells.ranges:
                        value = sheet.cell(span.min_row, span.min_col).value
                        for r in range(span.min_row, span.max_row + 1):
                            for c in range(span.min_col, span.max_col + 1):
                                merged[(r, c)] = value
                for r, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                    cells = [
                        merged.get((r, c), v) if v is None else v
                        for c, v in enumerate(values, start=1)
                    ]
                    records.append([_cell_text(v) for v in cells])
                    numeric.append(
                        tuple(
                            i
                            for i, v in enumerate(cells)
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
    return _split_header(records, str(path), numeric, lookup=lookup, header_row=header_row)


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
        if normalise_header(header) in NON_DATA_HEADERS:
            columns.append(IGNORED)
            continue
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


# -- Plausibility limits ---------------------------------------------------------------------

LIMIT_PARAMETERS = "common.intake"


@dataclass(frozen=True, slots=True)
class IntakeLimits:
    """The plausible window of dates and the largest amount of an import done on ``as_of``
    (parameters ``common.intake.*``, overridable per region)."""

    as_of: dt.date
    earliest_birth: dt.date
    earliest_date: dt.date
    latest_date: dt.date
    maximum_fen: int

    def check_birth(
        self, born: dt.date, field_name: str, record_date: dt.date | None = None
    ) -> None:
        latest = record_date or self.as_of
        if born > latest:
            raise InputError(field_name, f"birth date {born} is after the record's date ({latest})")
        if born < self.earliest_birth:
            raise InputError(
                field_name,
                f"birth date {born} is implausible (before {self.earliest_birth}, "
                f"parameter {LIMIT_PARAMETERS}.oldest_age)",
            )

    def check_date(self, day: dt.date, field_name: str) -> dt.date:
        if day < self.earliest_date:
            raise InputError(
                field_name,
                f"{day} is implausibly early (before {self.earliest_date}, "
                f"parameter {LIMIT_PARAMETERS}.business_date_years_back)",
            )
        if day > self.latest_date:
            raise InputError(
                field_name,
                f"{day} is implausibly late (after {self.latest_date}, "
                f"parameter {LIMIT_PARAMETERS}.business_date_days_ahead)",
            )
        return day

    def check_month(self, month: str, field_name: str) -> str:
        """A month (YYYY-MM) within the window of business dates."""
        earliest = f"{self.earliest_date.year:04d}-{self.earliest_date.month:02d}"
        latest = f"{self.latest_date.year:04d}-{self.latest_date.month:02d}"
        if month < earliest:
            raise InputError(
                field_name,
                f"{month} is implausibly early (before {earliest}, "
                f"parameter {LIMIT_PARAMETERS}.business_date_years_back)",
            )
        if month > latest:
            raise InputError(
                field_name,
                f"{month} is implausibly late (after {latest}, "
                f"parameter {LIMIT_PARAMETERS}.business_date_days_ahead)",
            )
        return month


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def intake_limits(
    as_of: dt.date | None = None,
    *,
    region: str = NATION_CODE,
    overrides: Mapping[str, Any] | None = None,
    tree: ParameterTree | None = None,
) -> IntakeLimits:
    """The limits in force on ``as_of`` (default today) for ``region``, from ``tree`` (default:
    the shipped parameters)."""
    if not overrides and tree is None:
        return _limits_on(as_of or dt.date.today(), region)
    return _resolve_limits(as_of or dt.date.today(), region, overrides, tree)


@functools.lru_cache(maxsize=64)
def _limits_on(day: dt.date, region: str) -> IntakeLimits:
    return _resolve_limits(day, region, None, None)


def _resolve_limits(
    day: dt.date,
    region: str,
    overrides: Mapping[str, Any] | None,
    tree: ParameterTree | None,
) -> IntakeLimits:
    from safetynet.domain.regions import default_registry
    from safetynet.policy.parameters import default_tree

    parameters = tree if tree is not None else default_tree()
    levels = default_registry().lineage_codes(region)

    def value(name: str) -> Any:
        return parameters.resolve(f"{LIMIT_PARAMETERS}.{name}", day, levels, overrides).value

    return IntakeLimits(
        as_of=day,
        earliest_birth=_years_before(day, int(value("oldest_age"))),
        earliest_date=_years_before(day, int(value("business_date_years_back"))),
        latest_date=day + dt.timedelta(days=int(value("business_date_days_ahead"))),
        maximum_fen=int(value("maximum_amount")),  # money parameters resolve in fen
    )


# -- Validation ------------------------------------------------------------------------------

_MONTH_RE = re.compile(r"([0-9]{4})(?:[-/.]|年)?([0-9]{1,2})(?:月|[-/.]0?1)?")
_DATE_RE = re.compile(r"([0-9]{4})[-/.年]?([0-9]{1,2})[-/.月]?([0-9]{1,2})日?")
_GRADE_WORDS = {"一级": 1, "二级": 2, "三级": 3, "四级": 4, "无": 0}


def validate(
    table: RawTable,
    *,
    month: str | None = None,
    progress: ProgressSink | None = None,
    as_of: dt.date | None = None,
) -> ValidatedImport:
    """Check every row and every household; return what can be imported and what cannot.

    ``as_of`` is the record's date (the start of the memberships, default today): birth dates
    after it are refused; the plausible window of ``intake_limits`` is that of today, the import
    date (memberships may be back-dated, wages of later months still belong to the file)."""
    sink = progress or NullProgress()
    limits = dataclasses.replace(intake_limits(), as_of=as_of or dt.date.today())
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
        problems = cell_problems(raw_row, table.columns)
        record = (
            _parse_row(raw_row, values, default_month, problems, limits) if not problems else None
        )
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
    limits: IntakeLimits,
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
    identity = attempt(
        "id_number",
        lambda t: parse_identity_number(
            t, "id_number", row, as_of=limits.as_of, earliest_birth=limits.earliest_birth
        ),
    )
    relation = attempt("relation", lambda t: _choice(t, "relation", RELATIONS))
    attributes: dict[str, Any] = {}
    for name_of_field in _PERSON_COLUMNS:
        if name_of_field == "birth_date" and name_of_field in values:
            attributes[name_of_field] = attempt(
                name_of_field, lambda t: _birth_date(t, "birth_date", limits)
            )
        elif name_of_field in values:
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
        wage = attempt("wage_income", lambda t: parse_money(t, "wage_income", limits.maximum_fen))
        month_text = _norm(values.get("income_month", ""))
        income_month = (
            attempt(
                "income_month",
                lambda t: limits.check_month(parse_month(t, "income_month"), "income_month"),
            )
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
        attempt(
            "income_month",
            lambda t: limits.check_month(parse_month(t, "income_month"), "income_month"),
        )

    assets: dict[str, AssetTotal] = {}
    for kind, (value_col, count_col, area_col) in _ASSET_PARTS.items():
        if not any(c in values for c in (value_col, count_col, area_col) if c):
            continue
        value = (
            attempt(value_col, _money_or_zero(value_col, limits.maximum_fen))
            if value_col in values
            else 0
        )
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


def parse_date_text(
    text: str, field_name: str, limits: IntakeLimits | None = None
) -> dt.date | None:
    """A date (YYYY-MM-DD, YYYY/M/D, YYYYMMDD, YYYY年M月D日) or None for an empty cell; any
    problem is reported under ``field_name``; with ``limits``, a date outside the plausible
    window of business dates is refused."""
    text = text.strip()
    if not text:
        return None
    match = _DATE_RE.fullmatch(text)
    if match is None:
        raise InputError(field_name, f"{text!r} is not a date: expected YYYY-MM-DD")
    try:
        day = dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise InputError(field_name, f"{text!r} is not a real date") from None
    return limits.check_date(day, field_name) if limits is not None else day


def _birth_date(text: str, field_name: str, limits: IntakeLimits) -> dt.date | None:
    born = parse_date_text(text, field_name)
    if born is not None:
        limits.check_birth(born, field_name)
    return born


def parse_month(text: str, field_name: str) -> str:
    match = _MONTH_RE.fullmatch(text.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise InputError(field_name, f"{text!r} is not a month: expected YYYY-MM, e.g. 2025-09")
    return f"{match[1]}-{int(match[2]):02d}"


def parse_money(text: str, field_name: str, maximum_fen: int | None = None) -> int:
    """An amount in yuan as typed (see ``yuan_to_fen``), 0 or more and at most ``maximum_fen``
    (default: the intake's maximum today)."""
    if maximum_fen is None:
        maximum_fen = intake_limits().maximum_fen
    fen = yuan_to_fen(text, field_name, maximum_fen=maximum_fen)
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


def _money_or_zero(field_name: str | None, maximum_fen: int | None) -> Callable[[str], int]:
    return lambda text: parse_money(text, str(field_name), maximum_fen) if text else 0


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
        area = parse_decimal_text(text, "property_area")
    except InputError as exc:
        raise InputError(
            "property_area", exc.reason.replace("amount in yuan", "area in m²")
        ) from None
    dm2 = area * 100
    if dm2 != dm2.to_integral_value():
        raise InputError("property_area", f"{text!r}: at most 2 decimals of m²")
    if area < 0:
        raise InputError("property_area", f"{text} is negative")
    if dm2 > MAX_FEN:  # stored as 64-bit dm², like fen
        raise InputError("property_area", f"{text!r} is too large for an area")
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
    "birth_date": lambda text: parse_date_text(text, "birth_date"),
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
