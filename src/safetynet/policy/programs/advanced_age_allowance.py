"""Advanced-age allowance (高龄津贴): a monthly amount by age band, set locally (e.g. Beijing: 80-89 →
100, 90-99 → 500, 100+ → 800 yuan). See docs/programs/advanced_age_allowance.md."""

from __future__ import annotations

import numpy as np

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
from safetynet.policy.population import Kind, Population, person_field
from safetynet.policy.programs import shared_facts
from safetynet.policy.programs.subjects import Subjects

person_field(
    "advanced_age_local_hukou",
    Kind.BOOL,
    "Holds the hukou of the locality paying the advanced-age allowance (本地户籍).",
    default=True,
)

P = "welfare.advanced_age."


@register
class AdvancedAgeAllowance(Program):
    id = "advanced_age_allowance"
    title = "Advanced-age allowance"
    title_zh = "高龄津贴"
    info = ProgramInfo(
        Tier.WELFARE,
        "welfare.advanced_age",
        department=Department.CIVIL_AFFAIRS,
        local_parameters=("welfare.advanced_age.allowance_monthly",),
    )
    period = "month"
    legal_basis = (
        "local rules, e.g. 北京市老年人养老服务补贴津贴管理实施办法 (京民养老发〔2019〕160号)",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        age = shared_facts.age(pop, p, t)
        t.step("age", "Age in completed years on the date", age, kind="int")
        rows = p.value(P + "allowance_monthly")
        # Nobody younger than the lowest band has an allowance (no band applies): the bands are
        # applied to the others alone (every person when explained: the steps show each member).
        lowest = min((int(threshold) for threshold, _ in rows), default=None)
        older = np.ones(pop.n_persons, np.bool_) if t.enabled or lowest is None else age >= lowest
        who = Subjects.of(pop, older)
        their_age = age[who.at]
        person_amount = np.zeros(len(who.at), dtype=np.int64)
        for threshold, value in rows:
            person_amount = np.where(their_age >= int(threshold), int(value), person_amount)
        t.step(
            "band_amount",
            "Allowance for the age band",
            lambda: who.spread(person_amount),
            formula="value of the highest band whose lowest age ≤ age",
            params=[P + "allowance_monthly"],
        )
        if p.flag(P + "requires_local_hukou"):
            local = pop.p("advanced_age_local_hukou")
            person_amount = np.where(local[who.at], person_amount, 0)
            t.step(
                "local_hukou",
                "Holds the local hukou (required)",
                local,
                kind="bool",
                params=[P + "requires_local_hukou"],
            )
        person_amount = person_amount.astype(np.int64)
        receives = person_amount > 0
        amount = who.sum_h(person_amount)
        t.step("amount", "Advanced-age allowance this month", amount, formula="Σ per-person amount")
        return ProgramResult(
            eligible=who.any_h(receives),
            amount=amount,
            outputs={"recipients": who.sum_h(receives)},
            person_amount=who.spread(person_amount),
        )
