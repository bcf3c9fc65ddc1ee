"""A process reading a large county keeps the memory it frees (ADR 0030): how memory is taken
changes, never what is read or computed."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import numpy as np
import pytest

from safetynet.registry import county_data, memory
from safetynet.registry.county_data import read_county, write_county
from tests.registry.test_county_data import COUNTY, _county


def test_the_settings_are_applied_once_and_say_which_took() -> None:
    first = memory.keep_freed_memory()
    assert set(first) == {"malloc", "numpy_huge_pages_off"}
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert first["malloc"]
    assert memory.keep_freed_memory() == first
    # Large columns made and freed afterwards add up as before, to the fen.
    values = np.arange(5_000_000, dtype=np.int64)
    for _ in range(3):
        doubled = values * 2
        assert int(doubled.sum()) == 5_000_000 * 4_999_999
        del doubled


@pytest.mark.parametrize("large", [False, True])
def test_only_a_large_county_applies_them_and_reads_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, large: bool
) -> None:
    calls: list[int] = []

    def spy() -> dict[str, bool]:
        calls.append(1)
        return {}

    monkeypatch.setattr(county_data, "keep_freed_memory", spy)
    if large:
        monkeypatch.setattr(county_data, "LARGE_ROWS", 6)  # the county's six persons
    written = _county()
    write_county(tmp_path, written)
    read = read_county(tmp_path, COUNTY)
    assert calls == ([1] if large else [])
    assert read.population.p("birth_date").tolist() == written.population.p("birth_date").tolist()
    assert read.household_id.tolist() == [11, 12, 13]
