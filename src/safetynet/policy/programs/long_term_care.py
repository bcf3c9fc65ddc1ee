"""Long-term care insurance (长期护理保险), pilot-city design: insured group, contribution, assessed
disability level, care setting, and benefit = min(cap by setting, ratio by setting × eligible cost).
See docs/programs/long_term_care.md."""

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
from safetynet.policy.population import FIELDS, BoolArray, IntArray, Kind, Population, person_field

# medical_scheme (resident / employee) is declared by the medical programs; make sure it exists.
from safetynet.policy.programs import medical_layers as _medical_layers  # noqa: F401

SETTINGS = ("none", "institution", "home", "home_visit")

person_field(
    "ltc_disability_level",
    Kind.INT,
    "Assessed disability level under the national long-term care standard (2021): 0 capable, "
    "1 mild, 2 moderate, 3-5 severe I-III.",
    default=0,
    maximum=5,
)
person_field(
    "ltc_care_setting",
    Kind.ENUM,
    "Where long-term care is received: institution, home (family or own carers), home_visit "
    "(visits by a care provider), or none.",
    default="none",
    choices=SETTINGS,
)
person_field(
    "ltc_eligible_cost",
    Kind.MONEY,
    "Eligible long-term care cost of the month (within the scheme's service list).",
    default="0",
    unit="yuan",
)
person_field(
    "ltc_wage_base",
    Kind.MONEY,
    "Monthly wage base of long-term care contributions (usually the employee medical-insurance "
    "base); 0 if none.",
    default="0",
    unit="yuan",
)

P = "insurance.long_term_care."


@register
class LongTermCare(Program):
    id = "long_term_care"
    title = "Long-term care insurance benefit"
    title_zh = "长期护理保险待遇"
    info = ProgramInfo(
        Tier.INSURANCE,
        "insurance.long_term_care",
        concerns=("ltc_disability_level", "ltc_wage_base"),
    )
    period = "month"
    legal_basis = (
        "人社厅发〔2016〕80号 (pilots) [M]",
        "国医保发〔2020〕37号 (extended pilots) [M]",
        "长期护理失能等级评估标准（试行） 医保办发〔2021〕37号",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        zero_p = np.zeros(pop.n_persons, dtype=np.int64)
        level = pop.p("ltc_disability_level").astype(np.int64)
        setting = pop.p("ltc_care_setting")
        base = pop.p("ltc_wage_base")
        claims = (level >= 1) & (setting != 0)
        involved = claims | (base > 0)
        if not involved.any() or not p.flag(P + "scheme_in_force"):
            t.step(
                "scheme",
                "A long-term care insurance scheme applies here and someone claims or contributes",
                False,
                kind="bool",
                params=[P + "scheme_in_force"] if involved.any() else [],
            )
            no = np.zeros(pop.n_households, dtype=np.bool_)
            zero_h = np.zeros(pop.n_households, dtype=np.int64)
            return ProgramResult(
                no, zero_h, {"benefit": zero_h, "contribution": zero_h, "cost": zero_h}, zero_p
            )
        insured = self._insured(pop, p, t)
        contribution = self._contribution(pop, p, t, insured, base)
        entitled = np.zeros(pop.n_persons, dtype=np.bool_)
        benefit = zero_p.copy()
        if (claims & insured).any():
            entitled = claims & insured & (level >= p.int(P + "eligible_from_level"))
            t.step(
                "entitled",
                "Insured, assessed at or above the qualifying level, receiving care",
                entitled,
                kind="bool",
                params=[P + "eligible_from_level"],
            )
            benefit = self._benefit(pop, p, t, entitled, setting)
        amount = pop.sum_h(benefit)
        t.step("amount", "Long-term care benefit this month", amount)
        cost = pop.sum_h(np.where(entitled, pop.p("ltc_eligible_cost"), 0))
        return ProgramResult(
            eligible=pop.any_h(entitled),
            amount=amount,
            outputs={"benefit": amount, "contribution": contribution, "cost": cost},
            person_amount=benefit,
        )

    @staticmethod
    def _insured(pop: Population, p: Params, t: Trace) -> BoolArray:
        group = p.choice(P + "insured_group")
        if group == "all_medical":
            insured: BoolArray = np.ones(pop.n_persons, dtype=np.bool_)
        else:
            employee = FIELDS.get("medical_scheme").code("employee")
            insured = pop.p("medical_scheme") == employee
        t.step(
            "insured",
            "Insured (member of the medical-insurance scheme(s) covered)",
            insured,
            kind="bool",
            params=[P + "insured_group"],
        )
        return insured

    def _contribution(
        self, pop: Population, p: Params, t: Trace, insured: BoolArray, base: IntArray
    ) -> IntArray:
        paying = insured & (base > 0)
        if not paying.any():
            return np.zeros(pop.n_households, dtype=np.int64)
        rate = p.ratio(P + "financing_rate")
        per_person = np.where(paying, self.times(base, rate, p), 0).astype(np.int64)
        t.step(
            "contribution",
            "Monthly contribution (employer and individual together)",
            per_person,
            formula="wage base × financing rate",
            params=[P + "financing_rate"],
        )
        return pop.sum_h(per_person)

    def _benefit(
        self, pop: Population, p: Params, t: Trace, entitled: BoolArray, setting: np.ndarray
    ) -> IntArray:
        out = np.zeros(pop.n_persons, dtype=np.int64)
        if not entitled.any():
            return out
        ratios = p.table(P + "ratio_by_setting")
        caps = p.table(P + "cap_by_setting")
        cost = pop.p("ltc_eligible_cost")
        for code, name in enumerate(SETTINGS[1:], start=1):
            rows = entitled & (setting == code)
            if rows.any():
                share = np.asarray(self.times(cost[rows], Decimal(str(ratios[name])), p))
                out[rows] = np.minimum(share, int(caps[name]))
        out = self.round_amount(out, p)
        t.step(
            "benefit",
            "Benefit by person",
            out,
            formula="min(cap by setting, ratio by setting × eligible cost)",
            params=[P + "ratio_by_setting", P + "cap_by_setting"],
        )
        return out
