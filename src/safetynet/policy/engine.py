"""The rules engine: programs, the parameters they read, and the explanation they leave behind.

A program is a pure function of a ``Population`` (columns) and a ``Params`` view bound to one date
and one region. It records each step of its arithmetic on a ``Trace``; in batch runs the trace is
off and costs nothing, for a single household it becomes the explanation with citations. Because
both use the same code, an explanation can never disagree with the amount.
"""

from __future__ import annotations

import builtins
import datetime as dt
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np

from safetynet.domain.money import Rounding, format_yuan, mul_ratio, round_to_unit
from safetynet.domain.regions import default_registry
from safetynet.errors import CoverageError, UnknownNameError
from safetynet.policy.parameters import (
    MONEY_UNITS,
    NATION,
    LocalValueMissingError,
    ParameterFileError,
    ParameterTree,
    Provenance,
    Reference,
    Resolved,
    coerce_value,
    default_tree,
    scale_lookup,
)
from safetynet.policy.population import (
    FIELDS,
    BoolArray,
    Entity,
    IntArray,
    Population,
    load_program_modules,
)

ILLUSTRATIVE_FALLBACK = "illustrative"

Period = Literal["month", "year", "event"]
StepKind = Literal["money", "bool", "int", "ratio", "text"]


_Shared = TypeVar("_Shared")


@dataclass(frozen=True, slots=True)
class _Made:
    """A shared intermediate: the population it was made for, its value, the values read."""

    population: weakref.ref[Population]
    value: Any
    read: tuple[str, ...]


