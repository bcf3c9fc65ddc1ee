"""Assistance for disaster victims (受灾人员救助): transitional living relief, house rebuilding and
repair subsidies, winter and spring relief (Interim Measures arts 20-26; Regulation on Natural
Disaster Relief). See docs/programs/disaster_assistance.md."""

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
from safetynet.policy.population import FIELDS, Kind, Population, household_field, person_field

person_field(
    "disaster_displaced",
    Kind.BOOL,
    "Lost their home in the disaster and needs transitional placement (过渡期安置).",
    default=False,
)
household_field(
    "disaster_transition_days",
    Kind.INT,
    "Days of transitional placement to be relieved (counted from the start of placement).",
    default=0,
)
household_field(
    "disaster_house_damage",
    Kind.ENUM,
    "Damage to the household's home: none, damaged (repairable) or collapsed (to be rebuilt).",
    default="none",
    choices=("none", "damaged", "collapsed"),
)
household_field(
    "disaster_winter_spring_need",
    Kind.BOOL,
    "Assessed as needing winter and spring living relief after the disaster.",
    default=False,
)

P = "assistance.disaster_assistance."


@register
class DisasterAssistance(Program):
    id = "disaster_assistance"
    title = "Assistance for disaster victims"
    title_zh = "受灾人员救助"
    info = ProgramInfo(
        Tier.ASSISTANCE,
        "assistance.disaster_assistance",
        department=Department.EMERGENCY_MANAGEMENT,
        concerns=("disaster_displaced", "disaster_house_damage", "disaster_winter_spring_need"),
    )
    period = "event"
    pays_persons = False
    legal_basis = (
        "社会救助暂行办法 arts 20-26",
        "自然灾害救助条例 (2010, rev. 2019)",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        member = is_family_member(pop)
        displaced = pop.count_h(member & pop.p("disaster_displaced"))
        zero = np.zeros(pop.n_households, dtype=np.int64)
        days = pop.h("disaster_transition_days").astype(np.int64)
        transitional = zero
        if (displaced > 0).any() and (days > 0).any():
            max_days = p.int(P + "transitional.max_days")
            counted = np.minimum(days, max_days)
            transitional = displaced * counted * p.fen(P + "transitional.daily_amount")
            t.step(
                "transitional_relief",
                "Transitional living relief",
                transitional,
                formula=f"displaced persons × min(days, {max_days}) × daily amount",
                params=[P + "transitional.daily_amount", P + "transitional.max_days"],
            )
        damage = pop.h("disaster_house_damage")
        f = FIELDS.get("disaster_house_damage")
        house = zero
        for key, name in (("collapsed", "rebuild_subsidy"), ("damaged", "repair_subsidy")):
            hit = damage == f.code(key)
            if hit.any():
                house = np.where(hit, p.fen(P + name), house)
                t.step(name, f"House {key}: {name.replace('_', ' ')}", house, params=[P + name])
        need = pop.h("disaster_winter_spring_need")
        winter = zero
        if need.any():
            winter = np.where(need, pop.count_h(member) * p.fen(P + "winter_spring_per_person"), 0)
            t.step(
                "winter_spring_relief",
                "Winter and spring relief",
                winter,
                formula="members × amount per person",
                params=[P + "winter_spring_per_person"],
            )
        amount = self.round_amount((transitional + house + winter).astype(np.int64), p)
        eligible = amount > 0
        t.step("eligible", "Some disaster relief is due", eligible, kind="bool")
        t.step("amount", "Disaster relief for this event", amount)
        return ProgramResult(
            eligible=eligible,
            amount=amount,
            outputs={
                "displaced_persons": displaced,
                "transitional_relief": transitional,
                "house_subsidy": house,
                "winter_spring_relief": winter,
            },
        )
