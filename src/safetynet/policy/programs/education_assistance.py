"""Education assistance (教育救助): yearly help for dibao and tekun members in education and for
disabled children unable to attend school (Interim Measures arts 33-36). See
docs/programs/education_assistance.md."""

from __future__ import annotations

import numpy as np

from safetynet.policy.common import is_family_member
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
from safetynet.policy.population import FIELDS, IntArray, Kind, Population, among, person_field

STAGES = (
    "none",
    "preschool",
    "primary",
    "junior_secondary",
    "senior_high",
    "secondary_vocational",
    "higher_education",
)
person_field(
    "education_stage",
    Kind.ENUM,
    "Stage of education the person is enrolled in now (higher_education = junior college or "
    "undergraduate; none if not in education).",
    default="none",
    choices=STAGES,
)
person_field(
    "education_is_boarding",
    Kind.BOOL,
    "Boards at school (for the boarding living subsidy in compulsory education).",
    default=False,
)
person_field(
    "education_disabled_out_of_school",
    Kind.BOOL,
    "A disabled child who cannot attend school for compulsory education (e.g. taught at home).",
    default=False,
)

P = "assistance.education_assistance."
DISABLED_KEY = "disabled_out_of_school"


def _code(stage: str) -> int:
    return FIELDS.get("education_stage").code(stage)


@register
class EducationAssistance(Program):
    id = "education_assistance"
    title = "Education assistance"
    title_zh = "教育救助"
    info = ProgramInfo(
        Tier.ASSISTANCE,
        "assistance.education_assistance",
        department=Department.EDUCATION,
        concerns=("is_dibao_recipient", "is_tekun_recipient", "education_disabled_out_of_school"),
    )
    period = "year"
    legal_basis = (
        "社会救助暂行办法 arts 33-36",
        "关于改革完善社会救助制度的意见 (2020) item 9",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        stage = pop.p("education_stage")
        member = is_family_member(pop)
        assisted = member & (pop.to_p(pop.h("is_dibao_recipient")) | pop.p("is_tekun_recipient"))
        t.step("assisted_member", "Member of a dibao household or tekun", assisted, kind="bool")
        compulsory = (stage == _code("primary")) | (stage == _code("junior_secondary"))
        beyond = among(
            stage,
            [_code(s) for s in ("senior_high", "secondary_vocational", "higher_education")],
        )
        preschool = stage == _code("preschool")
        if (assisted & preschool).any():
            preschool &= p.flag(P + "preschool_covered")
        mandatory = assisted & compulsory
        appropriate = assisted & (beyond | preschool)
        disabled_child = (
            pop.p("education_disabled_out_of_school")
            & (pop.p("disability_grade") > 0)
            & (stage == _code("none"))
        )
        if disabled_child.any():
            disabled_child &= pop.age(p.on) < p.int(P + "child_age_limit")
        covered = mandatory | appropriate | disabled_child
        t.step(
            "mandatory_student",
            "Covered by right: dibao or tekun member in compulsory education",
            mandatory,
            kind="bool",
        )
        t.step(
            "appropriate_student",
            "Covered as 'appropriate' help: preschool, senior high, vocational or higher education",
            appropriate,
            kind="bool",
            params=[P + "preschool_covered"]
            if (assisted & (stage == _code("preschool"))).any()
            else [],
        )
        t.step(
            "disabled_out_of_school",
            "Disabled child unable to attend school",
            disabled_child,
            kind="bool",
            params=[P + "child_age_limit"] if disabled_child.any() else [],
        )
        amount = np.zeros(pop.n_persons, dtype=np.int64)
        if covered.any():
            amount = self._amounts(pop, p, t, stage, covered, disabled_child)
        household_amount = self.round_amount(pop.sum_h(amount), p)
        eligible = pop.any_h(covered)
        t.step("eligible", "A member is covered", eligible, kind="bool")
        t.step("amount", "Education assistance for the year", household_amount)
        return ProgramResult(
            eligible=eligible,
            amount=household_amount,
            outputs={
                "mandatory_students": pop.count_h(mandatory),
                "appropriate_students": pop.count_h(appropriate),
                "disabled_out_of_school": pop.count_h(disabled_child),
            },
            person_amount=amount,
        )

    def _amounts(
        self,
        pop: Population,
        p: Params,
        t: Trace,
        stage: np.ndarray,
        covered: np.ndarray,
        disabled_child: np.ndarray,
    ) -> IntArray:
        table = p.table(P + "amount_by_stage")
        keys = [int(table.get(s, 0)) for s in STAGES]
        local = np.asarray(keys, dtype=np.int64)[stage.astype(np.int64)]
        local = np.where(disabled_child, int(table.get(DISABLED_KEY, 0)), local)
        local = np.where(covered, local, 0)
        t.step(
            "provincial_amount",
            "Province-set amount for the stage",
            local,
            params=[P + "amount_by_stage"],
        )
        boarding = covered & pop.p("education_is_boarding") & ~disabled_child
        boarding_amount = np.zeros(pop.n_persons, dtype=np.int64)
        names = []
        if (boarding & among(stage, (_code("primary"), _code("junior_secondary")))).any():
            sub = p.table(P + "boarding_living_subsidy")
            names.append(P + "boarding_living_subsidy")
            for key in ("primary", "junior_secondary"):
                boarding_amount = np.where(
                    boarding & (stage == _code(key)), int(sub.get(key, 0)), boarding_amount
                )
        higher = covered & (stage == _code("higher_education"))
        grant = np.zeros(pop.n_persons, dtype=np.int64)
        if higher.any():
            grant = np.where(higher, p.fen(P + "national_grant_higher_education"), 0)
            names.append(P + "national_grant_higher_education")
        t.step(
            "national_components",
            "National components: boarding living subsidy (compulsory) and national grant (higher)",
            lambda: boarding_amount + grant,
            params=names,
        )
        total: IntArray = (local + boarding_amount + grant).astype(np.int64)
        t.step("student_amount", "Amount per covered member for the year", total)
        return total
