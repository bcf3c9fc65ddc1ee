"""How a process that works on large county columns takes and gives back memory (ADR 0030).

The rules make many short-lived columns of a county's size: a comparison, a sum, a choice per
person. Above 32 MiB (4 M values of int64) the C library maps each one afresh and unmaps it when
freed, so every new column's pages are faulted in and zeroed by the kernel, one by one, again and
again; NumPy also asks for huge pages on such columns, and a huge page is zeroed whole, 2 MiB at once, on its first
touch. On a virtual machine each of those faults can cost more than the arithmetic it serves: at
13 M persons (dibao, 5 M households) the kernel's page clearing was 60 % of the process's time.

``keep_freed_memory`` makes the process keep what it frees and reuse it: the C library serves
every block from its heap and does not hand freed memory back (``mallopt``), and NumPy stops asking
for huge pages. It changes how memory is taken, never what is computed, and is applied once per
process, only by the paths that read a large county (``county_data.read_county``): a one-household
call never reaches it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Any

import numpy as np

LARGE_ROWS = 4 * 2**20
"""A county file of at least this many rows makes columns past the C library's largest heap
block (32 MiB of int64); smaller ones are served from its heap already."""

_M_TRIM_THRESHOLD = -1  # glibc <malloc.h>
_M_MMAP_MAX = -4
_KEEP_BYTES = 2**31 - 1  # the most mallopt takes: the heap's free top is kept below 2 GiB

_applied: dict[str, bool] = {}  # what was applied, once per process


def keep_freed_memory() -> dict[str, bool]:
    """Apply the settings once per process; which of them took (a C library other than glibc, or
    a NumPy without the switch, leaves that one alone)."""
    if not _applied:
        _applied["malloc"] = _glibc_keeps_freed()
        _applied["numpy_huge_pages_off"] = _numpy_without_huge_pages()
    return dict(_applied)


def _glibc_keeps_freed() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt: Any = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # Every block from the heap (no mapping per large block), and the heap's free top kept.
    trim = mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES)
    heap = mallopt(_M_MMAP_MAX, 0)
    return bool(trim and heap)


def _numpy_without_huge_pages() -> bool:
    setter: Any = getattr(getattr(np, "_core", None), "multiarray", None)
    setter = getattr(setter, "_set_madvise_hugepage", None)
    if setter is None:
        return False
    setter(False)
    return True
