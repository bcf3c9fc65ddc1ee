"""Calibrating the synthetic population to the published caseloads: who is eligible for dibao and
tekun under the county's own standard, and who is enrolled.

Two steps, both here:

1. **Scale.** A county's incomes are the national quintile curve times its *income scale*: the
   county's dibao standard ÷ the national average standard (urban and rural apart). Standards are
   set from local living costs, so the ratio places a county's incomes where its standard is.
   Where the parameter files have no standard for the county, the national average is its line
   and the scale is 1.
2. **Place the tail.** ``calibrate`` runs the dibao program itself on the generated county, with
   the county's parameters, and moves the households around the line until the persons eligible
   are the published share of the hukou group (``assistance.dibao.recipient_share``, or the
   province's own figure): the poorest eligible households stay eligible, the other eligible ones
   have their incomes raised (every source of every member by one factor) to between the line and
   1.5 times it (above the marginal band where a member is severely disabled or seriously ill, who
   would be single-person dibao there); when too few are eligible, the poorest of the rest have
   their incomes lowered below the line and their assets within the limits. Tekun persons are
   placed by count in the generator (``tekun_persons``) and left alone here: a tekun person is
   below the dibao line too, and is supported as tekun, not counted as dibao.

Then the recipient flags (``is_dibao_recipient``, ``is_tekun_recipient``) are drawn from the
eligible set with the take-up of ``assistance.take_up``, so that the caseload the registry enrols
is the eligible set less those not (yet) enrolled. ``calibration_table`` reports target, source and
achieved share for the check and docs/synthetic-population.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from safetynet.errors import CoverageError
from safetynet.policy.common import is_severely_disabled
from safetynet.policy.engine import Params, ProgramResult, Trace, compute, program
from safetynet.policy.population import FIELDS, Population

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

URBAN = "assistance.dibao.standard_monthly_urban"
RURAL = "assistance.dibao.standard_monthly_rural"
SCALED_INCOME = (
    "wage_income",
    "social_insurance_paid",
    "business_income",
    "property_income",
    "transfer_income",
    "pension_income",
)
"""Every income the dibao program counts, scaled together so the net wage stays net."""
SCALED_WITH_INCOME = ("employee_pension_wage", "employee_pension_awarded_monthly")
"""Insurance inputs that follow the income: the contribution wage is the wage, and an award in
payment is the pension received before the yearly adjustments."""
ROUNDS = 3


def _target(name: str) -> Any:
    from safetynet.batch.synth import target  # the one calibration file (no import cycle)

    return target(name)


@dataclass(frozen=True)
class DibaoLines:
    """The monthly dibao standards (fen) the calibration aims at, and whether they are the
    county's own (from the parameter files) or the national average of the MCA statistics."""

    urban: int
    rural: int
    own: bool

    @property
    def fallbacks(self) -> dict[str, int]:
        """Parameter fallbacks that make the dibao program use these lines where the county has
        no standard of its own."""
        return {URBAN: self.urban, RURAL: self.rural}


def national_average_lines() -> tuple[int, int]:
    avg = _target("assistance.dibao.national_average_standard")
    return int(avg["urban"]) * 100, int(avg["rural"]) * 100


def dibao_lines(county: str, on: dt.date) -> DibaoLines:
    """The county's own dibao standards on ``on``, else the national averages."""
    p = Params(on, county)
    try:
        return DibaoLines(p.fen(URBAN), p.fen(RURAL), own=True)
    except CoverageError:
        urban, rural = national_average_lines()
        return DibaoLines(urban, rural, own=False)


def income_scale(lines: DibaoLines) -> tuple[float, float]:
    """(urban, rural) factors on the national income curve: own standard ÷ national average."""
    urban, rural = national_average_lines()
    return lines.urban / urban, lines.rural / rural


def target_shares(county: str) -> dict[str, dict[str, float]]:
    """Target shares of persons eligible, {program: {"urban": s, "rural": s}}: the province's own
    published dibao share where calibration.yaml has one, else the national shares."""
    dibao = {k: float(v) for k, v in _target("assistance.dibao.recipient_share").items()}
    province = county[:2] + "0000"
    local = _target("assistance.dibao.recipient_share_by_province")
    if province in local:
        dibao = {"urban": float(local[province]), "rural": float(local[province])}
    tekun = {k: float(v) for k, v in _target("assistance.tekun.recipient_share").items()}
    return {"dibao": dibao, "tekun": tekun}


