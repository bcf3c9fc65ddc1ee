"""Support for the extremely poor (特困人员救助供养, tekun): the three criteria of the 2021
identification measures, the self-care assessment, the basic living standard (never below the
multiple of the dibao standard) and the care standard by self-care tier. See docs/programs/tekun.md.

Tekun is decided person by person: a household's amount is the sum of its members' amounts, and
``person_amount`` says who is paid what.
"""

from __future__ import annotations

import numpy as np

from safetynet.errors import CoverageError, InputError
from safetynet.policy.common import assets_within_limits, dibao_standard, is_family_member, is_urban
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
from safetynet.policy.parameters import NATION
from safetynet.policy.population import (
    FIELDS,
    BoolArray,
    IntArray,
    Kind,
    Population,
    person_field,
)
from safetynet.policy.programs import shared_facts
from safetynet.policy.programs.dibao import counted_income_per_person
from safetynet.policy.programs.subjects import Subjects

# Art. 8 of the 2021 measures: the situation of the person's statutory supporter(s)
# (赡养、抚养、扶养义务人). "none" = no statutory supporter at all; "able" = a supporter able to
# support. Every other value is one of the art. 8 cases; which of them count as "unable" is the
# parameter folder assistance.tekun.supporter_unable.
SUPPORTER_STATUSES = (
    "able",
    "none",
    "tekun",
    "dibao_aged_60_plus",
    "aged_70_plus_low_income",
    "severely_disabled_low_income",
    "no_civil_capacity",
    "declared_missing",
    "imprisoned",
    "province_other",
)
UNABLE_STATUSES = SUPPORTER_STATUSES[2:]
CARE_TIERS = ("capable", "partially_lost", "fully_lost")
NO_LABOUR_DISABILITY = ("intellectual", "mental", "physical", "visual")

person_field(
    "tekun_supporter_status",
    Kind.ENUM,
    "Situation of the person's statutory supporters (2021 tekun measures art. 8): 'none' (no "
    "supporter), 'able' (someone able to support), or the case that makes every supporter unable: "
    "tekun, dibao_aged_60_plus, aged_70_plus_low_income, severely_disabled_low_income (with the "
    "income and asset test of art. 8), no_civil_capacity, declared_missing, imprisoned, "
    "province_other.",
    default="able",
    choices=SUPPORTER_STATUSES,
)
person_field(
    "tekun_other_no_labour_capacity",
    Kind.BOOL,
    "Has no labour capacity under another case set by the province (2021 tekun measures art. 5(4)).",
    default=False,
)
person_field(
    "tekun_selfcare_items_failed",
    Kind.INT,
    "How many of the six self-care items (eating, dressing, getting in and out of bed, toileting, "
    "walking indoors, bathing) the person cannot do on their own (2021 tekun measures arts 21-22).",
    default=0,
    maximum=6,
)
person_field(
    "tekun_chose_child_allowance",
    Kind.BOOL,
    "A minor who also qualifies as an orphan or de-facto-unsupported child and has chosen that "
    "allowance instead (2021 tekun measures art. 9).",
    default=False,
)
person_field(
    "tekun_has_contracted_land",
    Kind.BOOL,
    "Holds contracted rural land or shares in the village collective's income (2021 tekun "
    "measures art. 19: the rural standard applies).",
    default=False,
)
person_field(
    "tekun_relocated_to_town",
    Kind.BOOL,
    "Moved to a town under poverty-alleviation relocation (易地扶贫搬迁; the urban standard applies).",
    default=False,
)
person_field(
    "tekun_in_secondary_education",
    Kind.BOOL,
    "In compulsory education, an ordinary senior high school or a secondary vocational school "
    "(a tekun minor keeps support beyond the age limit while studying, 2021 measures art. 24).",
    default=False,
)
person_field(
    "tekun_exempt_income",
    Kind.MONEY,
    "Income per month that tekun leaves out but that is NOT already in 'excluded_income': the "
    "advanced-age allowance and social-insurance benefits such as medical reimbursements "
    "(2021 tekun measures art. 6). Enter it here only, not in the other income fields.",
    default="0",
    unit="yuan/month",
)

P = "assistance.tekun."


def optional_fen(p: Params, name: str) -> int | None:
    """A money parameter that a locality may leave unset: None when no level has ever set it.

    A region that once set it and then cut its coverage off (a ``null`` entry) still fails: its
    figure is known to be out of date, and using the national floor instead would hide that.
    """
    try:
        return p.fen(name)
    except CoverageError:
        if any(p.tree.history(name, level) for level in p.lineage if level != NATION):
            raise
        return None


