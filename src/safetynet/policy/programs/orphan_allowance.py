"""Orphans' basic living allowance (孤儿基本生活费): children both of whose parents are dead or declared
missing receive the local orphan standard (institution or community), or only the top-up to it when
they already receive dibao, tekun support or the disability living subsidy.
See docs/programs/orphan_allowance.md.

The parent-status inputs and the top-up rule are shared with ``unsupported_child_allowance``.
"""

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
from safetynet.policy.population import BoolArray, IntArray, Kind, Population, among, person_field

PARENT_STATUSES = (
    "present",
    "dead",
    "declared_missing",
    "severely_disabled",
    "seriously_ill",
    "imprisoned",
    "drug_rehab",
    "restricted_liberty",
    "lost_contact",
)
_STATUS_HELP = (
    "present; dead; declared_missing (宣告失踪); severely_disabled (grade 1-2, or grade 3-4 mental or "
    "intellectual); seriously_ill; imprisoned (服刑在押); drug_rehab (强制隔离戒毒); "
    "restricted_liberty (other restriction of liberty); lost_contact (失联)"
)
for _parent in ("father", "mother"):
    person_field(
        f"child_{_parent}_status",
        Kind.ENUM,
        f"For a child: the {_parent}'s status — {_STATUS_HELP}.",
        default="present",
        choices=PARENT_STATUSES,
    )
    person_field(
        f"child_{_parent}_status_months",
        Kind.INT,
        f"For a child: how many months the {_parent}'s imprisonment, drug rehabilitation, "
        "restriction of liberty or loss of contact has lasted.",
        default=0,
    )
for _name, _desc in (
    ("child_dibao_received", "Dibao received for this child per month (its share)."),
    ("child_tekun_received", "Tekun basic-living support received by this child per month."),
    (
        "child_disability_living_subsidy_received",
        "Disability living subsidy received by this child per month.",
    ),
):
    person_field(_name, Kind.MONEY, _desc, default="0", unit="yuan/month")

P = "welfare.orphan."


def status_code(name: str) -> int:
    return PARENT_STATUSES.index(name)


def is_child(pop: Population, p: Params, t: Trace) -> BoolArray:
    limit = p.int(P + "child_age_limit")
    age = pop.age(p.on)
    child: BoolArray = (age >= 0) & (age < limit)
    t.step("child", "Under the age limit", child, kind="bool", params=[P + "child_age_limit"])
    return child


def parents_gone(pop: Population) -> tuple[BoolArray, BoolArray]:
    """Father and mother dead or declared missing."""
    gone = (status_code("dead"), status_code("declared_missing"))
    father = among(pop.p("child_father_status"), gone)
    mother = among(pop.p("child_mother_status"), gone)
    return father, mother


def orphan_standard(pop: Population, p: Params, t: Trace, mask: BoolArray) -> IntArray:
    """The local orphan standard for each person in ``mask`` (institution or community)."""
    institution = pop.p("lives_in_institution")
    standard = np.zeros(pop.n_persons, dtype=np.int64)
    for where, name, label in (
        (mask & institution, "standard_monthly_institution", "in an institution"),
        (mask & ~institution, "standard_monthly_community", "in the community"),
    ):
        if where.any():
            standard[where] = p.fen(P + name)
            t.step(name, f"Orphan standard, {label}", p.fen(P + name), params=[P + name])
    return standard


def top_up(pop: Population, t: Trace, standard: IntArray, mask: BoolArray) -> IntArray:
    """Only the difference to the standard for children already on dibao, tekun or the living subsidy."""
    received = (
        pop.p("child_dibao_received")
        + pop.p("child_tekun_received")
        + pop.p("child_disability_living_subsidy_received")
    )
    t.step(
        "already_received",
        "Dibao, tekun support and disability living subsidy already received",
        lambda: np.where(mask, received, 0),
    )
    paid = np.where(mask, np.maximum(standard - received, 0), 0).astype(np.int64)
    t.step(
        "top_up",
        "Amount paid (the top-up to the standard)",
        paid,
        formula="max(standard − already received, 0)",
    )
    return paid


@register
class OrphanAllowance(Program):
    id = "orphan_allowance"
    title = "Orphans' basic living allowance"
    title_zh = "孤儿基本生活费"
    info = ProgramInfo(
        Tier.WELFARE,
        "welfare.orphan",
        department=Department.CIVIL_AFFAIRS,
        concerns=("child_father_status", "child_mother_status"),
    )
    period = "month"
    legal_basis = ("国务院办公厅关于加强孤儿保障工作的意见 (国办发〔2010〕54号)",)

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        child = is_child(pop, p, t)
        father_gone, mother_gone = parents_gone(pop)
        orphan = child & father_gone & mother_gone
        t.step(
            "orphan",
            "Orphan: both parents dead or declared missing",
            orphan,
            kind="bool",
        )
        standard = orphan_standard(pop, p, t, orphan)
        person_amount = top_up(pop, t, standard, orphan)
        amount = pop.sum_h(person_amount)
        t.step("amount", "Orphan allowance this month", amount, formula="Σ per-child amount")
        return ProgramResult(
            eligible=pop.any_h(orphan),
            amount=amount,
            outputs={"orphans": pop.count_h(orphan)},
            person_amount=person_amount,
        )
