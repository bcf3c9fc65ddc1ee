"""Work-related injury insurance (工伤保险): own wage, disability benefits by grade (who pays each
part), nursing allowance, death benefits with survivors' pensions and their cap, and the employer's
contribution. See docs/programs/work_injury.md.

Period: ``month``. The program's amount is what is paid every month (disability allowance, nursing
allowance, survivors' pensions); the one-off payments (lump-sum disability subsidy, one-off medical
and employment subsidies, funeral subsidy, one-off death subsidy) are outputs.
"""

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
from safetynet.policy.population import BoolArray, IntArray, Kind, Population, among, person_field

EVENTS = ("none", "injured", "death")
NURSING = ("none", "complete", "major", "partial")
SURVIVOR_ROLES = ("none", "spouse", "other")
MAX_GRADE = 10
RATE_CLASSES = 8

person_field(
    "work_injury_event",
    Kind.ENUM,
    "Recognised work injury (工伤认定) of the person: none; injured (alive); death from the work "
    "injury (因工死亡).",
    default="none",
    choices=EVENTS,
)
person_field(
    "work_injury_wage_avg_12m",
    Kind.MONEY,
    "Average monthly contribution wage of the 12 months before the injury or death (before the "
    "60 %-300 % band of art. 64 is applied).",
    default="0",
    unit="yuan",
)
person_field(
    "work_injury_disability_grade",
    Kind.INT,
    "Disability grade assessed by the labour-ability assessment committee, 1 (most severe) to 10; "
    "0 if not (yet) assessed.",
    default=0,
    maximum=MAX_GRADE,
)
person_field(
    "work_injury_nursing",
    Kind.ENUM,
    "Assessed degree of inability to care for oneself (生活自理障碍): complete, major, partial, or none.",
    default="none",
    choices=NURSING,
)
person_field(
    "work_injury_job_arranged",
    Kind.BOOL,
    "Grades 5-6: the employer has arranged suitable work (then no disability allowance is paid).",
    default=False,
)
person_field(
    "work_injury_employment_ended",
    Kind.BOOL,
    "Grades 5-10: the employment relationship has ended (one-off medical and employment subsidies "
    "become due; no monthly allowance).",
    default=False,
)
person_field(
    "work_injury_retired",
    Kind.BOOL,
    "Grades 1-4: retired and drawing the basic pension (pension_income); the allowance stops and "
    "the fund tops the pension up to it.",
    default=False,
)
person_field(
    "work_injury_survivor",
    Kind.ENUM,
    "Recognised dependant (供养亲属) of a member who died from a work injury: spouse, other "
    "dependant, or none.",
    default="none",
    choices=SURVIVOR_ROLES,
)
person_field(
    "work_injury_survivor_lone",
    Kind.BOOL,
    "The dependant is a widowed elderly person or an orphan (孤寡老人或者孤儿): +10 % of own wage.",
    default=False,
)
person_field(
    "work_injury_rate_class",
    Kind.INT,
    "Industry risk class (1-8) of the employer's work-injury insurance; 0 if not insured.",
    default=0,
    maximum=RATE_CLASSES,
)

P = "insurance.work_injury."
AVG = P + "regional_average_monthly_wage"
MIN_WAGE = "common.economy.minimum_wage_monthly"
NATIONAL_INCOME = "common.economy.per_capita_disposable_income_prev_year_urban"


