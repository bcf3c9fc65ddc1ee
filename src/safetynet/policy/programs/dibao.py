"""Minimum living allowance (最低生活保障, dibao): counted income, assets, amount, marginal
households, single-person households and the gradual-exit period. See docs/programs/dibao.md."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from safetynet.policy.common import (
    assets_within_limits,
    dibao_standard,
    is_family_member,
    is_severely_disabled,
)
from safetynet.policy.engine import (
    Department,
    Params,
    Procedure,
    Program,
    ProgramInfo,
    ProgramResult,
    Tier,
    Trace,
    register,
)
from safetynet.policy.population import (
    BoolArray,
    IntArray,
    Kind,
    Population,
    household_field,
    person_field,
)
from safetynet.policy.programs import shared_facts

person_field(
    "refused_job_offers",
    Kind.INT,
    "Suitable job offers refused in a row without good reason (members able to work).",
    default=0,
)
person_field(
    "is_clergy_in_venue",
    Kind.BOOL,
    "Clergy living in a religious venue for 3 years or more (may apply alone).",
    default=False,
)
household_field(
    "dibao_current_amount",
    Kind.MONEY,
    "The household's current monthly dibao amount (for the gradual-exit period).",
    default="0",
    unit="yuan/month",
)
household_field(
    "months_since_income_rose",
    Kind.INT,
    "Whole months since per-capita income rose above the standard (0 = the month it rose; "
    "-1 = it has not risen).",
    default=-1,
    minimum=-1,
)
household_field(
    "income_rose_from_employment",
    Kind.BOOL,
    "The rise in income came from a member finding or changing work.",
    default=False,
)

P = "assistance.dibao."
READ_ALWAYS = (
    "excluded_reason",
    "wage_income",
    "business_income",
    "property_income",
    "transfer_income",
    "pension_income",
    "support_paid_out",
    "social_insurance_paid",
    "disability_grade",
    "disability_category",
    "has_serious_illness",
    "is_clergy_in_venue",
    "refused_job_offers",
    "hukou_type",
    "financial_assets",
    "vehicles",
    "homes",
    "is_dibao_recipient",
    "income_rose_from_employment",
    "months_since_income_rose",
    "dibao_current_amount",
)
"""The fields dibao reads whatever its parameters say: read ahead together from a large county
file (``Population.read_ahead``)."""
EMPLOYMENT_COST_PARAMS = {
    "fixed": [P + "employment_cost_fixed_monthly"],
    "wage_ratio": [P + "employment_cost_ratio"],
    "minimum_wage_ratio": [P + "employment_cost_ratio", "common.economy.minimum_wage_monthly"],
}


def counted_income_per_person(pop: Population, p: Params, t: Trace) -> IntArray:
    """Each member's counted monthly income under art. 13 of the 2021 measures (may be < 0):
    computed once per population and parameter view for every program that reads it, except
    when explained (each explanation shows its own steps)."""
    if t.enabled:
        return _counted_income_per_person(pop, p, t)
    return p.shared("dibao.counted_income_per_person", pop,
                    lambda: _counted_income_per_person(pop, p, t))  # fmt: skip


def household_counted_income(
    pop: Population, p: Params, t: Trace, person_income: IntArray | None = None
) -> IntArray:
    """Each household's counted monthly income: its co-residing members' counted incomes
    (``counted_income_per_person``, or ``person_income`` where the caller has them) summed, at
    least 0. Made once per population and parameter view for dibao, rigid expenditure and
    temporary assistance, except when explained."""
    if t.enabled:
        given = counted_income_per_person(pop, p, t) if person_income is None else person_income
        return _household_counted_income(pop, given)
    return p.shared("dibao.household_counted_income", pop,
                    lambda: _household_counted_income(pop, counted_income_per_person(pop, p, t)))  # fmt: skip


def _household_counted_income(pop: Population, person_income: IntArray) -> IntArray:
    member = is_family_member(pop)
    # Where every person is a member (no one excluded), their incomes are summed as they are.
    counted = person_income if member.all() else np.where(member, person_income, 0)
    total: IntArray = np.maximum(pop.sum_h(counted), 0)
    return total


def _counted_income_per_person(pop: Population, p: Params, t: Trace) -> IntArray:
    wage = pop.p("wage_income")
    method = p.choice(P + "employment_cost_method")
    if method == "fixed":
        cost = np.minimum(wage, p.fen(P + "employment_cost_fixed_monthly"))
    elif method == "wage_ratio":
        cost = Program.times(wage, p.ratio(P + "employment_cost_ratio"), p)
    elif method == "minimum_wage_ratio":
        allowance = Program.times(
            p.fen("common.economy.minimum_wage_monthly"), p.ratio(P + "employment_cost_ratio"), p
        )
        cost = np.minimum(wage, allowance)
    else:
        cost = np.zeros_like(wage)
    t.step(
        "employment_cost",
        "Necessary employment cost deducted from wages",
        cost,
        formula=f"method {method}",
        params=[P + "employment_cost_method", *EMPLOYMENT_COST_PARAMS.get(method, [])],
    )
    # Summed in place into one column (no column per term); a term nobody gave is not added.
    income = np.subtract(wage, cost, dtype=np.int64)
    added = ["business_income", "property_income", "transfer_income", "pension_income"]
    taken = ["support_paid_out", "social_insurance_paid"]
    if not p.flag(P + "income_excluded.resident_pension_central"):
        added.append("resident_pension_central")
    if p.flag(P + "deduct_rigid_spending"):
        taken.append("medical_rigid_spending")
    for name in added:
        if not pop.is_unset_zero(name):
            income += pop.p(name)
    for name in taken:
        if not pop.is_unset_zero(name):
            income -= pop.p(name)
    t.step(
        "excluded_income",
        "Income left out by law (special care, rewards, scholarships, assistance benefits, "
        "childcare subsidy; central resident pension where excluded)",
        lambda: (
            pop.p("excluded_income")
            + pop.p("resident_pension_central")
            * p.flag(P + "income_excluded.resident_pension_central")
        ),
        params=[P + "income_excluded.resident_pension_central"],
    )
    t.step(
        "counted_income_person",
        "Counted income of each member",
        income,
        formula="wage − employment cost + business + property + transfer + pensions "
        "− support paid out − contributions and taxes",
        params=[P + "deduct_rigid_spending"],
    )
    return np.asarray(income, dtype=np.int64)


@register
class Dibao(Program):
    id = "dibao"
    title = "Minimum living allowance"
    title_zh = "最低生活保障"
    info = ProgramInfo(
        Tier.ASSISTANCE,
        "assistance.dibao",
        department=Department.CIVIL_AFFAIRS,
        procedure=Procedure.DIBAO,
        caseload=True,
        monitored=True,
        recipients="is_dibao_recipient",
    )
    period = "month"
    legal_basis = (
        "社会救助暂行办法 arts 9-13",
        "最低生活保障审核确认办法 (2021)",
        "关于进一步做好最低生活保障等社会救助兜底工作的通知 (2022)",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        pop.read_ahead(READ_ALWAYS)
        member = is_family_member(pop)
        n = shared_facts.family_members(pop, p, t)
        t.step("members", "Co-residing family members", n, kind="int")
        standard = dibao_standard(pop, p, t)
        person_income = counted_income_per_person(pop, p, t)
        total = household_counted_income(pop, p, t, person_income)
        t.step("counted_income", "Household counted income per month", total)
        per_capita = np.where(n > 0, total // np.maximum(n, 1), 0)
        t.step(
            "per_capita_income", "Per-capita counted income", per_capita, formula="income ÷ members"
        )
        line = standard * n  # comparing totals keeps the test exact: income/n < S  ⇔  income < S·n
        below_standard = (n > 0) & (total < line)
        t.step(
            "below_standard",
            "Per-capita income is below the standard",
            below_standard,
            kind="bool",
            formula="per-capita income < standard",
        )
        assets_ok = assets_within_limits(pop, p, t, P + "assets.", standard, n)
        eligible_household = below_standard & assets_ok

        amount = self._amount(pop, p, t, standard, n, total, eligible_household)
        amount = amount + self._special_member_supplement(
            pop, p, t, standard, member, eligible_household
        )
        amount = amount - self._job_refusal_cut(pop, p, t, amount, member, n, eligible_household)

        marginal_line = self.times(line, p.ratio(P + "marginal_multiple"), p)
        is_marginal = ~below_standard & (total < marginal_line) & assets_ok & (n > 0)
        t.step(
            "is_dibao_marginal",
            "Dibao-marginal household (per-capita income below the marginal multiple of the standard)",
            is_marginal,
            kind="bool",
            formula="standard ≤ per-capita income < multiple × standard, assets pass",
            params=[P + "marginal_multiple"],
        )

        single = self._single_person(
            pop, p, t, standard, member, person_income, is_marginal, assets_ok, eligible_household
        )
        in_exit, exit_amount = self._gradual_exit(pop, p, t, eligible_household)

        household_amount = np.where(eligible_household, amount, 0) + np.where(
            in_exit, exit_amount, 0
        )
        household_amount = household_amount + pop.sum_h(single)
        household_amount = self.round_amount(household_amount, p)
        eligible = eligible_household | in_exit | pop.any_h(single > 0)
        t.step("eligible", "Eligible for dibao", eligible, kind="bool")
        t.step("amount", "Monthly dibao amount", household_amount)
        return ProgramResult(
            eligible=eligible,
            amount=household_amount,
            outputs={
                "members": n.copy(),
                "counted_income": total.copy(),
                "per_capita_income": per_capita,
                "standard": standard,
                "is_dibao_marginal": is_marginal,
                "passes_asset_test": assets_ok,
                "in_gradual_exit": in_exit,
            },
            person_amount=single,
        )

    def _amount(
        self,
        pop: Population,
        p: Params,
        t: Trace,
        standard: IntArray,
        n: IntArray,
        total: IntArray,
        eligible: BoolArray,
    ) -> IntArray:
        method = p.choice(P + "payment_method")
        if method == "difference":
            amount = np.where(eligible, standard * n - total, 0)
            t.step(
                "difference_amount",
                "Difference payment",
                amount,
                formula="(standard − per-capita income) × members",
                params=[P + "payment_method"],
            )
            return amount.astype(np.int64)
        rows = p.value(P + "band_ratio_by_income_ratio")
        amount = np.zeros(pop.n_households, dtype=np.int64)
        base = standard * n
        for threshold, ratio in rows:
            num, den = Decimal(threshold).as_integer_ratio()
            reached = total * den >= base * num
            amount = np.where(reached, self.times(base, Decimal(ratio), p), amount)
        amount = np.where(eligible, amount, 0)
        t.step(
            "banded_amount",
            "Banded payment",
            amount,
            formula="standard × members × band share (by per-capita income ÷ standard)",
            params=[P + "payment_method", P + "band_ratio_by_income_ratio"],
        )
        return amount

    def _special_member_supplement(
        self,
        pop: Population,
        p: Params,
        t: Trace,
        standard: IntArray,
        member: BoolArray,
        eligible: BoolArray,
    ) -> IntArray:
        ratio = p.ratio(P + "special_member_supplement_ratio")
        if ratio == 0:
            return np.zeros(pop.n_households, dtype=np.int64)
        age = shared_facts.age(pop, p, t)
        elderly, adult = (
            p.int(P + "special_member.elderly_age"),
            p.int(P + "special_member.adult_age"),
        )
        special = member & (
            (age >= elderly)
            | (age < adult)
            | is_severely_disabled(pop)
            | pop.p("has_serious_illness")
        )
        extra = np.where(eligible, pop.count_h(special) * self.times(standard, ratio, p), 0)
        t.step(
            "special_member_supplement",
            "Supplement for elderly, minor, severely disabled or seriously ill members",
            extra,
            formula="special members × ratio × standard",
            params=[
                P + "special_member_supplement_ratio",
                P + "special_member.elderly_age",
                P + "special_member.adult_age",
            ],
        )
        return extra.astype(np.int64)

    def _job_refusal_cut(
        self,
        pop: Population,
        p: Params,
        t: Trace,
        amount: IntArray,
        member: BoolArray,
        n: IntArray,
        eligible: BoolArray,
    ) -> IntArray:
        refused = member & (pop.p("refused_job_offers") >= p.int(P + "job_refusal_limit"))
        if not refused.any():
            return np.zeros(pop.n_households, dtype=np.int64)
        share = amount // np.maximum(n, 1)
        cut = self.times(pop.count_h(refused) * share, p.ratio(P + "job_refusal_share_cut"), p)
        cut = np.where(eligible, cut, 0)
        t.step(
            "job_refusal_cut",
            "Share withheld for members who refused suitable jobs",
            cut,
            formula="refusing members × (amount ÷ members) × cut share",
            params=[P + "job_refusal_limit", P + "job_refusal_share_cut"],
        )
        return cut.astype(np.int64)

    def _single_person(
        self,
        pop: Population,
        p: Params,
        t: Trace,
        standard: IntArray,
        member: BoolArray,
        person_income: IntArray,
        is_marginal: BoolArray,
        assets_ok: BoolArray,
        eligible_household: BoolArray,
    ) -> IntArray:
        severe = is_severely_disabled(pop)
        ill, clergy = pop.p("has_serious_illness"), pop.p("is_clergy_in_venue")
        # Nobody qualifies without a severe disability, a serious illness or a place in a
        # religious venue: the test is made for those persons alone (false for the others).
        some = np.flatnonzero(severe | ill | clergy)
        home, their_member, their_severe = pop.household_of[some], member[some], severe[some]
        in_marginal = is_marginal[home] & their_member
        qualifies = in_marginal & (their_severe | ill[some])
        qualifies |= clergy[some]
        if p.flag(P + "single_person.includes_adult_unemployed_severely_disabled"):
            adult = shared_facts.age(pop, p, t)[some] >= p.int(P + "special_member.adult_age")
            adult_jobless = adult & ~pop.p("is_employed")[some] & their_severe
            qualifies |= their_member & adult_jobless & assets_ok[home]
        # A household that is itself eligible is paid as a whole, never twice.
        qualifies &= ~eligible_household[home]
        # Worked out for the persons who qualify (few), zero for everyone else.
        rows = some[qualifies]
        s = standard[pop.household_of[rows]]
        method = p.choice(P + "single_person.amount_method")
        if method == "difference":
            amount = np.maximum(s - np.maximum(person_income[rows], 0), 0)
        else:
            amount = self.times(s, p.ratio(P + "single_person.standard_ratio"), p)
        single = np.zeros(pop.n_persons, dtype=np.int64)
        single[rows] = amount
        t.step(
            "single_person_amount",
            "Single-person household amount (单人户施保) per member",
            single,
            formula=f"method {method}: standard − own counted income"
            if method == "difference"
            else "standard × ratio",
            params=[
                P + "single_person.amount_method",
                P + "single_person.standard_ratio",
                P + "single_person.includes_adult_unemployed_severely_disabled",
                P + "special_member.adult_age",
            ],
        )
        return single

    def _gradual_exit(
        self, pop: Population, p: Params, t: Trace, eligible: BoolArray
    ) -> tuple[BoolArray, IntArray]:
        months = p.int(P + "gradual_exit_months")
        since = pop.h("months_since_income_rose")
        in_exit = (
            ~eligible
            & pop.h("is_dibao_recipient")
            & pop.h("income_rose_from_employment")
            & (since >= 0)
            & (since <= months)
        )
        current = pop.h("dibao_current_amount")
        if p.choice(P + "gradual_exit_amount") == "tapered":
            amount = (current * (months + 1 - np.maximum(since, 0))) // (months + 1)
        else:
            amount = current
        amount = np.where(in_exit, amount, 0).astype(np.int64)
        t.step(
            "gradual_exit",
            "In the gradual-exit period after income rose through work",
            in_exit,
            kind="bool",
            formula=f"months since the rise ≤ {months}",
            params=[P + "gradual_exit_months", P + "gradual_exit_amount"],
        )
        return in_exit, amount
