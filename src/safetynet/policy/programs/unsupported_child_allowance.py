"""De-facto-unsupported children's allowance (事实无人抚养儿童基本生活补贴): children whose parents cannot
raise them (both parents severely disabled, seriously ill, detained or out of contact, or one parent
dead or missing and the other in one of those states) receive an amount linked to the local orphan
standard, or only the top-up to it. See docs/programs/unsupported_child_allowance.md."""

from __future__ import annotations

from safetynet.policy.engine import (
    Department,
    Params,
    Procedure,
    Program,
    ProgramInfo,
    ProgramResult,
    Tier,
    Trace,
    register,
)
from safetynet.policy.population import BoolArray, Population, among
from safetynet.policy.programs.orphan_allowance import (
    is_child,
    orphan_standard,
    parents_gone,
    status_code,
    top_up,
)

P = "welfare.orphan."


def unable_to_raise(pop: Population, p: Params, parent: str) -> BoolArray:
    """The parent is in one of the states of the 2019 opinions (with the minimum durations)."""
    status = pop.p(f"child_{parent}_status")
    months = pop.p(f"child_{parent}_status_months")
    detention = among(
        status,
        (status_code("imprisoned"), status_code("drug_rehab"), status_code("restricted_liberty")),
    )
    lost = status == status_code("lost_contact")
    unable: BoolArray = (
        among(status, (status_code("severely_disabled"), status_code("seriously_ill")))
        | (detention & (months >= p.int(P + "unsupported_child_detention_min_months")))
        | (lost & (months >= p.int(P + "unsupported_child_lost_contact_min_months")))
    )
    return unable


@register
class UnsupportedChildAllowance(Program):
    id = "unsupported_child_allowance"
    title = "De-facto-unsupported children's allowance"
    title_zh = "事实无人抚养儿童基本生活补贴"
    info = ProgramInfo(
        Tier.WELFARE,
        "welfare.orphan",
        department=Department.CIVIL_AFFAIRS,
        procedure=Procedure.NO_NOTICE,
        concerns=("child_father_status", "child_mother_status"),
    )
    period = "month"
    legal_basis = ("关于进一步加强事实无人抚养儿童保障工作的意见 (民发〔2019〕62号)",)

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        child = is_child(pop, p, t)
        father_gone, mother_gone = parents_gone(pop)
        father_unable = unable_to_raise(pop, p, "father")
        mother_unable = unable_to_raise(pop, p, "mother")
        params = [
            P + "unsupported_child_detention_min_months",
            P + "unsupported_child_lost_contact_min_months",
        ]
        t.step(
            "father_unable",
            "Father unable to raise the child",
            father_unable,
            kind="bool",
            params=params,
        )
        t.step(
            "mother_unable",
            "Mother unable to raise the child",
            mother_unable,
            kind="bool",
            params=params,
        )
        orphan = father_gone & mother_gone
        unsupported = (
            child
            & ~orphan
            & (
                (father_unable & mother_unable)
                | (father_gone & mother_unable)
                | (father_unable & mother_gone)
            )
        )
        t.step(
            "unsupported",
            "De-facto unsupported: both parents unable, or one dead/missing and the other unable",
            unsupported,
            kind="bool",
        )
        ratio = p.ratio(P + "unsupported_child_standard_ratio")
        standard = self.times(orphan_standard(pop, p, t, unsupported), ratio, p)
        t.step(
            "standard",
            "Standard for the child",
            standard,
            formula=f"orphan standard × {ratio}",
            params=[P + "unsupported_child_standard_ratio"],
        )
        person_amount = top_up(pop, t, standard, unsupported)
        amount = pop.sum_h(person_amount)
        t.step("amount", "Allowance this month", amount, formula="Σ per-child amount")
        return ProgramResult(
            eligible=pop.any_h(unsupported),
            amount=amount,
            outputs={"children": pop.count_h(unsupported)},
            person_amount=person_amount,
        )
