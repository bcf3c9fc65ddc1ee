"""Who qualifies for each assistance service, and how many units a month: the rules of the
service catalogue (parameters ``services.catalogue``, docs/services.md), read like every program
of the rules core: from the household's facts, the programs it is eligible for, the date and the
region. A county offers a service only where it has a purchase contract; that is decided outside
the rules core (``safetynet.services``).

Each rule answers, per member, the units a month and the reason in plain words with the
parameters used, so a plan can say why a service is there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from safetynet.policy.engine import Params
from safetynet.policy.population import Population, population_from_households
from safetynet.policy.screening import screen

__all__ = ["GAP_OUTPUTS", "SERVICES", "Gap", "ServiceNeed", "service_needs", "unmet_needs"]

P = "services.catalogue."
PROGRAM_NAMES = {"dibao": "低保", "tekun": "特困供养"}


@dataclass(frozen=True)
class ServiceNeed:
    """One member's need for one service: units a month, why, and the parameters read."""

    service: str
    member: int  # position in the household's members
    units_per_month: int
    unit: str
    reason: str
    parameters: tuple[str, ...]


Rule = Callable[[Population, Params, Collection[str], dt.date], list[ServiceNeed]]


def _tekun_care(
    pop: Population, p: Params, eligible: Collection[str], _on: dt.date
) -> list[ServiceNeed]:
    if "tekun" not in eligible:
        return []
    failed = pop.p("tekun_selfcare_items_failed")
    partial_from = p.int("assistance.tekun.selfcare.partially_lost_from")
    full_from = p.int("assistance.tekun.selfcare.fully_lost_from")
    needs = []
    for member, items in enumerate(failed.tolist()):
        if items >= full_from:
            name, tier = P + "tekun_care.fully_lost_hours_per_month", "完全丧失生活自理能力"
        elif items >= partial_from:
            name, tier = P + "tekun_care.partially_lost_hours_per_month", "部分丧失生活自理能力"
        else:
            continue
        reason = f"特困供养人员，{tier}（{items}项不能自理）"
        params = (name, "assistance.tekun.selfcare.partially_lost_from",
                  "assistance.tekun.selfcare.fully_lost_from")  # fmt: skip
        needs.append(ServiceNeed("tekun_care", member, p.int(name), "hour", reason, params))
    return needs


def _elderly_visits(
    pop: Population, p: Params, _eligible: Collection[str], on: dt.date
) -> list[ServiceNeed]:
    if pop.n_persons != 1:  # living alone: a household of one
        return []
    age_from = p.int(P + "elderly_visits.age_from")
    age = int(pop.age(on)[0])
    if age < age_from:
        return []
    name = P + "elderly_visits.visits_per_month"
    reason = f"独居老人（{age}岁，{age_from}岁以上）"
    return [ServiceNeed("elderly_visits", 0, p.int(name), "visit", reason,
                        (P + "elderly_visits.age_from", name))]  # fmt: skip


def _disabled_child(
    pop: Population, p: Params, _eligible: Collection[str], on: dt.date
) -> list[ServiceNeed]:
    below = p.int(P + "disabled_child_rehabilitation.age_below")
    name = P + "disabled_child_rehabilitation.sessions_per_month"
    ages, grades = pop.age(on).tolist(), pop.p("disability_grade").tolist()
    return [
        ServiceNeed(
            "disabled_child_rehabilitation",
            member,
            p.int(name),
            "session",
            f"残疾儿童（{age}岁，残疾等级{grade}级）",
            (P + "disabled_child_rehabilitation.age_below", name),
        )
        for member, (age, grade) in enumerate(zip(ages, grades, strict=True))
        if grade >= 1 and age < below
    ]


def _meals(pop: Population, p: Params, eligible: Collection[str], on: dt.date) -> list[ServiceNeed]:
    programs = [program for program in ("dibao", "tekun") if program in eligible]
    if not programs:
        return []
    age_from = p.int(P + "meal_assistance.age_from")
    name = P + "meal_assistance.meals_per_month"
    return [
        ServiceNeed(
            "meal_assistance",
            member,
            p.int(name),
            "meal",
            f"{'、'.join(PROGRAM_NAMES[x] for x in programs)}家庭老年人（{age}岁）",
            (P + "meal_assistance.age_from", name),
        )
        for member, age in enumerate(pop.age(on).tolist())
        if age >= age_from
    ]


SERVICES: Mapping[str, tuple[str, Rule]] = {
    "tekun_care": (
        "特困人员照料护理 Care for tekun persons who cannot care for themselves",
        _tekun_care,
    ),
    "elderly_visits": ("独居老人探访关爱 Visits to elderly people living alone", _elderly_visits),
    "disabled_child_rehabilitation": (
        "残疾儿童康复救助 Rehabilitation of disabled children",
        _disabled_child,
    ),
    "meal_assistance": ("老年助餐 Meal assistance for elderly people in difficulty", _meals),
}
"""Every service of the catalogue: its title (Chinese, English) and its rule."""


def service_needs(
    household: Mapping[str, Any],
    on: dt.date,
    region: str,
    eligible: Collection[str],
    *,
    params: Params | None = None,
) -> list[ServiceNeed]:
    """Every service need of the household's members on ``on`` in ``region``, given the programs
    the household is ``eligible`` for (the needs assessment's cash side)."""
    pop = population_from_households([household])
    p = params if params is not None else Params(on, region)
    needs: list[ServiceNeed] = []
    for _, rule in SERVICES.values():
        needs.extend(rule(pop, p, eligible, on))
    return needs


@dataclass(frozen=True)
class Gap:
    """A need the government programs leave unmet, as the rules core states it: what kind, how
    much (fen) and from which program's result."""

    kind: str
    amount_fen: int
    program: str
    explanation: str


GAP_OUTPUTS: Mapping[str, tuple[str, str, str]] = {
    "medical_gap": (
        "medical_assistance",
        "out_of_pocket",
        "医疗费用经基本医保、大病保险和医疗救助后个人仍需负担",
    ),
    "hardship_above_limit": (
        "temporary_assistance",
        "amount_above_cap",
        "临时救助认定的困难超出本级审批上限的部分",
    ),
}
"""Each gap the rules core can state: (program, output, what it is in plain words)."""


def unmet_needs(
    household: Mapping[str, Any],
    on: dt.date,
    region: str,
    *,
    fallbacks: Mapping[str, Any] | None = None,
) -> list[Gap]:
    """The household's needs left after medical assistance and temporary assistance (the gaps a
    referral to charity may fill), each with its amount in fen; none when there is no gap."""
    lines = {line.program: line for line in screen(household, on, region, fallbacks=fallbacks)}
    gaps = []
    for kind, (program, output, words) in GAP_OUTPUTS.items():
        line = lines.get(program)
        if line is None or line.evaluation is None:
            continue
        values = line.evaluation.result.outputs.get(output)
        if values is None:  # the program is not available here: no gap it can state
            continue
        amount = int(values[0])
        if amount > 0:
            gaps.append(Gap(kind, amount, program, f"{words}（{program}.{output}）"))
    return gaps