@register
class WorkInjury(Program):
    id = "work_injury"
    title = "Work-related injury insurance benefits"
    title_zh = "工伤保险待遇"
    info = ProgramInfo(Tier.INSURANCE, "insurance.work_injury", concerns=("work_injury_event",))
    period = "month"
    legal_basis = (
        "工伤保险条例 (2003, revised 2010) arts 33-39, 64",
        "社会保险法 arts 33-39",
        "人社部发〔2015〕71号 (rate classes) [M]",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        event = pop.p("work_injury_event")
        injured = event == EVENTS.index("injured")
        dead = event == EVENTS.index("death")
        grade = pop.p("work_injury_disability_grade").astype(np.int64)
        graded = injured & (grade >= 1)
        t.step("injured", "Recognised work injury with a disability grade", graded, kind="bool")
        t.step("died", "Died from a recognised work injury", dead, kind="bool")

        affected = graded | dead
        average = p.fen(AVG) if affected.any() else 0
        own_wage = self._own_wage(pop, p, t, affected, average)

        months = p.table(P + "disability.lump_sum_months") if graded.any() else {}
        lump_sum = self._by_grade(own_wage, grade, graded, months, p, months=True)
        lump_sum = self.round_amount(lump_sum, p)
        if graded.any():
            t.step(
                "lump_sum_disability",
                "One-off disability subsidy (fund)",
                lump_sum,
                formula="months by grade × own wage",
                params=[P + "disability.lump_sum_months"],
            )
        fund_allowance, employer_allowance = self._allowances(pop, p, t, own_wage, grade, graded)
        nursing = self._nursing(pop, p, t, graded, average)
        medical_subsidy, employment_subsidy = self._leaving_subsidies(
            pop, p, t, own_wage, grade, graded
        )
        funeral, death_subsidy = self._death_lump_sums(pop, p, t, dead, grade, average)
        survivors = self._survivors(pop, p, t, own_wage, dead)

        person_amount = (fund_allowance + employer_allowance + nursing + survivors).astype(np.int64)
        contribution = self._contribution(pop, p, t)
        amount = pop.sum_h(person_amount)
        eligible: BoolArray = pop.any_h(affected | (survivors > 0))
        t.step(
            "amount",
            "Paid every month (allowances, nursing, survivors' pensions)",
            amount,
            formula="fund allowance + employer allowance + nursing + survivors' pensions",
        )
        fund_lump = pop.sum_h(lump_sum + medical_subsidy) + funeral + death_subsidy
        employer_lump = pop.sum_h(employment_subsidy)
        t.step("lump_sums_fund", "One-off payments by the fund", fund_lump)
        t.step("lump_sums_employer", "One-off payments by the employer", employer_lump)
        outputs: dict[str, np.ndarray] = {
            "own_wage": pop.max_h(own_wage),
            "monthly_allowance_fund": pop.sum_h(fund_allowance),
            "monthly_allowance_employer": pop.sum_h(employer_allowance),
            "nursing_allowance": pop.sum_h(nursing),
            "survivors_pension": pop.sum_h(survivors),
            "monthly_paid_by_fund": pop.sum_h(fund_allowance + nursing + survivors),
            "monthly_paid_by_employer": pop.sum_h(employer_allowance),
            "lump_sum_disability": pop.sum_h(lump_sum),
            "one_off_medical_subsidy": pop.sum_h(medical_subsidy),
            "one_off_employment_subsidy": pop.sum_h(employment_subsidy),
            "funeral_subsidy": funeral,
            "death_subsidy": death_subsidy,
            "lump_sums_paid_by_fund": fund_lump,
            "lump_sums_paid_by_employer": employer_lump,
            "employer_contribution": contribution,
        }
        return ProgramResult(eligible, amount, outputs, person_amount)

    # -- own wage (art. 64) ------------------------------------------------------------------

    def _own_wage(
        self, pop: Population, p: Params, t: Trace, affected: BoolArray, average: int
    ) -> IntArray:
        own = np.zeros(pop.n_persons, dtype=np.int64)
        if not affected.any():
            return own
        floor = int(self.times(average, p.ratio(P + "own_wage_floor_ratio"), p))
        cap = int(self.times(average, p.ratio(P + "own_wage_cap_ratio"), p))
        t.step(
            "own_wage_band",
            "Own-wage band (60 %-300 % of the regional average monthly wage)",
            f"{floor / 100:.2f}-{cap / 100:.2f}",
            kind="text",
            params=[AVG, P + "own_wage_floor_ratio", P + "own_wage_cap_ratio"],
        )
        wage = pop.p("work_injury_wage_avg_12m")
        own = np.where(affected, np.clip(wage, floor, cap), 0).astype(np.int64)
        t.step(
            "own_wage",
            "Own wage (本人工资)",
            own,
            formula="average monthly contribution wage of the last 12 months, within the band",
            params=[AVG, P + "own_wage_floor_ratio", P + "own_wage_cap_ratio"],
        )
        return own

    def _by_grade(
        self,
        base: IntArray,
        grade: IntArray,
        mask: BoolArray,
        table: dict[str, object],
        p: Params,
        *,
        months: bool = False,
    ) -> IntArray:
        """``base`` × the table's entry for each person's grade (0 where no entry or not in mask)."""
        out = np.zeros(len(base), dtype=np.int64)
        for key, factor in table.items():
            rows = mask & (grade == int(key))
            if rows.any():
                if months:
                    out[rows] = base[rows] * int(str(factor))
                else:
                    out[rows] = np.asarray(self.times(base[rows], Decimal(str(factor)), p))
        return out

    # -- monthly disability allowance (arts 35, 36) -------------------------------------------

    def _allowances(
        self,
        pop: Population,
        p: Params,
        t: Trace,
        own_wage: IntArray,
        grade: IntArray,
        graded: BoolArray,
    ) -> tuple[IntArray, IntArray]:
        fund_table = p.table(P + "disability.allowance_ratio_fund") if graded.any() else {}
        employer_table = p.table(P + "disability.allowance_ratio_employer") if graded.any() else {}
        fund_grades = among(grade, [int(k) for k in fund_table]) & graded
        employer_grades = among(grade, [int(k) for k in employer_table]) & graded
        no_job = ~pop.p("work_injury_job_arranged") & ~pop.p("work_injury_employment_ended")
        employer_due = employer_grades & no_job
        fund_base = self._by_grade(own_wage, grade, fund_grades, fund_table, p)
        employer_base = self._by_grade(own_wage, grade, employer_due, employer_table, p)
        fund = np.zeros(pop.n_persons, dtype=np.int64)
        employer = np.zeros(pop.n_persons, dtype=np.int64)
        if fund_grades.any() or employer_due.any():
            minimum = p.fen(MIN_WAGE)
            fund = np.where(fund_grades, np.maximum(fund_base, minimum), 0).astype(np.int64)
            employer = np.where(employer_due, np.maximum(employer_base, minimum), 0).astype(
                np.int64
            )
            t.step(
                "allowance",
                "Monthly disability allowance before retirement (topped up to the minimum wage)",
                lambda: fund + employer,
                formula="max(ratio by grade × own wage, minimum wage); grades 1-4 fund, 5-6 "
                "employer and only if no suitable work is arranged",
                params=[
                    P + "disability.allowance_ratio_fund",
                    P + "disability.allowance_ratio_employer",
                    MIN_WAGE,
                ],
            )
            retired = fund_grades & pop.p("work_injury_retired")
            if retired.any():
                top_up = np.maximum(fund - pop.p("pension_income"), 0)
                fund = np.where(retired, top_up, fund).astype(np.int64)
                t.step(
                    "retired_top_up",
                    "Grades 1-4 after retirement: the fund tops the basic pension up to the allowance",
                    lambda: np.where(retired, top_up, 0),
                    formula="max(allowance − basic pension, 0)",
                )
        return self.round_amount(fund, p), self.round_amount(employer, p)

    # -- nursing allowance (art. 34) ---------------------------------------------------------

    def _nursing(
        self, pop: Population, p: Params, t: Trace, graded: BoolArray, average: int
    ) -> IntArray:
        degree = pop.p("work_injury_nursing")
        needs = graded & (degree != 0)
        out = np.zeros(pop.n_persons, dtype=np.int64)
        if not needs.any():
            return out
        table = p.table(P + "nursing_ratio")
        for code, name in enumerate(NURSING[1:], start=1):
            rows = needs & (degree == code)
            if rows.any():
                out[rows] = int(self.times(average, Decimal(str(table[name])), p))
        out = self.round_amount(out, p)
        t.step(
            "nursing_allowance",
            "Nursing allowance (fund)",
            out,
            formula="ratio by degree × regional average monthly wage",
            params=[P + "nursing_ratio", AVG],
        )
        return out

    # -- grades 5-10 leaving employment (arts 36, 37) -------------------------------------------

    def _leaving_subsidies(
        self,
        pop: Population,
        p: Params,
        t: Trace,
        own_wage: IntArray,
        grade: IntArray,
        graded: BoolArray,
    ) -> tuple[IntArray, IntArray]:
        fund_grades = (
            [int(k) for k in p.table(P + "disability.allowance_ratio_fund")] if graded.any() else []
        )
        leaving = graded & ~among(grade, fund_grades) & pop.p("work_injury_employment_ended")
        zero = np.zeros(pop.n_persons, dtype=np.int64)
        if not leaving.any():
            return zero, zero
        medical_table = p.table(P + "disability.one_off_medical_subsidy_months")
        employment_table = p.table(P + "disability.one_off_employment_subsidy_months")
        medical = self.round_amount(
            self._by_grade(own_wage, grade, leaving, medical_table, p, months=True), p
        )
        employment = self.round_amount(
            self._by_grade(own_wage, grade, leaving, employment_table, p, months=True), p
        )
        t.step(
            "one_off_medical_subsidy",
            "One-off work-injury medical subsidy on leaving employment (fund)",
            medical,
            formula="provincial months by grade × own wage",
            params=[P + "disability.one_off_medical_subsidy_months"],
        )
        t.step(
            "one_off_employment_subsidy",
            "One-off disability employment subsidy on leaving employment (employer)",
            employment,
            formula="provincial months by grade × own wage",
            params=[P + "disability.one_off_employment_subsidy_months"],
        )
        return medical, employment

    # -- death (art. 39) ---------------------------------------------------------------------

    def _death_lump_sums(
        self, pop: Population, p: Params, t: Trace, dead: BoolArray, grade: IntArray, average: int
    ) -> tuple[IntArray, IntArray]:
        funeral = np.zeros(pop.n_households, dtype=np.int64)
        subsidy = np.zeros(pop.n_households, dtype=np.int64)
        if not dead.any():
            return funeral, subsidy
        per_death = average * p.int(P + "death.funeral_months")
        funeral = pop.count_h(dead) * per_death
        t.step(
            "funeral_subsidy",
            "Funeral subsidy (fund)",
            funeral,
            formula="months × regional average monthly wage, per death",
            params=[P + "death.funeral_months", AVG],
        )
        # Art. 39 last para.: a grade 1-4 disabled worker who dies after the paid-leave period
        # leaves the funeral subsidy and survivors' pensions, not the one-off death subsidy.
        fund_grades = [int(k) for k in p.table(P + "disability.allowance_ratio_fund")]
        full = dead & ~among(grade, fund_grades)
        if full.any():
            # The law takes the national figure, whatever the region sets locally.
            income = int(p.national(NATIONAL_INCOME).value)
            multiple = p.int(P + "death.one_off_subsidy_multiple")
            subsidy = pop.count_h(full) * (income * multiple)
            t.step(
                "national_urban_income",
                "Previous-year national urban per-capita disposable income (national figure)",
                income,
                params=[NATIONAL_INCOME],
            )
        t.step(
            "death_subsidy",
            "One-off work-related death subsidy (fund); not for a grade 1-4 worker dying after "
            "the paid-leave period",
            subsidy,
            formula="multiple × previous-year national urban per-capita disposable income",
            params=[P + "death.one_off_subsidy_multiple", NATIONAL_INCOME],
        )
        return funeral, subsidy

    def _survivors(
        self, pop: Population, p: Params, t: Trace, own_wage: IntArray, dead: BoolArray
    ) -> IntArray:
        out = np.zeros(pop.n_persons, dtype=np.int64)
        role = pop.p("work_injury_survivor")
        has_death = pop.any_h(dead)
        survivor = (role != 0) & ~dead & pop.to_p(has_death)
        if not survivor.any():
            return out
        # Every survivor is a dependant of the household's deceased worker(s); with more than one
        # deceased member the base is the sum of their own wages (see the program page).
        base_h = pop.sum_h(np.where(dead, own_wage, 0))
        base = pop.to_p(base_h)
        lone = pop.p("work_injury_survivor_lone")
        extra = p.ratio(P + "death.survivor_extra_lone")
        for code, name in ((1, "spouse"), (2, "other")):
            ratio = p.ratio(P + f"death.survivor_ratio_{name}")
            for is_lone, r in ((False, ratio), (True, ratio + extra)):
                rows = survivor & (role == code) & (lone == is_lone)
                if rows.any():
                    out[rows] = np.asarray(self.times(base[rows], r, p), dtype=np.int64)
        t.step(
            "survivors_uncapped",
            "Survivors' pensions before the cap",
            out,
            formula="spouse 40 %, each other dependant 30 %, +10 % widowed elderly or orphan, "
            "× own wage of the deceased",
            params=[
                P + "death.survivor_ratio_spouse",
                P + "death.survivor_ratio_other",
                P + "death.survivor_extra_lone",
            ],
        )
        cap_h = np.asarray(self.times(base_h, p.ratio(P + "death.survivors_cap_ratio"), p))
        total_h = pop.sum_h(out)
        over = total_h > cap_h
        if over.any():
            out = self._share_cap(pop, out, total_h, cap_h, over)
        t.step(
            "survivors_pension",
            "Survivors' pensions (fund), together not above the deceased's own wage",
            out,
            formula="if the total exceeds the cap, every pension is reduced pro rata "
            "(largest remainder to the fen)",
            params=[P + "death.survivors_cap_ratio"],
        )
        return self.round_amount(out, p)

    @staticmethod
    def _share_cap(
        pop: Population, pension: IntArray, total_h: IntArray, cap_h: IntArray, over: BoolArray
    ) -> IntArray:
        """Scale the pensions of households over the cap so they add up to the cap exactly."""
        total = pop.to_p(np.where(over, total_h, 1))
        cap = pop.to_p(cap_h)
        capped = pop.to_p(over)
        scaled = pension * cap // total
        remainder = pension * cap % total
        short_h = np.where(over, cap_h - pop.sum_h(np.where(capped, scaled, 0)), 0)
        idx = np.arange(pop.n_persons, dtype=np.int64)
        order = np.lexsort((idx, -np.where(pension > 0, remainder, -1), pop.household_of))
        rank = np.empty(pop.n_persons, dtype=np.int64)
        rank[order] = idx - pop.starts[pop.household_of[order]]
        bonus = (rank < pop.to_p(short_h)) & (pension > 0)
        return np.where(capped, scaled + bonus, pension).astype(np.int64)

    # -- contributions -----------------------------------------------------------------------

    def _contribution(self, pop: Population, p: Params, t: Trace) -> IntArray:
        cls = pop.p("work_injury_rate_class").astype(np.int64)
        insured = cls >= 1
        out = np.zeros(pop.n_persons, dtype=np.int64)
        if not insured.any():
            return pop.sum_h(out)
        table = p.table(P + "contribution_rate_by_class")
        wage = pop.p("wage_income")
        for key, rate in table.items():
            rows = insured & (cls == int(key))
            if rows.any():
                out[rows] = np.asarray(
                    self.times(wage[rows], Decimal(str(rate)), p), dtype=np.int64
                )
        t.step(
            "employer_contribution",
            "Employer's monthly contribution (employees pay nothing)",
            out,
            formula="monthly wage × benchmark rate of the employer's industry class",
            params=[P + "contribution_rate_by_class"],
        )
        return pop.sum_h(out)
