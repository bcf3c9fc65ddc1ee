"""Statutory retirement age after the 2024 reform (渐进式延迟法定退休年龄): the retirement month by
birth date and category, the minimum contribution months by retirement year, and the flexible
early/late retirement window. The functions here are shared by the pension programs; the program
``retirement_age`` shows them for one person. See docs/programs/retirement_age.md.

Months are counted as month indices (year × 12 + month − 1) and shown as YYYYMM integers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from safetynet.errors import InputError
from safetynet.policy.engine import (
    Params,
    Program,
    ProgramInfo,
    ProgramResult,
    Tier,
    Trace,
    register,
)
from safetynet.policy.population import (
    FIELDS,
    BoolArray,
    IntArray,
    Kind,
    Population,
    date_to_int,
    person_field,
)
from safetynet.policy.programs.subjects import Subjects

CATEGORIES = ("man", "woman_55", "woman_50")
MAN, WOMAN_55, WOMAN_50 = 0, 1, 2

person_field(
    "employee_pension_insured",
    Kind.BOOL,
    "Insured in the urban employee basic pension (城镇职工基本养老保险), now or in the past.",
    default=False,
)
person_field(
    "pension_category",
    Kind.ENUM,
    "Retirement category (退休年龄类别): man (原60岁), woman_55 (女干部/管理技术岗, 原55岁), "
    "woman_50 (女工人, 原50岁); auto = man for a male, woman_55 for a female.",
    default="auto",
    choices=("auto", *CATEGORIES),
)
person_field(
    "employee_pension_contribution_months",
    Kind.INT,
    "Months of employee-pension contributions actually paid (实际缴费月数), up to the date.",
    default=0,
    unit="months",
)
person_field(
    "employee_pension_deemed_months",
    Kind.INT,
    "Deemed contribution months (视同缴费月数) from service before personal accounts (about 1996).",
    default=0,
    unit="months",
)
person_field(
    "retirement_flexible_months",
    Kind.INT,
    "Requested flexible retirement (弹性退休) in months: negative = earlier than the statutory month, "
    "positive = later, 0 = at the statutory month.",
    default=0,
    minimum=-36,
    maximum=36,
    unit="months",
)
person_field(
    "retirement_employer_consents",
    Kind.BOOL,
    "The employer agrees to a later (flexible delayed) retirement (所在单位与职工协商一致).",
    default=False,
)

P = "insurance.retirement_age."


def month_index(yyyymmdd: IntArray) -> IntArray:
    """Dates as int YYYYMMDD → month index (year × 12 + month − 1)."""
    d = np.asarray(yyyymmdd, dtype=np.int64)
    out: IntArray = (d // 10000) * 12 + (d // 100 % 100) - 1
    return out


def date_month_index(on: dt.date) -> int:
    return on.year * 12 + on.month - 1


def yyyymm(index: IntArray) -> IntArray:
    """Month index → YYYYMM integer (0 stays 0 where there is no month)."""
    i = np.asarray(index, dtype=np.int64)
    out: IntArray = np.where(i > 0, (i // 12) * 100 + i % 12 + 1, 0)
    return out


def yyyymm_to_index(value: int) -> int:
    return (value // 100) * 12 + value % 100 - 1


def pension_category(pop: Population) -> tuple[IntArray, BoolArray]:
    """Each person's category code (0 man, 1 woman_55, 2 woman_50) and whether the given category
    contradicts the person's sex (a man in a woman's category or the reverse)."""
    return _category(pop.p("pension_category"), pop.p("sex"))


def _category(given: np.ndarray, sex: np.ndarray) -> tuple[IntArray, BoolArray]:
    """``pension_category`` of persons with these categories and sexes."""
    raw = given.astype(np.int64)  # 0 auto, 1 man, 2 woman_55, 3 woman_50
    female = sex == FIELDS.get("sex").code("female")
    auto = np.where(female, WOMAN_55, MAN)
    category: IntArray = np.where(raw == 0, auto, raw - 1).astype(np.int64)
    conflict: BoolArray = (raw != 0) & (female != (category != MAN))
    return category, conflict


_CODES = np.arange(len(CATEGORIES), dtype=np.int64)  # each category once


def _by_category(table: dict[str, int], category: IntArray) -> IntArray:
    values = np.asarray([int(table[c]) for c in CATEGORIES], dtype=np.int64)
    out: IntArray = values[category]
    return out


@dataclass
class Retirement:
    """Retirement facts (month indices). ``subject``: employee-pension insured persons whose
    category agrees with their sex; the facts are worked out for them alone (``who``: their rows;
    the ``*_at`` arrays, one value per subject) and are 0 for everybody else (``per_person``)."""

    subject: BoolArray
    category_at: IntArray
    category_conflict: BoolArray
    who: Subjects
    original_at: IntArray
    delay_at: IntArray
    statutory_at: IntArray
    effective_at: IntArray
    flexible_allowed_at: BoolArray
    earliest_at: IntArray
    latest_at: IntArray
    age_at_retirement_at: IntArray  # months, at the effective retirement month
    minimum_at: IntArray  # minimum contribution months for the effective retirement year
    contribution_months_at: IntArray  # paid + deemed
    minimum_met_at: BoolArray
    reached_at: BoolArray  # the calculation month is at or after the effective retirement month

    def per_person(self, values_at: np.ndarray) -> np.ndarray:
        """One of the ``*_at`` facts as a column of the population (0 for non-subjects)."""
        return self.who.spread(values_at)


def statutory_retirement(
    pop: Population, p: Params, t: Trace, category: IntArray, subject: BoolArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Original retirement month, delay in months and statutory retirement month (indices).

    delay = 0 when k < 0, else min(cap, ⌊k / step⌋ + 1), with k = original month − reference
    month (January 2025) — the step rule of the 2024 NPCSC decision and its annexed measures."""
    born = month_index(pop.p("birth_date"))
    return _statutory(p, t, born, category, subject, lambda values: values)


