"""Persons and households as columns: the one input shape every program computes over.

A ``Population`` holds one NumPy array per field, for persons and for households, with persons
grouped by household (each household's members are contiguous). One household from a JSON file and
ten million from Parquet become the same structure, so the programs have a single code path.
Money is int64 fen, dates are int32 YYYYMMDD, enumerations are small integer codes.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

import safetynet.policy.programs as program_modules  # the package only: its modules load on demand
from safetynet.domain.identity import Sex, parse_identity_number
from safetynet.domain.money import yuan_to_fen
from safetynet.errors import InputError

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class Entity(StrEnum):
    PERSON = "person"
    HOUSEHOLD = "household"


class Kind(StrEnum):
    MONEY = "money"  # yuan in JSON, int64 fen in columns
    INT = "int"
    BOOL = "bool"
    ENUM = "enum"  # a string in JSON, its index in ``choices`` in columns
    DATE = "date"  # ISO date in JSON, int YYYYMMDD in columns


@dataclass(frozen=True)
class Field:
    """One input fact about a person or a household."""

    name: str
    entity: Entity
    kind: Kind
    description: str
    default: Any = None  # JSON-level default; None means required
    choices: tuple[str, ...] = ()
    minimum: int | None = 0  # for money and int: the smallest allowed value
    maximum: int | None = None
    unit: str = ""

    def code(self, choice: str) -> int:
        return self.choices.index(choice)

    def dtype(self) -> type[np.generic]:
        if self.kind is Kind.BOOL:
            return np.bool_
        if self.kind is Kind.ENUM:
            return np.int8
        if self.kind is Kind.DATE:
            return np.int32
        return np.int64

    def default_value(self) -> int | bool:
        """The column value of the default (parsed once per field)."""
        return self._parsed_default

    @functools.cached_property
    def _parsed_default(self) -> int | bool:
        return self.parse(self.default, self.name)

    def parse(self, raw: Any, where: str) -> int | bool:
        """A JSON value → the column value, or an InputError naming ``where``."""
        if self.kind is Kind.MONEY:
            fen = yuan_to_fen(raw, where)
            return self._bounded(fen, where, yuan=True)
        if self.kind is Kind.INT:
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise InputError(where, f"expected a whole number, got {raw!r}")
            return self._bounded(raw, where)
        if self.kind is Kind.BOOL:
            if not isinstance(raw, bool):
                raise InputError(where, f"expected true or false, got {raw!r}")
            return raw
        if self.kind is Kind.ENUM:
            if raw not in self.choices:
                raise InputError(where, f"{raw!r} is not one of {list(self.choices)}")
            return self.choices.index(raw)
        if self.kind is Kind.DATE:
            try:
                day = dt.date.fromisoformat(str(raw))
            except ValueError:
                raise InputError(where, f"{raw!r} is not a date (YYYY-MM-DD)") from None
            return date_to_int(day)
        raise AssertionError(self.kind)

    def _bounded(self, value: int, where: str, *, yuan: bool = False) -> int:
        shown = f"{value / 100:.2f}" if yuan else str(value)
        if self.minimum is not None and value < self.minimum:
            what = "negative" if self.minimum == 0 else f"below {self.minimum}"
            raise InputError(where, f"{shown} is {what}; {self.description.rstrip('.')}")
        if self.maximum is not None and value > self.maximum:
            raise InputError(where, f"{shown} is above the maximum {self.maximum}")
        return value


def date_to_int(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def int_to_date(value: int) -> dt.date:
    return dt.date(value // 10000, value // 100 % 100, value % 100)


@dataclass(frozen=True)
class EntityFields:
    """The fields of one entity: by name, their names, those without a default (every row must
    give them) and each one's position in declaration order."""

    by_name: dict[str, Field]
    names: frozenset[str]
    required: frozenset[str]
    position: dict[str, int]


