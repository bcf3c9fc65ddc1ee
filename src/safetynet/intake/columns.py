"""The columns a tabular reader expects, and the mapping of a file's headers (Chinese or English) to them."""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from safetynet.errors import InputError

if TYPE_CHECKING:
    pass

__all__ = [
    "IGNORED",
    "NON_DATA_HEADERS",
    "Column",
    "header_lookup",
    "map_headers",
    "normalise_header",
]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    chinese: tuple[str, ...]
    required: bool
    description: str


def normalise_header(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).replace("\ufeff", "").strip().rstrip("*").strip()
    text = re.sub(r"\s*\([^)]*\)$", "", text)  # a unit in brackets: 月工资（元）
    return re.sub(r"[\s-]+", "_", text.lower())


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


@functools.lru_cache(maxsize=32)
def _lookup(spec: tuple[Column, ...]) -> dict[str, str]:
    return {**{c.name: c.name for c in spec}, **{a: c.name for c in spec for a in c.chinese}}


def header_lookup(spec: Sequence[Column]) -> dict[str, str]:
    """Every accepted header (English name or Chinese alias) → the column name (computed once
    per spec)."""
    return _lookup(tuple(spec))


def map_headers(
    headers: Sequence[str],
    where: str,
    encoding: str | None,
    spec: Sequence[Column],
) -> list[str]:
    """The column name of each header under ``spec``; unknown, repeated or missing columns are
    errors."""
    lookup = header_lookup(spec)
    columns: list[str] = []
    for header in headers:
        if normalise_header(header) in NON_DATA_HEADERS:
            columns.append(IGNORED)
            continue
        name = lookup.get(normalise_header(header))
        if name is None:
            accepted = ", ".join(f"{c.chinese[0]}/{c.name}" for c in spec if c.chinese)
            english_only = sum(1 for c in spec if not c.chinese)
            if english_only:  # program facts by field name: listed by `safetynet fields`
                accepted += f"; and {english_only} more by English name (safetynet fields)"
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
        names = ", ".join(f"{c.chinese[0]}/{c.name}" if c.chinese else c.name for c in missing)
        raise InputError(where, f"required column(s) missing: {names}")
    return columns