def _statutory(
    p: Params,
    t: Trace,
    born: IntArray,
    category: IntArray,
    subject: BoolArray,
    shown: Callable[[np.ndarray], np.ndarray],
) -> tuple[IntArray, IntArray, IntArray]:
    """``statutory_retirement`` for persons born in the months ``born`` (indices), with the
    delay only for ``subject``; ``shown`` makes a step's values per person of the population
    (the identity when these are every person)."""
    original = born + _by_category(p.table(P + "original_age_months"), category)
    cap = _by_category(p.table(P + "delay_cap_months"), category)
    names = [P + "original_age_months", P + "delay_cap_months"]
    delay = np.zeros(len(born), dtype=np.int64)
    if (subject & (cap > 0)).any():
        steps = np.maximum(_by_category(p.table(P + "delay_step_months"), _CODES), 1)
        reference = yyyymm_to_index(p.int(P + "delay_reference_month"))
        k = original - reference
        # One step per category: k is divided by each distinct step as a number (a division by
        # a column of divisors is many times slower), each person keeping the quotient by theirs.
        distinct = sorted(set(steps.tolist()))
        quotient = k // distinct[0]
        if len(distinct) > 1:
            step = steps[category]
            for value in distinct[1:]:
                quotient = np.where(step == value, k // value, quotient)
        delay = np.where(k < 0, 0, np.minimum(cap, quotient + 1))
        names += [P + "delay_step_months", P + "delay_reference_month"]
    delay = np.where(subject, delay, 0).astype(np.int64)
    statutory = original + delay
    t.step(
        "original_retirement_month",
        "Original retirement month (birth month + original age 60 / 55 / 50)",
        lambda: yyyymm(shown(np.where(subject, original, 0))),
        kind="int",
        params=[P + "original_age_months"],
    )
    t.step(
        "delay_months",
        "Delay under the 2024 reform, in months",
        lambda: shown(delay),
        kind="int",
        formula="k = original month − January 2025; k < 0 → 0, else min(cap, ⌊k ÷ step⌋ + 1)",
        params=names,
    )
    t.step(
        "statutory_retirement_month",
        "Statutory retirement month (YYYYMM)",
        lambda: yyyymm(shown(np.where(subject, statutory, 0))),
        kind="int",
        formula="original month + delay",
    )
    return original, delay, statutory


_YEARS_LOOKED_UP = 256  # beyond this many persons, a span of fewer years is searched year by year


def minimum_contribution_months(p: Params, year: IntArray) -> IntArray:
    """Minimum contribution months for people reaching retirement in ``year`` (by row of the
    dated scale: 180 through 2029, +6 a year from 2030, 240 from 2039)."""
    rows = p.value(P + "minimum_contribution_months_by_year")
    starts = np.array([int(start) for start, _ in rows], dtype=np.int64)
    if len(starts) and bool(np.all(starts[1:] > starts[:-1])):
        # Rows by ascending year (as the scale is written): each year takes the last row that has
        # started, found by one search instead of a pass per row.
        months = np.array([0, *(int(m) for _, m in rows)], dtype=np.int64)
        if len(year) > _YEARS_LOOKED_UP:
            low, high = int(year.min()), int(year.max())
            if high - low < _YEARS_LOOKED_UP:
                # Many persons, few distinct years: each year searched once, then looked up.
                each = months[np.searchsorted(starts, np.arange(low, high + 1), side="right")]
                by_year: IntArray = each[year - low]
                return by_year
        found: IntArray = months[np.searchsorted(starts, year, side="right")]
        return found
    out = np.zeros(len(year), dtype=np.int64)
    for start, months_ in rows:
        out = np.where(year >= int(start), int(months_), out)
    return out


def retirement(pop: Population, p: Params, t: Trace) -> Retirement:
    """Statutory and effective retirement of every employee-pension insured person, made once
    per population and parameter view for the programs that read it (the retirement age and the
    employee pension), except when explained.

    Bad input: a birth date after the calculation date is an error naming ``birth_date``; a category
    contradicting the person's sex is not guessed away: the person is flagged (``category_conflict``)
    and not computed (ineligible, all outputs 0)."""
    if t.enabled:
        return _retirement(pop, p, t)
    return p.shared("retirement_age.retirement", pop, lambda: _retirement(pop, p, t))


def _retirement(pop: Population, p: Params, t: Trace) -> Retirement:
    insured = pop.p("employee_pension_insured").astype(bool)
    birth = pop.p("birth_date")
    covered = Subjects.of(pop, insured)
    if (covered.take(birth) > date_to_int(p.on)).any():
        raise InputError(
            "birth_date",
            f"an insured person's birth date is after the date of calculation {p.on.isoformat()}",
        )
    # The category matters for the insured alone (a conflict is flagged for them only).
    category, conflicting = _category(
        covered.take(pop.p("pension_category")), covered.take(pop.p("sex"))
    )
    conflict = covered.spread(conflicting)
    subject: BoolArray = insured & ~conflict
    t.step(
        "category_conflict",
        "The retirement category contradicts the person's sex (not computed)",
        conflict,
        kind="bool",
    )
    # Every fact below is 0 (or false) for a person who is not a subject: each is worked out on
    # the subjects' rows alone, from their own values (``who.spread`` shows them per person).
    who = covered.within(~conflicting)
    at, shown = who.at, who.spread
    born = month_index(birth[at])
    everyone = np.ones(len(at), dtype=np.bool_)
    original, delay, statutory = _statutory(p, t, born, category[~conflicting], everyone, shown)
    now = date_month_index(p.on)
    contributed = (
        pop.p("employee_pension_contribution_months")[at]
        + pop.p("employee_pension_deemed_months")[at]
    )
    t.step(
        "contribution_months",
        "Contribution months, paid plus deemed",
        lambda: shown(contributed),
        kind="int",
    )

    max_early = p.int(P + "flexible.max_early_months")
    max_late = p.int(P + "flexible.max_late_months")
    earliest = np.maximum(statutory - max_early, original)
    latest = statutory + max_late
    request = pop.p("retirement_flexible_months")[at].astype(np.int64)
    wanted = statutory + request
    early_ok = (request < 0) & (wanted >= earliest)
    early = np.flatnonzero(request < 0)  # the minimum matters only for an earlier retirement
    early_ok[early] &= contributed[early] >= minimum_contribution_months(p, wanted[early] // 12)
    late_ok = (request > 0) & (wanted <= latest)
    if p.flag(P + "flexible.late_needs_employer_consent"):
        late_ok &= pop.p("retirement_employer_consents")[at].astype(bool)
    allowed: BoolArray = (request == 0) | early_ok | late_ok
    effective = np.where(allowed, wanted, statutory)
    t.step(
        "flexible_window",
        "Flexible retirement window: earliest and latest month (YYYYMM)",
        lambda: np.asarray(
            [
                f"{a}–{b}"
                for a, b in zip(yyyymm(shown(earliest)), yyyymm(shown(latest)), strict=True)
            ],
            dtype=object,
        ),
        kind="text",
        formula="earliest = max(statutory − 36 months, original month) once the minimum is met; "
        "latest = statutory + 36 months with the employer's consent",
        params=[
            P + "flexible.max_early_months",
            P + "flexible.max_late_months",
            P + "flexible.late_needs_employer_consent",
        ],
    )
    t.step(
        "flexible_request_allowed",
        "The requested flexible retirement (if any) is within the rules",
        lambda: shown(allowed),
        kind="bool",
        formula="early: not before the earliest month and minimum met; late: not after the "
        "latest month and the employer consents; otherwise the statutory month applies",
    )
    t.step(
        "effective_retirement_month",
        "Retirement month that applies (YYYYMM)",
        lambda: yyyymm(shown(effective)),
        kind="int",
    )
    minimum = minimum_contribution_months(p, effective // 12)
    minimum_met: BoolArray = contributed >= minimum
    t.step(
        "minimum_contribution_months",
        "Minimum contribution months for the retirement year",
        lambda: shown(minimum),
        kind="int",
        params=[P + "minimum_contribution_months_by_year"],
    )
    t.step(
        "minimum_met", "Minimum contribution months met", lambda: shown(minimum_met), kind="bool"
    )
    reached: BoolArray = now >= effective
    t.step(
        "retirement_reached",
        "The retirement month has been reached by the date",
        lambda: shown(reached),
        kind="bool",
    )
    return Retirement(
        subject=subject,
        category_at=category[~conflicting],
        category_conflict=conflict,
        who=who,
        original_at=original,
        delay_at=delay,
        statutory_at=statutory,
        effective_at=effective,
        flexible_allowed_at=allowed,
        earliest_at=earliest,
        latest_at=latest,
        age_at_retirement_at=effective - born,
        minimum_at=minimum,
        contribution_months_at=contributed.astype(np.int64),
        minimum_met_at=minimum_met,
        reached_at=reached,
    )


@register
class RetirementAge(Program):
    id = "retirement_age"
    title = "Statutory retirement age (2025 reform)"
    title_zh = "渐进式延迟法定退休年龄"
    info = ProgramInfo(
        Tier.INSURANCE, "insurance.retirement_age", concerns=("employee_pension_insured",)
    )
    period = "event"
    pays_persons = False
    legal_basis = (
        "全国人民代表大会常务委员会关于实施渐进式延迟法定退休年龄的决定 (2024-09-13)",
        "国务院关于渐进式延迟法定退休年龄的办法 arts 2-4 and annex tables",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        r = retirement(pop, p, t)
        who = r.who  # everything below is per subject: 0 for the others (``Subjects``)
        can_retire = r.reached_at & r.minimum_met_at
        t.step(
            "eligible",
            "Reached the retirement month with the minimum contribution months",
            lambda: who.spread(can_retire),
            kind="bool",
        )
        first = who.first_value

        return ProgramResult(
            eligible=who.any_h(can_retire),
            amount=np.zeros(pop.n_households, dtype=np.int64),
            outputs={
                "retirement_year_month": yyyymm(first(r.statutory_at)),
                "delay_months": first(r.delay_at),
                "age_at_retirement_months": first(
                    r.statutory_at - month_index(pop.p("birth_date")[who.at])
                ),
                "minimum_contribution_months": first(
                    minimum_contribution_months(p, r.statutory_at // 12)
                ),
                "earliest_flexible_month": yyyymm(first(r.earliest_at)),
                "latest_flexible_month": yyyymm(first(r.latest_at)),
                "effective_retirement_month": yyyymm(first(r.effective_at)),
                "flexible_request_allowed": first(r.flexible_allowed_at).astype(bool),
                "minimum_met": first(r.minimum_met_at).astype(bool),
                "category_conflict": pop.any_h(r.category_conflict),
            },
        )