class FieldRegistry:
    """Every input field, declared once, by the module that uses it."""

    def __init__(self) -> None:
        self._fields: dict[str, Field] = {}
        self._of: dict[Entity, EntityFields] = {}

    def declare(self, f: Field) -> Field:
        existing = self._fields.get(f.name)
        if existing is not None and existing != f:
            raise ValueError(f"field {f.name} is declared twice with different definitions")
        self._fields[f.name] = f
        self._of.clear()
        return f

    def of(self, entity: Entity) -> EntityFields:
        """The fields of ``entity`` (kept until a field is declared): read on every
        one-household calculation."""
        found = self._of.get(entity)
        if found is None:
            by_name = {f.name: f for f in self.all(entity)}
            found = self._of[entity] = EntityFields(
                by_name,
                frozenset(by_name),
                frozenset(name for name, f in by_name.items() if f.default is None),
                {name: i for i, name in enumerate(by_name)},
            )
        return found

    def get(self, name: str) -> Field:
        return self._fields[name]

    def all(self, entity: Entity | None = None) -> list[Field]:
        return [f for f in self._fields.values() if entity is None or f.entity is entity]

    def __contains__(self, name: object) -> bool:
        return name in self._fields


FIELDS = FieldRegistry()


def person_field(name: str, kind: Kind, description: str, **kw: Any) -> Field:
    return FIELDS.declare(Field(name, Entity.PERSON, kind, description, **kw))


def household_field(name: str, kind: Kind, description: str, **kw: Any) -> Field:
    return FIELDS.declare(Field(name, Entity.HOUSEHOLD, kind, description, **kw))


# -- The facts every program shares ----------------------------------------------------------

RELATIONS = ("head", "spouse", "child", "parent", "grandchild", "grandparent", "sibling", "other")
HUKOU_TYPES = ("urban", "rural")
DISABILITY_CATEGORIES = (
    "none",
    "visual",
    "hearing",
    "speech",
    "physical",
    "intellectual",
    "mental",
    "multiple",
)

person_field("birth_date", Kind.DATE, "Date of birth (taken from the identity number if absent).")
person_field(
    "sex", Kind.ENUM, "Sex (taken from the identity number if absent).", choices=("male", "female")
)
person_field(
    "relation", Kind.ENUM, "Relation to the head of household.", default="other", choices=RELATIONS
)
person_field(
    "excluded_reason",
    Kind.ENUM,
    "Why a registered member does not count as a co-residing family member "
    "(2021 dibao measures art. 7): clergy away 3+ years, prisoner, compulsory drug "
    "rehabilitation, declared missing.",
    default="none",
    choices=("none", "clergy_away", "prisoner", "drug_rehab", "missing"),
)
person_field(
    "disability_category",
    Kind.ENUM,
    "Category on the disability certificate (none if no certificate).",
    default="none",
    choices=DISABILITY_CATEGORIES,
)
person_field(
    "disability_grade",
    Kind.INT,
    "Grade on the disability certificate, 1 (most severe) to 4; 0 if none.",
    default=0,
    maximum=4,
)
person_field(
    "has_serious_illness",
    Kind.BOOL,
    "Has a locally recognised major or serious disease.",
    default=False,
)
household_field(
    "hukou_type", Kind.ENUM, "Hukou type of the household.", default="urban", choices=HUKOU_TYPES
)


_SUM_BY_SEGMENTS = 4 * 2**20
"""Populations of at least this many persons sum per household with ``np.add.reduceat``: there
a column of running totals is past the C library's largest heap block (32 MiB) and each one is
mapped and faulted in afresh; below it the running totals are quicker (ADR 0030)."""
_SHARED_UP_TO = 64
"""Default columns of populations up to this size are made once per field and size."""
_SMALL_DEFAULTS: dict[tuple[str, int], tuple[Field, np.ndarray]] = {}
_NO_ROWS: IntArray = np.zeros(0, dtype=np.int64)
_NO_ROWS.setflags(write=False)


