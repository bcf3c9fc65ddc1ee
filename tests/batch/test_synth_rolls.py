"""A synthetic county's current roll: the caseload of the population, in the format the roll import
reads, with the rules core's amounts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from safetynet.batch import synth
from safetynet.batch.caseload import current_caseload
from safetynet.batch.synth_rolls import household_number, write_synthetic_roll
from safetynet.errors import InputError
from safetynet.policy.screening import load_parameter_values
from safetynet.registry.county_data import read_county
from safetynet.registry.rolls import read_roll, validate_roll

ROOT = Path(__file__).resolve().parents[2]
FALLBACKS = load_parameter_values(ROOT / "examples" / "illustrative_locality.yaml")
COUNTY = "310115"
ON = dt.date(2025, 9, 1)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rolls") / "population"
    synth.generate(out, 4_000, [COUNTY], seed=11, on=ON)
    return out


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_roll_lists_every_paid_household_with_the_rules_amount(
    snapshot: Path, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"roll{suffix}"
    counts = write_synthetic_roll(snapshot, "2025-09", path, fallbacks=FALLBACKS)
    data = read_county(snapshot, COUNTY)
    amounts, enrolled = current_caseload(data, ON, fallbacks=FALLBACKS)
    want = {
        (household_number(int(data.household_id[i])), pid): int(amounts[pid][i])
        for pid, paid in enrolled.items()
        for i in paid.nonzero()[0]
    }
    assert counts["dibao"] > 0
    assert counts["tekun"] > 0
    roll = validate_roll(read_roll(path), ON)  # what the import would take: every row good
    assert roll.quarantine == []
    assert {(e.household_no, e.program): e.amount_fen for e in roll.entries} == want
    assert {e.region for e in roll.entries} == {COUNTY}
    assert {e.start for e in roll.entries} == {ON}


def test_only_csv_or_xlsx(snapshot: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"csv or \.xlsx"):
        write_synthetic_roll(snapshot, "2025-09", tmp_path / "roll.txt")
