"""Urban and rural residents' basic medical insurance (城乡居民基本医疗保险): yearly financing per
insured person (individual contribution and government subsidy) and the inpatient benefit, which is
the basic-insurance layer of the triple protection (``medical_layers``), reused unchanged.
See docs/programs/resident_medical.md."""

from __future__ import annotations

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
from safetynet.policy.population import Population
from safetynet.policy.programs.employee_medical import insured_under
from safetynet.policy.programs.medical_layers import basic_insurance_layer

P = "insurance.resident_medical."


@register
class ResidentMedical(Program):
    id = "resident_medical"
    title = "Residents' basic medical insurance"
    title_zh = "城乡居民基本医疗保险"
    info = ProgramInfo(Tier.INSURANCE, "insurance.resident_medical")
    period = "event"  # the amount is the benefit for the stay given; financing figures are outputs
    legal_basis = (
        "社会保险法 arts 24-25",
        "国务院关于整合城乡居民基本医疗保险制度的意见 (国发〔2016〕3号)",
        "国家医保局 财政部 国家税务总局 关于做好城乡居民基本医疗保障工作的通知 (annual)",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        insured = insured_under(pop, "resident")
        t.step("insured", "Insured under the resident scheme", insured, kind="bool")
        members = pop.count_h(insured)
        # Each insured member pays the same contribution and brings the same subsidy: a
        # household's sums are its insured members times each (exact in int64).
        individual = subsidy = 0
        if insured.any():
            ind_name, sub_name = (
                P + "individual_contribution_yearly",
                P + "government_subsidy_yearly",
            )
            individual, subsidy = p.fen(ind_name), p.fen(sub_name)
            t.step(
                "individual_contribution_yearly",
                "Individual contribution for the year (before any medical-assistance premium subsidy)",
                lambda: np.where(insured, individual, 0).astype(np.int64),
                params=[ind_name],
            )
            t.step(
                "government_subsidy_yearly",
                "Government financing subsidy for the year",
                lambda: np.where(insured, subsidy, 0).astype(np.int64),
                params=[sub_name],
            )
        cost = np.where(insured, pop.p("medical_in_policy_cost"), 0).astype(np.int64)
        paid = np.zeros(pop.n_persons, dtype=np.int64)
        if (cost > 0).any():
            t.step("in_policy_cost", "In-policy cost of the inpatient stay", cost)
            paid = basic_insurance_layer(pop, p, t, cost)
        amount = pop.sum_h(paid)
        t.step("amount", "The fund pays for the inpatient stay", amount)
        return ProgramResult(
            eligible=members > 0,
            amount=amount,
            outputs={
                "insured_members": members,
                "individual_contribution_yearly": members * individual,
                "government_subsidy_yearly": members * subsidy,
                "financing_yearly": members * (individual + subsidy),
                "inpatient_paid": amount,
            },
            person_amount=paid.astype(np.int64),
        )