@dataclass
class Population:
    """Columns of persons and households; persons of one household are contiguous."""

    persons: MutableMapping[str, np.ndarray] = field(default_factory=dict)
    households: MutableMapping[str, np.ndarray] = field(default_factory=dict)
    household_of: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    household_ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._starts: IntArray | None = None
        self._ends: IntArray | None = None
        self._one: bool | None = None  # a single household (``sum_h``'s plain sum)
        self._groups: IntArray | None = None  # each person's household by position (``sum_h``)
        self._concerned: dict[tuple[str, ...], IntArray] = {}  # households (``concerned``)
        self._parts: dict[tuple[str, ...], Population] = {}  # those as populations (``part_of``)
        self._members: dict[tuple[str, ...], IntArray] = {}  # their persons (``concerned_members``)

    @property
    def n_persons(self) -> int:
        return len(self.household_of)

    @property
    def n_households(self) -> int:
        return len(self.household_ids) if self.household_ids else self._n_households()

    def _n_households(self) -> int:
        return int(self.household_of[-1]) + 1 if self.n_persons else 0

    @property
    def starts(self) -> IntArray:
        """Index of each household's first member (households are never empty)."""
        if self._starts is None:
            self._starts = np.flatnonzero(
                np.concatenate(([True], self.household_of[1:] != self.household_of[:-1]))
            ).astype(np.int64)
        return self._starts

    @property
    def ends(self) -> IntArray:
        """One past each household's last member."""
        if self._ends is None:
            self._ends = np.append(self.starts[1:], self.n_persons).astype(np.int64)
        return self._ends

    def p(self, name: str) -> np.ndarray:
        column = self.persons.get(name)
        if column is None:
            column = self._default_column(name, Entity.PERSON, self.n_persons)
        return column

    def h(self, name: str) -> np.ndarray:
        column = self.households.get(name)
        if column is None:
            column = self._default_column(name, Entity.HOUSEHOLD, self.n_households)
        return column

    def _default_column(self, name: str, entity: Entity, n: int) -> np.ndarray:
        f = FIELDS.get(name)
        if f.entity is not entity:
            raise KeyError(f"{name} is a {f.entity} field")
        if f.default is None:
            raise InputError(name, "is required and missing")
        # A fact nobody gave costs nothing: one value seen through a read-only, zero-stride view
        # (no column of n copies is ever written; a program that tried to write it would fail).
        # Small populations (one household: a clerk's screen, an API call) share the views.
        shared = _SMALL_DEFAULTS.get((name, n)) if n <= _SHARED_UP_TO else None
        if shared is not None and shared[0] is f:  # the same declaration of the field
            column = shared[1]
        else:
            column = np.broadcast_to(np.array(f.default_value(), dtype=f.dtype()), (n,))
            if n <= _SHARED_UP_TO:
                _SMALL_DEFAULTS[(name, n)] = (f, column)
        (self.persons if entity is Entity.PERSON else self.households)[name] = column
        return column

    def read_ahead(self, names: Iterable[str]) -> None:
        """A program about to read these fields says so: columns read from a large county file
        (``registry.county_data.ParquetColumns``) read those not read yet in one parallel read
        (ADR 0030). Any other population has its columns already and ignores it."""
        wanted = tuple(names)
        for columns in (self.persons, self.households):
            ahead = getattr(columns, "read_ahead", None)
            if ahead is not None:
                ahead(wanted)

    def is_unset_zero(self, name: str) -> bool:
        """``name`` is a person field nobody gave (or a file showed to be all default) whose
        default is zero: a sum can leave it out."""
        column = self.p(name)
        return column.ndim == 1 and column.strides == (0,) and (len(column) == 0 or column[0] == 0)

    # -- aggregation between persons and households (exact integer arithmetic) --

    def sum_h(self, values: np.ndarray) -> IntArray:
        """Per-household sums, exact in int64 (a difference of cumulative sums, no float)."""
        if self._one is None:
            self._one = self.n_persons > 0 and len(self.starts) == 1
        if self._one:  # one household (a clerk's calculation): a plain sum
            one: IntArray = np.add.reduce(values, dtype=np.int64, keepdims=True)
            return one
        if self.n_persons == 0:
            return np.zeros(0, dtype=np.int64)
        if values.dtype.kind in "biu" and values.ndim == 1:
            sparse = self._sparse_sum(values)
            if sparse is not None:
                return sparse
        if self.n_persons >= _SUM_BY_SEGMENTS:
            # A large population: each household's run summed where it lies (no column of
            # running totals of the persons' size to write and read back; ADR 0030).
            by_segment: IntArray = np.add.reduceat(values, self.starts, dtype=np.int64)
            return by_segment
        cumulative = np.empty(self.n_persons + 1, dtype=np.int64)
        cumulative[0] = 0
        np.cumsum(values, dtype=np.int64, out=cumulative[1:])
        return cumulative[self.ends] - cumulative[self.starts]

    _SPARSE = 8
    """A column with at most one person in this many not zero is summed from those persons."""

    def _sparse_sum(self, values: np.ndarray) -> IntArray | None:
        """Per-household sums of a column that is one value for everybody (a fact nobody gave)
        or mostly zero (most programs concern few persons: a pension, a disability, a child),
        without a cumulative sum over every person; ``None`` for a dense column. Exact int64,
        as the cumulative sums are."""
        n_groups = len(self.starts)
        if values.strides == (0,):  # one value seen n times: the size of each household times it
            each: IntArray = np.multiply(self.ends - self.starts, values[0], dtype=np.int64)
            return each
        given = values if values.dtype == np.bool_ else values != 0
        k = int(np.count_nonzero(given))
        if k == 0:
            return np.zeros(n_groups, dtype=np.int64)
        if k * self._SPARSE > self.n_persons:
            return None
        at = np.flatnonzero(given)
        group = self._group_of()[at]
        first = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))
        out = np.zeros(n_groups, dtype=np.int64)
        if values.dtype == np.bool_:
            out[group[first]] = np.diff(first, append=k)
        else:
            out[group[first]] = np.add.reduceat(values[at], first, dtype=np.int64)
        return out

    def _group_of(self) -> IntArray:
        """Each person's household in the order of ``starts`` (``household_of`` itself when the
        households are numbered in the order their members come, as every reader makes them)."""
        if self._groups is None:
            starts = self.starts
            in_order = bool(np.array_equal(self.household_of[starts], np.arange(len(starts))))
            self._groups = (
                self.household_of
                if in_order
                else np.repeat(np.arange(len(starts), dtype=np.int64), self.ends - starts)
            )
        return self._groups

    def count_h(self, mask: np.ndarray) -> IntArray:
        return self.sum_h(mask)

    def any_h(self, mask: np.ndarray) -> BoolArray:
        if self._one:  # set by the first sum over one household
            one: BoolArray = np.logical_or.reduce(mask, keepdims=True)
            return one
        return self.count_h(mask) > 0

    def max_h(self, values: np.ndarray) -> np.ndarray:
        if self.n_persons == 0:
            return values[:0]
        return np.maximum.reduceat(values, self.starts)

    def to_p(self, household_values: np.ndarray) -> np.ndarray:
        return household_values[self.household_of]

    def person_rows(self, households: np.ndarray) -> IntArray:
        """Indices of the members of the given households, household by household."""
        starts = self.starts[households]
        sizes = self.ends[households] - starts
        first = np.repeat(starts - (np.cumsum(sizes) - sizes), sizes)
        return np.asarray(first + np.arange(int(sizes.sum())), dtype=np.int64)

    def take(self, households: np.ndarray) -> Population:
        """A population of just the given households (indices), in that order."""
        rows = self.person_rows(households)
        sizes = self.ends[households] - self.starts[households]
        return Population(
            persons={k: v[rows] for k, v in self.persons.items()},
            households={k: v[households] for k, v in self.households.items()},
            household_of=np.repeat(np.arange(len(households), dtype=np.int64), sizes),
            household_ids=[self.household_ids[i] for i in households] if self.household_ids else [],
        )

    def part(self, households: IntArray, rows: IntArray | None = None) -> Population:
        """The given households (indices, in order) as a population whose columns are taken
        from this one when first read: a program computed for a few households of a county
        reads only its own fields of them (``take`` copies every column). ``rows``: their
        members (``person_rows``), when already known."""
        rows = self.person_rows(households) if rows is None else rows
        sizes = self.ends[households] - self.starts[households]
        return Population(
            persons=_TakenColumns(self.persons, rows),
            households=_TakenColumns(self.households, households),
            household_of=np.repeat(np.arange(len(households), dtype=np.int64), sizes),
            household_ids=[self.household_ids[i] for i in households] if self.household_ids else [],
        )

    def concerned(self, names: tuple[str, ...]) -> IntArray:
        """The households where a member (a person's field) or the household itself has a
        value other than the field's default in at least one of ``names``; found once per
        population and names (programs declaring the same facts share them, and ``part_of``)."""
        found = self._concerned.get(names)
        if found is None:
            mask: BoolArray | None = None
            for name in names:
                f = FIELDS.get(name)
                person = f.entity is Entity.PERSON
                column = (self.persons if person else self.households).get(name)
                if column is None:
                    continue  # nobody gave it
                default = f.default_value()
                if column.strides == (0,) and (len(column) == 0 or column[0] == default):
                    continue  # a file showed it all default
                hit = column != default
                hit = self.any_h(hit) if person else hit
                mask = hit if mask is None else mask | hit
            found = self._concerned[names] = (
                _NO_ROWS if mask is None else np.flatnonzero(mask).astype(np.int64)
            )
        return found

    def part_of(self, names: tuple[str, ...]) -> Population:
        """The households ``concerned`` by ``names`` as a population (``part``), made once: the
        programs declaring the same facts share what they compute on it (``Params.shared``)."""
        found = self._parts.get(names)
        if found is None:
            found = self._parts[names] = self.part(
                self.concerned(names), self.concerned_members(names)
            )
        return found

    def concerned_members(self, names: tuple[str, ...]) -> IntArray:
        """The members of the households ``concerned`` by ``names``, household by household
        (``person_rows``), found once: where a part's person amounts belong in this population."""
        found = self._members.get(names)
        if found is None:
            found = self._members[names] = self.person_rows(self.concerned(names))
        return found

    def tile(self, times: int) -> Population:
        """The same households repeated ``times`` times (for demonstrations and benchmarks)."""
        sizes = self.ends - self.starts
        n = self.n_households
        household_of = np.repeat(np.arange(n * times, dtype=np.int64), np.tile(sizes, times))
        return Population(
            persons={k: np.tile(v, times) for k, v in self.persons.items()},
            households={k: np.tile(v, times) for k, v in self.households.items()},
            household_of=household_of,
            household_ids=[f"{hid}#{i}" for i in range(times) for hid in self.household_ids],
        )

    def age(self, on: dt.date) -> IntArray:
        """Age in completed years on ``on``."""
        age: IntArray = np.subtract(date_to_int(on), self.p("birth_date"), dtype=np.int64)
        age //= 10000
        return age

    def age_in_months(self, on: dt.date) -> IntArray:
        born = self.p("birth_date").astype(np.int64)
        months = (on.year - born // 10000) * 12 + (on.month - born // 100 % 100)
        return months - (on.day < born % 100)


# -- Building a population from JSON households ----------------------------------------------


_AMONG_BY_COMPARISON = 4_096  # values up to which a few codes are compared one by one


class _TakenColumns(MutableMapping[str, np.ndarray]):
    """Columns of some rows of ``source``, each taken when first read (``Population.part``).
    A column nobody gave stays one value seen through a zero-stride view."""

    def __init__(self, source: Mapping[str, np.ndarray], rows: IntArray) -> None:
        self._source = source
        self._rows = rows
        self._taken: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        found = self._taken.get(name)
        if found is None:
            column = self._source[name]
            if column.ndim == 1 and column.strides == (0,):
                found = np.broadcast_to(column[:1], (len(self._rows),))
            else:
                found = column[self._rows]
            self._taken[name] = found
        return found

    def __setitem__(self, name: str, column: np.ndarray) -> None:
        self._taken[name] = column

    def __delitem__(self, name: str) -> None:
        del self._taken[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._source, *self._taken]))

    def __len__(self) -> int:
        return len(dict.fromkeys([*self._source, *self._taken]))

    def read_ahead(self, names: tuple[str, ...]) -> None:
        """The source's read ahead (``Population.read_ahead``), for the columns taken next."""
        ahead = getattr(self._source, "read_ahead", None)
        if ahead is not None:
            ahead(names)


