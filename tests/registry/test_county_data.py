"""A county read back from its Parquet files is the county written, and a damaged one is refused
with the reason."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from safetynet.errors import InputError
from safetynet.policy.population import Population, declare_all_fields
from safetynet.registry import county_data
from safetynet.registry.county_data import CountyData, read_county, write_county

COUNTY = "110105"


def _county() -> CountyData:
    declare_all_fields()
    pop = Population()
    pop.household_of = np.array([0, 0, 1, 2, 2, 2], dtype=np.int64)
    pop.persons = {
        "birth_date": np.array([19600101, 19620505, 19900101, 19800101, 20100101, 20150101],
                               dtype=np.int32),
        "sex": np.array([1, 2, 1, 2, 1, 2], dtype=np.int8),
    }  # fmt: skip
    pop.households = {
        "financial_assets": np.array([0, 120_000, 5_000_00], dtype=np.int64),
        "is_dibao_recipient": np.array([True, False, True]),
    }
    return CountyData(
        county=COUNTY,
        population=pop,
        household_id=np.array([11, 12, 13], dtype=np.int64),
        region=np.array(["110105", "110105", "110106"], dtype=object),
        person_id=np.arange(101, 107, dtype=np.int64),
        id_number=None,
    )


def test_a_county_reads_back_as_it_was_written(tmp_path: Path) -> None:
    written = _county()
    write_county(tmp_path, written)
    read = read_county(tmp_path, COUNTY)
    assert read.household_id.tolist() == [11, 12, 13]
    assert read.person_id.tolist() == written.person_id.tolist()
    assert read.population.household_of.tolist() == [0, 0, 1, 2, 2, 2]
    # Regions as text, each household its own code.
    assert [str(r) for r in read.region] == ["110105", "110105", "110106"]
    assert read.region[2] == "110106"
    for name, column in written.population.persons.items():
        assert read.population.p(name).tolist() == column.tolist()
        assert read.population.p(name).dtype == column.dtype
    for name, column in written.population.households.items():
        assert read.population.h(name).tolist() == column.tolist()


def _damage(root: Path, entity: str, change: dict[str, pa.Array]) -> None:
    path = root / entity / f"county={COUNTY}" / "part-0.parquet"
    table = pq.read_table(path)
    for name, values in change.items():
        table = table.set_column(table.column_names.index(name), name, values)
    pq.write_table(table, path)


@pytest.mark.parametrize(
    ("entity", "change", "reason"),
    [
        # Household 12's only member moved to household 11: 12 has nobody.
        ("persons", {"household_id": pa.array([11, 11, 11, 13, 13, 13], pa.int64())},
         "a household has no members"),
        ("persons", {"household_id": pa.array([11, 11, 14, 14, 14, 14], pa.int64())},
         "a person refers to a household that is not in households/"),
        ("persons", {"household_id": pa.array([11, 12, 11, 13, 13, 13], pa.int64())},
         "persons must be grouped by household_id in ascending order"),
        ("households", {"region": pa.array(["110105", None, "110106"], pa.string())},
         "a household has no region"),
    ],
)  # fmt: skip
def test_a_damaged_county_is_refused_with_its_reason(
    tmp_path: Path, entity: str, change: dict[str, pa.Array], reason: str
) -> None:
    write_county(tmp_path, _county())
    _damage(tmp_path, entity, change)
    with pytest.raises(InputError, match=reason):
        read_county(tmp_path, COUNTY)


def _columns_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    read = pq.ParquetFile.read

    def spy(self: pq.ParquetFile, columns: list[str] | None = None, **kw: object) -> pa.Table:
        seen.extend(columns or self.schema_arrow.names)
        return read(self, columns=columns, **kw)

    monkeypatch.setattr(pq.ParquetFile, "read", spy)
    return seen


def test_a_field_is_read_from_the_file_only_when_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(county_data, "WHOLE_READ_BYTES", 0)  # read as a large county is
    write_county(tmp_path, _county())
    seen = _columns_read(monkeypatch)
    read = read_county(tmp_path, COUNTY)
    keys = {"household_id", "person_id", "region"}
    assert set(seen) == keys  # the keys only: no field yet
    assert read.population.p("birth_date").tolist()[:2] == [19600101, 19620505]
    assert set(seen) == keys | {"birth_date"}
    read.population.p("birth_date")
    assert seen.count("birth_date") == 1  # kept once read


def test_a_column_the_file_shows_to_be_all_default_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    county = _county()
    county.population.households["is_dibao_recipient"] = np.zeros(3, dtype=np.bool_)
    write_county(tmp_path, county)
    seen = _columns_read(monkeypatch)
    pop = read_county(tmp_path, COUNTY).population
    assert pop.h("is_dibao_recipient").tolist() == [False, False, False]
    assert pop.h("financial_assets").tolist() == [0, 120_000, 5_000_00]
    assert "is_dibao_recipient" not in seen
    assert "financial_assets" in seen
    # Like a field the file does not have: one value, seen read-only.
    with pytest.raises(ValueError, match="read-only"):
        pop.h("is_dibao_recipient")[0] = True


def test_the_columns_iterate_copy_and_pickle_as_every_column_of_the_file(tmp_path: Path) -> None:
    written = _county()
    write_county(tmp_path, written)
    pop = read_county(tmp_path, COUNTY).population
    assert sorted(pop.persons) == sorted(written.population.persons)
    one = pop.take(np.array([2]))  # household 13, three members: every column taken
    assert one.p("sex").tolist() == [2, 1, 2]
    assert one.h("financial_assets").tolist() == [5_000_00]
    again = pickle.loads(pickle.dumps(pop))
    assert isinstance(again.persons, dict)
    assert {k: v.tolist() for k, v in again.persons.items()} == {
        k: v.tolist() for k, v in pop.persons.items()
    }


def test_a_damaged_column_is_named_when_it_is_read_and_spares_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_county(tmp_path, _county())
    _damage(tmp_path, "persons", {"sex": pa.array(["m", "f", "m", "f", "m", "f"], pa.string())})
    # A small county is read whole on the first field asked for: the damaged column is named.
    with pytest.raises(InputError, match="column sex"):
        read_county(tmp_path, COUNTY).population.p("birth_date")
    # A large one is read column by column: a program reading birth dates runs.
    monkeypatch.setattr(county_data, "WHOLE_READ_BYTES", 0)
    pop = read_county(tmp_path, COUNTY).population
    assert pop.p("birth_date").tolist()[0] == 19600101
    with pytest.raises(InputError, match="column sex"):
        pop.p("sex")


def test_a_small_county_is_read_whole_on_the_first_field_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_county(tmp_path, _county())
    seen = _columns_read(monkeypatch)
    pop = read_county(tmp_path, COUNTY).population
    pop.p("sex")
    assert set(seen) == {"household_id", "person_id", "region", "birth_date", "sex"}
    pop.p("birth_date")  # already read with the first
    assert seen.count("birth_date") == 1


def test_fields_read_ahead_come_in_one_read_and_equal_those_read_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(county_data, "WHOLE_READ_BYTES", 0)  # read as a large county is
    county = _county()
    county.population.households["is_dibao_recipient"] = np.zeros(3, dtype=np.bool_)
    write_county(tmp_path, county)
    alone = read_county(tmp_path, COUNTY).population
    expected = {name: alone.p(name) for name in ("sex", "birth_date")}  # one column at a time
    calls: list[list[str]] = []
    read = pq.ParquetFile.read

    def spy(self: pq.ParquetFile, columns: list[str] | None = None, **kw: object) -> pa.Table:
        calls.append(list(columns or []))
        return read(self, columns=columns, **kw)

    monkeypatch.setattr(pq.ParquetFile, "read", spy)
    pop = read_county(tmp_path, COUNTY).population
    calls.clear()
    pop.read_ahead(["sex", "birth_date", "is_dibao_recipient", "financial_assets", "no_such"])
    assert calls == [["sex", "birth_date"]]  # one read of both; the households' one is alone
    for name, column in expected.items():
        assert pop.p(name).tolist() == column.tolist()
        assert pop.p(name).dtype == column.dtype
    assert pop.h("is_dibao_recipient").strides == (0,)  # all default: still not read
    assert pop.h("financial_assets").tolist() == [0, 120_000, 5_000_00]  # one alone: when asked
    assert calls == [["sex", "birth_date"], ["financial_assets"]]


def test_a_damaged_column_read_ahead_is_left_to_be_named_when_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(county_data, "WHOLE_READ_BYTES", 0)
    write_county(tmp_path, _county())
    _damage(tmp_path, "persons", {"sex": pa.array(["m", "f", "m", "f", "m", "f"], pa.string())})
    pop = read_county(tmp_path, COUNTY).population
    pop.read_ahead(["sex", "birth_date"])
    assert pop.p("birth_date").tolist()[0] == 19600101
    with pytest.raises(InputError, match="column sex"):
        pop.p("sex")


def test_a_small_county_or_a_population_in_memory_ignores_reading_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_county(tmp_path, _county())
    seen = _columns_read(monkeypatch)
    pop = read_county(tmp_path, COUNTY).population
    pop.read_ahead(["sex", "birth_date"])
    assert set(seen) == {"household_id", "person_id", "region"}  # read whole when first asked
    memory = _county().population
    memory.read_ahead(["sex"])
    assert memory.p("sex").tolist() == [1, 2, 1, 2, 1, 2]
