"""Temporary price subsidy (价格临时补贴) under the price-linkage mechanism (价格补贴联动机制).

When the month's CPI or its food component rises year on year by at least the trigger, every covered
person receives the local monthly dibao standard times the rise of the triggering index (the higher
one if both trigger). See docs/programs/price_subsidy.md.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from safetynet.policy.common import dibao_standard, is_family_member
from safetynet.policy.engine import (
    Params,
    Program,
    ProgramInfo,
    ProgramResult,
    Tier,
    Trace,
    register,
)
from safetynet.policy.parameters import NATION
from safetynet.policy.population import BoolArray, Kind, Population, person_field

person_field(
    "unemployment_subsidy_recipient",
    Kind.BOOL,
    "The person receives the unemployment subsidy (失业补助金) now.",
    default=False,
)
person_field(
    "orphan_allowance_recipient",
    Kind.BOOL,
    "The person receives the orphans' basic living allowance (孤儿基本生活费) now.",
    default=False,
)
person_field(
    "unsupported_child_allowance_recipient",
    Kind.BOOL,
    "The person receives the de-facto-unsupported children's allowance now.",
    default=False,
)
person_field(
    "hiv_child_allowance_recipient",
    Kind.BOOL,
    "A child infected with HIV who receives basic living support (艾滋病病毒感染儿童) now.",
    default=False,
)

P = "assistance.price_subsidy."
CPI = "common.economy.cpi_yoy"
FOOD_CPI = "common.economy.food_cpi_yoy"


def capped_trigger(p: Params, t: Trace, name: str, label: str) -> Decimal:
    """The trigger in force, never above the national one: localities may only lower it."""
    local = p.ratio(name)
    national = Decimal(p.tree.resolve(name, p.on, [NATION]).value)
    applied = min(local, national)
    t.step(
        name.rsplit(".", 1)[-1],
        f"{label} trigger applied",
        applied,
        kind="ratio",
        formula=f"min(local {local}, national {national}): a locality may lower the trigger, "
        "never raise it",
        params=[name],
    )
    return applied


@register
class PriceSubsidy(Program):
    id = "price_subsidy"
    title = "Temporary price subsidy (price-linkage mechanism)"
    title_zh = "价格临时补贴"
    info = ProgramInfo(
        Tier.ASSISTANCE,
        "assistance.price_subsidy",
        awarded_by_run=True,
        concerns=(
            "is_dibao_recipient",
            "is_tekun_recipient",
            "receives_unemployment_benefit",
            "is_special_care_recipient",
            "orphan_allowance_recipient",
            "unsupported_child_allowance_recipient",
            "hiv_child_allowance_recipient",
            "is_dibao_marginal_registered",
            "unemployment_subsidy_recipient",
        ),
    )
    period = "month"
    legal_basis = (
        "关于进一步健全社会救助和保障标准与物价上涨挂钩联动机制的通知 (发改价格〔2021〕1553号)",
        "关于阶段性调整价格补贴联动机制加大对困难群众物价补贴力度的通知 (2022-08-31)",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        cpi = p.ratio(CPI)
        food = p.ratio(FOOD_CPI)
        t.step("cpi_yoy", "CPI single-month year-on-year rise", cpi, kind="ratio", params=[CPI])
        t.step(
            "food_cpi_yoy",
            "Food CPI single-month year-on-year rise",
            food,
            kind="ratio",
            params=[FOOD_CPI],
        )
        cpi_on = cpi >= capped_trigger(p, t, P + "cpi_trigger", "CPI")
        food_on = food >= capped_trigger(p, t, P + "food_cpi_trigger", "Food CPI")
        rise = max(cpi if cpi_on else Decimal(0), food if food_on else Decimal(0))
        triggered = cpi_on or food_on
        t.step(
            "triggered",
            "The mechanism is triggered this month",
            triggered,
            kind="bool",
            formula="CPI rise ≥ CPI trigger, or food CPI rise ≥ food trigger",
        )
        t.step(
            "rise_used",
            "Rise of the triggering index (the higher one if both trigger)",
            rise,
            kind="ratio",
        )

        covered = self._covered(pop, p, t)
        n_h = pop.n_households
        if triggered:
            standard = pop.to_p(dibao_standard(pop, p, t))
            per_person = self.times(standard, rise, p)
            per_person = self.round_amount(per_person, p, P + "rounding_unit")
            per_person = np.maximum(per_person, p.fen(P + "minimum_amount"))
            t.step(
                "per_person",
                "Subsidy per covered person",
                per_person,
                formula="dibao standard × rise, rounded, not below the local minimum",
                params=[P + "rounding_unit", P + "minimum_amount"],
            )
        else:
            per_person = np.zeros(pop.n_persons, dtype=np.int64)
        person_amount = np.where(covered, per_person, 0).astype(np.int64)
        amount = pop.sum_h(person_amount)
        n_covered = pop.count_h(covered)
        eligible = (n_covered > 0) & triggered
        t.step("covered_persons", "Covered persons", n_covered, kind="int")
        t.step("amount", "Price subsidy this month", amount, formula="Σ per-person subsidy")
        per_person_h = pop.max_h(np.where(covered, per_person, 0)) if pop.n_persons else amount
        return ProgramResult(
            eligible=eligible,
            amount=amount,
            outputs={
                "triggered": np.full(n_h, triggered, dtype=np.bool_),
                "covered_persons": n_covered,
                "per_person": per_person_h.astype(np.int64),
            },
            person_amount=person_amount,
        )

    @staticmethod
    def _covered(pop: Population, p: Params, t: Trace) -> BoolArray:
        member = is_family_member(pop)
        groups: list[tuple[str, BoolArray]] = [
            ("dibao", pop.to_p(pop.h("is_dibao_recipient")) & member),
            ("tekun", pop.p("is_tekun_recipient")),
            ("unemployment_benefit", pop.p("receives_unemployment_benefit")),
            ("special_care", pop.p("is_special_care_recipient")),
            ("orphans", pop.p("orphan_allowance_recipient")),
            ("unsupported_children", pop.p("unsupported_child_allowance_recipient")),
            ("children_with_hiv", pop.p("hiv_child_allowance_recipient")),
            ("dibao_marginal", pop.to_p(pop.h("is_dibao_marginal_registered")) & member),
            ("unemployment_subsidy", pop.p("unemployment_subsidy_recipient")),
        ]
        covered = np.zeros(pop.n_persons, dtype=np.bool_)
        names = []
        for key, mask in groups:
            name = P + "covers." + key
            names.append(name)
            if p.flag(name):
                covered |= mask
        t.step(
            "covered",
            "Covered person (in at least one covered group; paid once)",
            covered,
            kind="bool",
            params=names,
        )
        return covered