def among(values: np.ndarray, codes: Iterable[Any]) -> BoolArray:
    """Whether each value is one of ``codes`` (``np.isin``). For a small population (a clerk's
    household, an API call) the few codes a rule names are compared one by one: ``np.isin``'s
    set-up costs more than the comparisons there, on every call."""
    wanted = list(codes)
    if len(values) > _AMONG_BY_COMPARISON or len(wanted) > 16:
        found: BoolArray = np.isin(values, wanted)
        return found
    found = np.zeros(values.shape, dtype=np.bool_)
    for code in wanted:
        found |= values == code
    return found


def population_from_households(households: Sequence[Mapping[str, Any]]) -> Population:
    """Validate JSON households and turn them into columns; every error names its field path.

    Columns start filled with each field's default; only the values a household actually gives
    are parsed, so a household of three is as quick as its few facts.
    """
    if not households:
        raise InputError("households", "at least one household is required")
    declare_all_fields()
    h_fields, p_fields = FIELDS.of(Entity.HOUSEHOLD), FIELDS.of(Entity.PERSON)
    h_known, p_known = h_fields.names | _HOUSEHOLD_KEYS, p_fields.names | _PERSON_KEYS
    many = len(households) > 1

    # Where a value sits ("households[3].members[1]") is written out only for an error.
    def hwhere(hi: int) -> str:
        return f"households[{hi}]" if many else "household"

    def pwhere(i: int) -> str:
        hi = int(pop.household_of[i])
        return f"{hwhere(hi)}.members[{i - int(pop.starts[hi])}]"

    ids: list[str] = []
    persons: list[Mapping[str, Any]] = []
    sizes: list[int] = []
    for hi, hh in enumerate(households):
        if type(hh) is not dict and not isinstance(hh, Mapping):
            raise InputError(hwhere(hi), "expected an object")
        ids.append(str(hh.get("household_id", hi + 1)))
        members = hh.get("members")
        if not isinstance(members, list) or not members:
            raise InputError(f"{hwhere(hi)}.members", "a household needs at least one member")
        if not h_known.issuperset(hh):
            _reject_unknown(hh, h_fields.names, _HOUSEHOLD_KEYS, hwhere(hi))
        for pi, person in enumerate(members):
            if type(person) is not dict and not isinstance(person, Mapping):
                raise InputError(f"{hwhere(hi)}.members[{pi}]", "expected an object")
            if person.get("id_number") is not None:
                person = _with_identity(person, f"{hwhere(hi)}.members[{pi}]")
            if not p_known.issuperset(person):
                _reject_unknown(person, p_fields.names, _PERSON_KEYS, f"{hwhere(hi)}.members[{pi}]")
            persons.append(person)
        sizes.append(len(members))
    pop = Population(household_ids=ids)
    pop.household_of = np.repeat(np.arange(len(households), dtype=np.int64), sizes)
    pop.households = _columns(h_fields, households, hwhere)
    pop.persons = _columns(p_fields, persons, pwhere)
    return pop