class Params:
    """Parameter values for one date and one region, remembering every value read.

    ``shared_with``: another view of the same date, region, tree, overrides and fallbacks whose
    resolved values and shared intermediates this one reuses (every program of one screening,
    repeated one-household calls: ``kept_view``); each view still reports only the values its own
    evaluation read (``used``), those read to make a shared intermediate included."""

    def __init__(
        self,
        on: dt.date,
        region: str,
        tree: ParameterTree | None = None,
        overrides: Mapping[str, Any] | None = None,
        fallbacks: Mapping[str, Any] | None = None,
        *,
        shared_with: Params | None = None,
    ) -> None:
        self.on = on
        self.region = region
        self._cache: dict[str, Resolved] = {}  # the values this evaluation read, in order
        self._recording: list[str] | None = None  # names read while making a shared value
        self.tree: ParameterTree
        self.lineage: list[str]
        self.overrides: dict[str, Any]
        self.fallbacks: dict[str, Any]  # used only where the region has no value in force
        self._resolved: dict[str, Resolved]  # every value resolved, shared with other views
        self._made: dict[str, _Made]  # shared intermediates, shared with other views
        if shared_with is not None:
            self.tree, self.lineage = shared_with.tree, shared_with.lineage
            self.overrides, self.fallbacks = shared_with.overrides, shared_with.fallbacks
            self._resolved, self._made = shared_with._resolved, shared_with._made
            return
        self.tree = tree or default_tree()
        self.lineage = default_registry().lineage_codes(region) if region != NATION else [NATION]
        self.overrides = dict(overrides or {})
        self.fallbacks = dict(fallbacks or {})
        self._resolved = {}
        self._made = {}

    def _remember(self, key: str, hit: Resolved) -> Resolved:
        self._cache[key] = hit
        if self._recording is not None:
            self._recording.append(key)
        return hit

    def resolve(self, name: str) -> Resolved:
        hit = self._cache.get(name)
        if hit is not None:
            if self._recording is not None:
                self._recording.append(name)
            return hit
        hit = self._resolved.get(name)
        if hit is None:
            hit = self._resolved[name] = self._look_up(name)
        return self._remember(name, hit)

    def _look_up(self, name: str) -> Resolved:
        try:
            return self.tree.resolve(name, self.on, self.lineage, self.overrides)
        except CoverageError:
            if name not in self.fallbacks:
                raise
            spec = self.tree.spec(name)
            return Resolved(
                name,
                self.fallbacks[name],
                spec.unit,
                ILLUSTRATIVE_FALLBACK,
                None,
                Provenance.ILLUSTRATIVE,
                (Reference("illustrative value: the region has no value in force"),),
                spec.description,
                spec.table_unit or spec.scale_unit,
            )

    def national(self, name: str) -> Resolved:
        """The national value in force, whatever the region says (national statistics such as the
        national urban per-capita income); recorded with the other values used."""
        key = f"{name}@{NATION}"
        hit = self._cache.get(key) or self._resolved.get(key)
        if hit is None:
            hit = self._resolved[key] = self.tree.resolve(name, self.on, [NATION], self.overrides)
        return self._remember(key, hit)

    def shared(self, key: str, pop: Population, make: Callable[[], _Shared]) -> _Shared:
        """An intermediate several programs compute alike (dibao's counted income, read by
        tekun, rigid expenditure and temporary assistance; the retirement facts, read by the
        retirement age and the employee pension), made once per population for this parameter
        view and the views sharing it, and read-only from then on (an array, or each array of a
        dataclass). The values read to make it count as read by every evaluation that uses it.
        Only for untraced runs: an explanation records its own steps."""
        hit = self._made.get(key)
        if hit is not None and hit.population() is pop:
            for name in hit.read:
                if name not in self._cache:
                    self._remember(name, self._resolved[name])
                elif self._recording is not None:
                    self._recording.append(name)
            found: _Shared = hit.value
            return found
        outer, self._recording = self._recording, []
        try:
            value = make()
        finally:
            read, self._recording = self._recording, outer
        if outer is not None:
            outer.extend(read)
        arrays = [value] if isinstance(value, np.ndarray) else list(vars(value).values())
        for array in arrays:
            if isinstance(array, np.ndarray):
                array.setflags(write=False)
        self._made[key] = _Made(weakref.ref(pop), value, tuple(dict.fromkeys(read or ())))
        return value

    def used(self) -> list[Resolved]:
        return list(self._cache.values())

    def value(self, name: str) -> Any:
        return self.resolve(name).value

    def fen(self, name: str) -> int:
        return int(self.value(name))

    def ratio(self, name: str) -> Decimal:
        return Decimal(self.value(name))

    def int(self, name: str) -> int:
        return int(self.value(name))

    def flag(self, name: str) -> bool:
        return bool(self.value(name))

    def choice(self, name: str) -> str:
        return str(self.value(name))

    def rounding(self, name: str) -> Rounding:
        return Rounding(self.value(name))

    def table(self, name: str) -> dict[str, Any]:
        return dict(self.value(name))

    def scale(self, name: str, x: Decimal | builtins.int) -> Any:
        return scale_lookup(self.value(name), x)

    def names(self, name: str) -> tuple[str, ...]:
        return tuple(self.value(name))

    def with_date(self, on: dt.date) -> Params:
        return Params(on, self.region, self.tree, self.overrides, self.fallbacks)


@dataclass
class Step:
    key: str
    label: str
    value: Any
    formula: str
    parameters: list[str]


class Trace:
    """Records the steps of a computation for household ``row`` (or nothing, when off)."""

    def __init__(self, pop: Population | None = None, row: int = 0, *, on: bool = False) -> None:
        self.enabled = on
        self.pop = pop
        self.row = row
        self.steps: list[Step] = []

    def step(
        self,
        key: str,
        label: str,
        value: Any,
        *,
        kind: StepKind = "money",
        formula: str = "",
        params: Sequence[str] = (),
    ) -> None:
        """Record one step; ``value`` is the column (or scalar) shown, or a function giving it
        where working it out would cost a pass over the population when nothing is explained."""
        if not self.enabled:
            return
        if callable(value):  # worked out only for an explanation (a whole column costs a pass)
            value = value()
        self.steps.append(Step(key, label, self._show(value, kind), formula, list(params)))

    def _show(self, value: Any, kind: StepKind) -> Any:
        if isinstance(value, np.ndarray) and self.pop is not None:
            if len(value) == self.pop.n_households:
                value = value[self.row]
            elif len(value) == self.pop.n_persons:
                members = np.flatnonzero(self.pop.household_of == self.row)
                return [self._scalar(value[i], kind) for i in members]
        return self._scalar(value, kind)

    @staticmethod
    def _scalar(v: Any, kind: StepKind) -> Any:
        if kind == "money":
            return format_yuan(int(v))
        if kind == "bool":
            return bool(v)
        if kind == "int":
            return int(v)
        if kind == "ratio":
            return str(v)
        return v if isinstance(v, str) else str(v)


