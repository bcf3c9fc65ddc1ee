"""Reading a large CSV file as columns (Polars) for the bulk imports, with the header, the row
numbers and the cells that ``reading.read_sheet`` gives; ``None`` when the file needs the row
reader (XLSX, a title above the header, another encoding, ragged or odd lines), which then reads
it and reports its problems exactly as before.

A bulk import decides most rows column by column and hands every row it cannot accept outright
to the row validator (``RawRow`` from ``Frame.raw_row``), so the reasons are the row reader's.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from safetynet.domain.identity import EARLIEST_BIRTH_YEAR, county_codes
from safetynet.errors import InputError
from safetynet.intake.columns import IGNORED, Column, header_lookup, map_headers
from safetynet.intake.limits import IntakeLimits
from safetynet.intake.reading import RawRow, Sheet, _find_header, _looks_binary

__all__ = [
    "Frame",
    "by_value",
    "has_control_character",
    "identity_number_checks",
    "parsed_by_value",
    "plain_yuan",
    "read_csv_frame",
]

_HEAD_BYTES = 1 << 16
_BOM = b"\xef\xbb\xbf"
# Characters Python's str.strip() removes that a regular expression's \s may not: a cell with
# any of them (or a control character) at either end goes to the row reader.
_PLAIN_EMPTY = r"^[\s\x1c-\x1f\x85\xa0]*$"
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


@dataclass(frozen=True)
class Frame:
    """A CSV file's data rows as text columns ``c0``, ``c1``, … (as written, not stripped; a
    missing cell is an empty string) and ``row`` (the row number the user sees, the header is
    row 1), empty rows already left out."""

    path: Path
    headers: tuple[str, ...]
    columns: tuple[str, ...]
    encoding: str
    data: pl.DataFrame

    @property
    def read(self) -> int:
        return self.data.height

    def column(self, name: str) -> str | None:
        """The frame column holding the reader's column ``name`` (None if the file lacks it)."""
        return f"c{self.columns.index(name)}" if name in self.columns else None

    def raw_row(self, values: Sequence[str | None], number: int) -> RawRow:
        """The row as the row reader sees it: cells stripped, as many as the header has."""
        return RawRow(number, tuple((v or "").strip() for v in values))

    def raw_rows(self, numbers: Sequence[int]) -> list[RawRow]:
        """``RawRow``s of the given row numbers, in the order given."""
        if not numbers:
            return []
        names = [f"c{i}" for i in range(len(self.columns))]
        picked = (
            pl.DataFrame({"row": list(numbers)}, schema={"row": pl.Int64})
            .join(self.data.select("row", *names), on="row", how="left", maintain_order="left")
            .select(names)
        )
        return [
            self.raw_row(values, number)
            for values, number in zip(picked.iter_rows(), numbers, strict=True)
        ]

    def sheet(self) -> Sheet:
        """The layout line of the report (header on row 1, the ignored columns)."""
        ignored = tuple(h for h, c in zip(self.headers, self.columns, strict=True) if c == IGNORED)
        return Sheet(self.headers, self.columns, [], self.encoding, 1, ignored)


def read_csv_frame(
    path: Path, encoding: str | None, spec: Sequence[Column], header_row: int | None = None
) -> Frame | None:
    """The file as a ``Frame`` if it is a plain UTF-8 CSV whose header is its first row; else
    None (and the caller reads it row by row). Unknown or missing headers raise ``InputError``
    as ``read_sheet`` does."""
    if path.suffix.lower() not in (".csv", ".txt") or not path.is_file():
        return None
    if encoding is not None and encoding.lower().replace("-", "") not in ("utf8", "utf8sig"):
        return None
    data = path.read_bytes()
    data = data.removeprefix(_BOM)
    head = data[:_HEAD_BYTES]
    if not head or head.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_binary(head[:4096]):
        return None
    # Lines ending in a lone CR are read differently by the two readers: leave them to csv.
    if data.count(b"\r") != data.count(b"\r\n"):
        return None
    try:
        head_text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the head
            return None
        head_text = head[: exc.start].decode("utf-8")
    records = list(csv.reader(io.StringIO(head_text, newline="")))
    if len(head) == _HEAD_BYTES:
        records = records[:-1]  # the last one may be cut
    if not records or _find_header(records, header_lookup(spec), header_row) != 0:
        return None
    first_line = head_text.split("\n", 1)[0].rstrip("\r")
    if list(csv.reader([first_line])) != [records[0]]:
        return None  # a header cell spanning lines
    headers = [h.strip() for h in records[0]]
    while headers and not headers[-1]:
        headers.pop()
    if not headers or not all(headers) or len(headers) != len(records[0]):
        return None
    columns = map_headers(headers, str(path), "utf-8", spec)
    names = [f"c{i}" for i in range(len(headers))]
    try:
        frame = pl.read_csv(
            data,
            has_header=False,
            skip_rows=1,
            new_columns=names,
            schema=dict.fromkeys(names, pl.Utf8),
            empty_string_is_null=False,
            truncate_ragged_lines=False,
            raise_if_empty=False,
            quote_char='"',
        )
    except (pl.exceptions.PolarsError, UnicodeDecodeError):
        return None
    frame = frame.with_row_index("row", offset=2).with_columns(pl.col("row").cast(pl.Int64))
    data_columns = [n for n, c in zip(names, columns, strict=True) if c != IGNORED]
    maybe_empty = pl.all_horizontal(pl.col(n).str.contains(_PLAIN_EMPTY) for n in data_columns)
    candidates = frame.filter(maybe_empty)
    if candidates.height:
        # Whitespace-only cells: empty for the row reader too only if str.strip() empties them.
        empty = [
            row[0]
            for row in candidates.select("row", *data_columns).iter_rows()
            if not any(v.strip() for v in row[1:])
        ]
        frame = frame.filter(~pl.col("row").is_in(empty))
    return Frame(path, tuple(headers), tuple(columns), "utf-8", frame)


