"""Dated, cited, region-overridable parameters: loading the YAML tree and looking values up.

A lookup is (name, date, region) → value, taken from the most specific level that has a value in
force: overrides → county → prefecture city → province → nation (see docs/parameters.md).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import difflib
import functools
import hashlib
import os
import pickle
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from safetynet.domain.calendar import STATUTORY_PARAMETER, install_statutory_holidays
from safetynet.domain.money import Rounding, yuan_to_fen
from safetynet.domain.regions import NATION_CODE, RegionRegistry, default_registry
from safetynet.errors import CoverageError, InputError, SafetyNetError, UnknownNameError

NATION = "000000"
OVERRIDE = "override"

UNITS = frozenset(
    {
        "yuan",
        "yuan/month",
        "yuan/year",
        "yuan/day",
        "ratio",
        "months",
        "minutes",
        "days",
        "working_days",
        "years",
        "count",
        "bool",
        "choice",
        "rounding",
        "table",
        "scale",
    }
)
MONEY_UNITS = frozenset({"yuan", "yuan/month", "yuan/year", "yuan/day"})


class Provenance(StrEnum):
    """How far a figure can be trusted: the provenance tag of docs/parameters.md."""

    SOURCE = "S"  # read in an official source
    UNVERIFIED = "M"  # not yet checked against a source
    ILLUSTRATIVE = "I"  # chosen for an example; never an official figure


class ParameterFileError(SafetyNetError):
    """A parameter file is malformed: the message names the file, the parameter and the reason."""


@dataclass(frozen=True, slots=True)
class Reference:
    title: str
    article: str = ""
    url: str = ""
    note: str = ""

    def cite(self) -> str:
        parts = [self.title]
        if self.article:
            parts.append(self.article)
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class DatedValue:
    start: dt.date
    value: Any  # None ends coverage
    provenance: Provenance
    references: tuple[Reference, ...]


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """The national definition of a parameter: what it means and in which unit."""

    name: str
    description: str
    unit: str
    table_unit: str = ""
    scale_unit: str = ""
    choices: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()  # a table's keys where the national rule fixes them


@dataclass(frozen=True, slots=True)
class Resolved:
    """One looked-up value with everything needed to cite it."""

    name: str
    value: Any
    unit: str
    level: str  # region code of the level that answered, NATION, or OVERRIDE
    start: dt.date | None
    provenance: Provenance
    references: tuple[Reference, ...]
    description: str
    item_unit: str = ""  # the unit of a table's or a scale's values

    def cite(self) -> str:
        refs = "; ".join(r.cite() for r in self.references) or "no reference"
        flag = {
            Provenance.SOURCE: "",
            Provenance.UNVERIFIED: " [M: unverified]",
            Provenance.ILLUSTRATIVE: " [I: illustrative, not official]",
        }[self.provenance]
        return refs + flag


@dataclass
class ParameterTree:
    """All parameters: national specs and the dated values of every level."""

    specs: dict[str, ParameterSpec] = field(default_factory=dict)
    # level code → name → ascending list of dated values
    levels: dict[str, dict[str, list[DatedValue]]] = field(default_factory=dict)
    region_names: dict[str, str] = field(default_factory=dict)
    # The tree does not change once loaded, so lookups without overrides are memoized.
    _memo: dict[tuple[str, dt.date, tuple[str, ...]], Resolved] = field(
        default_factory=dict, repr=False
    )
    # ... and so are the lookups that find no value in force (a new error each time, the same
    # message): a screen asks for the same missing local values for every household.
    _missing: dict[tuple[str, dt.date, tuple[str, ...]], CoverageError] = field(
        default_factory=dict, repr=False
    )

    def names(self) -> list[str]:
        return sorted(self.specs)

    def spec(self, name: str) -> ParameterSpec:
        try:
            return self.specs[name]
        except KeyError:
            raise UnknownNameError("parameter", name, _did_you_mean(name, self.specs)) from None

    def history(self, name: str, level: str) -> list[DatedValue]:
        return self.levels.get(level, {}).get(name, [])

    def resolve(
        self,
        name: str,
        on: dt.date,
        lineage: Sequence[str],
        overrides: Mapping[str, Any] | None = None,
    ) -> Resolved:
        """The value in force on ``on`` at the most specific level of ``lineage`` (nation first)."""
        if overrides and name in overrides:
            return self._override(name, overrides[name])
        key = (name, on, tuple(lineage))
        hit = self._memo.get(key)
        if hit is None:
            missing = self._missing.get(key)
            if missing is not None:
                raise copy.copy(missing)
            try:
                hit = self._memo[key] = self._lookup(name, on, lineage)
            except CoverageError as exc:
                self._missing[key] = copy.copy(exc)
                raise
        return hit

    def _override(self, name: str, value: Any) -> Resolved:
        spec = self.spec(name)
        return Resolved(
            name,
            value,
            spec.unit,
            OVERRIDE,
            None,
            Provenance.ILLUSTRATIVE,
            (Reference("value supplied by the user for this calculation"),),
            spec.description,
            spec.table_unit or spec.scale_unit,
        )

    def _lookup(self, name: str, on: dt.date, lineage: Sequence[str]) -> Resolved:
        spec = self.spec(name)
        for level in reversed(lineage):
            found = _in_force(self.history(name, level), on)
            if found is not None:
                if found.value is None:
                    break
                return Resolved(
                    name,
                    found.value,
                    spec.unit,
                    level,
                    found.start,
                    found.provenance,
                    found.references,
                    spec.description,
                    spec.table_unit or spec.scale_unit,
                )
        region = lineage[-1] if lineage else NATION
        earliest = [
            v.start for lv in lineage for v in self.history(name, lv) if v.value is not None
        ]
        hint = f" (earliest value from {min(earliest)})" if earliest else ""
        message = (
            f"parameter {name} has no value in force on {on.isoformat()} for region {region} "
            f"or the levels above it{hint}; set it for the region or pass --set {name}=VALUE"
        )
        if not any(v.value is not None for v in self.history(name, NATION)):
            raise LocalValueMissingError(message, name, region)
        raise CoverageError(message)


class LocalValueMissingError(CoverageError):
    """A parameter only localities set (no national value at all) has none in force for the
    region: where a program needs it, it is not eligible there (``engine.compute``)."""

    def __init__(self, message: str, parameter: str, region: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.region = region

    def __reduce__(self) -> tuple[Any, ...]:  # copied and pickled whole (ParameterTree._missing)
        return (type(self), (str(self), self.parameter, self.region))


def _in_force(history: list[DatedValue], on: dt.date) -> DatedValue | None:
    current = None
    for item in history:
        if item.start <= on:
            current = item
        else:
            break
    return current


def _did_you_mean(name: str, known: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    return f"did you mean {', '.join(close)}?" if close else "see `safetynet params list`"


# ---------------------------------------------------------------------------------------------
# Loading


def _parameters_root() -> Traversable:
    return resources.files("safetynet.policy") / "parameters"


@functools.cache
def default_tree() -> ParameterTree:
    """The parameters shipped with the package (loaded once per process, on first use): from the
    compiled cache when the YAML files have not changed since it was written (``cached_tree``)."""
    root = _parameters_root()
    return cached_tree(root, lambda: load_tree(root, default_registry()))


CACHE_ENV = "SAFETYNET_PARAMETER_CACHE"
"""A folder for the compiled parameter tree, or ``off``; default ``$XDG_CACHE_HOME/safetynet``
(else ``~/.cache/safetynet``)."""
_CACHE_FORMAT = b"safetynet-parameter-tree-1"


def parameter_cache_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """Where the compiled tree is kept (None: the cache is off)."""
    env = os.environ if environ is None else environ
    chosen = env.get(CACHE_ENV, "")
    if chosen.strip().lower() == "off":
        return None
    if chosen:
        return Path(chosen)
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "safetynet"


def tree_fingerprint(root: Traversable) -> str:
    """A hash of every YAML file under ``root`` (path and bytes), of the region list and of this
    module's own source: any change to what the tree is compiled from gives another key."""
    digest = hashlib.sha256(_CACHE_FORMAT)
    digest.update(sys.version.encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(_region_source_bytes())
    for path, rel in _yaml_files(root):
        name = "/".join(rel).encode()
        data = path.read_bytes()
        digest.update(len(name).to_bytes(8, "little") + name + len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def _region_source_bytes() -> bytes:
    """The files the region registry is read from (the tree checks region codes against it)."""
    import safetynet.domain.regions as regions_module  # read when the cache key is computed, not at import

    data = resources.files("safetynet.domain") / "data" / "regions.csv"
    return Path(regions_module.__file__).read_bytes() + data.read_bytes()


def cached_tree(
    root: Traversable, build: Callable[[], ParameterTree], folder: Path | None = None
) -> ParameterTree:
    """The tree compiled from ``root``: read from the cache file keyed by ``tree_fingerprint``, or
    built (``build``) and written there atomically for the next process. A cache that cannot be
    read or written is ignored: the tree is then built from the YAML, as without a cache."""
    folder = folder if folder is not None else parameter_cache_dir()
    if folder is None:
        return build()
    path = folder / f"parameters-{tree_fingerprint(root)}.pickle"
    with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, AttributeError):
        with path.open("rb") as handle:
            tree = pickle.load(handle)
        if isinstance(tree, ParameterTree):
            return tree
    tree = build()
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tree._memo.clear()
        tree._missing.clear()
        tmp.write_bytes(pickle.dumps(tree, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(path)
    return tree


def load_tree(root: Traversable, regions: RegionRegistry, *more: Traversable) -> ParameterTree:
    """The parameters of ``root`` and of any ``more`` folders of the same layout (a deployment's
    own programs bring their parameters: ``<tier>/<group>.yaml`` and ``regions/<code>.yaml``)."""
    tree = ParameterTree()
    national: dict[str, list[DatedValue]] = {}
    roots = (root, *more)
    for folder in roots:
        for path, rel in _yaml_files(folder):
            if rel[0] == "regions":
                continue
            doc = _read_yaml(path, "/".join(rel))
            prefix = ".".join([*rel[:-1], rel[-1].removesuffix(".yaml")])
            _load_node(doc, prefix, "/".join(rel), tree, national)
    tree.levels[NATION] = national
    for folder in roots:
        regions_dir = folder / "regions"
        if regions_dir.is_dir():
            for path, rel in _yaml_files(regions_dir):
                label = "regions/" + "/".join(rel)
                _load_region(_read_yaml(path, label), "/".join(rel), tree, regions)
    return tree


def shipped_tree_with(*more: Traversable) -> ParameterTree:
    """The shipped parameters together with those of ``more`` folders (``load_tree``)."""
    return load_tree(_parameters_root(), default_registry(), *more)


def _yaml_files(
    root: Traversable, rel: tuple[str, ...] = ()
) -> Iterator[tuple[Traversable, tuple[str, ...]]]:
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from _yaml_files(entry, (*rel, entry.name))
        elif entry.name.endswith(".yaml"):
            yield entry, (*rel, entry.name)


def _read_yaml(path: Traversable, label: str) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParameterFileError(f"{label}: not valid YAML: {exc}") from None


def _load_node(
    node: Any, name: str, file: str, tree: ParameterTree, national: dict[str, list[DatedValue]]
) -> None:
    if not isinstance(node, dict):
        raise ParameterFileError(f"{file}: {name}: expected a mapping")
    if "values" in node:
        spec = _parse_spec(node, name, file)
        if name in tree.specs:
            raise ParameterFileError(f"{file}: {name}: defined twice")
        tree.specs[name] = spec
        national[name] = _parse_values(node, spec, file)
        return
    for key, child in node.items():
        if key in ("description", "reference", "metadata"):
            continue
        _load_node(child, f"{name}.{key}", file, tree, national)


def _parse_spec(node: dict[str, Any], name: str, file: str) -> ParameterSpec:
    where = f"{file}: {name}"
    unit = node.get("unit")
    if unit not in UNITS:
        raise ParameterFileError(f"{where}: unit {unit!r} is not one of {sorted(UNITS)}")
    description = node.get("description")
    if not description:
        raise ParameterFileError(f"{where}: a description is required")
    if unit == "table" and node.get("table_unit") not in UNITS:
        raise ParameterFileError(f"{where}: a table needs table_unit")
    if unit == "scale" and node.get("scale_unit") not in UNITS:
        raise ParameterFileError(f"{where}: a scale needs scale_unit")
    choices = tuple(node.get("choices", ()))
    if unit == "choice" and not choices:
        raise ParameterFileError(f"{where}: a choice needs choices")
    keys = node.get("keys", [])
    if keys and (unit != "table" or not isinstance(keys, list)):
        raise ParameterFileError(f"{where}: keys are a list, and only a table has them")
    return ParameterSpec(
        name,
        str(description).strip(),
        unit,
        node.get("table_unit", ""),
        node.get("scale_unit", ""),
        choices,
        tuple(str(k) for k in keys),
    )


def _parse_references(raw: Any, where: str) -> tuple[Reference, ...]:
    if raw is None:
        return ()
    if isinstance(raw, dict):
        raw = [raw]
    refs = []
    for item in raw:
        if not isinstance(item, dict) or not item.get("title"):
            raise ParameterFileError(f"{where}: each reference needs a title")
        refs.append(
            Reference(
                str(item["title"]),
                str(item.get("article", "")),
                str(item.get("url", "")),
                str(item.get("note", "")),
            )
        )
    return tuple(refs)


def _parse_values(node: dict[str, Any], spec: ParameterSpec, file: str) -> list[DatedValue]:
    where = f"{file}: {spec.name}"
    default_refs = _parse_references(node.get("reference"), where)
    default_prov = node.get("provenance")
    values = node.get("values")
    if not isinstance(values, dict) or not values:
        raise ParameterFileError(f"{where}: values must map dates to values")
    out = []
    for start, raw in values.items():
        if isinstance(start, str):
            try:
                start = dt.date.fromisoformat(start)
            except ValueError:
                raise ParameterFileError(f"{where}: {start!r} is not a date") from None
        if not isinstance(start, dt.date):
            raise ParameterFileError(f"{where}: {start!r} is not a date")
        refs, prov, value = default_refs, default_prov, raw
        if isinstance(raw, dict) and "value" in raw:
            value = raw["value"]
            refs = _parse_references(raw.get("reference"), where) or default_refs
            prov = raw.get("provenance", default_prov)
        try:
            provenance = Provenance(str(prov))
        except ValueError:
            raise ParameterFileError(
                f"{where}: provenance must be S, M or I (got {prov!r})"
            ) from None
        if not refs:
            raise ParameterFileError(
                f"{where}: a parameter without a source is a bug: add reference"
            )
        parsed = None if value is None else coerce_value(spec, value, where)
        out.append(DatedValue(start, parsed, provenance, refs))
    out.sort(key=lambda d: d.start)
    return out


def _load_region(doc: Any, file: str, tree: ParameterTree, regions: RegionRegistry) -> None:
    where = f"regions/{file}"
    if not isinstance(doc, dict) or "region" not in doc or "parameters" not in doc:
        raise ParameterFileError(f"{where}: expected keys region, name, parameters")
    code = str(doc["region"])
    if not regions.contains(code):
        raise ParameterFileError(f"{where}: unknown region code {code}")
    tree.region_names[code] = str(doc.get("name") or regions.get(code).name)
    level = tree.levels.setdefault(code, {})
    for name, node in (doc["parameters"] or {}).items():
        if name not in tree.specs:
            raise ParameterFileError(
                f"{where}: {name} is not a national parameter; a region may only override one"
            )
        if not isinstance(node, dict) or "values" not in node:
            raise ParameterFileError(f"{where}: {name}: expected values")
        if "unit" in node and node["unit"] != tree.specs[name].unit:
            raise ParameterFileError(f"{where}: {name}: unit must stay {tree.specs[name].unit}")
        level[name] = _parse_values(node, tree.specs[name], where)


# ---------------------------------------------------------------------------------------------
# Values


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool):
        raise ParameterFileError(f"{where}: expected a number, got {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ParameterFileError(f"{where}: {value!r} is not a number") from None


def _number(unit: str, value: Any, where: str) -> Any:
    if unit in MONEY_UNITS:
        try:
            return yuan_to_fen(value, where)
        except InputError as exc:
            raise ParameterFileError(str(exc)) from None
    if unit == "ratio":
        return _decimal(value, where)
    if unit == "bool":
        if not isinstance(value, bool):
            raise ParameterFileError(f"{where}: expected true or false, got {value!r}")
        return value
    if unit == "rounding":
        try:
            return Rounding(str(value))
        except ValueError:
            raise ParameterFileError(
                f"{where}: rounding must be one of {[r.value for r in Rounding]}"
            ) from None
    if unit == "choice":
        return str(value)
    number = _decimal(value, where)
    if number != number.to_integral_value():
        raise ParameterFileError(f"{where}: {unit} must be a whole number, got {value!r}")
    return int(number)


def coerce_value(spec: ParameterSpec, value: Any, where: str) -> Any:
    """Turn a raw YAML/CLI value into the engine's form: money → fen, ratio → Decimal, …"""
    if spec.unit == "table":
        if not isinstance(value, dict) or not value:
            raise ParameterFileError(f"{where}: a table value maps keys to numbers")
        unknown = [str(k) for k in value if spec.keys and str(k) not in spec.keys]
        if unknown:
            raise ParameterFileError(
                f"{where}: {', '.join(map(repr, unknown))} is not a key of this table; "
                f"its keys are {list(spec.keys)}"
            )
        return {str(k): _number(spec.table_unit, v, f"{where}[{k}]") for k, v in value.items()}
    if spec.unit == "scale":
        if not isinstance(value, list) or not value:
            raise ParameterFileError(f"{where}: a scale value is a list of {{from, value}} rows")
        rows = []
        for i, row in enumerate(value):
            if not isinstance(row, dict) or "from" not in row or "value" not in row:
                raise ParameterFileError(f"{where}[{i}]: a scale row needs from and value")
            rows.append(
                (_decimal(row["from"], where), _number(spec.scale_unit, row["value"], where))
            )
        if [r[0] for r in rows] != sorted(r[0] for r in rows):
            raise ParameterFileError(f"{where}: scale rows must ascend by 'from'")
        return tuple(rows)
    if spec.unit == "choice" and str(value) not in spec.choices:
        raise ParameterFileError(f"{where}: {value!r} is not one of {list(spec.choices)}")
    return _number(spec.unit, value, where)


def parse_override(tree: ParameterTree, assignment: str) -> tuple[str, Any]:
    """Parse ``NAME=VALUE`` from the command line (VALUE in YAML syntax for tables and scales)."""
    if "=" not in assignment:
        raise InputError("--set", f"expected NAME=VALUE, got {assignment!r}")
    name, raw = assignment.split("=", 1)
    name = name.strip()
    spec = tree.spec(name)
    try:
        value = yaml.safe_load(raw) if spec.unit in ("table", "scale", "bool") else raw.strip()
        return name, coerce_value(spec, value, f"--set {name}")
    except (ParameterFileError, yaml.YAMLError) as exc:
        raise InputError("--set", str(exc)) from None


def scale_lookup(rows: tuple[tuple[Decimal, Any], ...], x: Decimal | int) -> Any:
    """The value of the last row whose threshold is at or below ``x`` (None below the first)."""
    result = None
    for threshold, value in rows:
        if x >= threshold:
            result = value
    return result


def statutory_holiday_days(year: int) -> Mapping[str, int]:
    """The days of each statutory holiday under the Measures in force on 1 January of ``year``,
    from the shipped tree (the provisional working-day calendar counts on them)."""
    days: Mapping[str, int] = (
        default_tree().resolve(STATUTORY_PARAMETER, dt.date(year, 1, 1), [NATION_CODE]).value
    )
    return days


# The working-day calendar (domain layer) cannot read the tree: it is handed the reader here, so
# any process that loads the parameters has the provisional calendar's holidays.
install_statutory_holidays(statutory_holiday_days)