@dataclass
class ProgramResult:
    """What a program decides for each household (and, where it pays persons, each person)."""

    eligible: BoolArray
    amount: IntArray  # fen per period, per household
    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    person_amount: IntArray | None = None
    not_available: str = ""  # why the program does not apply here ("" when it does)


class Tier(StrEnum):
    """The pillar a program belongs to; also the first folder of its parameters and case files."""

    INSURANCE = "insurance"  # social insurance: contributory
    ASSISTANCE = "assistance"  # social assistance (社会救助): means-tested
    WELFARE = "welfare"  # welfare allowances (福利津贴): categorical


class Department(StrEnum):
    """The department in charge of a program a one-door application can fan out to."""

    CIVIL_AFFAIRS = "civil_affairs"
    HOUSING = "housing"
    EDUCATION = "education"
    MEDICAL_SECURITY = "medical_security"
    HUMAN_RESOURCES = "human_resources"
    EMERGENCY_MANAGEMENT = "emergency_management"


class Procedure(StrEnum):
    """Which statutory procedure an application track follows."""

    DIBAO = "dibao"  # 2021 dibao measures: notice, county decision, 30/45/20 working days
    TEKUN = "tekun"  # 2021 tekun measures: 15 + notice + 15, county spot checks
    NO_NOTICE = "no_notice"  # de-facto-unsupported children: 15 + 15, no public notice
    EMERGENCY = "emergency"  # emergency temporary assistance: paid first, documented after
    GENERIC = "generic"  # programs whose own procedure is not modelled yet


@dataclass(frozen=True)
class ProgramInfo:
    """What the rest of the system needs to know of a program, kept on the program itself.

    ``parameters`` is the program's parameter group (``assistance.dibao``: the file
    ``policy/parameters/assistance/dibao.yaml``); its first part is the tier. ``department`` is
    set for the programs a one-door application (一门受理) fans out to (社会救助暂行办法 arts 3,
    28, 33, 37, 42, 20: civil affairs leads and hands specialised assistance to the department in
    charge). ``caseload``: current recipients are loaded into the registry as enrolments and paid
    by the roll; ``recipients``: the population column that marks current recipients for the
    monitoring (the comparison and the step across counties). ``in_force``: a dated bool
    parameter; where it is false or has no value the program is "not in force here".
    ``local_parameters``: values only a locality sets (a local-only program); where one has no
    value in force the program is "not available here" — not eligible, with a trace step, never
    an error for the batch. ``awarded_by_run``: no application and no enrolment decide it; the
    monthly cycle awards the month's amount to every household its rules run finds eligible
    (the price subsidy, triggered by the month's CPI for the covered recipients).
    """

    tier: Tier
    parameters: str
    department: Department | None = None
    procedure: Procedure = Procedure.GENERIC
    emergency_procedure: bool = False  # may follow Procedure.EMERGENCY (paid first)
    caseload: bool = False
    monitored: bool = False
    recipients: str = ""
    in_force: str = ""
    local_parameters: tuple[str, ...] = ()
    awarded_by_run: bool = False
    concerns: tuple[str, ...] = ()
    """Facts without one of which (a value other than the field's default, for a member or the
    household) a household is neither eligible nor paid anything by the program, whatever the
    parameters: where only eligibility and amounts are asked for (``payable``), the program is
    computed for those households alone (ADR 0032; tests/policy/test_concerns.py checks each)."""

    @property
    def one_door(self) -> bool:
        """Applied for through the one-door intake (a department takes the application)."""
        return self.department is not None

    def procedure_for(self, *, emergency: bool = False) -> Procedure:
        return Procedure.EMERGENCY if emergency and self.emergency_procedure else self.procedure

    def _household_recipients(self) -> bool:
        """Whether ``recipients`` is a household's fact (else a person's)."""
        return FIELDS.get(self.recipients).entity is Entity.HOUSEHOLD

    def recipient_persons(self, pop: Population) -> BoolArray:
        """Persons paid now (every member, where the ``recipients`` column is a household's)."""
        if self._household_recipients():
            return pop.to_p(np.asarray(pop.h(self.recipients), np.bool_))
        return np.asarray(pop.p(self.recipients), np.bool_)

    def recipient_households(self, pop: Population) -> BoolArray:
        """Households paid now (with at least one paid member, for a person's column)."""
        if self._household_recipients():
            return np.asarray(pop.h(self.recipients), np.bool_)
        return pop.any_h(np.asarray(pop.p(self.recipients), np.bool_))