def tekun_persons(
    rng: np.random.Generator,
    candidates: BoolArray,
    urban: BoolArray,
    persons: IntArray,
    county: str,
) -> BoolArray:
    """Exactly the target number of tekun households among ``candidates`` (one-person households),
    per hukou group: round(target share × the group's persons), drawn at random."""
    shares = target_shares(county)["tekun"]
    chosen = np.zeros(len(candidates), dtype=np.bool_)
    for is_urban, share in ((True, shares["urban"]), (False, shares["rural"])):
        group = urban == is_urban
        want = round(share * int(persons[group].sum()))
        pool = np.flatnonzero(candidates & group)
        if want and len(pool):
            chosen[rng.choice(pool, size=min(want, len(pool)), replace=False)] = True
    return chosen


def _evaluate(pop: Population, county: str, on: dt.date, lines: DibaoLines) -> ProgramResult:
    return compute(program("dibao"), pop, Params(on, county, fallbacks=lines.fallbacks), Trace())


def _scale_households(pop: Population, factor: FloatArray) -> None:
    """Multiply every counted income of each household's members by the household's factor."""
    per_person = factor[pop.household_of]
    for name in (*SCALED_INCOME, *SCALED_WITH_INCOME):
        column = pop.persons[name]
        pop.persons[name] = np.round(column * per_person).astype(column.dtype)


def _choose(order: IntArray, sizes: IntArray, want: float) -> tuple[IntArray, IntArray]:
    """Split households ``order`` (poorest first) into those whose persons add up to ``want`` and
    the rest; the household that crosses ``want`` is kept when that lands closer."""
    total = np.cumsum(sizes[order])
    k = int(np.searchsorted(total, want, side="left"))
    if k < len(order) and abs(total[k] - want) < abs((total[k - 1] if k else 0) - want):
        k += 1
    return order[:k], order[k:]


def calibrate(
    pop: Population,
    county: str,
    on: dt.date,
    rng: np.random.Generator,
    lines: DibaoLines,
    tekun_households: BoolArray,
) -> ProgramResult:
    """Move households across the dibao line until the eligible persons are the target share of
    each hukou group; returns the dibao result on the calibrated population."""
    shares = target_shares(county)["dibao"]
    sizes = pop.ends - pop.starts
    urban = pop.h("hukou_type") == FIELDS.get("hukou_type").code("urban")
    line = np.where(urban, lines.urban, lines.rural).astype(np.float64)
    special = pop.any_h(is_severely_disabled(pop) | pop.p("has_serious_illness"))
    marginal = float(Params(on, county).ratio("assistance.dibao.marginal_multiple"))
    months = Params(on, county).int("assistance.dibao.assets.financial_assets_months")
    rank = np.argsort(_household_income(pop), kind="stable")  # poorest first, whole county
    result = _evaluate(pop, county, on, lines)
    for _ in range(ROUNDS):
        eligible, singles = dibao_paths(pop, result, tekun_households)
        per_capita = np.maximum(result.outputs["per_capita_income"].astype(np.float64), 0.0)
        factor = np.ones(pop.n_households)
        for is_urban in (True, False):
            group = urban == is_urban
            fixed = float(singles[group].sum())  # single-person dibao: not moved by income
            want = shares["urban" if is_urban else "rural"] * float(sizes[group].sum()) - fixed
            have = float(sizes[group & eligible].sum())
            if abs(have - want) <= 0.02 * want:
                continue
            if have > want:
                idx = np.flatnonzero(group & eligible)
                _, lift = _choose(idx[np.argsort(per_capita[idx], kind="stable")], sizes, want)
                base = np.where(special[lift], marginal, 1.0)
                goal = line[lift] * base * rng.uniform(1.03, 1.4, len(lift))
                factor[lift] = goal / np.maximum(per_capita[lift], 0.05 * line[lift])
            else:
                pool = rank[(group & ~eligible & ~tekun_households)[rank]]
                push, _ = _choose(pool, sizes, want - have)
                goal = line[push] * rng.uniform(0.3, 0.9, len(push))
                factor[push] = np.minimum(goal / np.maximum(per_capita[push], 1.0), 1.0)
                _within_asset_limits(pop, push, line, sizes, months)
        if np.all(factor == 1.0):
            break
        _lift_zero_incomes(pop, factor, per_capita, line, sizes)
        _scale_households(pop, factor)
        result = _evaluate(pop, county, on, lines)
    return result


