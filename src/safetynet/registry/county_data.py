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
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from safetynet.errors import InputError
from safetynet.policy.population import FIELDS, Entity, Population, declare_all_fields
from safetynet.registry.memory import LARGE_ROWS, keep_freed_memory

MANIFEST = "manifest.json"
WHOLE_READ_BYTES = 512 * 2**20
"""A county file whose unread fields hold at most this much (rows × bytes per value) is read
whole on the first field asked for; a larger one, column by column (ADR 0026)."""
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

    Only the keys are read here. Each declared field is read from the file the first time a
    program asks for it (``ParquetColumns``): a run of one program reads that program's inputs,
    never the other columns of the file, and a column is read alone, so the reader never holds
    the Arrow buffers of more than one column at a time. A column that the file's own statistics
    show to hold nothing but its field's default is not read at all: it is that default, as for
    a field the file does not have. Regions come as fixed-width text, each distinct code made once
    (a county has one or a few), not a Python string per household."""
    declare_all_fields()
    where = f"{root}/county={county}"
    persons = pq.ParquetFile(root / "persons" / f"county={county}" / "part-0.parquet")
    households = pq.ParquetFile(
        root / "households" / f"county={county}" / "part-0.parquet", read_dictionary=["region"]
    )
    if persons.metadata.num_rows >= LARGE_ROWS:
        keep_freed_memory()  # before the first large column (ADR 0030)
    hh_ids = _column(households, "household_id").astype(np.int64, copy=False)
    p_hh = _column(persons, "household_id")
    if len(p_hh) and np.any(p_hh[1:] < p_hh[:-1]):
        raise InputError(where, "persons must be grouped by household_id in ascending order")
    index = _household_rows(hh_ids, p_hh, where)
    del p_hh
    pop = Population()
    pop.household_of = index
    person_id = _column(persons, "person_id").astype(np.int64, copy=False)
    names = persons.schema_arrow.names
    id_number = _column(persons, "id_number") if "id_number" in names else None
    region = _region_codes(_chunked(households, "region"), where)
    pop.persons = ParquetColumns(persons, Entity.PERSON, where)
    pop.households = ParquetColumns(households, Entity.HOUSEHOLD, where)
    return CountyData(
        county=county,
        population=pop,
        household_id=hh_ids,
        region=region,
        person_id=person_id,
        id_number=id_number,
    )


def _household_rows(hh_ids: np.ndarray, p_hh: np.ndarray, where: str) -> np.ndarray:
    """Each person's household row. Persons come in ascending household order, so the row is the
    count of household changes before the person (one pass, no search); that it names the same
    household is then checked in one more pass."""
    index = np.zeros(len(p_hh), dtype=np.int64)
    if len(p_hh):
        np.cumsum(p_hh[1:] != p_hh[:-1], out=index[1:])
    if len(p_hh) and int(index[-1]) + 1 == len(hh_ids) and np.array_equal(hh_ids[index], p_hh):
        return index
    # Something is wrong: name it as a reader would see it.
    found = np.searchsorted(hh_ids, p_hh)
    if (
        len(hh_ids) == 0
        or np.any(found >= len(hh_ids))
        or np.any(hh_ids[np.minimum(found, len(hh_ids) - 1)] != p_hh)
    ):
        raise InputError(where, "a person refers to a household that is not in households/")
    raise InputError(where, "a household has no members")


def _chunked(file: pq.ParquetFile, name: str) -> pa.ChunkedArray:
    return file.read(columns=[name], use_threads=False).column(0)


def _column(file: pq.ParquetFile, name: str) -> np.ndarray:
    column: np.ndarray = _chunked(file, name).to_numpy()  # one copy where there are chunks
    return column


class ParquetColumns(MutableMapping[str, np.ndarray]):
    """The declared fields of one county file, each read when first asked for (then kept).

    It iterates and copies as a mapping of every column the file has (``Population.take`` reads
    them all); pickled, it is a plain dict of those columns."""

    def __init__(self, file: pq.ParquetFile, entity: Entity, where: str) -> None:
        self._file = file
        self._where = where
        self._read: dict[str, np.ndarray] = {}
        self._unread: dict[str, int] = {}  # name -> its column in the file
        for i, name in enumerate(file.schema_arrow.names):
            if name in KEY_COLUMNS:
                continue
            if name not in FIELDS:
                raise InputError(f"{where}: column {name}", "is not a declared input field")
            f = FIELDS.get(name)
            if f.entity is not entity:
                raise InputError(f"{where}: column {name}", f"is a {f.entity} field")
            self._unread[name] = i

    def __getitem__(self, name: str) -> np.ndarray:
        found = self._read.get(name)
        if found is not None:
            return found
        if name not in self._unread:
            raise KeyError(name)
        f = FIELDS.get(name)
        if self._only_default(self._unread[name], f):
            value = np.array(f.default_value(), dtype=f.dtype())
            column: np.ndarray = np.broadcast_to(value, (self._file.metadata.num_rows,))
        elif self._small():
            # A small file is read whole on the first field asked for, its columns decoded in
            # parallel (one thread per core): cheaper than one column at a time, and its Arrow
            # buffers are few.
            self._read_all()
            return self._read[name]
        else:
            column = self._convert(name, _chunked(self._file, name))
        del self._unread[name]
        self._read[name] = column
        return column

    def read_ahead(self, names: Iterable[str]) -> None:
        """Read the fields among ``names`` not read yet, in one read whose columns are decoded in
        parallel (one thread per core), as a program about to read them all asks
        (``Population.read_ahead``): one column at a time leaves the second core idle. A column
        the file shows to be all default stays the default; a small file is left to be read
        whole on the next field asked for; a column that does not convert is left unread, to be
        named when it is asked for."""
        if self._small():
            return
        wanted = [
            name
            for name in dict.fromkeys(names)
            if name in self._unread and not self._only_default(self._unread[name], FIELDS.get(name))
        ]
        if len(wanted) < 2:
            return
        table = self._file.read(columns=wanted, use_threads=True)
        for name in wanted:
            chunked = table.column(name)
            table = table.drop_columns([name])  # freed once converted
            try:
                column = self._convert(name, chunked)
            except InputError:
                continue
            del self._unread[name]
            self._read[name] = column

    def _small(self) -> bool:
        rows = self._file.metadata.num_rows
        width = sum(np.dtype(FIELDS.get(name).dtype()).itemsize for name in self._unread)
        return bool(rows * width <= WHOLE_READ_BYTES)

    def _read_all(self) -> None:
        """Every column not yet read and not shown to be all default, in one parallel read."""
        wanted = [n for n, i in self._unread.items() if not self._only_default(i, FIELDS.get(n))]
        table = self._file.read(columns=wanted, use_threads=True)
        for name in wanted:
            chunked = table.column(name)
            table = table.drop_columns([name])  # freed once converted
            self._read[name] = self._convert(name, chunked)
            del self._unread[name]

    def _convert(self, name: str, chunked: pa.ChunkedArray) -> np.ndarray:
        try:
            column: np.ndarray = chunked.to_numpy().astype(FIELDS.get(name).dtype(), copy=False)
        except (pa.ArrowInvalid, TypeError, ValueError) as e:
            raise InputError(f"{self._where}: column {name}", f"cannot be read: {e}") from e
        return column

    def _only_default(self, i: int, f: Any) -> bool:
        """The file's statistics show every row of column ``i`` to be the field's default."""
        if f.default is None:
            return False
        meta = self._file.metadata
        if meta.num_row_groups == 0:
            return False
        default = np.array(f.default_value(), dtype=f.dtype())
        for g in range(meta.num_row_groups):
            stats = meta.row_group(g).column(i).statistics
            if stats is None or not stats.has_min_max or stats.null_count != 0:
                return False
            low = np.array(stats.min, dtype=f.dtype())
            high = np.array(stats.max, dtype=f.dtype())
            if not (low == default and high == default):
                return False
        return True

    def __setitem__(self, name: str, value: np.ndarray) -> None:
        self._unread.pop(name, None)
        self._read[name] = value

    def __delitem__(self, name: str) -> None:
        if name in self._unread:
            del self._unread[name]
        else:
            del self._read[name]

    def __iter__(self) -> Iterator[str]:
        yield from list(self._read)
        yield from list(self._unread)

    def __len__(self) -> int:
        return len(self._read) + len(self._unread)

    def __contains__(self, name: object) -> bool:
        return name in self._read or name in self._unread

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self.items()),))


def _region_codes(column: pa.ChunkedArray, where: str) -> np.ndarray:
    """Each household's region code as fixed-width text (NumPy ``U``), made from the column's
    dictionary (read as such: a county has one or a few codes, never a string per household)."""
    if column.null_count:
        raise InputError(f"{where}: column region", "a household has no region")
    if not pa.types.is_dictionary(column.type):
        column = pa.chunked_array([c.dictionary_encode() for c in column.chunks])
    column = column.unify_dictionaries()
    if column.num_chunks == 0 or len(column) == 0:
        return np.zeros(0, dtype="U6")
    codes = np.array(column.chunk(0).dictionary.to_pylist(), dtype=np.str_)
    indices = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in column.chunks])
    region: np.ndarray = codes[indices]
    return region


def iter_counties(root: Path, only: list[str] | None = None) -> Iterator[CountyData]:
    known = counties(root)
    for county in only or known:
        if county not in known:
            raise InputError("--county", f"{county} is not in the dataset {root}")
        yield read_county(root, county)
