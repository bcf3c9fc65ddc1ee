"""Urban employees' basic medical insurance (城镇职工基本医疗保险): monthly contributions on a clamped
base, personal-account credits after the 2021 reform, outpatient pooling and the inpatient benefit.
The inpatient benefit is the basic-insurance layer of the triple protection (``medical_layers``),
reused here, with the retirees' ratio supplement on top. See docs/programs/employee_medical.md."""

from __future__ import annotations

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
    pop: Population, p: Params, t: Trace, payers: BoolArray, prefix: str = P
) -> IntArray:
    """Monthly base of each payer: the declared wage (or wage_income) clamped to floor..ceiling
    × the local average wage. Non-payers get 0; nothing is read when there are no payers."""
    base = np.zeros(pop.n_persons, dtype=np.int64)
    if not payers.any():
        return base
    # Worked out on the payers' rows alone (a non-payer's base is 0): the same values there.
    rows = np.flatnonzero(payers)
    declared = pop.p("employee_medical_wage")[rows]
    wage = np.where(declared > 0, declared, pop.p("wage_income")[rows])
    names = [AVERAGE_WAGE, prefix + "contribution_base_floor_ratio"]
    names.append(prefix + "contribution_base_ceiling_ratio")
    average = p.fen(AVERAGE_WAGE)
    floor = Program.times(average, p.ratio(names[1]), p)
    ceiling = Program.times(average, p.ratio(names[2]), p)
    base[rows] = np.clip(wage, floor, ceiling)
    t.step(
        "contribution_base",
        "Contribution base: own wage clamped to 60-300 % of the local average wage",
        base,
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
        retired = insured & pop.p("employee_medical_retired")
        working = insured & ~retired
        t.step("insured", "Insured under the employee scheme", insured, kind="bool")
        t.step("retired", "Retired member", retired, kind="bool")

        base = contribution_base(pop, p, t, working)
        employer = np.zeros(pop.n_persons, dtype=np.int64)
        individual = np.zeros(pop.n_persons, dtype=np.int64)
        if working.any():
            er, ir = P + "contribution_employer_rate", P + "contribution_individual_rate"
            # Only the working members contribute: their rows alone are multiplied.
            rows = np.flatnonzero(working)
            employer[rows] = self.times(base[rows], p.ratio(er), p)
            individual[rows] = self.times(base[rows], p.ratio(ir), p)
            t.step(
                "employer_contribution",
                "Employer pays",
                employer,
                formula="base × rate",
                params=[er],
            )
            t.step(
                "individual_contribution",
                "Member pays",
                individual,
                formula="base × 2 %",
                params=[ir],
            )
        credit = self._account_credit(pop, p, t, working, retired, employer, individual)
        inpatient = self._inpatient(pop, p, t, insured, retired)
        outpatient = self._outpatient(pop, p, t, insured, retired)
        paid = (inpatient + outpatient).astype(np.int64)
        amount = pop.sum_h(paid)
        t.step("amount", "The fund pays (inpatient + outpatient pooling)", amount)
        return ProgramResult(
            eligible=pop.any_h(insured),
            amount=amount,
            outputs={
                "insured_members": pop.count_h(insured),
                "contribution_base": pop.sum_h(base),
                "employer_contribution": pop.sum_h(employer),
                "individual_contribution": pop.sum_h(individual),
                "account_credit": pop.sum_h(credit),
                "inpatient_paid": pop.sum_h(inpatient),
                "outpatient_paid": pop.sum_h(outpatient),
            },
            person_amount=paid,
        )

    def _account_credit(
        self,
        pop: Population,
        p: Params,
        t: Trace,
        working: BoolArray,
        retired: BoolArray,
        employer: IntArray,
        individual: IntArray,
    ) -> IntArray:
        credit = np.zeros(pop.n_persons, dtype=np.int64)
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
            credit,
            formula="working: own 2 % (+ employer share, 0 since the 2021 reform); "
            "retired: fixed sum = ratio × local average basic pension",
            params=names,
        )
        return credit.astype(np.int64)

    def _inpatient(
        self, pop: Population, p: Params, t: Trace, insured: BoolArray, retired: BoolArray
    ) -> IntArray:
        cost = np.where(insured, pop.p("medical_in_policy_cost"), 0).astype(np.int64)
        if not (cost > 0).any():
            return np.zeros(pop.n_persons, dtype=np.int64)
        t.step("in_policy_cost", "In-policy cost of the inpatient stay", cost)
        retired_stay = retired & (cost > 0)
        if not retired_stay.any():
            return basic_insurance_layer(pop, p, t, cost)
        bonus_name = P + "inpatient.retiree_ratio_bonus"
        ratio_name = P + "inpatient.ratio"
        bonus = p.ratio(bonus_name)
        p.table(ratio_name)  # cited: the retirees' ratios are built on it
        off = Trace()
        working_pay = basic_insurance_layer(pop, p, off, np.where(retired, 0, cost))
        retired_params = params_with_ratio_bonus(p, ratio_name, bonus)
        retired_pay = basic_insurance_layer(pop, retired_params, off, np.where(retired, cost, 0))
        for name in (P + "inpatient.deductible", P + "inpatient.annual_cap"):
            p.value(name)  # cited
        pay: IntArray = (working_pay + retired_pay).astype(np.int64)
        t.step(
            "basic_insurance_paid",
            "Basic medical insurance pays (retirees at the ratio + the retirees' supplement)",
            pay,
            formula="min((in-policy cost − deductible) × (ratio [+ retiree points, ≤ 100 %]), "
            "annual cap − paid this year)",
            params=[P + "inpatient.deductible", ratio_name, bonus_name, P + "inpatient.annual_cap"],
        )
        return pay

    def _outpatient(
        self, pop: Population, p: Params, t: Trace, insured: BoolArray, retired: BoolArray
    ) -> IntArray:
        cost = np.where(insured, pop.p("medical_outpatient_cost"), 0).astype(np.int64)
        pay = np.zeros(pop.n_persons, dtype=np.int64)
        if not (cost > 0).any():
            return pay
        names = [P + "outpatient." + k for k in ("deductible", "ratio", "annual_cap")]
        deductible = np.full(pop.n_persons, p.fen(names[0]), dtype=np.int64)
        ratio = p.ratio(names[1])
        before = pop.p("medical_outpatient_cost_ytd")
        after = before + cost
        pay = banded_payment(before, after, deductible, ((Decimal(0), ratio),), p)
        if (retired & (cost > 0)).any():
            names.append(P + "outpatient.retiree_ratio_bonus")
            better = _plus_points(ratio, p.ratio(names[-1]))
            retired_pay = banded_payment(before, after, deductible, ((Decimal(0), better),), p)
            pay = np.where(retired, retired_pay, pay)
        room = np.maximum(p.fen(names[2]) - pop.p("medical_outpatient_paid_ytd"), 0)
        pay = np.where(cost > 0, np.minimum(pay, room), 0).astype(np.int64)
        t.step(
            "outpatient_paid",
            "Outpatient pooling pays",
            pay,
            formula="min((year's outpatient cost above the annual deductible) × ratio "
            "[+ retiree points], annual cap − paid this year)",
            params=names,
        )
        return pay