def dibao_paths(
    pop: Population, result: ProgramResult, tekun_households: BoolArray
) -> tuple[BoolArray, IntArray]:
    """Households eligible as a whole (per-capita income below the standard, assets within the
    limits; not tekun households), and per household the persons paid as single-person dibao
    (单人户施保): the persons the statistics count are the members of the first and the second."""
    out = result.outputs
    whole = (
        (out["per_capita_income"] < out["standard"])
        & out["passes_asset_test"].astype(np.bool_)
        & ~tekun_households
    )
    single = result.person_amount > 0 if result.person_amount is not None else None
    singles = pop.count_h(single) if single is not None else np.zeros(pop.n_households, np.int64)
    singles = np.where(whole | tekun_households, 0, singles).astype(np.int64)
    return whole, singles


def _household_income(pop: Population) -> FloatArray:
    total = np.zeros(pop.n_persons, dtype=np.float64)
    for name in SCALED_INCOME:
        sign = -1.0 if name == "social_insurance_paid" else 1.0
        total += sign * pop.p(name)
    out: FloatArray = pop.sum_h(total) / (pop.ends - pop.starts)
    return out


def _lift_zero_incomes(
    pop: Population, factor: FloatArray, per_capita: FloatArray, line: FloatArray, sizes: IntArray
) -> None:
    """A household with (almost) nothing counted cannot be lifted by a factor: its head gets the
    missing amount as support from relatives (transfer income), and the factor becomes 1."""
    stuck = (factor > 1.0) & (per_capita < 0.05 * line)
    if not stuck.any():
        return
    goal = factor[stuck] * np.maximum(per_capita[stuck], 0.05 * line[stuck])
    extra = np.round((goal - per_capita[stuck]) * sizes[stuck]).astype(np.int64)
    heads = pop.starts[stuck]
    transfer = pop.persons["transfer_income"]
    transfer[heads] = transfer[heads] + extra
    factor[stuck] = 1.0


