"""Reading a CSV or XLSX file into rows of text: encoding detection, the header found below title rows,
non-data columns (序号/备注) ignored, merged headers split, control characters quarantined."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from python_calamine import CalamineWorkbook

from safetynet.errors import InputError
from safetynet.intake.columns import IGNORED, Column, header_lookup, map_headers, normalise_header

if TYPE_CHECKING:
    pass

__all__ = [
    "RawRow",
    "Sheet",
    "cell_problems",
    "decode",
    "read_csv_rows",
    "read_sheet",
    "read_xlsx_rows",
]


@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row: its number as the user sees it (the header is row 1) and its cell texts.

    ``numeric`` names the columns whose spreadsheet cell held a number rather than text.
    """

    number: int
    cells: tuple[str, ...]
    numeric: frozenset[str] = frozenset()


HEADER_SEARCH_ROWS = 30  # a header is looked for among the first rows (title rows above it)


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
    lookup = header_lookup(spec)
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


def read_xlsx_rows(
    path: Path,
    *,
    lookup: Mapping[str, str] | None = None,
    header_row: int | None = None,
) -> tuple[list[str], list[_Row], int]:
    """The first sheet's rows as text, read with calamine (Rust; a county's 100,000 rows in well
    under a second). A merged cell holds its value in its top-left cell only: every cell of the
    range gets it (a header over two rows, a household number over its members' rows)."""
    records: list[list[str]] = []
    numeric: list[tuple[int, ...]] = []
    try:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
        for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or ():
            value = rows[r0][c0] if r0 < len(rows) and c0 < len(rows[r0]) else ""
            for r in range(r0, min(r1, len(rows) - 1) + 1):
                for c in range(c0, min(c1, len(rows[r]) - 1) + 1):
                    if rows[r][c] in ("", None):
                        rows[r][c] = value
        for cells in rows:
            records.append([_cell_text(v) for v in cells])
            numeric.append(
                tuple(
                    i
                    for i, v in enumerate(cells)
                    if isinstance(v, int | float) and not isinstance(v, bool)
                )
            )
    except InputError:
        raise
    except Exception as exc:  # zip, XML and calamine's own errors alike mean a damaged workbook
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
