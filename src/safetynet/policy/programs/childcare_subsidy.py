"""National childcare subsidy (育儿补贴): from 2025-01-01, 3,600 yuan per child per year until age 3,
pro rata by eligible months. The amount is that of the calendar year of the date.
See docs/programs/childcare_subsidy.md."""

from __future__ import annotations

import numpy as np

from safetynet.domain.money import div_round
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
from safetynet.policy.population import IntArray, Kind, Population, person_field
from safetynet.policy.programs.subjects import Subjects

person_field(
    "childcare_lawful_birth",
    Kind.BOOL,
    "The child was born or adopted in accordance with law (依法生育或收养).",
    default=True,
)

P = "welfare.childcare_subsidy."
MONTHS_PER_YEAR = 12


def eligible_months(pop: Population, p: Params, t: Trace) -> IntArray:
    """Eligible months of each person in the calendar year of the date."""
    # YYYYMM, in int64 (⌊⌊d / 100⌋ / 100⌋ = ⌊d / 10000⌋: the year is taken from it).
    born_month = np.floor_divide(pop.p("birth_date"), 100, dtype=np.int64)
    birth_month = (born_month // 100) * 12 + (born_month % 100 - 1)  # months since year 0
    span = p.int(P + "age_limit_years") * 12
    convention = p.choice(P + "month_convention")
    if convention == "birth_month":
        first, last = birth_month, birth_month + span - 1
    else:
        first, last = birth_month + 1, birth_month + span
    year_first = p.on.year * 12
    year_last = year_first + 11
    months = np.minimum(last, year_last) - np.maximum(first, year_first) + 1
    lawful = pop.p("childcare_lawful_birth")
    months = np.clip(months, 0, 12)
    if not (lawful.strides == (0,) and len(lawful) and lawful[0]):  # × 1 where nobody says no
        months = months * lawful
    t.step(
        "eligible_months",
        f"Eligible months in {p.on.year}",
        months,
        kind="int",
        formula=f"months of {p.on.year} before age {span // 12} (convention: {convention})",
        params=[P + "age_limit_years", P + "month_convention"],
    )
    out: IntArray = months.astype(np.int64)
    return out


@register
class ChildcareSubsidy(Program):
    id = "childcare_subsidy"
    title = "National childcare subsidy"
    title_zh = "育儿补贴"
    info = ProgramInfo(
        Tier.WELFARE,
        "welfare.childcare_subsidy",
        department=Department.CIVIL_AFFAIRS,
        in_force="welfare.childcare_subsidy.in_force",
    )
    period = "year"
    legal_basis = ("育儿补贴制度实施方案 (中共中央办公厅、国务院办公厅, 2025)",)

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        yearly = p.fen(P + "amount_yearly")
        months = eligible_months(pop, p, t)
        receives = months > 0
        # Months are never negative: a child with none is paid nothing (0 × the amount ÷ 12 is
        # 0 whatever the rounding), so the amounts are worked out for the children with some.
        who = Subjects.of(pop, receives)
        paid = div_round(
            months[who.at] * np.int64(yearly), MONTHS_PER_YEAR, p.rounding("common.rounding.mode")
        )
        person_amount = who.spread(np.asarray(paid, dtype=np.int64))
        t.step(
            "person_amount",
            "Subsidy per child for the year",
            person_amount,
            formula="yearly amount × eligible months ÷ 12",
            params=[P + "amount_yearly"],
        )
        amount = who.sum_h(paid)
        t.step("amount", f"Childcare subsidy for {p.on.year}", amount)
        everyone = np.ones(len(who.at), dtype=np.bool_)
        return ProgramResult(
            eligible=who.any_h(everyone),
            amount=amount,
            outputs={"children": who.sum_h(everyone), "eligible_months": who.sum_h(months[who.at])},
            person_amount=person_amount,
        )
