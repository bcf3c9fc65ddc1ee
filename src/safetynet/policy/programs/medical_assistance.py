"""Medical assistance (医疗救助): the third layer of the triple protection for the assisted groups,
and the resident-insurance premium subsidy. The layers live in ``medical_layers``.
See docs/programs/medical_assistance.md."""

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
from safetynet.policy.population import FIELDS, IntArray, Population, among
from safetynet.policy.programs.medical_layers import (
    ASSIST,
    DIBAO,
    GROUPS,
    MARGINAL,
    MONITORED,
    RESIDENT_MEDICAL,
    TEKUN,
    settle,
)


@register
class MedicalAssistance(Program):
    id = "medical_assistance"
    title = "Medical assistance"
    title_zh = "医疗救助"
    info = ProgramInfo(
        Tier.ASSISTANCE,
        "assistance.medical_assistance",
        department=Department.MEDICAL_SECURITY,
        concerns=(
            "is_tekun_recipient",
            "is_dibao_recipient",
            "is_dibao_marginal_registered",
            "is_low_income_monitored",
            "medical_illness_impoverished",
        ),
    )
    period = "event"
    legal_basis = (
        "社会救助暂行办法 arts 27-32",
        "国务院办公厅关于健全重特大疾病医疗保险和救助制度的意见 (国办发〔2021〕42号)",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        s = settle(pop, p, t)
        assistance = pop.sum_h(s.assistance)
        eligible = pop.any_h(s.assisted)
        t.step(
            "eligible",
            "A member belongs to an assisted group (tekun, dibao, marginal, monitored, "
            "illness-impoverished)",
            eligible,
            kind="bool",
        )
        premium = self._premium_subsidy(pop, p, t, s.group)
        t.step("amount", "Medical assistance paid on this stay", assistance)
        return ProgramResult(
            eligible=eligible,
            amount=assistance,
            outputs={
                "left_after_insurance": pop.sum_h(s.after_insurance),
                "assistance_deductible": pop.max_h(s.assistance_deductible),
                "medical_assistance_paid": assistance,
                "out_of_pocket": pop.sum_h(s.out_of_pocket),
                "premium_subsidy": pop.sum_h(premium),
            },
            person_amount=s.assistance,
        )

    def _premium_subsidy(self, pop: Population, p: Params, t: Trace, group: IntArray) -> IntArray:
        """Yearly subsidy towards the individual resident-insurance contribution, per person."""
        resident = pop.p("medical_scheme") == FIELDS.get("medical_scheme").code("resident")
        tekun = resident & (group == TEKUN)
        fixed_groups = resident & among(group, (DIBAO, MONITORED, MARGINAL))
        subsidy = np.zeros(pop.n_persons, dtype=np.int64)
        if not (tekun | fixed_groups).any():
            return subsidy
        contribution = p.fen(RESIDENT_MEDICAL + "individual_contribution_yearly")
        names = [RESIDENT_MEDICAL + "individual_contribution_yearly"]
        if tekun.any():
            share = p.ratio(ASSIST + "premium_subsidy.tekun_share")
            subsidy = np.where(tekun, self.times(contribution, share, p), subsidy)
            names.append(ASSIST + "premium_subsidy.tekun_share")
        if fixed_groups.any():
            table = p.table(ASSIST + "premium_subsidy.fixed_amount")
            lookup = np.asarray([int(table.get(g, 0)) for g in GROUPS], dtype=np.int64)
            subsidy = np.where(fixed_groups, np.minimum(lookup[group], contribution), subsidy)
            names.append(ASSIST + "premium_subsidy.fixed_amount")
        t.step(
            "premium_subsidy",
            "Yearly subsidy towards the resident-insurance contribution (tekun in full, "
            "dibao and others a fixed amount)",
            subsidy,
            formula="tekun: contribution × share; dibao, monitored, marginal: "
            "min(fixed amount, contribution)",
            params=names,
        )
        return subsidy.astype(np.int64)
