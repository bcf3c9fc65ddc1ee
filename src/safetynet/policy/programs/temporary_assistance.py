"""Temporary assistance (临时救助): the emergency type (急难型) with the township's advance
(先行救助) and the county's top-up, and the spending type (支出型) with its income and asset test.
Amounts are linked to the local dibao standard and capped; above the cap a case goes to
"one case, one decision" (一事一议). See docs/programs/temporary_assistance.md.

One calculation is one event (period "event"): the date is the date of the event or application.
"""

from __future__ import annotations

import numpy as np

from safetynet.policy.common import (
    assets_within_limits,
    dibao_standard,
    prev_year_disposable_income,
)
from safetynet.policy.engine import (
    Department,
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
    household_field,
)
from safetynet.policy.programs import shared_facts
from safetynet.policy.programs.dibao import household_counted_income

household_field(
    "temporary_assistance_type",
    Kind.ENUM,
    "Which temporary assistance is asked for: 'emergency' (急难型: fire, traffic accident, sudden "
    "serious illness or another sudden event needing immediate help) or 'spending' (支出型: a "
    "sudden rise in essential spending such as medical or education costs beyond what the "
    "household can bear); 'none' if no request.",
    default="none",
    choices=("none", "emergency", "spending"),
)
household_field(
    "temporary_assistance_need",
    Kind.MONEY,
    "The assessed hardship to cover for this event, in yuan: for the emergency type the immediate "
    "need or loss; for the spending type the essential spending the household cannot bear after "
    "insurance and other assistance. 0 = not assessed (emergency type: the standard amount is "
    "paid; spending type: nothing can be paid).",
    default="0",
    unit="yuan",
)

P = "assistance.temporary_assistance."


@register
class TemporaryAssistance(Program):
    id = "temporary_assistance"
    title = "Temporary assistance"
    title_zh = "临时救助"
    info = ProgramInfo(
        Tier.ASSISTANCE,
        "assistance.temporary_assistance",
        department=Department.CIVIL_AFFAIRS,
        emergency_procedure=True,
        concerns=("temporary_assistance_type",),
    )
    period = "event"
    pays_persons = False
    legal_basis = (
        "社会救助暂行办法 arts 47-49",
        "国务院关于全面建立临时救助制度的通知 (国发〔2014〕47号)",
        "关于进一步加强和改进临时救助工作的意见 (MCA and MOF, 2018)",
        "关于改革完善社会救助制度的意见 (2020) items 14-15",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        f = FIELDS.get("temporary_assistance_type")
        kind = pop.h("temporary_assistance_type")
        emergency = kind == f.code("emergency")
        spending = kind == f.code("spending")
        t.step("emergency_type", "Emergency type (急难型)", emergency, kind="bool")
        t.step("spending_type", "Spending type (支出型)", spending, kind="bool")
        n = shared_facts.family_members(pop, p, t)
        t.step("members", "Co-residing family members", n, kind="int")
        need = pop.h("temporary_assistance_need")
        t.step("need", "Assessed hardship to cover for this event", need)

        zero = np.zeros(pop.n_households, dtype=np.int64)
        if not (emergency | spending).any():
            t.step("eligible", "No temporary assistance requested", emergency, kind="bool")
            return self._result(emergency, zero, zero, zero, zero, zero, zero, n)

        standard = dibao_standard(pop, p, t)
        base = standard * n
        total = zero.copy()
        cap = zero.copy()
        eligible = np.zeros(pop.n_households, dtype=np.bool_)

        if emergency.any():
            std_amount = self.times(base, p.ratio(P + "emergency.standard_multiple"), p)
            e_cap = self.times(base, p.ratio(P + "emergency.cap_multiple"), p)
            t.step(
                "emergency_standard_amount",
                "Emergency standard amount",
                lambda: np.where(emergency, std_amount, 0),
                formula="multiple × dibao standard × members",
                params=[P + "emergency.standard_multiple"],
            )
            e_total = np.minimum(np.where(need > 0, need, std_amount), e_cap)
            total = np.where(emergency, e_total, total)
            cap = np.where(emergency, e_cap, cap)
            eligible |= emergency & (n > 0)

        if spending.any():
            s_ok = self._spending_test(pop, p, t, standard, n) & spending & (need > 0)
            s_cap = self.times(base, p.ratio(P + "spending.cap_multiple"), p)
            total = np.where(spending, np.where(s_ok, np.minimum(need, s_cap), 0), total)
            cap = np.where(spending, s_cap, cap)
            eligible |= s_ok

        t.step(
            "cap",
            "Cap for ordinary approval",
            cap,
            formula="cap multiple × dibao standard × members",
            params=[P + "emergency.cap_multiple", P + "spending.cap_multiple"],
        )
        total = self.round_amount(np.where(eligible, total, 0).astype(np.int64), p)
        t.step(
            "total",
            "Temporary assistance for this event",
            total,
            formula="emergency: min(need, or the standard amount if no need is assessed; cap); "
            "spending: min(need, cap)",
        )
        above_cap = np.where(eligible, np.maximum(need - cap, 0), 0).astype(np.int64)
        case_decision = above_cap > 0
        t.step(
            "needs_case_decision",
            "Need above the cap: a one-case-one-decision (一事一议) review is required",
            case_decision,
            kind="bool",
        )
        t.step("amount_above_cap", "Need above the cap, left to the case decision", above_cap)

        advance = zero
        if (eligible & emergency).any():
            limit = p.fen(P + "township_advance_limit")
            advance = np.where(eligible & emergency, np.minimum(total, limit), 0).astype(np.int64)
            t.step(
                "township_advance",
                "Paid at once by the township (先行救助)",
                advance,
                formula="min(total, township limit)",
                params=[P + "township_advance_limit"],
            )
        top_up = (total - advance).astype(np.int64)
        t.step(
            "county_top_up",
            "Approved and paid by the county (the top-up, or the whole spending-type amount)",
            top_up,
            formula="total − township advance",
        )
        t.step("eligible", "Eligible for temporary assistance", eligible, kind="bool")
        shown_standard = np.where(emergency | spending, standard, 0).astype(np.int64)
        return self._result(eligible, total, advance, top_up, cap, above_cap, shown_standard, n)

    def _spending_test(
        self, pop: Population, p: Params, t: Trace, standard: IntArray, n: IntArray
    ) -> BoolArray:
        monthly = household_counted_income(pop, p, t)
        annual = monthly * 12
        t.step(
            "annual_income",
            "Household income over a year",
            annual,
            formula="12 × monthly counted income",
        )
        reference = prev_year_disposable_income(pop, p, t)
        income_ok = (n > 0) & (annual < reference * n)
        t.step(
            "income_below_reference",
            "Per-capita income below the local previous-year per-capita disposable income",
            income_ok,
            kind="bool",
            formula="annual income ÷ members < previous-year per-capita disposable income",
        )
        assets_ok = assets_within_limits(pop, p, t, P + "spending.assets.", standard, n)
        ok: BoolArray = income_ok & assets_ok
        return ok

    @staticmethod
    def _result(
        eligible: BoolArray,
        total: IntArray,
        advance: IntArray,
        top_up: IntArray,
        cap: IntArray,
        above_cap: IntArray,
        standard: IntArray,
        n: IntArray,
    ) -> ProgramResult:
        return ProgramResult(
            eligible=eligible,
            amount=total,
            outputs={
                "total": total,
                "township_advance": advance,
                "county_top_up": top_up,
                "cap": cap,
                "needs_case_decision": above_cap > 0,
                "amount_above_cap": above_cap,
                "standard": standard,
                "members": n.copy(),
            },
        )
