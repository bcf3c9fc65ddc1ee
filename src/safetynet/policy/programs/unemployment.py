"""Unemployment insurance benefit (失业保险金): eligibility, duration by contribution years, carry-over
of unused months, and the monthly amount between the urban dibao standard and the minimum wage.
See docs/programs/unemployment.md."""

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
from safetynet.policy.population import IntArray, Kind, Population, person_field

STOP_EVENTS = (
    "none",
    "reemployed",
    "military_service",
    "emigrated",
    "drawing_pension",
    "imprisoned",
    "refused_suitable_job",
)

person_field(
    "unemployment_contribution_years",
    Kind.INT,
    "Cumulative completed years of unemployment-insurance contributions (employer and employee), "
    "counted since the last benefit claim.",
    default=0,
)
person_field(
    "unemployment_involuntary",
    Kind.BOOL,
    "The person lost the job involuntarily (非因本人意愿中断就业).",
    default=False,
)
person_field(
    "unemployment_registered",
    Kind.BOOL,
    "The person is registered as unemployed and seeking work.",
    default=False,
)
person_field(
    "unemployment_carried_over_months",
    Kind.INT,
    "Unused benefit months of an earlier entitlement, combined with the new one.",
    default=0,
)
person_field(
    "unemployment_months_drawn",
    Kind.INT,
    "Months of the current entitlement already paid before this month.",
    default=0,
)
person_field(
    "unemployment_stop_event",
    Kind.ENUM,
    "An event that stops the benefit (Regulation on Unemployment Insurance art. 15).",
    default="none",
    choices=STOP_EVENTS,
)

P = "insurance.unemployment."


@register
class Unemployment(Program):
    id = "unemployment"
    title = "Unemployment insurance benefit"
    title_zh = "失业保险金"
    info = ProgramInfo(
        Tier.INSURANCE, "insurance.unemployment", concerns=("unemployment_registered",)
    )
    period = "month"
    legal_basis = ("失业保险条例 (1999) arts 14, 15, 17, 18", "社会保险法 arts 45-47")

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        years = pop.p("unemployment_contribution_years")
        min_years = p.int(P + "min_contribution_years")
        conditions = (
            (years >= min_years)
            & pop.p("unemployment_involuntary")
            & pop.p("unemployment_registered")
        )
        t.step(
            "conditions",
            "Insured ≥ minimum years, lost job involuntarily, registered and seeking work",
            conditions,
            kind="bool",
            params=[P + "min_contribution_years"],
        )
        duration = self._duration(pop, p, t, years, conditions)
        stopped = pop.p("unemployment_stop_event") != 0
        drawn = pop.p("unemployment_months_drawn")
        remaining = np.maximum(duration - drawn, 0)
        paid = conditions & ~stopped & (remaining > 0)
        t.step("stopped", "A stop event has occurred", stopped, kind="bool")
        t.step("remaining_months", "Months of entitlement left", remaining, kind="int")
        monthly = self._monthly_amount(p, t) if paid.any() else 0
        person_amount = np.where(paid, monthly, 0).astype(np.int64)
        amount = pop.sum_h(person_amount)
        eligible = pop.any_h(paid)
        t.step("amount", "Unemployment benefit this month", amount)
        return ProgramResult(
            eligible=eligible,
            amount=amount,
            outputs={
                "duration_months": pop.max_h(np.where(conditions, duration, 0)),
                "remaining_months": pop.max_h(np.where(paid, remaining, 0)),
                "monthly_benefit": pop.max_h(person_amount),
            },
            person_amount=person_amount,
        )

    @staticmethod
    def _duration(
        pop: Population, p: Params, t: Trace, years: IntArray, conditions: np.ndarray
    ) -> IntArray:
        rows = p.value(P + "duration_months_by_contribution_years")
        entitled = np.zeros(pop.n_persons, dtype=np.int64)
        for threshold, months in rows:
            entitled = np.where(years >= int(threshold), int(months), entitled)
        cap = p.int(P + "max_duration_months")
        combined = np.minimum(entitled + pop.p("unemployment_carried_over_months"), cap)
        duration = np.where(conditions, combined, 0).astype(np.int64)
        t.step(
            "duration_months",
            "Benefit duration in months",
            duration,
            kind="int",
            formula="months by contribution years + carried-over months, capped",
            params=[P + "duration_months_by_contribution_years", P + "max_duration_months"],
        )
        return duration

    def _monthly_amount(self, p: Params, t: Trace) -> int:
        method = p.choice(P + "amount_method")
        minimum_wage = p.fen("common.economy.minimum_wage_monthly")
        if method == "minimum_wage_ratio":
            ratio: Decimal = p.ratio(P + "ratio_of_minimum_wage")
            rule = int(self.times(minimum_wage, ratio, p))
            names = [P + "amount_method", P + "ratio_of_minimum_wage"]
            formula = f"minimum wage × {ratio}"
        else:
            rule = p.fen(P + "fixed_amount_monthly")
            names = [P + "amount_method", P + "fixed_amount_monthly"]
            formula = "fixed provincial amount"
        t.step(
            "provincial_rule",
            "Amount under the provincial rule",
            rule,
            formula=formula,
            params=[*names, "common.economy.minimum_wage_monthly"],
        )
        floor = p.fen("assistance.dibao.standard_monthly_urban")
        amount = max(min(rule, minimum_wage), floor)
        t.step(
            "monthly_benefit",
            "Monthly benefit (not above the minimum wage, not below the urban dibao standard)",
            amount,
            formula="max(min(rule, minimum wage), urban dibao standard)",
            params=[
                "common.economy.minimum_wage_monthly",
                "assistance.dibao.standard_monthly_urban",
            ],
        )
        return int(self.round_amount(np.asarray([amount], dtype=np.int64), p)[0])