# -- Column checks shared by the bulk imports --------------------------------------------------


def has_control_character(columns: Sequence[str]) -> pl.Expr:
    """True for a row with a control character in any of ``columns`` (``cell_problems``'s test,
    before stripping: such a row goes to the row validator)."""
    return pl.any_horizontal(pl.col(c).str.contains(_CONTROL) for c in columns)


def by_value(
    frame: pl.DataFrame,
    column: str,
    parse: Callable[[str], Any],
    dtype: Any,
    plain: tuple[pl.Expr, pl.Expr] | None = None,
) -> pl.Expr:
    """The column parsed by the row validator's ``parse``, once per distinct value (null where
    it refuses the value); ``plain`` as in ``parsed_by_value``."""
    return parsed_by_value(frame, column, parse, dtype, plain=plain)[0]


def parsed_by_value(
    frame: pl.DataFrame,
    column: str,
    parse: Callable[[str], Any],
    dtype: Any,
    normalise: Callable[[str], str] = str.strip,
    plain: tuple[pl.Expr, pl.Expr] | None = None,
) -> tuple[pl.Expr, pl.Expr]:
    """(the column parsed by ``parse``, whether ``parse`` accepted it): the row validator's own
    parser applied once per distinct value (a county file has few distinct values per column
    but identity numbers, names and amounts), to the cell as the row reader cleans it.

    ``plain``: (the cells already decided, their value) for a column whose common form an
    expression parses exactly as ``parse`` does (``plain_yuan``); only the other cells' distinct
    values are given to ``parse``."""
    cells = (
        frame.get_column(column) if plain is None else frame.filter(~plain[0]).get_column(column)
    )
    distinct = cells.unique().to_list()
    parsed: list[Any] = []
    accepted: list[str] = []
    for value in distinct:
        try:
            parsed.append(parse(normalise(value)))
            accepted.append(value)
        except InputError:
            parsed.append(None)
    value = pl.col(column).replace_strict(distinct, parsed, default=None, return_dtype=dtype)
    ok = pl.col(column).is_in(accepted)
    if plain is None:
        return value, ok
    taken, plain_value = plain
    return pl.when(taken).then(plain_value).otherwise(value), taken | ok


# An amount in yuan in its plain form: ASCII digits, at most two decimals, nothing around them.
_PLAIN_YUAN = r"^([0-9]{1,13})(?:\.([0-9]{1,2}))?$"


def plain_yuan(column: str, maximum_fen: int) -> tuple[pl.Expr, pl.Expr]:
    """(true where the cell is an amount in yuan in its plain form and at most ``maximum_fen``,
    the amount in fen): what ``intake.values.parse_money`` gives such a cell, computed for the
    whole column at once (an amount column of a county file has hundreds of thousands of
    distinct values). Every other cell (blank, signed, separated, full-width, too large) is left
    to the parser itself, with its reasons."""
    cell = pl.col(column)
    whole = cell.str.extract(_PLAIN_YUAN, 1).cast(pl.Int64, strict=False)
    cents = cell.str.extract(_PLAIN_YUAN, 2).str.pad_end(2, "0").cast(pl.Int64).fill_null(0)
    fen = whole * 100 + cents
    return (fen <= maximum_fen).fill_null(value=False), fen


def identity_number_checks(column: str, limits: IntakeLimits) -> tuple[pl.Expr, pl.Expr]:
    """(the number is one ``parse_identity_number`` accepts as it stands, its birth date as an
    integer YYYYMMDD). Numbers in any other form go to the row validator."""
    number = pl.col(column)
    digits = [number.str.slice(i, 1).cast(pl.Int64, strict=False) for i in range(17)]
    total = pl.sum_horizontal(d * w for d, w in zip(digits, _WEIGHTS, strict=True))
    check = (total % 11).replace_strict(list(range(11)), list(_CHECK), return_dtype=pl.Utf8)
    born = number.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    earliest = max(limits.earliest_birth, dt.date(EARLIEST_BIRTH_YEAR, 1, 1))
    ok = (
        number.str.contains(r"^[0-9]{17}[0-9X]$")
        & (number.str.slice(17, 1) == check)
        & born.is_not_null()
        & (born >= earliest)
        & (born <= limits.as_of)
        & number.str.slice(0, 6).is_in(sorted(county_codes()))
    )
    return ok.fill_null(value=False), number.str.slice(6, 8).cast(pl.Int64, strict=False)