_HOUSEHOLD_KEYS = frozenset({"members", "household_id", "region"})
_PERSON_KEYS = frozenset({"id_number", "name"})
STRUCTURE_KEYS = _HOUSEHOLD_KEYS | _PERSON_KEYS
"""The keys of a household and a member that are not fields."""


def _columns(
    of: EntityFields, rows: Sequence[Mapping[str, Any]], where: Callable[[int], str]
) -> dict[str, np.ndarray]:
    """One column per field some row gives (the default where a row does not), then each row's
    values parsed in. A field no row gives has no column: it reads as its default for free
    (``Population.p``/``h``). ``where(i)`` names row ``i`` in an error."""
    given_names: set[str] = set().union(*rows)
    fields = of.by_name
    columns = {}
    for name in sorted(
        of.names.intersection(given_names) | of.required, key=of.position.__getitem__
    ):
        f = fields[name]
        if f.default is None:
            missing = next((i for i, row in enumerate(rows) if row.get(name) is None), None)
            if missing is not None:
                raise InputError(f"{where(missing)}.{name}", "is required")
            columns[name] = np.zeros(len(rows), dtype=f.dtype())
        else:
            columns[name] = np.full(len(rows), f.default_value(), dtype=f.dtype())
    # Each field's given values are gathered, then each distinct value is parsed once (many
    # households repeat a relation, a date, a round amount) and the column filled in one step.
    cells: dict[str, tuple[list[int], list[Any]]] = {name: ([], []) for name in columns}
    for i, row in enumerate(rows):
        for name, raw in row.items():
            found = cells.get(name)
            if found is not None and raw is not None:
                found[0].append(i)
                found[1].append(raw)
    try:
        for name, (at, raws) in cells.items():
            if at:
                columns[name][at] = _parsed(fields[name], raws)
    except InputError:
        _first_error(fields, rows, where)  # the first wrong value in row order names the error
        raise
    return columns


