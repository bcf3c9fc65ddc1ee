"""Populations as Arrow tables and Parquet datasets partitioned by county.

The layout on disk (docs/batch.md):

    DIR/manifest.json
    DIR/persons/county=<code>/part-0.parquet      one row per person, grouped by household
    DIR/households/county=<code>/part-0.parquet   one row per household

Columns hold the engine's own representation (money in int64 fen, dates as int32 YYYYMMDD,
enumerations as int8 codes), so reading a county back into a ``Population`` copies nothing it does
not have to. ``household_id`` links persons to households; ``person_id`` and ``id_number`` identify
persons.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from safetynet.errors import InputError
from safetynet.policy.population import FIELDS, Entity, Population, declare_all_fields

MANIFEST = "manifest.json"
KEY_COLUMNS = {"household_id", "person_id", "id_number", "region", "county"}


@dataclass
class CountyData:
    """One county's snapshot: the population and the identifiers that go with it."""

    county: str
    population: Population
    household_id: np.ndarray  # int64, one per household
    region: np.ndarray  # str, the household's 6-digit region code
    person_id: np.ndarray  # int64, one per person
    id_number: np.ndarray | None  # str, one per person (None where the source has none)


def population_to_tables(data: CountyData) -> tuple[pa.Table, pa.Table]:
    pop = data.population
    persons: dict[str, Any] = {
        "household_id": data.household_id[pop.household_of],
        "person_id": data.person_id,
    }
    if data.id_number is not None:
        persons["id_number"] = data.id_number
    for f in FIELDS.all(Entity.PERSON):
        persons[f.name] = pop.p(f.name)
    households: dict[str, Any] = {"household_id": data.household_id, "region": data.region}
    for f in FIELDS.all(Entity.HOUSEHOLD):
        households[f.name] = pop.h(f.name)
    return pa.table(persons), pa.table(households)


def write_county(root: Path, data: CountyData) -> None:
    persons, households = population_to_tables(data)
    for name, table in (("persons", persons), ("households", households)):
        folder = root / name / f"county={data.county}"
        folder.mkdir(parents=True, exist_ok=True)
        write_parquet(table, folder / "part-0.parquet")  # a county appears whole or not at all


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` atomically: a reader sees the old file or the new, whole."""
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)


def write_manifest(root: Path, info: dict[str, Any]) -> None:
    (root / MANIFEST).write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")


def read_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    if not path.is_file():
        raise InputError(str(root), f"not a population dataset: {MANIFEST} is missing")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def counties(root: Path) -> list[str]:
    folder = root / "households"
    if not folder.is_dir():
        raise InputError(str(root), "not a population dataset: households/ is missing")
    return sorted(p.name.split("=", 1)[1] for p in folder.glob("county=*") if p.is_dir())


def choose_counties(root: Path, only: Sequence[str] | None = None) -> list[str]:
    """The counties of the dataset, or those of ``only``, each checked to be in it."""
    known = counties(root)
    for county in only or ():
        if county not in known:
            raise InputError("--county", f"{county} is not in the snapshot {root}")
    return list(only) if only else known


def read_county(root: Path, county: str) -> CountyData:
    """Read one county back into columns, checking the schema against the declared fields.

    Each Arrow column is let go as soon as it is in NumPy (where it had to be copied, the two
    would otherwise be held together); regions come as fixed-width text, each distinct code made
    once (a county has one or a few), not a Python string per household."""
    declare_all_fields()
    persons = pq.read_table(root / "persons" / f"county={county}" / "part-0.parquet")
    households = pq.read_table(root / "households" / f"county={county}" / "part-0.parquet")
    where = f"{root}/county={county}"
    hh_ids = households.column("household_id").to_numpy()
    p_hh = persons.column("household_id").to_numpy()
    if len(p_hh) and np.any(p_hh[1:] < p_hh[:-1]):
        raise InputError(where, "persons must be grouped by household_id in ascending order")
    index = np.searchsorted(hh_ids, p_hh)
    if (
        len(hh_ids) == 0
        or np.any(index >= len(hh_ids))
        or np.any(hh_ids[np.minimum(index, len(hh_ids) - 1)] != p_hh)
    ):
        raise InputError(where, "a person refers to a household that is not in households/")
    # Persons come in ascending household order, so the households with members are counted by
    # the steps of ``index`` (no sort of every person).
    with_members = 1 + int(np.count_nonzero(np.diff(index))) if len(index) else 0
    if with_members != len(hh_ids):
        raise InputError(where, "a household has no members")
    del p_hh
    pop = Population()
    pop.household_of = index.astype(np.int64, copy=False)
    person_id = persons.column("person_id").to_numpy().astype(np.int64, copy=False)
    id_number = (
        persons.column("id_number").to_numpy(zero_copy_only=False)
        if "id_number" in persons.column_names
        else None
    )
    region = _region_codes(households.column("region"), where)
    # Handed over, not shared: _fields frees each Arrow column once it is in NumPy.
    tables = [households, persons]
    del households, persons
    pop.persons = _fields(tables.pop(), Entity.PERSON, where)
    pop.households = _fields(tables.pop(), Entity.HOUSEHOLD, where)
    return CountyData(
        county=county,
        population=pop,
        household_id=hh_ids.astype(np.int64, copy=False),
        region=region,
        person_id=person_id,
        id_number=id_number,
    )


def _fields(table: pa.Table, entity: Entity, where: str) -> dict[str, np.ndarray]:
    """The declared input fields of ``table`` as NumPy columns of their declared types; the
    table's own reference to each column is dropped once it is converted."""
    out: dict[str, np.ndarray] = {}
    for name in table.column_names:
        if name in KEY_COLUMNS:
            continue
        if name not in FIELDS:
            raise InputError(f"{where}: column {name}", "is not a declared input field")
        f = FIELDS.get(name)
        if f.entity is not entity:
            raise InputError(f"{where}: column {name}", f"is a {f.entity} field")
        out[name] = table.column(name).to_numpy().astype(f.dtype(), copy=False)
        table = table.drop_columns([name])
    return out


def _region_codes(column: pa.ChunkedArray, where: str) -> np.ndarray:
    """Each household's region code as fixed-width text (NumPy ``U``)."""
    if column.null_count:
        raise InputError(f"{where}: column region", "a household has no region")
    encoded = column.combine_chunks().dictionary_encode()
    codes = np.array(encoded.dictionary.to_pylist(), dtype=np.str_)
    indices: np.ndarray = encoded.indices.to_numpy()
    region: np.ndarray = codes[indices] if len(codes) else np.zeros(0, dtype="U6")
    return region


def iter_counties(root: Path, only: list[str] | None = None) -> Iterator[CountyData]:
    known = counties(root)
    for county in only or known:
        if county not in known:
            raise InputError("--county", f"{county} is not in the dataset {root}")
        yield read_county(root, county)
