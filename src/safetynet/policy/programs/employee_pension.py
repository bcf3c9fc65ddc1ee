"""Urban employee basic pension (城镇职工基本养老保险): contributions on a clamped base, and the
pension at retirement — basic pension, personal-account pension with the official divisor table,
transitional pension for deemed years — and the yearly indexation of pensions in payment.
See docs/programs/employee_pension.md."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import numpy as np

from safetynet.domain.money import Rounding, div_round, ratio_parts
from safetynet.policy.engine import (
    Params,
    Program,
    ProgramInfo,
    ProgramResult,
    Tier,
    Trace,
    register,
)
from safetynet.policy.population import BoolArray, IntArray, Kind, Population, person_field
from safetynet.policy.programs.retirement_age import (
    date_month_index,
    minimum_contribution_months,
    month_index,
    retirement,
    yyyymm,
)
from safetynet.policy.programs.subjects import Subjects

INDEX_UNIT = 10_000  # contribution indices are entered in ten-thousandths: 12000 = 1.2

person_field(
    "employee_pension_contributor_type",
    Kind.ENUM,
    "How the person contributes: employee (employer 16 % + individual 8 %) or flexible worker "
    "(灵活就业人员, 20 % paid alone: 12 % pooled, 8 % to the account).",
    default="employee",
    choices=("employee", "flexible"),
)
person_field(
    "employee_pension_wage",
    Kind.MONEY,
    "Own average monthly wage of the previous year (缴费工资); for a flexible worker, the base chosen. "
    "Clamped to 60 %–300 % of the provincial average wage.",
    default="0",
    unit="yuan/month",
)
person_field(
    "employee_pension_average_index",
    Kind.INT,
    "Average contribution index Ī (平均缴费指数) in ten-thousandths: 12000 = 1.2. "
    "Each year's index lies between 0.6 and 3, so Ī does too.",
    default=10_000,
    minimum=6_000,
    maximum=30_000,
    unit="1/10000",
)
person_field(
    "employee_pension_account_balance",
    Kind.MONEY,
    "Personal account balance (个人账户储存额) at retirement, interest included.",
    default="0",
    unit="yuan",
)
person_field(
    "employee_pension_deemed_index",
    Kind.INT,
    "Deemed-years contribution index (视同缴费指数) in ten-thousandths: 10000 = 1.0.",
    default=10_000,
    maximum=30_000,
    unit="1/10000",
)
person_field(
    "employee_pension_retirement_age_months",
    Kind.INT,
    "Actual retirement age in months where it differs from the statutory rule (special early "
    "retirement for hazardous work or illness); 0 = derive from birth date and category.",
    default=0,
    maximum=900,
    unit="months",
)
person_field(
    "employee_pension_awarded_monthly",
    Kind.MONEY,
    "For a pension already in payment: the monthly amount awarded at retirement (before later "
    "adjustments); 0 = compute the award from the contribution record.",
    default="0",
    unit="yuan/month",
)

person_field(
    "is_employee_pension_recipient",
    Kind.BOOL,
    "The person's employee pension is in payment now (on the social-insurance agency's payroll): "
    "the current caseload that the registry enrols and the monthly roll pays.",
    default=False,
)

P = "insurance.employee_pension."
R = "insurance.retirement_age."


def div_round_by(numerator: IntArray, denominator: IntArray, p: Params) -> IntArray:
    """numerator ÷ denominator element by element (denominator > 0), rounded with the common
    mode; loops over the few distinct denominators (divisors), not over persons."""
    mode = p.rounding("common.rounding.mode")
    out = np.zeros(len(numerator), dtype=np.int64)
    for d in np.unique(denominator[denominator > 0]):
        rows = denominator == d
        out[rows] = div_round(numerator[rows], int(d), mode)
    return out


def account_divisor(
    age_months: IntArray, p: Params, t: Trace, who: BoolArray, persons: Subjects | None = None
) -> tuple[IntArray, IntArray]:
    """The divisor (计发月数) for each retirement age as an exact fraction (num, den): the 2005
    table by whole years; between whole years by the method in force (floor, interpolate, or
    interpolate rounded half up to one decimal). Ages below 40 use the row for 40, ages above 70
    the row for 70. ``persons``: the rows of the population these ages are of (every person
    when none), for the step shown (age 0 and not ``who`` for the others)."""
    num, den = _divisor(age_months, p, who)
    method = p.choice(P + "divisor_fractional_age_method")

    def shown() -> np.ndarray:
        a, b = (
            (num, den)
            if persons is None
            else _divisor(persons.spread(age_months), p, persons.spread(who))
        )
        return np.asarray(
            [_divisor_text(int(x), int(y)) for x, y in zip(a, b, strict=True)], dtype=object
        )

    t.step(
        "account_divisor",
        "Divisor (计发月数) for the age at retirement",
        shown,
        kind="text",
        formula=f"2005 table by age; months beyond a whole year: method {method}",
        params=[P + "account_divisor_by_age", P + "divisor_fractional_age_method"],
    )
    return num, den


def _divisor(age_months: IntArray, p: Params, who: BoolArray) -> tuple[IntArray, IntArray]:
    table = p.table(P + "account_divisor_by_age")
    ages = sorted(int(k) for k in table)
    low, high = ages[0], ages[-1]
    row = np.asarray([int(table[str(min(max(a, low), high))]) for a in range(low, high + 2)])
    years = age_months // 12
    clamped = np.clip(years, low, high)
    months = np.where((years >= low) & (years < high), age_months % 12, 0)
    d_here = row[clamped - low]
    method = p.choice(P + "divisor_fractional_age_method")
    if method in ("interpolate", "interpolate_one_decimal"):
        d_next = row[clamped - low + 1]
        twelfths = d_here * (12 - months) + d_next * months
        if method == "interpolate_one_decimal":
            # d in tenths of a month: twelfths × 10 ÷ 12, rounded half up (四舍五入 to 0.1).
            num = div_round(twelfths * 10, 12, Rounding.HALF_UP)
            den = np.full(len(age_months), 10, dtype=np.int64)
        else:
            num = twelfths
            den = np.full(len(age_months), 12, dtype=np.int64)
    else:
        num = d_here
        den = np.ones(len(age_months), dtype=np.int64)
    num = np.where(who, num, 0).astype(np.int64)
    return num, den.astype(np.int64)


def _tenths(num: IntArray, den: IntArray) -> IntArray:
    """A divisor num/den in tenths of a month, rounded half up (exact for dens 1 and 10)."""
    den = np.maximum(den, 1)
    return ((num * 20 + den) // (2 * den)).astype(np.int64)


def _divisor_text(num: int, den: int) -> str:
    if den == 1:
        return str(num)
    if den == 10:
        return f"{num // 10}.{num % 10}"
    return f"{num}/{den}"


@register
class EmployeePension(Program):
    id = "employee_pension"
    title = "Urban employee basic pension"
    title_zh = "城镇职工基本养老保险"
    info = ProgramInfo(
        Tier.INSURANCE,
        "insurance.employee_pension",
        caseload=True,
        recipients="is_employee_pension_recipient",
        concerns=("employee_pension_insured",),
    )
    period = "month"
    legal_basis = (
        "中华人民共和国社会保险法 (2010, amended 2018) arts 10-16",
        "国务院关于完善企业职工基本养老保险制度的决定 (国发〔2005〕38号) items 3, 6",
        "降低社会保险费率综合方案 (国办发〔2019〕13号) items 1-2",
        "国务院关于渐进式延迟法定退休年龄的办法 (2024) arts 2-4",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        r = retirement(pop, p, t)
        # Nobody but a subject of the retirement facts (``Retirement.subject``) has a status, a
        # contribution or a pension: everything is worked out on their rows (``who.at``) alone
        # and is 0 for the others, as over every person with the others masked to 0.
        who = r.who
        shown = who.spread

        def column(name: str) -> np.ndarray:
            return who.take(pop.p(name))

        born = month_index(column("birth_date"))
        override = column("employee_pension_retirement_age_months").astype(np.int64)
        retire = np.where(override > 0, born + override, r.effective_at)
        age = retire - born
        now = date_month_index(p.on)
        reached = now >= retire
        minimum = minimum_contribution_months(p, retire // 12)
        minimum_met = r.contribution_months_at >= minimum
        awarded = column("employee_pension_awarded_monthly").astype(np.int64)
        if (override > 0).any():
            t.step(
                "retirement_age_override",
                "Retirement age entered for special early retirement (months)",
                lambda: shown(np.where(override > 0, override, 0)),
                kind="int",
                params=[R + "minimum_contribution_months_by_year"],
            )
        retiring = reached & minimum_met & (awarded == 0)
        in_payment = reached & (awarded > 0)
        contributing = ~(reached & minimum_met) & (awarded == 0)
        t.step(
            "pension_status",
            "Drawing a pension from the record (1), already in payment (2), contributing (3)",
            lambda: shown(
                np.where(retiring, 1, np.where(in_payment, 2, np.where(contributing, 3, 0)))
            ),
            kind="int",
            formula="retirement month reached and minimum met → pension; otherwise contributions "
            "(延长缴费 after the retirement month until the minimum is met)",
        )

        paying, contributions = self._contributions(pop, p, t, contributing, who)
        base, employer, individual, account_part = contributions
        basic, account, transitional, divisor = self._award(pop, p, t, retiring, age, who)
        award = self.round_amount(basic + account + transitional, p)
        indexed = self._indexation(p, t, in_payment, awarded, retire // 12, shown)
        pension = np.where(retiring, award, np.where(in_payment, indexed, 0)).astype(np.int64)
        t.step("amount", "Monthly basic pension", lambda: shown(pension))
        paid = pension > 0

        first = who.first_value
        sum_h = who.sum_h

        return ProgramResult(
            eligible=who.any_h(paid),
            amount=sum_h(pension),
            outputs={
                "basic_pension": sum_h(basic),
                "account_pension": sum_h(account),
                "transitional_pension": sum_h(transitional),
                "indexed_pension": sum_h(indexed),  # 0 but for the pensions in payment
                "contribution_base": paying.sum_h(base),
                "employer_contribution": paying.sum_h(employer),
                "individual_contribution": paying.sum_h(individual),
                "account_contribution": paying.sum_h(account_part),
                # Whole months, and tenths for an age with months (138.4 → 1384).
                "account_divisor": first(divisor[0] // np.maximum(divisor[1], 1)),
                "account_divisor_tenths": first(_tenths(*divisor)),
                "retirement_year_month": yyyymm(first(retire)),
                "age_at_retirement_months": first(age),
                "minimum_contribution_months": first(minimum),
                "minimum_met": first(minimum_met).astype(bool),
                "category_conflict": pop.any_h(r.category_conflict),
            },
            person_amount=shown(pension),
        )

    def _contributions(
        self, pop: Population, p: Params, t: Trace, who: BoolArray, persons: Subjects
    ) -> tuple[Subjects, tuple[IntArray, IntArray, IntArray, IntArray]]:
        """The persons of ``persons`` contributing (``who``; nobody else pays) and their
        contribution base, employer, individual and account contributions."""
        paying = persons.within(who)
        if not who.any():
            zero = np.zeros(0, dtype=np.int64)
            return paying, (zero, zero, zero, zero)
        rows = np.flatnonzero(who)
        shown = persons.spread

        def their(name: str) -> np.ndarray:
            return paying.take(pop.p(name))

        def placed(values: np.ndarray) -> IntArray:
            return _placed(len(who), rows, values)

        average = p.fen(P + "average_wage_monthly")
        floor = int(self.times(average, p.ratio(P + "base_floor_ratio"), p))
        ceiling = int(self.times(average, p.ratio(P + "base_ceiling_ratio"), p))
        base = np.clip(their("employee_pension_wage"), floor, ceiling)
        t.step(
            "contribution_base",
            "Contribution base: own wage clamped to 60 %–300 % of the provincial average wage",
            lambda: shown(placed(base)),
            formula="min(max(wage, floor × average), ceiling × average)",
            params=[P + "average_wage_monthly", P + "base_floor_ratio", P + "base_ceiling_ratio"],
        )
        flex = their("employee_pension_contributor_type") == 1
        employee = ~flex
        employer = np.where(employee, self.times(base, p.ratio(P + "employer_rate"), p), 0)
        names = [P + "employer_rate", P + "individual_rate"]
        individual = np.where(employee, self.times(base, p.ratio(P + "individual_rate"), p), 0)
        account = individual.copy()
        if flex.any():
            names += [P + "flexible_rate", P + "flexible_account_rate"]
            individual = np.where(
                flex, self.times(base, p.ratio(P + "flexible_rate"), p), individual
            )
            account = np.where(
                flex, self.times(base, p.ratio(P + "flexible_account_rate"), p), account
            )
        t.step(
            "employer_contribution",
            "Employer contribution per month",
            lambda: shown(placed(employer)),
            formula="base × employer rate",
            params=[P + "employer_rate"],
        )
        t.step(
            "individual_contribution",
            "Contribution paid by the person per month (employee 8 %; flexible worker 20 %)",
            lambda: shown(placed(individual)),
            formula="base × rate",
            params=names[1:],
        )
        t.step(
            "account_contribution",
            "Credited to the personal account per month",
            lambda: shown(placed(account)),
        )
        return paying, (
            base.astype(np.int64),
            employer.astype(np.int64),
            individual.astype(np.int64),
            account.astype(np.int64),
        )

    def _award(
        self,
        pop: Population,
        p: Params,
        t: Trace,
        who: BoolArray,
        age: IntArray,
        persons: Subjects,
    ) -> tuple[IntArray, IntArray, IntArray, tuple[IntArray, IntArray]]:
        """Basic, account and transitional pensions, and the divisor as (num, den), for the
        rows of ``persons``: 0 but for those drawing a pension from their record (``who``),
        for whom alone they are worked out (the divisor is 0/1 for the others: no divisor)."""
        zero = np.zeros(len(who), dtype=np.int64)
        if not who.any():
            return zero, zero, zero, (zero, np.ones(len(who), dtype=np.int64))
        rows = np.flatnonzero(who)
        drawing = persons.within(who)
        shown = drawing.spread

        def their(name: str) -> np.ndarray:
            return drawing.take(pop.p(name))

        mode = p.rounding("common.rounding.mode")
        w = p.fen(P + "pension_base_monthly")
        index = their("employee_pension_average_index").astype(np.int64)
        paid = their("employee_pension_contribution_months").astype(np.int64)
        deemed = their("employee_pension_deemed_months").astype(np.int64)
        n_months = paid + deemed
        rnum, rden = ratio_parts(p.ratio(P + "basic_rate_per_year"))
        basic = div_round(
            w * (INDEX_UNIT + index) * n_months * rnum, 2 * INDEX_UNIT * 12 * rden, mode
        ).astype(np.int64)
        t.step(
            "basic_pension",
            "Basic pension (基础养老金)",
            lambda: shown(basic),
            formula="W × (1 + Ī) ÷ 2 × N years × 1 % (N = (paid + deemed months) ÷ 12)",
            params=[P + "pension_base_monthly", P + "basic_rate_per_year"],
        )

        everyone = np.ones(len(rows), dtype=np.bool_)
        num, den = account_divisor(age[rows], p, t, everyone, drawing)
        balance = their("employee_pension_account_balance").astype(np.int64)
        account = div_round_by(balance * den, num, p).astype(np.int64)
        t.step(
            "account_pension",
            "Personal-account pension (个人账户养老金)",
            lambda: shown(account),
            formula="account balance ÷ divisor",
            params=[P + "account_divisor_by_age"],
        )

        transitional = np.zeros(len(rows), dtype=np.int64)
        has_deemed = deemed > 0
        if has_deemed.any():
            coefficient: Decimal = p.ratio(P + "transitional_coefficient")
            cnum, cden = ratio_parts(coefficient)
            d_index = their("employee_pension_deemed_index").astype(np.int64)
            value = div_round(w * d_index * deemed * cnum, INDEX_UNIT * 12 * cden, mode)
            transitional = np.where(has_deemed, value, 0).astype(np.int64)
            t.step(
                "transitional_pension",
                "Transitional pension (过渡性养老金) for deemed years",
                lambda: shown(transitional),
                formula="W × deemed index × deemed years × provincial coefficient",
                params=[P + "pension_base_monthly", P + "transitional_coefficient"],
            )

        n = len(who)
        return (
            _placed(n, rows, basic),
            _placed(n, rows, account),
            _placed(n, rows, transitional),
            (_placed(n, rows, num), _placed(n, rows, den, elsewhere=1)),
        )

    def _indexation(
        self,
        p: Params,
        t: Trace,
        who: BoolArray,
        awarded: IntArray,
        retire_year: IntArray,
        shown: Callable[[np.ndarray], np.ndarray],
    ) -> IntArray:
        if not who.any():
            return np.zeros(len(awarded), dtype=np.int64)
        rates = p.table(P + "indexation_rate_by_year")
        rows = np.flatnonzero(who)  # pensions in payment alone are uprated (0 for the others)
        amount = awarded[rows].astype(np.int64)
        retired_in = retire_year[rows]
        for year in sorted(rates, key=int):
            y = int(year)
            apply = (retired_in < y) & (y <= p.on.year)
            uprated = self.times(amount, Decimal(1) + Decimal(rates[year]), p)
            amount = np.where(apply, uprated, amount).astype(np.int64)
        indexed = _placed(len(who), rows, amount)
        t.step(
            "indexed_pension",
            "Pension in payment after the yearly adjustments since the retirement year",
            lambda: shown(indexed),
            formula="award × (1 + rate) for each year after the retirement year up to the date",
            params=[P + "indexation_rate_by_year"],
        )
        return indexed


def _placed(n: int, rows: IntArray, values: np.ndarray, elsewhere: int = 0) -> IntArray:
    """Values worked out for ``rows`` placed among ``n`` (``elsewhere`` for the others)."""
    out = np.full(n, elsewhere, dtype=np.int64)
    out[rows] = values
    return out
