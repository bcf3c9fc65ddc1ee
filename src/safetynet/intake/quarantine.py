"""Rejected rows: kept with their row number, field and reason, and written out for the office to correct."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from safetynet.domain.privacy import mask_text

if TYPE_CHECKING:
    pass

__all__ = ["QuarantineLine", "default_quarantine_path", "write_quarantine"]


@dataclass(frozen=True, slots=True)
class QuarantineLine:
    row: int
    field: str
    reason: str
    cells: tuple[str, ...]


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
