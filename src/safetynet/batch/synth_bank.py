"""A simulated bank for the demo and the benchmarks: it reads the bank files the payment roll
wrote (the fixed-width format of docs/payments.md) and answers with a return file (the CSV format
of docs/payments.md), as a bank does after booking the transfers.

Most transfers are booked on ``booked_on``; a share fails with a bank's reason (account closed,
name mismatch, account frozen); and, to show that reconciliation reports bad rows rather than
trusting them, ``bad_rows`` extra rows are planted: one naming an instruction that was never sent
and one answering the last transfer with a different amount (which then stays unanswered).
Deterministic for a seed.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from safetynet.errors import InputError

__all__ = ["FAILURES", "ReturnFile", "simulate_bank_return"]

HEADERS = (
    "批次号",
    "指令号",
    "银行账号",
    "金额分",
    "处理结果",
    "入账日期",
    "失败原因代码",
    "失败原因",
)
FAILURES = (
    ("A01", "账户已销户 (account closed)"),
    ("A02", "户名与账号不符 (name does not match the account)"),
    ("A03", "账户冻结 (account frozen)"),
)


@dataclass(frozen=True)
class ReturnFile:
    path: Path
    paid: int
    failed: int
    planted_bad_rows: int


@dataclass(frozen=True)
class _Detail:
    file_id: int
    instruction_id: int
    account: str
    amount_fen: int


def _details(path: Path) -> list[_Detail]:
    lines = path.read_bytes().decode("ascii").split("\r\n")
    header = lines[0]
    if not header.startswith("H"):
        raise InputError(str(path), "not a bank file: the first record is not a header")
    file_id = int(header[3:13])
    found = []
    for line in lines[1:]:
        if line.startswith("D"):
            found.append(_Detail(file_id, int(line[7:19]), line[61:80].strip(), int(line[80:95])))
    return found


def simulate_bank_return(
    bank_files: Sequence[Path],
    out: Path,
    booked_on: dt.date,
    *,
    failure_share: float = 0.01,
    bad_rows: bool = True,
    seed: int = 1,
) -> ReturnFile:
    """Write the return file for ``bank_files`` to ``out``."""
    details = [d for path in bank_files for d in _details(path)]
    rng = np.random.default_rng([seed, 5])
    fails = rng.random(len(details)) < failure_share
    reasons = rng.integers(0, len(FAILURES), len(details))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    planted = 0
    with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        # The last transfer is answered with a wrong amount instead (when bad rows are planted).
        answered = details[:-1] if bad_rows and details else details
        for i, d in enumerate(answered):
            row = [d.file_id, d.instruction_id, d.account, d.amount_fen]
            if fails[i]:
                code, text = FAILURES[reasons[i]]
                writer.writerow([*row, "失败", "", code, text])
            else:
                writer.writerow([*row, "成功", booked_on.isoformat(), "", ""])
        if bad_rows and details:
            first = details[0]
            never_sent = max(d.instruction_id for d in details) + 1_000_000
            writer.writerow([first.file_id, never_sent, first.account, first.amount_fen,
                             "成功", booked_on.isoformat(), "", ""])  # fmt: skip
            last = details[-1]
            writer.writerow([last.file_id, last.instruction_id, last.account,
                             last.amount_fen + 100, "成功", booked_on.isoformat(), "", ""])  # fmt: skip
            planted = 2
    tmp.replace(out)
    failed = int(fails[: len(answered)].sum())
    return ReturnFile(out, len(answered) - failed, failed, planted)