def _within_asset_limits(
    pop: Population, households: IntArray, line: FloatArray, sizes: IntArray, months: int
) -> None:
    limit = (line[households] * sizes[households] * months).astype(np.int64)
    assets = pop.households["financial_assets"]
    assets[households] = np.minimum(assets[households], limit // 2)
    pop.households["vehicles"][households] = 0
    homes = pop.households["homes"]
    homes[households] = np.minimum(homes[households], 1)


def recipients(
    pop: Population,
    rng: np.random.Generator,
    dibao_eligible: BoolArray,
    tekun_person: BoolArray,
) -> None:
    """The current caseload: eligible households (dibao) and persons (tekun), each with the
    take-up of ``assistance.take_up``."""
    take_up = _target("assistance.take_up")
    pop.households["is_dibao_recipient"] = dibao_eligible & (
        rng.random(pop.n_households) < float(take_up["dibao"])
    )
    pop.persons["is_tekun_recipient"] = tekun_person & (
        rng.random(pop.n_persons) < float(take_up["tekun"])
    )


@dataclass(frozen=True)
class CalibrationRow:
    """One line of the calibration table: a program and hukou group, its target and result."""

    program: str
    group: str  # urban or rural
    persons: int  # of the group
    target: float  # share of the group's persons
    tolerance: float  # relative
    eligible: float  # share of the group's persons in eligible households (tekun: persons)
    enrolled: float  # share in recipient households (tekun: recipient persons)
    source: str

    @property
    def within(self) -> bool:
        return abs(self.eligible / self.target - 1) <= self.tolerance if self.target else True


def calibration_table(
    pop: Population, county: str, on: dt.date, fallbacks: dict[str, Any] | None = None
) -> list[CalibrationRow]:
    """Achieved shares of persons eligible and enrolled, against the targets, for one county.

    Dibao counts the persons of eligible households that are not tekun households (a tekun
    person is below the dibao line too, and is supported as tekun); tekun counts eligible persons.
    ``fallbacks``: values for parameters the county lacks (tekun's care standard, for one); the
    dibao lines are the calibration's (``dibao_lines``)."""
    lines = dibao_lines(county, on)
    params = Params(on, county, fallbacks={**(fallbacks or {}), **lines.fallbacks})
    dibao = compute(program("dibao"), pop, params, Trace())
    tekun = compute(program("tekun"), pop, params, Trace())
    tekun_person = tekun.person_amount > 0 if tekun.person_amount is not None else None
    assert tekun_person is not None
    tekun_h = pop.any_h(tekun_person)
    sizes = pop.ends - pop.starts
    urban_h = pop.h("hukou_type") == FIELDS.get("hukou_type").code("urban")
    shares = target_shares(county)
    province = county[:2] + "0000"
    local = province in _target("assistance.dibao.recipient_share_by_province")
    sources = {
        "dibao": "assistance.dibao.recipient_share_by_province"
        if local
        else "assistance.dibao.recipient_share",
        "tekun": "assistance.tekun.recipient_share",
    }
    rows = []
    for group, mask in (("urban", urban_h), ("rural", ~urban_h)):
        persons = int(sizes[mask].sum())
        if not persons:
            continue
        whole, singles = dibao_paths(pop, dibao, tekun_h)
        counted = np.where(whole, sizes, singles)
        enrolled = mask & pop.h("is_dibao_recipient")
        rows.append(
            CalibrationRow(
                "dibao", group, persons, shares["dibao"][group],
                float(_target_tolerance(sources["dibao"])),
                float(counted[mask].sum()) / persons, float(counted[enrolled].sum()) / persons,
                sources["dibao"],
            )
        )  # fmt: skip
        in_group = pop.to_p(mask)
        rows.append(
            CalibrationRow(
                "tekun", group, persons, shares["tekun"][group],
                float(_target_tolerance(sources["tekun"])),
                float((tekun_person & in_group).sum()) / persons,
                float((pop.p("is_tekun_recipient") & in_group).sum()) / persons,
                sources["tekun"],
            )
        )  # fmt: skip
    return rows


def _target_tolerance(name: str) -> float:
    from safetynet.batch.synth import calibration  # the one calibration file (no import cycle)

    return float(calibration()["targets"][name]["tolerance"])


__all__ = [
    "CHECKED_PROGRAMS",
    "CalibrationRow",
    "DibaoLines",
    "ProgramCount",
    "calibrate",
    "calibration_table",
    "dibao_lines",
    "income_scale",
    "program_counts",
    "recipients",
    "target_shares",
    "tekun_persons",
]


@dataclass(frozen=True)
class ProgramCount:
    """One program on a generated county: households eligible with an amount, households marked
    as current recipients among them, persons paid and the month's amount (fen)."""

    program: str
    eligible: int
    recipients: int
    persons_paid: int
    amount_fen: int


CHECKED_PROGRAMS = (
    "dibao",
    "tekun",
    "employee_pension",
    "resident_pension",
    "unemployment",
    "employee_medical",
    "resident_medical",
)


def program_counts(
    pop: Population, county: str, on: dt.date, fallbacks: dict[str, Any] | None = None
) -> list[ProgramCount]:
    """The programs the calibration is about, on one generated county (dibao without the tekun
    households, as in ``calibration_table``)."""
    lines = dibao_lines(county, on)
    params = Params(on, county, fallbacks={**(fallbacks or {}), **lines.fallbacks})
    results = {pid: compute(program(pid), pop, params, Trace()) for pid in CHECKED_PROGRAMS}
    tekun_person = results["tekun"].person_amount
    assert tekun_person is not None
    tekun_h = pop.any_h(tekun_person > 0)
    rows = []
    for pid, res in results.items():
        paid = res.eligible & (res.amount > 0)
        if pid == "dibao":
            paid &= ~tekun_h
        info = program(pid).info
        marked = info.recipient_households(pop) & paid if info.recipients else paid
        if res.person_amount is None or pid == "dibao":
            persons = int((pop.ends - pop.starts)[paid].sum())
        else:
            persons = int((pop.to_p(paid) & (res.person_amount > 0)).sum())
        rows.append(
            ProgramCount(
                pid, int(paid.sum()), int(marked.sum()), persons, int(res.amount[paid].sum())
            )
        )
    return rows