def _parsed(f: Field, raws: list[Any]) -> list[int | bool]:
    """``raws`` parsed as ``f``, each distinct value once. A text is its own key; another value
    is keyed with its type (``1``, ``1.0`` and ``True`` are equal in Python but not the same
    input) or, for a list or an object, its identity."""
    parsed: dict[Any, int | bool] = {}
    out = []
    # A wrong value's place is named by ``_first_error``, which reads the rows again in order:
    # none is written out here (most values are right).
    for raw in raws:
        key = (
            raw
            if type(raw) is str
            else (type(raw), id(raw) if isinstance(raw, list | dict) else raw)
        )
        value = parsed.get(key)
        if value is None:
            value = parsed[key] = f.parse(raw, f.name)
        out.append(value)
    return out


def _first_error(
    fields: Mapping[str, Field], rows: Sequence[Mapping[str, Any]], where: Callable[[int], str]
) -> None:
    """Raise the error of the first wrong value in row order (a household's own fields, then
    each member's), as a clerk reads the input."""
    for i, row in enumerate(rows):
        for name, raw in row.items():
            given = fields.get(name)
            if given is not None and raw is not None:
                given.parse(raw, f"{where(i)}.{name}")


_LOADED = False


def load_program_modules() -> None:
    """Import every module of ``safetynet.policy.programs`` (once per process): each declares its
    input fields here and registers its program with the engine on import."""
    global _LOADED
    if not _LOADED:
        for module in pkgutil.iter_modules(program_modules.__path__):
            importlib.import_module(f"{program_modules.__name__}.{module.name}")
        _LOADED = True