class Program(ABC):
    """Base of every program module: one program, one module, one ``compute``."""

    id: ClassVar[str]
    title: ClassVar[str]
    title_zh: ClassVar[str]
    period: ClassVar[Period] = "month"
    legal_basis: ClassVar[tuple[str, ...]] = ()
    info: ClassVar[ProgramInfo]
    pays_persons: ClassVar[bool] = True
    """Its result has each person's amount (``ProgramResult.person_amount``); false for a
    program that pays households only."""

    @abstractmethod
    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        """Decide eligibility and amount for every household of ``pop``."""

    # Helpers shared by all programs: exact arithmetic with the configured rounding.
    @staticmethod
    def times(amount: IntArray | int, ratio: Decimal, p: Params) -> Any:
        mode = p.rounding("common.rounding.mode")
        return (
            mul_ratio(amount, ratio, mode)
            if isinstance(amount, int)
            else mul_ratio(np.asarray(amount, dtype=np.int64), ratio, mode)
        )

    @staticmethod
    def round_amount(
        amount: IntArray, p: Params, unit_param: str = "common.rounding.unit"
    ) -> IntArray:
        return round_to_unit(amount, p.fen(unit_param), p.rounding("common.rounding.mode"))


_PROGRAMS: dict[str, Program] = {}


def register(cls: type[Program]) -> type[Program]:
    """Class decorator: make a program known to the engine under its glossary identifier.

    This is the public registration API: a deployment's own (e.g. local) program is a ``Program``
    subclass with its ``ProgramInfo``, registered here, with its parameters in the tree."""
    info = getattr(cls, "info", None)
    if not isinstance(info, ProgramInfo):
        raise TypeError(f"program {cls.__name__} needs info = ProgramInfo(...)")
    if info.parameters.split(".")[0] != info.tier.value:
        raise TypeError(
            f"program {cls.id}: parameter group {info.parameters} is not under its tier {info.tier}"
        )
    if (info.caseload or info.monitored) and not info.recipients:
        raise TypeError(f"program {cls.id}: a caseload or monitored program names its recipients")
    _PROGRAMS[cls.id] = cls()
    return cls


def unregister(program_id: str) -> None:
    """Forget a registered program (a test's or a deployment's own)."""
    _PROGRAMS.pop(program_id, None)


def programs() -> dict[str, Program]:
    """Every program, discovered from ``safetynet.policy.programs`` (imported on first use)."""
    load_program_modules()
    return dict(sorted(_PROGRAMS.items()))


def programs_where(test: Callable[[ProgramInfo], bool]) -> tuple[str, ...]:
    """The identifiers of the programs whose metadata passes ``test``, in identifier order."""
    return tuple(pid for pid, prog in programs().items() if test(prog.info))


def caseload_programs() -> tuple[str, ...]:
    """The programs whose current recipients are the registry's caseload (enrolments)."""
    return programs_where(lambda info: info.caseload)


