"""Nursing subsidy for severely disabled people (重度残疾人护理补贴): grade 1-2 certificate holders,
optionally extended to grade 3(-4) intellectual or mental disability, not combined with the tekun
care payment or the work-injury nursing allowance. See docs/programs/disability_nursing_subsidy.md."""

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
from safetynet.policy.population import FIELDS, BoolArray, Kind, Population, person_field

person_field(
    "disability_tekun_care_received",
    Kind.BOOL,
    "The person receives the tekun care payment (特困人员护理补贴) now.",
    default=False,
)
person_field(
    "disability_work_injury_nursing_received",
    Kind.BOOL,
    "The person receives the work-injury nursing allowance (工伤保险生活护理费) now.",
    default=False,
)

P = "welfare.disability."


@register
class DisabilityNursingSubsidy(Program):
    id = "disability_nursing_subsidy"
    title = "Nursing subsidy for severely disabled people"
    title_zh = "重度残疾人护理补贴"
    info = ProgramInfo(
        Tier.WELFARE,
        "welfare.disability",
        department=Department.CIVIL_AFFAIRS,
        concerns=("disability_grade",),
    )
    period = "month"
    legal_basis = (
        "国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见 (国发〔2015〕52号)",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        member = is_family_member(pop)
        grade = pop.p("disability_grade")
        category = pop.p("disability_category")
        f = FIELDS.get("disability_category")
        im = (category == f.code("intellectual")) | (category == f.code("mental"))
        extension = p.choice(P + "nursing_subsidy_extension")
        if extension == "grade3_intellectual_mental":
            extended: BoolArray = im & (grade == 3)
        elif extension == "grade3_4_intellectual_mental":
            extended = im & ((grade == 3) | (grade == 4))
        else:
            extended = np.zeros(pop.n_persons, dtype=np.bool_)
        g1 = member & (grade == 1)
        g2 = member & (grade == 2)
        extended = member & extended
        t.step(
            "holder",
            "Grade 1-2 holder, or in the locally extended group",
            lambda: g1 | g2 | extended,
            kind="bool",
            params=[P + "nursing_subsidy_extension"],
        )
        excluded = np.zeros(pop.n_persons, dtype=np.bool_)
        if p.flag(P + "nursing_subsidy_excludes_tekun_care"):
            excluded |= pop.p("disability_tekun_care_received")
        if p.flag(P + "nursing_subsidy_excludes_work_injury_nursing"):
            excluded |= pop.p("disability_work_injury_nursing_received")
        t.step(
            "excluded",
            "Receives a care payment the subsidy is not combined with",
            excluded,
            kind="bool",
            params=[
                P + "nursing_subsidy_excludes_tekun_care",
                P + "nursing_subsidy_excludes_work_injury_nursing",
            ],
        )
        person_amount = np.zeros(pop.n_persons, dtype=np.int64)
        for mask, name, label in (
            (g1, "nursing_subsidy_monthly_grade1", "Nursing subsidy, grade 1"),
            (g2, "nursing_subsidy_monthly_grade2", "Nursing subsidy, grade 2"),
            (extended, "nursing_subsidy_monthly_extended", "Nursing subsidy, extended group"),
        ):
            paid = mask & ~excluded
            if paid.any():
                person_amount[paid] = p.fen(P + name)
                t.step(name, label, p.fen(P + name), params=[P + name])
        receives = person_amount > 0
        amount = pop.sum_h(person_amount)
        t.step("amount", "Nursing subsidy this month", amount, formula="Σ per-person subsidy")
        return ProgramResult(
            eligible=pop.any_h(receives),
            amount=amount,
            outputs={"recipients": pop.count_h(receives)},
            person_amount=person_amount,
        )