def _by_area(
    rural: BoolArray, urban_value: int | None, rural_value: int | None
) -> tuple[IntArray, BoolArray]:
    """Per person: the urban or the rural value, and whether that value is set."""
    urban_set = urban_value is not None
    rural_set = rural_value is not None
    values = np.where(rural, rural_value or 0, urban_value or 0).astype(np.int64, copy=False)
    is_set = np.where(rural, rural_set, urban_set).astype(np.bool_, copy=False)
    return values, is_set


@register
class Tekun(Program):
    id = "tekun"
    title = "Support for the extremely poor"
    title_zh = "特困人员救助供养"
    info = ProgramInfo(
        Tier.ASSISTANCE,
        "assistance.tekun",
        department=Department.CIVIL_AFFAIRS,
        procedure=Procedure.TEKUN,
        caseload=True,
        monitored=True,
        recipients="is_tekun_recipient",
    )
    period = "month"
    legal_basis = (
        "社会救助暂行办法 arts 14-19",
        "国务院关于进一步健全特困人员救助供养制度的意见 (国发〔2016〕14号)",
        "特困人员认定办法 (MCA, 2021)",
        "关于改革完善社会救助制度的意见 (2020) item 5",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        member = is_family_member(pop)
        age = shared_facts.age(pop, p, t)
        rural = self._rural_standard_applies(pop, t)

        no_labour = self._no_labour_capacity(pop, p, t, age)
        dibao_std = self._dibao_standard(p, t, rural)
        no_livelihood = self._no_livelihood(pop, p, t, dibao_std)
        no_supporter = self._no_able_supporter(pop, p, t)
        chose_child = pop.p("tekun_chose_child_allowance") & (age < p.int(P + "minor_age_limit"))
        t.step(
            "chose_child_allowance",
            "Minor who chose the orphan / unsupported-child allowance instead (not tekun)",
            chose_child,
            kind="bool",
            params=[P + "minor_age_limit"],
        )
        eligible = member & no_labour & no_livelihood & no_supporter & ~chose_child
        t.step(
            "eligible_person",
            "Meets all three criteria (no labour capacity, no livelihood, no able supporter)",
            eligible,
            kind="bool",
        )

        # Only eligible persons are paid: the standards are worked out on their rows alone
        # (``who.at``; every person when explained, whose steps show every member's standards).
        who = Subjects.of(pop, np.ones(pop.n_persons, np.bool_) if t.enabled else eligible)
        basic = self._basic_living(pop, p, t, dibao_std, rural, who.at)
        care, tier = self._care(pop, p, t, who.at)
        concentrated = pop.p("lives_in_institution")
        t.step(
            "concentrated",
            "Concentrated support in an institution (otherwise decentralised, at home)",
            concentrated,
            kind="bool",
        )
        paid = eligible[who.at]
        paid_amount = self.round_amount(np.where(paid, basic + care, 0).astype(np.int64), p)
        person_amount = who.spread(paid_amount)
        t.step(
            "person_amount",
            "Monthly tekun support per person",
            person_amount,
            formula="basic living standard + care standard",
        )
        amount = who.sum_h(paid_amount)
        eligible_h = who.any_h(paid)
        t.step("eligible", "Someone in the household is tekun", eligible_h, kind="bool")
        t.step("amount", "Monthly tekun support of the household", amount)
        institution = concentrated[who.at]
        return ProgramResult(
            eligible=eligible_h,
            amount=amount,
            outputs={
                "tekun_persons": who.sum_h(paid),
                "basic_living": who.sum_h(np.where(paid, basic, 0)),
                "care": who.sum_h(np.where(paid, care, 0)),
                "fully_lost_persons": who.sum_h(paid & (tier == 2)),
                "partially_lost_persons": who.sum_h(paid & (tier == 1)),
                "concentrated_persons": who.sum_h(paid & institution),
                "decentralised_persons": who.sum_h(paid & ~institution),
            },
            person_amount=person_amount,
        )

    # -- which standard: urban or rural (2021 measures art. 19) ----------------------------------

    @staticmethod
    def _rural_standard_applies(pop: Population, t: Trace) -> BoolArray:
        rural_hukou = ~pop.to_p(is_urban(pop))
        land = pop.p("tekun_has_contracted_land")
        relocated = pop.p("tekun_relocated_to_town")
        rural: BoolArray = (rural_hukou | land) & ~relocated
        t.step(
            "rural_standard",
            "The rural standard applies",
            rural,
            kind="bool",
            formula="(rural hukou or contracted land / collective share) and not relocated to a town",
        )
        return rural

    @staticmethod
    def _dibao_standard(p: Params, t: Trace, rural: BoolArray) -> IntArray:
        names = []
        urban_value = rural_value = None
        if (~rural).any():
            urban_value = p.fen("assistance.dibao.standard_monthly_urban")
            names.append("assistance.dibao.standard_monthly_urban")
        if rural.any():
            rural_value = p.fen("assistance.dibao.standard_monthly_rural")
            names.append("assistance.dibao.standard_monthly_rural")
        standard, _ = _by_area(rural, urban_value, rural_value)
        t.step("dibao_standard", "Local dibao standard per month", standard, params=names)
        return standard

    # -- criterion 1: no labour capacity (art. 5) ------------------------------------------------

    def _no_labour_capacity(self, pop: Population, p: Params, t: Trace, age: IntArray) -> BoolArray:
        elderly = age >= p.int(P + "elderly_age")
        minor_limit = p.int(P + "minor_age_limit")
        minor = age < minor_limit
        grade = pop.p("disability_grade")
        category = pop.p("disability_category")
        f = FIELDS.get("disability_category")
        disabled = np.zeros(pop.n_persons, dtype=np.bool_)
        # Only a person with a grade (≥ 1) can be disabled at a listed one: the categories are
        # compared for them alone (the others stay false, as over every person).
        graded = np.flatnonzero(grade >= 1)
        graded_grade, graded_category = grade[graded], category[graded]
        graded_disabled = np.zeros(len(graded), dtype=np.bool_)
        grade_params = []
        for cat in NO_LABOUR_DISABILITY:
            name = f"{P}no_labour_capacity_max_grade.{cat}"
            grade_params.append(name)
            graded_disabled |= (graded_category == f.code(cat)) & (graded_grade <= p.int(name))
        disabled[graded] = graded_disabled
        other = pop.p("tekun_other_no_labour_capacity")
        studying = (
            pop.p("is_tekun_recipient")
            & ~minor
            & pop.p("tekun_in_secondary_education")
            & p.flag(P + "continue_while_in_secondary_education")
        )
        no_labour: BoolArray = elderly | minor | disabled | other | studying
        t.step(
            "no_labour_capacity",
            "No labour capacity",
            no_labour,
            kind="bool",
            formula="aged 60+, or under the minor age limit, or disabled at the listed grades, or "
            "a province-set case, or a tekun minor past the limit still in secondary education",
            params=[
                P + "elderly_age",
                P + "minor_age_limit",
                *grade_params,
                P + "continue_while_in_secondary_education",
            ],
        )
        return no_labour

    # -- criterion 2: no source of livelihood (arts 6-7) -----------------------------------------

    def _no_livelihood(
        self,
        pop: Population,
        p: Params,
        t: Trace,
        dibao_std: IntArray,
    ) -> BoolArray:
        income = counted_income_per_person(pop, p, t)
        # The dibao rules may count the central resident pension; tekun never does (art. 6).
        dibao_excludes = p.flag("assistance.dibao.income_excluded.resident_pension_central")
        if p.flag(P + "income_excluded.resident_pension_central") and not dibao_excludes:
            income = income - pop.p("resident_pension_central")
        if not pop.is_unset_zero("tekun_exempt_income"):  # nothing to take off where nobody has any
            income = income - pop.p("tekun_exempt_income")
        t.step(
            "tekun_income",
            "Own counted income per month under the tekun rules",
            income,
            formula="dibao counted income without the central resident pension, the "
            "advanced-age allowance and social-insurance benefits",
            params=[
                P + "income_excluded.resident_pension_central",
                "assistance.dibao.income_excluded.resident_pension_central",
            ],
        )
        income_ok = income < dibao_std
        t.step(
            "income_below_standard",
            "Own income below the local dibao standard",
            income_ok,
            kind="bool",
        )
        assets_ok = pop.to_p(self._assets_ok(pop, p, t))
        no_livelihood: BoolArray = income_ok & assets_ok
        return no_livelihood

    def _assets_ok(self, pop: Population, p: Params, t: Trace) -> BoolArray:
        """Art. 7: property rules are set by the city; the person's share of household assets."""
        n = np.maximum(shared_facts.family_members(pop, p, t), 1)
        return assets_within_limits(
            pop,
            p,
            t,
            P + "assets.",
            dibao_standard(pop, p),
            n,
            "Property within the local tekun rules",
        )

    # -- criterion 3: no supporter, or none able to support (art. 8) -----------------------------

    @staticmethod
    def _no_able_supporter(pop: Population, p: Params, t: Trace) -> BoolArray:
        status = pop.p("tekun_supporter_status")
        f = FIELDS.get("tekun_supporter_status")
        ok: BoolArray = status == f.code("none")
        names = []
        for key in UNABLE_STATUSES:
            name = f"{P}supporter_unable.{key}"
            names.append(name)
            if p.flag(name):
                ok = ok | (status == f.code(key))
        t.step(
            "no_able_supporter",
            "No statutory supporter, or every supporter is unable to support",
            ok,
            kind="bool",
            params=names,
        )
        return ok

    # -- standards -------------------------------------------------------------------------------

    def _basic_living(
        self,
        pop: Population,
        p: Params,
        t: Trace,
        dibao_std: IntArray,
        rural: BoolArray,
        at: IntArray,
    ) -> IntArray:
        """The basic living standard of the persons of rows ``at``; the local values read are
        those some person of the population needs (the same whatever the rows)."""
        multiple = p.ratio(P + "basic_living_multiple")
        floor = self.times(dibao_std[at], multiple, p)
        t.step(
            "basic_living_floor",
            "Floor of the basic living standard",
            floor,
            formula=f"{multiple} × dibao standard",
            params=[P + "basic_living_multiple"],
        )
        need_urban, need_rural = bool((~rural).any()), bool(rural.any())
        names = []

        def local(suffix: str, wanted: bool) -> int | None:
            if not wanted:
                return None
            names.append(P + suffix)
            return optional_fen(p, P + suffix)

        home, home_set = _by_area(
            rural[at],
            local("basic_living_monthly_urban", need_urban),
            local("basic_living_monthly_rural", need_rural),
        )
        institution = pop.p("lives_in_institution")
        if institution.any():
            inst, inst_set = _by_area(
                rural[at],
                local(
                    "basic_living_monthly_concentrated_urban", bool((~rural & institution).any())
                ),
                local("basic_living_monthly_concentrated_rural", bool((rural & institution).any())),
            )
            use_inst = institution[at] & inst_set
            home = np.where(use_inst, inst, home)
            home_set = home_set | use_inst
        local_std = np.where(home_set, home, 0)
        t.step(
            "basic_living_local",
            "Local tekun basic living standard (0 where the locality sets none)",
            local_std,
            params=names,
        )
        basic: IntArray = np.maximum(local_std, floor).astype(np.int64)
        t.step(
            "basic_living",
            "Basic living standard",
            basic,
            formula="max(local standard, multiple × dibao standard)",
        )
        return basic

    def _care(
        self, pop: Population, p: Params, t: Trace, at: IntArray
    ) -> tuple[IntArray, IntArray]:
        """The self-care tier and the care standard of the persons of rows ``at``."""
        failed = pop.p("tekun_selfcare_items_failed")[at]
        partial_from = p.int(P + "selfcare.partially_lost_from")
        full_from = p.int(P + "selfcare.fully_lost_from")
        tier = np.where(failed >= full_from, 2, np.where(failed >= partial_from, 1, 0))
        t.step(
            "selfcare_tier",
            "Self-care tier (0 capable, 1 partially lost, 2 fully lost)",
            tier,
            kind="int",
            formula="items not achieved: 0 → capable, 1-3 → partially lost, 4-6 → fully lost",
            params=[P + "selfcare.partially_lost_from", P + "selfcare.fully_lost_from"],
        )
        name = P + "care_standard_monthly"
        table = p.table(name)
        missing = [k for k in CARE_TIERS if k not in table]
        if missing:
            raise InputError(
                name, f"the care table needs the keys {list(CARE_TIERS)}; missing {missing}"
            )
        rates = np.asarray([int(table[k]) for k in CARE_TIERS], dtype=np.int64)
        care: IntArray = rates[tier]
        t.step("care", "Care standard for the self-care tier", care, params=[name])
        return care, tier.astype(np.int64)
