"""Urban and rural residents' basic pension (城乡居民基本养老保险): contribution tiers and the
government contribution subsidy, and the monthly pension from 60 — central minimum basic pension,
local top-up, long-contribution increment and the personal account ÷ 139.
See docs/programs/resident_pension.md."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import numpy as np

from safetynet.domain.money import div_round
from safetynet.policy.common import is_severely_disabled
from safetynet.policy.engine import (
    Params,
    Program,
    ProgramInfo,
    ProgramResult,
    Tier,
    Trace,
    register,
)
from safetynet.policy.population import (
    BoolArray,
    IntArray,
    Kind,
    Population,
    among,
    date_to_int,
    person_field,
)
from safetynet.policy.programs.subjects import Subjects

person_field(
    "resident_pension_insured",
    Kind.BOOL,
    "Insured in the urban and rural residents' basic pension (城乡居民基本养老保险).",
    default=False,
)
person_field(
    "resident_pension_contribution_years",
    Kind.INT,
    "Cumulative years of residents' pension contributions (累计缴费年限).",
    default=0,
    unit="years",
)
person_field(
    "resident_pension_account_balance",
    Kind.MONEY,
    "Personal account balance of the residents' pension (个人账户储存额), interest included.",
    default="0",
    unit="yuan",
)
person_field(
    "resident_pension_contribution_yearly",
    Kind.MONEY,
    "Contribution tier chosen for this year (缴费档次), yuan per year; 0 = not contributing.",
    default="0",
    unit="yuan/year",
)
person_field(
    "resident_pension_grandfathered",
    Kind.BOOL,
    "Already 60 or older when the scheme started locally: receives the basic pension without "
    "contributions (制度实施时已年满60周岁).",
    default=False,
)

person_field(
    "is_resident_pension_recipient",
    Kind.BOOL,
    "The person's residents' pension is in payment now (on the social-insurance agency's "
    "payroll): the current caseload that the registry enrols and the monthly roll pays.",
    default=False,
)

P = "insurance.resident_pension."


@register
class ResidentPension(Program):
    id = "resident_pension"
    title = "Urban and rural residents' basic pension"
    title_zh = "城乡居民基本养老保险"
    info = ProgramInfo(
        Tier.INSURANCE,
        "insurance.resident_pension",
        caseload=True,
        recipients="is_resident_pension_recipient",
        concerns=("resident_pension_insured",),
    )
    period = "month"
    legal_basis = (
        "国务院关于建立统一的城乡居民基本养老保险制度的意见 (国发〔2014〕8号) items 4-7",
        "中华人民共和国社会保险法 (2010) arts 20-22",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        insured = pop.p("resident_pension_insured").astype(bool)
        # Nobody but an insured person is paid or contributes: everything is worked out on
        # their rows (``who.at``) alone, and is 0 for the others as over every person masked.
        who = Subjects.of(pop, insured)
        shown = who.spread

        def column(name: str) -> np.ndarray:
            return who.take(pop.p(name))

        age = np.subtract(date_to_int(p.on), column("birth_date"), dtype=np.int64) // 10000
        years = column("resident_pension_contribution_years").astype(np.int64)
        old = age >= p.int(P + "pension_age")
        grandfathered = column("resident_pension_grandfathered").astype(bool)
        eligible = old & ((years >= p.int(P + "minimum_contribution_years")) | grandfathered)
        t.step(
            "eligible_person",
            "Insured, aged 60 or more, 15 years of contributions (or 60+ when the scheme began)",
            lambda: shown(eligible),
            kind="bool",
            params=[P + "pension_age", P + "minimum_contribution_years"],
        )
        # The pension is worked out for the eligible alone (0 for every other person).
        paid = who.within(eligible)

        def their_column(name: str) -> np.ndarray:
            return paid.take(pop.p(name))

        central, top_up, increment, account = self._pension(
            their_column, p, t, np.ones(len(paid.at), np.bool_), years[eligible], paid.spread
        )
        pension = self.round_amount(central + top_up + increment + account, p)
        pension = pension.astype(np.int64)
        t.step(
            "amount",
            "Monthly residents' pension",
            lambda: paid.spread(pension),
            formula="central minimum + local top-up + long-contribution increment + account ÷ 139",
        )
        severe = is_severely_disabled(pop)[who.at]
        contribution, subsidy, valid, state_paid = self._contributions(
            column, p, t, ~old, severe, shown
        )
        sum_h = who.sum_h
        return ProgramResult(
            eligible=paid.any_h(np.ones(len(paid.at), np.bool_)),
            amount=paid.sum_h(pension),
            outputs={
                "central_basic_pension": paid.sum_h(central),
                "local_top_up": paid.sum_h(top_up),
                "long_contribution_increment": paid.sum_h(increment),
                "basic_pension": paid.sum_h(central + top_up + increment),
                "account_pension": paid.sum_h(account),
                "contribution_yearly": sum_h(contribution),
                "contribution_subsidy_yearly": sum_h(subsidy),
                "government_paid_contribution_yearly": sum_h(state_paid),
                "contribution_tier_valid": ~who.any_h(~valid),
            },
            person_amount=paid.spread(pension),
        )

    def _pension(
        self,
        column: Callable[[str], np.ndarray],
        p: Params,
        t: Trace,
        who: BoolArray,
        years: IntArray,
        shown: Callable[[np.ndarray], np.ndarray],
    ) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        zero = np.zeros(len(who), dtype=np.int64)
        if not who.any():
            return zero, zero, zero, zero
        central = np.where(who, p.fen(P + "central_minimum_monthly"), 0).astype(np.int64)
        t.step(
            "central_basic_pension",
            "Central minimum basic pension (中央确定的基础养老金最低标准)",
            lambda: shown(central),
            params=[P + "central_minimum_monthly"],
        )
        top_up = np.where(who, p.fen(P + "local_top_up_monthly"), 0).astype(np.int64)
        t.step(
            "local_top_up",
            "Local top-up of the basic pension",
            lambda: shown(top_up),
            params=[P + "local_top_up_monthly"],
        )
        extra_years = np.where(
            who, np.maximum(years - p.int(P + "long_contribution_from_years"), 0), 0
        )
        increment = zero
        if (extra_years > 0).any():
            increment = (extra_years * p.fen(P + "long_contribution_increment_monthly")).astype(
                np.int64
            )
            t.step(
                "long_contribution_increment",
                "Long-contribution increment (长缴多得) for years beyond 15",
                lambda: shown(increment),
                formula="(contribution years − 15) × increment per year",
                params=[
                    P + "long_contribution_from_years",
                    P + "long_contribution_increment_monthly",
                ],
            )
        divisor = p.int(P + "account_divisor")
        balance = column("resident_pension_account_balance").astype(np.int64)
        mode = p.rounding("common.rounding.mode")
        account = np.where(who, div_round(balance, divisor, mode), 0).astype(np.int64)
        t.step(
            "account_pension",
            "Personal-account pension",
            lambda: shown(account),
            formula=f"account balance ÷ {divisor}",
            params=[P + "account_divisor"],
        )
        return central, top_up, increment, account

    def _contributions(
        self,
        column: Callable[[str], np.ndarray],
        p: Params,
        t: Trace,
        who: BoolArray,
        severely_disabled: BoolArray,
        shown: Callable[[np.ndarray], np.ndarray],
    ) -> tuple[IntArray, IntArray, BoolArray, IntArray]:
        zero = np.zeros(len(who), dtype=np.int64)
        valid = np.ones(len(who), dtype=bool)
        chosen = np.where(who, column("resident_pension_contribution_yearly"), 0).astype(np.int64)
        severe = who & severely_disabled
        if not (chosen > 0).any() and not severe.any():
            return zero, zero, valid, zero
        tiers = np.asarray(
            sorted(int(v) for v in p.table(P + "contribution_tiers_yearly").values()),
            dtype=np.int64,
        )
        contributing = chosen > 0
        valid = np.ones(len(who), dtype=bool)  # a tier is checked where a contribution is chosen
        valid[contributing] = among(chosen[contributing], tiers)
        t.step(
            "contribution_tier_valid",
            "The contribution is one of the tiers (otherwise no subsidy is computed)",
            lambda: ~shown(~valid),
            kind="bool",
            params=[P + "contribution_tiers_yearly"],
        )
        subsidy = zero
        counted = contributing & valid
        if counted.any():
            subsidy = np.zeros(len(who), dtype=np.int64)
            for threshold, amount in p.value(P + "contribution_subsidy_yearly"):
                reached = counted & (chosen >= int(Decimal(threshold) * 100))
                subsidy = np.where(reached, int(amount), subsidy)
            t.step(
                "contribution_subsidy",
                "Government contribution subsidy per year (缴费补贴)",
                lambda: shown(subsidy),
                formula="at least 30 a year; at least 60 for tiers of 500 and above",
                params=[P + "contribution_subsidy_yearly"],
            )
        state_paid = zero
        if severe.any():
            share = p.ratio(P + "disabled_minimum_tier_share")
            state_paid = np.where(severe, self.times(int(tiers[0]), share, p), 0).astype(np.int64)
            t.step(
                "government_paid_contribution",
                "Contribution paid by the local government for a severely disabled person",
                lambda: shown(state_paid),
                formula="lowest tier × share paid by the government",
                params=[P + "disabled_minimum_tier_share", P + "contribution_tiers_yearly"],
            )
        return chosen, subsidy, valid, state_paid
