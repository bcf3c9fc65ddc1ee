"""Employment assistance (就业救助): who must be helped into work — unemployed dibao members able to
work and zero-employment households — and members who refused suitable offers (Interim Measures
arts 42-46). Eligibility and flags only. See docs/programs/employment_assistance.md."""

from __future__ import annotations

import numpy as np

from safetynet.policy.common import is_family_member, is_severely_disabled, is_urban
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
from safetynet.policy.population import FIELDS, BoolArray, Kind, Population, person_field

# ``refused_job_offers`` is declared by the dibao module, which owns the refusal rule.
from safetynet.policy.programs import dibao as _dibao  # noqa: F401
from safetynet.policy.programs import shared_facts

person_field(
    "employment_unable_to_work",
    Kind.BOOL,
    "Cannot take up work for a reason other than age, severe disability or serious illness "
    "(in full-time education, full-time carer of a dependant, ...).",
    default=False,
)

P = "assistance.employment_assistance."


def able_to_work(pop: Population, p: Params, t: Trace) -> BoolArray:
    """Members of working age who can work: not severely disabled, not seriously ill."""
    age = shared_facts.age(pop, p, t)
    female = pop.p("sex") == FIELDS.get("sex").code("female")
    upper = np.where(
        female, p.int(P + "working_age.maximum_female"), p.int(P + "working_age.maximum_male")
    )
    working_age = (age >= p.int(P + "working_age.minimum")) & (age < upper)
    able: BoolArray = (
        is_family_member(pop)
        & working_age
        & ~is_severely_disabled(pop)
        & ~pop.p("has_serious_illness")
        & ~pop.p("employment_unable_to_work")
    )
    t.step(
        "able_to_work",
        "Of working age and able to work",
        able,
        kind="bool",
        formula="minimum ≤ age < maximum (by sex), not severely disabled, not seriously ill",
        params=[
            P + "working_age.minimum",
            P + "working_age.maximum_male",
            P + "working_age.maximum_female",
        ],
    )
    return able


@register
class EmploymentAssistance(Program):
    id = "employment_assistance"
    title = "Employment assistance"
    title_zh = "就业救助"
    info = ProgramInfo(
        Tier.ASSISTANCE, "assistance.employment_assistance", department=Department.HUMAN_RESOURCES
    )
    period = "month"
    pays_persons = False
    legal_basis = (
        "社会救助暂行办法 arts 42-46",
        "中华人民共和国就业促进法 art. 52",
        "最低生活保障审核确认办法 (2021) art. 34",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        able = able_to_work(pop, p, t)
        employed = pop.p("is_employed")
        dibao = pop.to_p(pop.h("is_dibao_recipient"))
        target = dibao & able & ~employed
        t.step(
            "target_member",
            "Unemployed dibao member able to work (to be offered help into work)",
            target,
            kind="bool",
        )
        able_members = pop.count_h(able)
        zero = (able_members > 0) & ~pop.any_h(able & employed)
        params = [P + "zero_employment_urban_only"]
        if p.flag(P + "zero_employment_urban_only"):
            zero &= is_urban(pop)
        t.step(
            "zero_employment_household",
            "Zero-employment household: members able to work, none employed "
            "(at least one must be placed)",
            zero,
            kind="bool",
            params=params,
        )
        limit = p.int("assistance.dibao.job_refusal_limit")
        refused = dibao & is_family_member(pop) & (pop.p("refused_job_offers") >= limit)
        t.step(
            "refused_offers",
            "Dibao member who refused suitable offers in a row (the dibao program reduces or stops "
            "their share)",
            refused,
            kind="bool",
            params=["assistance.dibao.job_refusal_limit"],
        )
        targets = pop.count_h(target)
        eligible = (targets > 0) | zero
        t.step("eligible", "Household to be helped into work", eligible, kind="bool")
        return ProgramResult(
            eligible=eligible,
            amount=np.zeros(pop.n_households, dtype=np.int64),
            outputs={
                "able_to_work": able_members,
                "target_members": targets,
                "zero_employment_household": zero,
                "must_place_one": zero,
                "refused_offers_members": pop.count_h(refused),
            },
        )
