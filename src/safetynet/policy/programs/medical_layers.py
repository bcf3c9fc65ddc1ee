"""The three layers of the triple protection (三重保障) for one inpatient settlement.

Basic medical insurance, critical-illness insurance and medical assistance are applied one after the
other to each person's in-policy cost: each layer pays part of what the previous one left. This
module holds one function per layer and ``settle``, which chains them; the programs
``medical_settlement`` and ``medical_assistance`` (and later the social-insurance programs) import
them, so no layer is written twice. See docs/programs/medical_assistance.md.

This module registers no program.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from safetynet.errors import CoverageError
from safetynet.policy.common import prev_year_disposable_income
from safetynet.policy.engine import Params, Program, Trace
from safetynet.policy.population import (
    FIELDS,
    BoolArray,
    IntArray,
    Kind,
    Population,
    person_field,
)

# -- inputs for one settlement ------------------------------------------------------------------
person_field(
    "medical_in_policy_cost",
    Kind.MONEY,
    "In-policy cost (政策范围内费用) of this inpatient stay; 0 for members not in hospital.",
    default="0",
    unit="yuan",
)
person_field(
    "medical_hospital_level",
    Kind.INT,
    "Level of the hospital of this stay: 1 primary or township, 2 secondary, 3 tertiary.",
    default=3,
    minimum=1,
    maximum=3,
)
person_field(
    "medical_scheme",
    Kind.ENUM,
    "Basic medical insurance scheme the person is insured under.",
    default="resident",
    choices=("resident", "employee"),
)
person_field(
    "medical_illness_impoverished",
    Kind.BOOL,
    "Recognised as impoverished by serious illness (因病致贫重病患者) by the medical-security bureau.",
    default=False,
)
for _name, _desc in (
    (
        "medical_basic_paid_ytd",
        "Basic insurance already paid for inpatient care this calendar year.",
    ),
    (
        "medical_critical_illness_paid_ytd",
        "Critical-illness insurance already paid this calendar year.",
    ),
    ("medical_assistance_paid_ytd", "Medical assistance already paid this calendar year."),
    (
        "medical_critical_illness_cost_ytd",
        "Cost already counted towards critical-illness insurance this year (its deductible is annual).",
    ),
    (
        "medical_assistance_cost_ytd",
        "Cost already counted towards medical assistance this year (its deductible is annual).",
    ),
):
    person_field(_name, Kind.MONEY, _desc, default="0", unit="yuan")

# -- groups -------------------------------------------------------------------------------------
ORDINARY, TEKUN, DIBAO, MARGINAL, MONITORED, ILLNESS = range(6)
GROUPS = ("ordinary", "tekun", "dibao", "marginal", "monitored", "illness_impoverished")
ASSISTED_GROUPS = GROUPS[1:]

RESIDENT_MEDICAL = "insurance.resident_medical."
EMPLOYEE_MEDICAL = "insurance.employee_medical."
CRITICAL = "insurance.critical_illness."
ASSIST = "assistance.medical_assistance."


def medical_group(pop: Population, t: Trace) -> IntArray:
    """Each person's group for the triple protection, from enrolment facts (first match wins).

    tekun (person) → dibao (household) → marginal (household) → monitored (household) →
    impoverished by illness (person) → ordinary. Marginal comes before monitored because the
    monitored population usually includes the marginal households; the illness-impoverished group
    is by definition the residual one.
    """
    group = np.full(pop.n_persons, ORDINARY, dtype=np.int64)
    group = np.where(pop.p("medical_illness_impoverished"), ILLNESS, group)
    group = np.where(pop.to_p(pop.h("is_low_income_monitored")), MONITORED, group)
    group = np.where(pop.to_p(pop.h("is_dibao_marginal_registered")), MARGINAL, group)
    group = np.where(pop.to_p(pop.h("is_dibao_recipient")), DIBAO, group)
    group = np.where(pop.p("is_tekun_recipient"), TEKUN, group)
    if t.enabled:
        t.step(
            "medical_group",
            "Group of each member (tekun, dibao, marginal, monitored, illness-impoverished, ordinary)",
            lambda: np.asarray(GROUPS, dtype=object)[group],
            kind="text",
        )
    return group


def _by_key(codes: IntArray, table: dict[str, Any], keys: tuple[str, ...], default: Any) -> Any:
    """Per-person values of a parameter table keyed by group or level name (vectorised)."""
    lookup = np.asarray([table.get(k, default) for k in keys], dtype=object)
    return lookup[codes]


def _times_by_code(
    amount: IntArray, codes: IntArray, ratios: dict[int, Decimal], p: Params
) -> IntArray:
    """``amount × ratio[code]`` with exact rounding, one pass per distinct ratio (a few rows).
    Only non-zero amounts are multiplied (zero times any ratio is zero, whatever the rounding):
    most persons have no stay in hospital."""
    out = np.zeros_like(amount)
    nonzero = amount != 0
    for code, ratio in ratios.items():
        rows = np.flatnonzero(nonzero & (codes == code))
        if len(rows):
            out[rows] = Program.times(amount[rows], ratio, p)
    return out


def _within_cap(pay: IntArray, cap: int, paid_ytd: IntArray) -> IntArray:
    capped: IntArray = np.minimum(pay, np.maximum(cap - paid_ytd, 0))
    return capped


# -- layer 1: basic medical insurance ----------------------------------------------------------


def basic_insurance_layer(pop: Population, p: Params, t: Trace, cost: IntArray) -> IntArray:
    """What basic medical insurance pays on this stay: (cost − deductible) × ratio, within the cap.

    The deductible and the ratio depend on the hospital level and the scheme (resident or employee);
    the annual cap counts what the fund already paid this year.
    """
    pay = np.zeros(pop.n_persons, dtype=np.int64)
    # Only persons with a cost are paid (or shown a deductible): the layer is worked out on their
    # rows alone, each person's payment depending on that person's own values only, so the
    # result is the same as over every person (most have no stay in hospital).
    at = np.flatnonzero(cost > 0)
    level = pop.p("medical_hospital_level")[at].astype(np.int64)
    scheme = pop.p("medical_scheme")[at]
    cost_at = cost[at]
    pay_at = np.zeros(len(at), dtype=np.int64)
    used: list[str] = []
    deductible_at = np.zeros(len(at), dtype=np.int64)
    for code, prefix in enumerate((RESIDENT_MEDICAL, EMPLOYEE_MEDICAL)):
        members = scheme == code
        if not members.any():
            continue
        names = [prefix + "inpatient." + k for k in ("deductible", "ratio", "annual_cap")]
        used += names
        deductibles = p.table(names[0])
        ratios = p.table(names[1])
        for lv in np.unique(level[members]).tolist():
            if str(lv) not in deductibles or str(lv) not in ratios:
                raise CoverageError(
                    f"parameters {names[0]} and {names[1]} have no value for hospital level {lv}"
                )
        ded = np.asarray([0] + [int(deductibles.get(str(lv), 0)) for lv in (1, 2, 3)])[level]
        above = np.maximum(cost_at - ded, 0)
        level_ratios = {lv: Decimal(ratios[str(lv)]) for lv in (1, 2, 3) if str(lv) in ratios}
        raw = _times_by_code(above, level, level_ratios, p)
        capped = _within_cap(raw, p.fen(names[2]), pop.p("medical_basic_paid_ytd")[at])
        pay_at = np.where(members, capped, pay_at)
        deductible_at = np.where(members, ded, deductible_at)
    pay[at] = pay_at

    def deductible_shown() -> IntArray:
        shown = np.zeros(pop.n_persons, dtype=np.int64)
        shown[at] = deductible_at
        return shown

    t.step(
        "basic_deductible",
        "Basic-insurance deductible for this stay (by hospital level and scheme)",
        deductible_shown,
        params=used[0::3],
    )
    t.step(
        "basic_insurance_paid",
        "Basic medical insurance pays",
        pay,
        formula="min((in-policy cost − deductible) × ratio, annual cap − paid this year)",
        params=used,
    )
    return pay


# -- banded layers (critical-illness insurance and medical assistance) -------------------------


def banded_payment(
    before: IntArray,
    after: IntArray,
    deductible: IntArray,
    rows: tuple[tuple[Decimal, Decimal], ...],
    p: Params,
) -> IntArray:
    """Payment for the cost that moves the year's accumulated cost from ``before`` to ``after``.

    ``rows`` are (threshold in yuan, ratio) bands of the accumulated cost, each applying up to the
    next threshold; nothing is paid below the (per-person) ``deductible``. A single row is a flat
    ratio. Computing f(after) − f(before) makes an annual deductible and annual bands work across
    several stays in one year.
    """
    pay = np.zeros_like(after)
    for i, (start, ratio) in enumerate(rows):
        start_fen = int(Decimal(start) * 100)
        lo = np.maximum(start_fen, deductible)
        if i + 1 < len(rows):
            hi = np.maximum(int(Decimal(rows[i + 1][0]) * 100), lo)
            portion = np.clip(after, lo, hi) - np.clip(before, lo, hi)
        else:
            portion = np.maximum(after, lo) - np.maximum(before, lo)
        pay = pay + Program.times(portion.astype(np.int64), Decimal(ratio), p)
    result: IntArray = pay.astype(np.int64)
    return result


# -- layer 2: critical-illness insurance --------------------------------------------------------


def critical_illness_layer(
    pop: Population, p: Params, t: Trace, residual: IntArray, group: IntArray
) -> IntArray:
    """What critical-illness insurance pays on the cost basic insurance left to the patient.

    The deductible is annual, so the year's accumulated cost counts; the bands of
    ``insurance.critical_illness.ratio_scale`` apply to that accumulated cost. Preferential groups
    (dibao, tekun, returned to poverty) get a reduced deductible, raised ratios and no cap.
    """
    covered = residual > 0
    if not p.flag(CRITICAL + "covers_employee_scheme"):
        covered &= pop.p("medical_scheme") == FIELDS.get("medical_scheme").code("resident")
    pay = np.zeros(pop.n_persons, dtype=np.int64)
    params = [CRITICAL + "covers_employee_scheme"]
    if not covered.any():
        t.step("critical_illness_paid", "Critical-illness insurance pays", pay, params=params)
        return pay
    groups_table = p.table(CRITICAL + "preference.groups")
    preferred = _by_key(group, groups_table, GROUPS, False).astype(bool) & covered
    deductible = np.full(pop.n_persons, p.fen(CRITICAL + "deductible"), dtype=np.int64)
    rows: tuple[tuple[Decimal, Decimal], ...] = p.value(CRITICAL + "ratio_scale")
    params += [CRITICAL + "deductible", CRITICAL + "ratio_scale", CRITICAL + "preference.groups"]
    before = pop.p("medical_critical_illness_cost_ytd")
    after = before + residual
    pay = banded_payment(before, after, deductible, rows, p)
    if preferred.any():
        share = p.ratio(CRITICAL + "preference.deductible_share")
        bonus = p.ratio(CRITICAL + "preference.ratio_bonus")
        params += [CRITICAL + "preference.deductible_share", CRITICAL + "preference.ratio_bonus"]
        deductible = np.where(preferred, Program.times(deductible, share, p), deductible)
        better = tuple((start, min(Decimal(r) + bonus, Decimal(1))) for start, r in rows)
        pay = np.where(preferred, banded_payment(before, after, deductible, better, p), pay)
    t.step(
        "critical_illness_deductible",
        "Critical-illness deductible (reduced for dibao, tekun and people returned to poverty)",
        lambda: np.where(covered, deductible, 0),
        params=[n for n in params if n.endswith(("deductible", "deductible_share"))],
    )
    uncapped = ~preferred
    if preferred.any():
        params.append(CRITICAL + "preference.cap_removed")
        if not p.flag(CRITICAL + "preference.cap_removed"):
            uncapped = np.ones_like(preferred)
    needs_cap = uncapped & covered & (pay > 0)
    if needs_cap.any():
        cap = p.fen(CRITICAL + "annual_cap")
        params.append(CRITICAL + "annual_cap")
        pay = np.where(
            needs_cap, _within_cap(pay, cap, pop.p("medical_critical_illness_paid_ytd")), pay
        )
    pay = np.where(covered, np.minimum(pay, residual), 0).astype(np.int64)
    t.step(
        "critical_illness_paid",
        "Critical-illness insurance pays",
        pay,
        formula="Σ bands (accumulated cost above the deductible × band ratio [+ bonus]), "
        "within the annual cap unless removed",
        params=params,
    )
    return pay


# -- layer 3: medical assistance ---------------------------------------------------------------


def assistance_layer(
    pop: Population, p: Params, t: Trace, residual: IntArray, group: IntArray
) -> tuple[IntArray, IntArray]:
    """What medical assistance pays on the cost both insurances left, and the deductible used.

    Deductible = share (by group) × local previous-year per-capita disposable income, annual;
    payment = (accumulated cost above it) × ratio (by group), within the annual cap.
    """
    pay = np.zeros(pop.n_persons, dtype=np.int64)
    deductible = np.zeros(pop.n_persons, dtype=np.int64)
    assisted_group = group != ORDINARY
    shares = p.table(ASSIST + "deductible_income_share") if assisted_group.any() else {}
    in_table = _by_key(group, dict.fromkeys(shares, True), GROUPS, False).astype(bool)
    assisted = assisted_group & in_table
    if not assisted.any():
        t.step("medical_assistance_paid", "Medical assistance pays", pay)
        return pay, deductible
    income = pop.to_p(prev_year_disposable_income(pop, p, t))
    share_codes = {GROUPS.index(k): Decimal(v) for k, v in shares.items() if k in GROUPS}
    deductible = np.where(assisted, _times_by_code(income, group, share_codes, p), 0)
    t.step(
        "medical_assistance_deductible",
        "Medical-assistance deductible (share of the local per-capita disposable income, by group)",
        deductible,
        formula="share by group × previous-year per-capita disposable income",
        params=[ASSIST + "deductible_income_share"],
    )
    if not (assisted & (residual > 0)).any():
        # Nobody has a cost left to assist: the ratios and the cap are not needed.
        t.step("medical_assistance_paid", "Medical assistance pays", pay)
        return pay, deductible
    ratios = p.table(ASSIST + "ratio")
    before = pop.p("medical_assistance_cost_ytd")
    after = before + residual
    above = np.maximum(after, deductible) - np.maximum(before, deductible)
    ratio_codes = {GROUPS.index(k): Decimal(v) for k, v in ratios.items() if k in GROUPS}
    raw = _times_by_code(above.astype(np.int64), group, ratio_codes, p)
    cap = p.fen(ASSIST + "annual_cap")
    capped = _within_cap(raw, cap, pop.p("medical_assistance_paid_ytd"))
    pay = np.where(assisted, np.minimum(capped, residual), 0).astype(np.int64)
    t.step(
        "medical_assistance_paid",
        "Medical assistance pays",
        pay,
        formula="min((accumulated cost above the deductible) × ratio by group, "
        "annual cap − paid this year)",
        params=[ASSIST + "ratio", ASSIST + "annual_cap"],
    )
    return pay, deductible


# -- the settlement ---------------------------------------------------------------------------


@dataclass
class Settlement:
    """Per-person results of one one-stop settlement (all int64 fen arrays)."""

    group: IntArray
    cost: IntArray
    basic: IntArray
    after_basic: IntArray
    critical: IntArray
    after_insurance: IntArray
    assistance_deductible: IntArray
    assistance: IntArray
    out_of_pocket: IntArray

    @property
    def assisted(self) -> BoolArray:
        covered: BoolArray = self.group != ORDINARY
        return covered


def settle(pop: Population, p: Params, t: Trace) -> Settlement:
    """Apply basic insurance, critical-illness insurance and medical assistance in that order:
    made once per population and parameter view for the programs that read it (medical
    assistance and the one-stop settlement), except when explained."""
    if t.enabled:
        return _settle(pop, p, t)
    return p.shared("medical_layers.settlement", pop, lambda: _settle(pop, p, t))


def _settle(pop: Population, p: Params, t: Trace) -> Settlement:
    group = medical_group(pop, t)
    cost = pop.p("medical_in_policy_cost")
    t.step("in_policy_cost", "In-policy cost of the stay", cost)
    basic = basic_insurance_layer(pop, p, t, cost)
    after_basic = cost - basic
    t.step("after_basic", "Left to the patient after basic insurance", after_basic)
    critical = critical_illness_layer(pop, p, t, after_basic, group)
    after_insurance = after_basic - critical
    t.step("after_insurance", "Left after critical-illness insurance", after_insurance)
    assistance, deductible = assistance_layer(pop, p, t, after_insurance, group)
    oop = after_insurance - assistance
    t.step("out_of_pocket", "Final out-of-pocket (paid at discharge)", oop)
    return Settlement(
        group, cost, basic, after_basic, critical, after_insurance, deductible, assistance, oop
    )
