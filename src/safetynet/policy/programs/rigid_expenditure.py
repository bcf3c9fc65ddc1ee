"""Rigid-expenditure hardship households (刚性支出困难家庭): recognition under the MCA measures
in force from 2025-01-01. The household is not dibao, tekun or dibao-marginal; its per-capita income
is below the local previous-year per-capita disposable income; its assets pass; and its rigid
spending over the 12 months before the application exceeds a local share of its income over those
months. See docs/programs/rigid_expenditure.md.

Recognition is a status, not a cash benefit: the amount is always 0 and the result says whether the
household is recognised and until when (validity at most 12 months, art. 10). One calculation is one
application (period "event"); the date is the application date.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

import numpy as np

from safetynet.policy.common import (
    assets_within_limits,
    dibao_standard,
    is_family_member,
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
    IntArray,
    Kind,
    Population,
    date_to_int,
    household_field,
)
from safetynet.policy.programs import shared_facts
from safetynet.policy.programs.dibao import household_counted_income

SPENDING_FIELDS = (
    (
        "rigid_living_costs_12m",
        "Living costs of the co-residing members over the 12 months before the application: "
        "necessary food, clothing, housing, transport and daily goods (art. 5(1)).",
    ),
    (
        "rigid_medical_oop_12m",
        "Medical costs over the 12 months before the application that the household paid itself "
        "after basic and critical-illness insurance, medical assistance, supplementary and "
        "commercial insurance, for in-policy outpatient and inpatient care (art. 5(2)).",
    ),
    (
        "rigid_education_12m",
        "Education costs over the 12 months before the application, from kindergarten to "
        "undergraduate level, counted at the fees of comparable public schools (art. 5(3)).",
    ),
    (
        "rigid_rehabilitation_12m",
        "Basic rehabilitation and assistive-device costs of disabled members over the 12 months "
        "before the application, after government subsidies and insurance (art. 5(4)).",
    ),
    (
        "rigid_other_12m",
        "Other rigid spending recognised by the county civil-affairs bureau over the 12 months "
        "before the application (art. 5(5)).",
    ),
)
for _name, _desc in SPENDING_FIELDS:
    household_field(_name, Kind.MONEY, _desc, default="0", unit="yuan")

household_field(
    "rigid_household_income_12m",
    Kind.MONEY,
    "Total household income over the 12 months before the application. -1 = not given: 12 × the "
    "current monthly counted income is used.",
    default="-1",
    minimum=-100,
    unit="yuan",
)
household_field(
    "rigid_local_conditions_met",
    Kind.BOOL,
    "The household meets any other conditions set by the county or a higher level (art. 4(5)).",
    default=True,
)

P = "assistance.rigid_expenditure."


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day where it is shorter)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


@register
class RigidExpenditure(Program):
    id = "rigid_expenditure"
    title = "Rigid-expenditure hardship household"
    title_zh = "刚性支出困难家庭"
    info = ProgramInfo(
        Tier.ASSISTANCE, "assistance.rigid_expenditure", department=Department.CIVIL_AFFAIRS
    )
    period = "event"
    pays_persons = False
    legal_basis = (
        "刚性支出困难家庭认定办法 (MCA, in force 2025-01-01)",
        "关于改革完善社会救助制度的意见 (2020) item 2",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        member = is_family_member(pop)
        n = shared_facts.family_members(pop, p, t)
        t.step("members", "Co-residing family members", n, kind="int")

        enrolled = (
            pop.h("is_dibao_recipient")
            | pop.any_h(member & pop.p("is_tekun_recipient"))
            | pop.h("is_dibao_marginal_registered")
        )
        not_enrolled = ~enrolled
        t.step(
            "not_enrolled",
            "Not a dibao household, no tekun member, not a registered dibao-marginal household",
            not_enrolled,
            kind="bool",
        )

        income = self._income_12m(pop, p, t)
        reference = prev_year_disposable_income(pop, p, t)
        income_ok = (n > 0) & (income < reference * n)
        t.step(
            "income_below_reference",
            "Per-capita income below the local previous-year per-capita disposable income",
            income_ok,
            kind="bool",
            formula="income over 12 months ÷ members < previous-year per-capita disposable income",
        )

        standard = dibao_standard(pop, p, t)
        assets_ok = assets_within_limits(pop, p, t, P + "assets.", standard, n)

        spending = self._rigid_spending(pop, p, t, standard, n)
        threshold = p.ratio(P + "share_threshold")
        num, den = threshold.as_integer_ratio()
        # spending / income > threshold, exactly: spending · den > income · num
        exceeds = spending * den > income * num
        if t.enabled:
            row = t.row
            share = (
                f"{Decimal(int(spending[row])) / Decimal(int(income[row])):.4f}"
                if income[row] > 0
                else "no income"
            )
            t.step(
                "rigid_share",
                "Rigid spending as a share of income over the 12 months",
                share,
                kind="text",
                formula="rigid spending ÷ income",
            )
        t.step(
            "share_exceeds_threshold",
            "Rigid spending share above the local threshold",
            exceeds,
            kind="bool",
            formula=f"share > {threshold}",
            params=[P + "share_threshold"],
        )
        local_ok = pop.h("rigid_local_conditions_met")
        t.step("local_conditions", "Other local conditions met", local_ok, kind="bool")

        recognised = not_enrolled & income_ok & assets_ok & exceeds & local_ok & (n > 0)
        t.step(
            "eligible",
            "Recognised as a rigid-expenditure hardship household",
            recognised,
            kind="bool",
        )

        months = p.int(P + "validity_months")
        # Civil Code arts 201-202: counting starts the next day and ends on the corresponding day
        # of the last month (its last day where there is none).
        until = add_months(p.on, months)
        validity = np.where(recognised, months, 0).astype(np.int64)
        valid_until = np.where(recognised, date_to_int(until), 0).astype(np.int64)
        t.step(
            "valid_until",
            "Recognition valid until (then the household must re-apply)",
            until.isoformat() if t.enabled and recognised[t.row] else "-",
            kind="text",
            formula=f"decision date + {months} months (Civil Code arts 201-202)",
            params=[P + "validity_months"],
        )
        return ProgramResult(
            eligible=recognised,
            amount=np.zeros(pop.n_households, dtype=np.int64),
            outputs={
                "members": n.copy(),
                "not_enrolled": not_enrolled,
                "income_12m": income,
                "income_below_reference": income_ok,
                "passes_asset_test": assets_ok,
                "rigid_spending_12m": spending,
                "share_exceeds_threshold": exceeds,
                "validity_months": validity,
                "valid_until": valid_until,
            },
        )

    @staticmethod
    def _income_12m(pop: Population, p: Params, t: Trace) -> IntArray:
        given = pop.h("rigid_household_income_12m")
        missing = given < 0
        income = given.astype(np.int64)
        if missing.any():
            monthly = household_counted_income(pop, p, t)
            income = np.where(missing, monthly * 12, income).astype(np.int64)
        t.step(
            "income_12m",
            "Household income over the 12 months before the application",
            income,
            formula="as given, or 12 × monthly counted income",
        )
        return income

    def _rigid_spending(
        self, pop: Population, p: Params, t: Trace, standard: IntArray, n: IntArray
    ) -> IntArray:
        method = p.choice(P + "living_costs_method")
        names = [P + "living_costs_method"]
        if method == "dibao_standard":
            names.append(P + "living_costs_dibao_multiple")
            living = self.times(standard * n * 12, p.ratio(P + "living_costs_dibao_multiple"), p)
        else:
            living = pop.h("rigid_living_costs_12m")
        t.step(
            "living_costs",
            "Living costs over the 12 months",
            living,
            formula=f"method {method}",
            params=names,
        )
        total = np.asarray(living, dtype=np.int64).copy()
        for name, _ in SPENDING_FIELDS[1:]:
            total += pop.h(name)
        t.step(
            "rigid_spending",
            "Rigid spending over the 12 months",
            total,
            formula="living + medical out-of-pocket + education + rehabilitation + other",
        )
        return total