def programs_awarded_by_run() -> tuple[str, ...]:
    """The programs the monthly cycle awards from its rules run (``ProgramInfo.awarded_by_run``)."""
    return programs_where(lambda info: info.awarded_by_run)


def monitored_programs() -> tuple[str, ...]:
    """The programs whose recipients the monthly monitoring compares and matches."""
    return programs_where(lambda info: info.monitored)


def not_available(prog: Program, p: Params) -> str:
    """Why ``prog`` does not apply on ``p``'s date in ``p``'s region ("" when it does): not in
    force, or a local-only program without the local value."""
    info = prog.info
    if info.in_force:
        try:
            in_force = p.flag(info.in_force)
        except CoverageError:
            in_force = False
        if not in_force:
            return f"not in force on {p.on.isoformat()} in region {p.region}"
    for name in info.local_parameters:
        try:
            p.resolve(name)
        except CoverageError:
            return f"no local value of {name} in force on {p.on.isoformat()} in region {p.region}"
    return ""


def compute(prog: Program, pop: Population, p: Params, t: Trace) -> ProgramResult:
    """``prog.compute``, or "not eligible here" (with the reason as a trace step) where the
    program is not in force or, being local-only, has no local value: never an error that stops
    a batch over many regions. A value only localities set (no national value) that the region
    lacks makes "not eligible here" exactly the households whose result depends on it ("no local
    standard for <region>: <parameter>", ``_without_local_values``), so one household alone and
    inside its county get the same answer. Asked for the nation itself, and for every other
    missing parameter, ``CoverageError`` still says what to set."""
    reason = not_available(prog, p)
    if reason:
        names = [n for n in (prog.info.in_force, *prog.info.local_parameters) if n]
        return _not_here(pop, t, prog, reason, names)
    try:
        return prog.compute(pop, p, t)
    except LocalValueMissingError as exc:
        if p.region == NATION:
            raise
        return _without_local_values(prog, pop, p, t, exc)


_CONCERNED_SHARE = 0.75
"""A program declaring the facts it concerns is computed for the households having one only
when they are at most this share of the population: beyond it, taking their columns costs about
what the households left out save (measured on a synthetic county of 400,000 persons: the
employee pension for the 55 % of households with an insured member takes 60 % of the time of
the whole; the residents' pension, 60 % of households, about the same; ADR 0032)."""


@dataclass
class PartResult:
    """A program's result computed for some households of a population (``payable_part``):
    ``result`` holds the values of ``households`` (indices, ascending) and of their members
    ``persons``, in that order; every other household is not eligible and paid nothing, and so
    is each of its members. ``households`` is None when the result is the whole population's."""

    result: ProgramResult
    households: IntArray | None = None
    persons: IntArray | None = None

    def whole(self, pop: Population) -> ProgramResult:
        """The result for every household and person of ``pop``."""
        if self.households is None or self.persons is None:
            return self.result
        found = self.result
        eligible = np.zeros(pop.n_households, dtype=found.eligible.dtype)
        eligible[self.households] = found.eligible
        amount = np.zeros(pop.n_households, dtype=found.amount.dtype)
        amount[self.households] = found.amount
        person_amount = None
        if found.person_amount is not None:
            person_amount = np.zeros(pop.n_persons, dtype=found.person_amount.dtype)
            person_amount[self.persons] = found.person_amount
        return ProgramResult(eligible, amount, {}, person_amount, found.not_available)


def payable(prog: Program, pop: Population, p: Params, t: Trace) -> ProgramResult:
    """``compute`` for the callers that read only who is eligible and the amounts, household and
    person (``POST /calculate``), never the other outputs (left empty here when the program is
    computed for part of the population): ``payable_part`` for every household."""
    return payable_part(prog, pop, p, t).whole(pop)


