"""Urban employees' basic medical insurance (城镇职工基本医疗保险): monthly contributions on a clamped
base, personal-account credits after the 2021 reform, outpatient pooling and the inpatient benefit.
The inpatient benefit is the basic-insurance layer of the triple protection (``medical_layers``),
reused here, with the retirees' ratio supplement on top. See docs/programs/employee_medical.md."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import numpy as np

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
    person_field,
)
from safetynet.policy.programs.medical_layers import banded_payment, basic_insurance_layer
from safetynet.policy.programs.subjects import Subjects

person_field(
    "medical_insured",
    Kind.BOOL,
    "Insured in basic medical insurance under the scheme given by medical_scheme "
    "(false: not insured at all).",
    default=True,
)
person_field(
    "employee_medical_retired",
    Kind.BOOL,
    "Retired member of the employee scheme (退休人员): pays no contributions, gets the retirees' "
    "account credit and higher ratios.",
    default=False,
)
person_field(
    "employee_medical_wage",
    Kind.MONEY,
    "Monthly wage declared as the medical contribution base before the 60-300 % clamp (usually "
    "the previous year's average monthly wage); 0 = use wage_income.",
    default="0",
    unit="yuan/month",
)
person_field(
    "medical_outpatient_cost",
    Kind.MONEY,
    "In-policy general outpatient cost of this period (employee-scheme outpatient pooling).",
    default="0",
    unit="yuan",
)
person_field(
    "medical_outpatient_cost_ytd",
    Kind.MONEY,
    "General outpatient cost already counted this calendar year (the deductible is annual).",
    default="0",
    unit="yuan",
)
person_field(
    "medical_outpatient_paid_ytd",
    Kind.MONEY,
    "Outpatient pooling already paid this calendar year (for the annual cap).",
    default="0",
    unit="yuan",
)

P = "insurance.employee_medical."
AVERAGE_WAGE = "insurance.employee_pension.average_wage_monthly"


def insured_under(pop: Population, scheme: str) -> BoolArray:
    """Persons insured under ``scheme`` ("employee" or "resident")."""
    code = FIELDS.get("medical_scheme").code(scheme)
    insured: BoolArray = pop.p("medical_insured") & (pop.p("medical_scheme") == code)
    return insured


def _plus_points(ratio: Decimal, bonus: Decimal) -> Decimal:
    return min(Decimal(ratio) + bonus, Decimal(1))


def params_with_ratio_bonus(p: Params, name: str, bonus: Decimal) -> Params:
    """The same parameter view with every ratio of the table ``name`` raised by ``bonus`` (≤ 1).

    Lets the retirees' supplement reuse ``basic_insurance_layer`` unchanged: the layer reads its
    ratios from the view it is given.
    """
    bumped = {k: _plus_points(v, bonus) for k, v in p.table(name).items()}
    return Params(p.on, p.region, p.tree, {**p.overrides, name: bumped}, p.fallbacks)


def contribution_base(
    column: Callable[[str], np.ndarray],
    p: Params,
    t: Trace,
    payers: BoolArray,
    shown: Callable[[np.ndarray], np.ndarray],
    prefix: str = P,
) -> IntArray:
    """Monthly base of each payer: the declared wage (or wage_income) clamped to floor..ceiling
    × the local average wage. Non-payers get 0; nothing is read when there are no payers.
    ``column`` gives the persons' columns (those ``payers`` is of), ``shown`` the step's values
    per person of the population."""
    base = np.zeros(len(payers), dtype=np.int64)
    if not payers.any():
        return base
    # Worked out on the payers' rows alone (a non-payer's base is 0): the same values there.
    rows = np.flatnonzero(payers)
    declared = column("employee_medical_wage")[rows]
    wage = np.where(declared > 0, declared, column("wage_income")[rows])
    names = [AVERAGE_WAGE, prefix + "contribution_base_floor_ratio"]
    names.append(prefix + "contribution_base_ceiling_ratio")
    average = p.fen(AVERAGE_WAGE)
    floor = Program.times(average, p.ratio(names[1]), p)
    ceiling = Program.times(average, p.ratio(names[2]), p)
    base[rows] = np.clip(wage, floor, ceiling)
    t.step(
        "contribution_base",
        "Contribution base: own wage clamped to 60-300 % of the local average wage",
        lambda: shown(base),
        formula=f"min(max(wage, {floor / 100:.2f}), {ceiling / 100:.2f})",
        params=names,
    )
    return base


@register
class EmployeeMedical(Program):
    id = "employee_medical"
    title = "Employees' basic medical insurance"
    title_zh = "城镇职工基本医疗保险"
    info = ProgramInfo(Tier.INSURANCE, "insurance.employee_medical")
    period = "event"  # the amount is the benefit for the stays and costs given; contributions are monthly outputs
    legal_basis = (
        "社会保险法 arts 23, 27-30",
        "国务院关于建立城镇职工基本医疗保险制度的决定 (国发〔1998〕44号)",
        "国务院办公厅关于建立健全职工基本医疗保险门诊共济保障机制的指导意见 (国办发〔2021〕14号)",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        insured = insured_under(pop, "employee")
        # Nobody but an insured member contributes, is credited or paid: everything is worked
        # out on their rows (``who.at``) alone, 0 for the others as over every person masked.
        who = Subjects.of(pop, insured)
        shown = who.spread

        def column(name: str) -> np.ndarray:
            return who.take(pop.p(name))

        retired = column("employee_medical_retired").astype(np.bool_)
        working = ~retired
        t.step("insured", "Insured under the employee scheme", insured, kind="bool")
        t.step("retired", "Retired member", lambda: shown(retired), kind="bool")

        base = contribution_base(column, p, t, working, shown)
        employer = np.zeros(len(who.at), dtype=np.int64)
        individual = np.zeros(len(who.at), dtype=np.int64)
        if working.any():
            er, ir = P + "contribution_employer_rate", P + "contribution_individual_rate"
            # Only the working members contribute: their rows alone are multiplied.
            rows = np.flatnonzero(working)
            employer[rows] = self.times(base[rows], p.ratio(er), p)
            individual[rows] = self.times(base[rows], p.ratio(ir), p)
            t.step(
                "employer_contribution",
                "Employer pays",
                lambda: shown(employer),
                formula="base × rate",
                params=[er],
            )
            t.step(
                "individual_contribution",
                "Member pays",
                lambda: shown(individual),
                formula="base × 2 %",
                params=[ir],
            )
        credit = self._account_credit(p, t, working, retired, employer, individual, shown)
        inpatient = self._inpatient(pop, p, t, column, retired, who)
        outpatient = self._outpatient(p, t, column, retired, shown)
        paid = (inpatient + outpatient).astype(np.int64)
        sum_h = who.sum_h
        amount = sum_h(paid)
        t.step("amount", "The fund pays (inpatient + outpatient pooling)", amount)
        everyone = np.ones(len(who.at), dtype=np.bool_)
        return ProgramResult(
            eligible=who.any_h(everyone),
            amount=amount,
            outputs={
                "insured_members": sum_h(everyone),
                "contribution_base": sum_h(base),
                "employer_contribution": sum_h(employer),
                "individual_contribution": sum_h(individual),
                "account_credit": sum_h(credit),
                "inpatient_paid": sum_h(inpatient),
                "outpatient_paid": sum_h(outpatient),
            },
            person_amount=shown(paid),
        )

    def _account_credit(
        self,
        p: Params,
        t: Trace,
        working: BoolArray,
        retired: BoolArray,
        employer: IntArray,
        individual: IntArray,
        shown: Callable[[np.ndarray], np.ndarray],
    ) -> IntArray:
        credit = np.zeros(len(working), dtype=np.int64)
        names: list[str] = []
        if working.any():
            share_name = P + "personal_account.employer_share"
            rows = np.flatnonzero(working)  # the others are credited nothing from contributions
            from_employer = self.times(employer[rows], p.ratio(share_name), p)
            credit[rows] = individual[rows] + from_employer
            names.append(share_name)
        if retired.any():
            pension, ratio = (
                P + "personal_account.average_basic_pension_monthly",
                P + "personal_account.retiree_credit_ratio",
            )
            fixed = self.times(p.fen(pension), p.ratio(ratio), p)
            credit[retired] = fixed
            names += [pension, ratio]
        t.step(
            "account_credit",
            "Credited to the personal account this month",
            lambda: shown(credit),
            formula="working: own 2 % (+ employer share, 0 since the 2021 reform); "
            "retired: fixed sum = ratio × local average basic pension",
            params=names,
        )
        return credit.astype(np.int64)

    def _inpatient(
        self,
        pop: Population,
        p: Params,
        t: Trace,
        column: Callable[[str], np.ndarray],
        retired: BoolArray,
        who: Subjects,
    ) -> IntArray:
        """What the fund pays for the stays of the insured (the rows of ``who``); the layer is
        given every person's cost (0 for the others) and its payments are taken for them."""
        cost = column("medical_in_policy_cost").astype(np.int64)
        if not (cost > 0).any():
            return np.zeros(len(cost), dtype=np.int64)
        t.step("in_policy_cost", "In-policy cost of the inpatient stay", lambda: who.spread(cost))
        retired_stay = retired & (cost > 0)
        if not retired_stay.any():
            return basic_insurance_layer(pop, p, t, who.spread(cost))[who.at]
        bonus_name = P + "inpatient.retiree_ratio_bonus"
        ratio_name = P + "inpatient.ratio"
        bonus = p.ratio(bonus_name)
        p.table(ratio_name)  # cited: the retirees' ratios are built on it
        off = Trace()
        working_cost = who.spread(np.where(retired, 0, cost))
        working_pay = basic_insurance_layer(pop, p, off, working_cost)[who.at]
        retired_params = params_with_ratio_bonus(p, ratio_name, bonus)
        retired_cost = who.spread(np.where(retired, cost, 0))
        retired_pay = basic_insurance_layer(pop, retired_params, off, retired_cost)[who.at]
        for name in (P + "inpatient.deductible", P + "inpatient.annual_cap"):
            p.value(name)  # cited
        pay: IntArray = (working_pay + retired_pay).astype(np.int64)
        t.step(
            "basic_insurance_paid",
            "Basic medical insurance pays (retirees at the ratio + the retirees' supplement)",
            lambda: who.spread(pay),
            formula="min((in-policy cost − deductible) × (ratio [+ retiree points, ≤ 100 %]), "
            "annual cap − paid this year)",
            params=[P + "inpatient.deductible", ratio_name, bonus_name, P + "inpatient.annual_cap"],
        )
        return pay

    def _outpatient(
        self,
        p: Params,
        t: Trace,
        column: Callable[[str], np.ndarray],
        retired: BoolArray,
        shown: Callable[[np.ndarray], np.ndarray],
    ) -> IntArray:
        cost = column("medical_outpatient_cost").astype(np.int64)
        pay = np.zeros(len(cost), dtype=np.int64)
        if not (cost > 0).any():
            return pay
        names = [P + "outpatient." + k for k in ("deductible", "ratio", "annual_cap")]
        deductible = np.full(len(cost), p.fen(names[0]), dtype=np.int64)
        ratio = p.ratio(names[1])
        before = column("medical_outpatient_cost_ytd")
        after = before + cost
        pay = banded_payment(before, after, deductible, ((Decimal(0), ratio),), p)
        if (retired & (cost > 0)).any():
            names.append(P + "outpatient.retiree_ratio_bonus")
            better = _plus_points(ratio, p.ratio(names[-1]))
            retired_pay = banded_payment(before, after, deductible, ((Decimal(0), better),), p)
            pay = np.where(retired, retired_pay, pay)
        room = np.maximum(p.fen(names[2]) - column("medical_outpatient_paid_ytd"), 0)
        pay = np.where(cost > 0, np.minimum(pay, room), 0).astype(np.int64)
        t.step(
            "outpatient_paid",
            "Outpatient pooling pays",
            lambda: shown(pay),
            formula="min((year's outpatient cost above the annual deductible) × ratio "
            "[+ retiree points], annual cap − paid this year)",
            params=names,
        )
        return pay
