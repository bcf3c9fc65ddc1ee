"""One-stop settlement of the triple protection (一站式结算, 三重保障): basic medical insurance,
critical-illness insurance and medical assistance applied to one inpatient stay. The layers live in
``medical_layers``. See docs/programs/medical_assistance.md."""

from __future__ import annotations

from safetynet.policy.engine import (
    Params,
    Program,
    ProgramInfo,
    ProgramResult,
    Tier,
    Trace,
    register,
)
from safetynet.policy.population import Population
from safetynet.policy.programs.medical_layers import settle


@register
class MedicalSettlement(Program):
    id = "medical_settlement"
    title = (
        "One-stop settlement of basic insurance, critical-illness insurance and medical assistance"
    )
    title_zh = "一站式结算（三重保障）"
    info = ProgramInfo(
        Tier.ASSISTANCE, "assistance.medical_assistance", concerns=("medical_in_policy_cost",)
    )
    period = "event"
    legal_basis = (
        "社会救助暂行办法 arts 27-32",
        "国务院办公厅关于健全重特大疾病医疗保险和救助制度的意见 (国办发〔2021〕42号)",
        "国务院办公厅关于全面实施城乡居民大病保险的意见 (国办发〔2015〕57号)",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        s = settle(pop, p, t)
        basic = pop.sum_h(s.basic)
        critical = pop.sum_h(s.critical)
        assistance = pop.sum_h(s.assistance)
        # amount = what the three layers pay together (the patient pays only the residual).
        amount = basic + critical + assistance
        eligible = pop.any_h(s.cost > 0)
        t.step("eligible", "A member has an in-policy cost to settle", eligible, kind="bool")
        t.step(
            "amount",
            "Paid by the three layers together",
            amount,
            formula="basic insurance + critical-illness insurance + medical assistance",
        )
        return ProgramResult(
            eligible=eligible,
            amount=amount,
            outputs={
                "in_policy_cost": pop.sum_h(s.cost),
                "basic_insurance_paid": basic,
                "critical_illness_paid": critical,
                "medical_assistance_paid": assistance,
                "out_of_pocket": pop.sum_h(s.out_of_pocket),
            },
            person_amount=s.out_of_pocket,
        )