def payable_part(prog: Program, pop: Population, p: Params, t: Trace) -> PartResult:
    """A program that declares the facts it ``concerns`` computed for the households having one
    of them; the others are not eligible and paid nothing, as the whole computation would find
    (ADR 0032). A county's results read the part as it is (its paid persons are found among the
    part's, not the county's). A local value the region lacks is probed on the part (ADR 0033).
    An explained evaluation, or a program not available here, is computed whole."""
    names = prog.info.concerns
    if not names or t.enabled or not_available(prog, p):
        return PartResult(compute(prog, pop, p, t))
    rows = pop.concerned(names)
    if len(rows) > _CONCERNED_SHARE * pop.n_households:
        return PartResult(compute(prog, pop, p, t))
    if len(rows) == 0:
        nobody = ProgramResult(
            eligible=np.zeros(0, dtype=np.bool_),
            amount=np.zeros(0, dtype=np.int64),
            outputs={},
            person_amount=np.zeros(0, dtype=np.int64) if prog.pays_persons else None,
        )
        return PartResult(nobody, rows, rows)
    part = pop.part_of(names)
    try:
        found = prog.compute(part, p, t)
    except LocalValueMissingError as missing:
        if p.region == NATION:
            raise
        # Which households depend on the missing value is probed on the part: the others get
        # nothing whatever its value.
        found = _without_local_values(prog, part, p, t, missing, among_more=True)
    found = ProgramResult(found.eligible, found.amount, {}, found.person_amount,
                          found.not_available)  # fmt: skip
    return PartResult(found, rows, pop.concerned_members(names))


def _not_here(
    pop: Population, t: Trace, prog: Program, reason: str, names: Sequence[str]
) -> ProgramResult:
    t.step("not_available_here", "Not eligible here: the program does not apply", reason,
           kind="text", params=names)  # fmt: skip
    t.step("eligible", f"Eligible for {prog.id}", False, kind="bool")
    return ProgramResult(
        eligible=np.zeros(pop.n_households, dtype=np.bool_),
        amount=np.zeros(pop.n_households, dtype=np.int64),
        outputs={},
        person_amount=np.zeros(pop.n_persons, dtype=np.int64),
        not_available=reason,
    )


# Values a missing local parameter is probed at; what changes between them depends on it. The
# two extremes alone can agree where parameters interact (a ratio of 0 and a deductible of
# 987,654 yuan both leave a hospital stay unpaid), and so can an ordinary value (a deductible of
# 1,234 yuan above a stay's cost): a small value (a deductible and a cap of 1 yuan, half paid)
# is probed as well. The first is the value a household that depends on none of them is
# computed with.
_PROBES = ("zero", "huge", "small", "ordinary")
_PARTS_BUDGET = 4_096  # parts evaluated; beyond it a part still not probed is not eligible here
_PROBED_NAMES = 32  # missing local values probed at once (medical settlement reads ten)


@dataclass
class _Probed:
    """A program evaluated with the missing local values probed: the result at the first probe,
    the households whose result differs between the probes, the values probed."""

    result: ProgramResult
    depends: BoolArray
    names: list[str]
    fallbacks: dict[str, Any]


def _without_local_values(
    prog: Program,
    pop: Population,
    p: Params,
    t: Trace,
    missing: LocalValueMissingError,
    *,
    among_more: bool = False,
) -> ProgramResult:
    """Households whose result depends on a local-only value the region lacks are not eligible
    here; the others keep their result. Dependence is probed: the program runs with the missing
    values at each of ``_PROBES`` and a household depends on them where its result differs
    (programs are row-independent: ``tests/policy/test_engine.py``; ADR 0033). Where a value
    cannot be probed for some households (a table that declares no keys and that no region
    gives), the population is halved until those stand alone, so a household gets the same
    answer alone and inside its county. ``among_more``:
    ``pop`` is part of a population whose other households depend on nothing (``payable_part``),
    so the reason counts the households even when all of these depend."""
    names, parts = [missing.parameter], _by_parts(prog, pop, p)
    names += sorted({n for _, part in parts for n in part.names} - set(names))
    reason = f"no local standard for {p.region}: {', '.join(names)}"
    depends = np.zeros(pop.n_households, np.bool_)
    for rows, part in parts:
        depends[rows] = part.depends
    if depends.all() and not among_more:
        return _not_here(pop, t, prog, reason, names)
    if len(parts) == 1 and not depends.any():  # the trace of the one evaluation that counts
        return prog.compute(pop, _with_fallbacks(p, parts[0][1].fallbacks), t)
    t.step("not_available_here", "Not eligible here where the local value is needed", reason,
           kind="text", params=names)  # fmt: skip
    result = _merged(pop, parts)
    person_amount = result.person_amount
    if person_amount is not None:
        person_amount = np.where(pop.to_p(depends), 0, person_amount)
    return ProgramResult(
        eligible=result.eligible & ~depends,
        amount=np.where(depends, 0, result.amount),
        outputs={},
        person_amount=person_amount,
        not_available=f"{reason} ({int(depends.sum())} households)" if depends.any() else "",
    )


