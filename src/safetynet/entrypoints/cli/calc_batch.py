"""``safetynet calc --batch FILE``: every program (or one) for each household of a file.

The file is JSON (a list of households, or ``{"households": [...]}``), JSON lines, CSV or Parquet
(one row per person: ``household_id``, ``region`` and the fields of docs/inputs.md). The answer is
NDJSON on standard output, as ``POST /calculate?stream=true`` gives it (a header line with the
programs, one line per household, then the notes and the counts), or with ``--out`` a Parquet or
CSV table of ``household_id, region, program, eligible, amount_fen``. A household with a wrong
fact is answered with its error (field and reason) and counted; the exit status is then 1.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from safetynet.domain.privacy import mask_value

__all__ = ["run_batch"]


def run_batch(
    source: Path,
    on: dt.date,
    *,
    region: str | None,
    programs: Sequence[str],
    explain: bool,
    fallbacks: Mapping[str, Any] | None,
    out: Path | None,
) -> int:
    """Calculate the households of ``source``; the number of households refused."""
    from safetynet.policy.calculate_many import (
        Notes,
        Request,
        calculate_many,
        households_from_file,
        program_header,
    )

    households = households_from_file(source)
    request = Request(on, region, tuple(programs), explain, fallbacks)
    header = program_header(request)
    notes = Notes()
    answers = [a.as_json() for a in calculate_many(households, request, notes)]
    refused = [a for a in answers if "error" in a]
    if out is None:
        _write_lines(sys.stdout, on, header, answers, notes, len(refused))
    else:
        _write_table(out, header, answers)
        for row in refused:
            err = row["error"]
            sys.stderr.write(mask_value(f"{err['field']}: {err['reason']}") + "\n")
    sys.stderr.write(
        f"{len(answers):,} households: {len(answers) - len(refused):,} calculated, "
        f"{len(refused):,} refused\n"
    )
    return len(refused)


def _write_lines(
    stream: Any,
    on: dt.date,
    header: list[dict[str, str]],
    answers: list[dict[str, Any]],
    notes: Any,
    refused: int,
) -> None:
    def line(value: Any) -> None:
        stream.write(json.dumps(mask_value(value), ensure_ascii=False) + "\n")

    line({"date": on.isoformat(), "programs": header})
    for row in answers:
        line(row)
    counts = {"households": len(answers), "calculated": len(answers) - refused, "refused": refused}
    line({"not_available": notes.not_available, "problems": notes.problems, "counts": counts})


def _write_table(out: Path, header: list[dict[str, str]], answers: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    ids = [p["id"] for p in header]
    cols: dict[str, list[Any]] = {k: [] for k in ("household_id", "region", "program", "eligible",
                                                  "amount_fen")}  # fmt: skip
    for row in answers:
        if "error" in row:
            continue
        for pid, eligible, amount in zip(ids, row["eligible"], row["amount_fen"], strict=True):
            cols["household_id"].append(mask_value(row["household_id"]))
            cols["region"].append(row["region"])
            cols["program"].append(pid)
            cols["eligible"].append(eligible)
            cols["amount_fen"].append(amount)
    table = pa.table({**cols, "amount_fen": pa.array(cols["amount_fen"], pa.int64())})
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        pcsv.write_csv(table, out)
    else:
        pq.write_table(table, out, compression="zstd")
