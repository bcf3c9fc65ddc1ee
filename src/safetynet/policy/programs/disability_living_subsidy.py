"""Living subsidy for needy disabled people (困难残疾人生活补贴): certificate holders in dibao
households, optionally extended by the locality to dibao-marginal and other low-income households.
See docs/programs/disability_living_subsidy.md."""

from __future__ import annotations

import numpy as np

from safetynet.policy.common import is_family_member
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
from safetynet.policy.population import Population

P = "welfare.disability."


@register
class DisabilityLivingSubsidy(Program):
    id = "disability_living_subsidy"
    title = "Living subsidy for needy disabled people"
    title_zh = "困难残疾人生活补贴"
    info = ProgramInfo(
        Tier.WELFARE,
        "welfare.disability",
        department=Department.CIVIL_AFFAIRS,
        concerns=("disability_grade",),
    )
    period = "month"
    legal_basis = (
        "国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见 (国发〔2015〕52号)",
        "关于改革完善社会救助制度的意见 (2020)",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        disabled = is_family_member(pop) & (pop.p("disability_grade") >= 1)
        t.step("disabled", "Holds a disability certificate", disabled, kind="bool")
        dibao = pop.to_p(pop.h("is_dibao_recipient"))
        marginal = pop.to_p(pop.h("is_dibao_marginal_registered")) & ~dibao
        low_income = pop.to_p(pop.h("is_low_income_monitored")) & ~dibao & ~marginal
        covers_marginal = p.flag(P + "living_subsidy_covers_dibao_marginal")
        covers_low = p.flag(P + "living_subsidy_covers_low_income")
        full_tier = disabled & (dibao | (low_income & covers_low))
        marginal_tier = disabled & marginal & covers_marginal
        t.step(
            "covered",
            "Disabled member of a covered household (dibao; marginal / low-income where extended)",
            lambda: full_tier | marginal_tier,
            kind="bool",
            params=[
                P + "living_subsidy_covers_dibao_marginal",
                P + "living_subsidy_covers_low_income",
            ],
        )
        person_amount = np.zeros(pop.n_persons, dtype=np.int64)
        if full_tier.any():
            person_amount[full_tier] = p.fen(P + "living_subsidy_monthly")
            t.step(
                "standard",
                "Living subsidy per person",
                p.fen(P + "living_subsidy_monthly"),
                params=[P + "living_subsidy_monthly"],
            )
        if marginal_tier.any():
            person_amount[marginal_tier] = p.fen(P + "living_subsidy_monthly_marginal")
            t.step(
                "standard_marginal",
                "Living subsidy per person, dibao-marginal tier",
                p.fen(P + "living_subsidy_monthly_marginal"),
                params=[P + "living_subsidy_monthly_marginal"],
            )
        amount = pop.sum_h(person_amount)
        eligible = pop.any_h(full_tier | marginal_tier)
        t.step("amount", "Living subsidy this month", amount, formula="Σ per-person subsidy")
        return ProgramResult(
            eligible=eligible,
            amount=amount,
            outputs={"recipients": pop.count_h(full_tier | marginal_tier)},
            person_amount=person_amount,
        )