def declare_all_fields() -> None:
    """Program modules declare their input fields on import; make sure all of them are loaded."""
    load_program_modules()


def _reject_unknown(
    obj: Mapping[str, Any], fields: frozenset[str], keys: frozenset[str], where: str
) -> None:
    """Every key of ``obj`` is a field or one of ``keys``; otherwise name the first that is not."""
    if obj.keys() - fields <= keys:
        return
    known_set = fields | keys
    for key in obj:
        if key not in known_set:
            close = difflib.get_close_matches(key, sorted(known_set), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(f"{where}.{key}", f"unknown field{hint}")


def _with_identity(person: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    """Fill birth date and sex from the identity number, and check they agree if both are given."""
    raw = person.get("id_number")
    if raw is None:
        return person
    ident = parse_identity_number(str(raw), f"{where}.id_number")
    out = dict(person)
    born = ident.birth_date.isoformat()
    if out.get("birth_date") not in (None, born):
        raise InputError(
            f"{where}.birth_date",
            f"{out['birth_date']} contradicts the identity number ({ident.masked})",
        )
    out["birth_date"] = born
    sex = "male" if ident.sex is Sex.MALE else "female"
    if out.get("sex") not in (None, sex):
        raise InputError(
            f"{where}.sex", f"{out['sex']} contradicts the identity number ({ident.masked})"
        )
    out["sex"] = sex
    return out