def _probed(prog: Program, pop: Population, p: Params) -> _Probed | None:
    """``prog`` on ``pop`` with every missing local value probed; None where one cannot be."""
    names: list[str] = []
    while len(names) <= _PROBED_NAMES:
        try:
            probes = [{n: _probe(p.tree, n, v) for n in names} for v in _PROBES]
            low, *others = (prog.compute(pop, _with_fallbacks(p, f), Trace()) for f in probes)
        except LocalValueMissingError as again:
            if again.parameter in names:
                return None
            names.append(again.parameter)
            continue
        except (ParameterFileError, TypeError, ValueError, ArithmeticError):
            return None
        depends = np.zeros(pop.n_households, np.bool_)
        for other in others:
            depends |= (low.eligible != other.eligible) | (low.amount != other.amount)
            if low.person_amount is not None and other.person_amount is not None:
                depends |= pop.any_h(low.person_amount != other.person_amount)
        return _Probed(low, depends, names, probes[0])
    return None


def _by_parts(prog: Program, pop: Population, p: Params) -> list[tuple[np.ndarray, _Probed]]:
    """``_probed`` on the whole population, else on halves, quarters, ...: a household that
    cannot be probed even alone (or past the budget) depends on the missing value."""
    done: list[tuple[np.ndarray, _Probed]] = []
    parts, budget = [np.arange(pop.n_households, dtype=np.int64)], _PARTS_BUDGET
    while parts:
        rows = parts.pop()
        budget -= 1
        whole = len(rows) == pop.n_households
        part = pop if whole else pop.take(rows)
        probed = _probed(prog, part, p)
        if probed is not None:
            done.append((rows, probed))
        elif len(rows) > 1 and budget > 0:
            parts += [rows[: len(rows) // 2], rows[len(rows) // 2 :]]
        else:
            stand_in = _not_here(part, Trace(), prog, "", [])
            done.append((rows, _Probed(stand_in, np.ones(len(rows), np.bool_), [], {})))
    return done


def _merged(pop: Population, parts: list[tuple[np.ndarray, _Probed]]) -> ProgramResult:
    n = pop.n_households
    eligible, amount = np.zeros(n, np.bool_), np.zeros(n, np.int64)
    person_amount = np.zeros(pop.n_persons, np.int64)
    for rows, part in parts:
        eligible[rows], amount[rows] = part.result.eligible, part.result.amount
        if part.result.person_amount is not None:
            person_amount[pop.person_rows(rows)] = part.result.person_amount
    return ProgramResult(eligible, amount, {}, person_amount)


def _probe_value(kind: str, unit: str) -> Any:
    """The raw value of probe ``kind`` (``_PROBES``) in ``unit``."""
    ratio, money = unit == "ratio", unit in MONEY_UNITS
    if kind == "zero":
        return 0
    if kind == "huge":
        return 987_654
    if kind == "small":
        return Decimal("0.5") if ratio else 1
    return Decimal("0.37") if ratio else 1_234 if money else 7


def _probe(tree: ParameterTree, name: str, kind: str) -> Any:
    """Probe ``kind`` in the form of parameter ``name``: a number, a one-row scale, or a table
    with the keys its definition fixes, else those some region gives it (none anywhere: not
    probed)."""
    spec = tree.spec(name)
    raw = _probe_value(kind, spec.table_unit or spec.scale_unit or spec.unit)
    if spec.unit == "scale":
        raw = [{"from": 0, "value": raw}]
    elif spec.unit == "table":
        given = (list(v.value) for level in tree.levels.values() for v in level.get(name, [])
                 if isinstance(v.value, dict) and v.value)  # fmt: skip
        keys = list(spec.keys) or next(given, [])
        if not keys:
            raise ParameterFileError(f"{name}: no region gives this table its keys")
        raw = dict.fromkeys(keys, raw)
    return coerce_value(spec, raw, name)


def _with_fallbacks(p: Params, values: Mapping[str, Any]) -> Params:
    return Params(p.on, p.region, p.tree, p.overrides, {**p.fallbacks, **values})


def program(name: str) -> Program:
    key = name.replace("-", "_")
    found = programs().get(key)
    if found is None:
        raise UnknownNameError("program", name, f"known programs: {', '.join(programs())}")
    return found


@dataclass
class Evaluation:
    program: Program
    result: ProgramResult
    params: Params
    trace: Trace


def evaluate(
    prog: Program,
    pop: Population,
    on: dt.date,
    region: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    explain: bool = False,
    tree: ParameterTree | None = None,
    fallbacks: Mapping[str, Any] | None = None,
    shared_with: Params | None = None,
) -> Evaluation:
    """``prog`` over ``pop``; ``shared_with`` (a view of the same date, region, tree, overrides
    and fallbacks, e.g. ``kept_view``'s) lends its resolved values and shared intermediates."""
    params = (
        Params(on, region, tree, overrides, fallbacks)
        if shared_with is None
        else Params(on, region, shared_with=shared_with)
    )
    trace = Trace(pop, 0, on=explain)
    result = compute(prog, pop, params, trace)
    return Evaluation(prog, result, params, trace)


_KEPT_VIEWS: dict[tuple[int, dt.date, str], list[tuple[ParameterTree, dict[str, Any], Params]]] = {}
KEPT_VIEWS = 256
"""Parameter views ``kept_view`` keeps (one per date, region, tree and set of fallbacks)."""


def kept_view(
    on: dt.date,
    region: str,
    tree: ParameterTree | None = None,
    fallbacks: Mapping[str, Any] | None = None,
) -> Params:
    """A parameter view without overrides kept between calls for the same date, region, tree and
    fallbacks (compared by content): one-household calls (a clerk's screening, the API) resolve
    each value once per process instead of once per call. Evaluations take it as ``shared_with``,
    each with its own record of the values it read. Parameter trees do not change once loaded."""
    tree = tree or default_tree()
    given = fallbacks or {}
    kept = _KEPT_VIEWS.setdefault((id(tree), on, region), [])
    for kept_tree, kept_fallbacks, view in kept:
        if kept_tree is tree and kept_fallbacks == given:  # compared in place, copied once
            return view
    wanted = dict(given)
    if sum(map(len, _KEPT_VIEWS.values())) > KEPT_VIEWS:  # dates and regions seldom asked for
        _KEPT_VIEWS.clear()
        kept = _KEPT_VIEWS.setdefault((id(tree), on, region), [])
    view = Params(on, region, tree, None, wanted)
    kept.append((tree, wanted, view))
    return view


def evaluate_all(
    pop: Population,
    on: dt.date,
    region: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    only: Sequence[str] | None = None,
    tree: ParameterTree | None = None,
    fallbacks: Mapping[str, Any] | None = None,
) -> dict[str, ProgramResult]:
    """Every program (or ``only`` those) over one population, sharing one parameter view."""
    params = Params(on, region, tree, overrides, fallbacks)
    trace = Trace()
    chosen = [program(name) for name in only] if only else list(programs().values())
    return {prog.id: compute(prog, pop, params, trace) for prog in chosen}
