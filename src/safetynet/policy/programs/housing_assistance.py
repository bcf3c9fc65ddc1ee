"""Housing assistance (住房救助) for dibao households and decentralised tekun in housing difficulty:
rent subsidy, and priority for public rental housing or rural dilapidated-house renovation
(Interim Measures arts 37-41). See docs/programs/housing_assistance.md."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from safetynet.policy.common import is_family_member, is_urban
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
from safetynet.policy.population import FIELDS, Kind, Population, household_field
from safetynet.policy.programs import shared_facts

household_field(
    "housing_floor_area_per_person",
    Kind.INT,
    "Floor area of the home the household lives in, per person, in whole square metres "
    "(0 if it has no home of its own and does not rent).",
    default=0,
)
household_field(
    "housing_tenure",
    Kind.ENUM,
    "How the household is housed: owns its home, rents on the market, lives in public rental "
    "housing, or other (lodging with relatives, no fixed home).",
    default="owns",
    choices=("owns", "rents", "public_rental", "other"),
)
household_field(
    "housing_is_dilapidated",
    Kind.BOOL,
    "The home the household owns is assessed as dilapidated (危房, grade C or D).",
    default=False,
)

P = "assistance.housing_assistance."


@register
class HousingAssistance(Program):
    id = "housing_assistance"
    title = "Housing assistance"
    title_zh = "住房救助"
    info = ProgramInfo(
        Tier.ASSISTANCE,
        "assistance.housing_assistance",
        department=Department.HOUSING,
        concerns=("is_dibao_recipient", "is_tekun_recipient"),
    )
    period = "month"
    pays_persons = False
    legal_basis = (
        "社会救助暂行办法 arts 37-41",
        "关于改革完善社会救助制度的意见 (2020)",
    )

    def compute(self, pop: Population, p: Params, t: Trace) -> ProgramResult:
        member = is_family_member(pop)
        n = shared_facts.family_members(pop, p, t)
        decentral_tekun = pop.any_h(
            member & pop.p("is_tekun_recipient") & ~pop.p("lives_in_institution")
        )
        dibao = pop.h("is_dibao_recipient")
        covered = dibao | decentral_tekun
        t.step(
            "covered_household",
            "Dibao household or decentralised (home-based) tekun",
            covered,
            kind="bool",
        )
        tenure_f = FIELDS.get("housing_tenure")
        tenure = pop.h("housing_tenure")
        area = pop.h("housing_floor_area_per_person").astype(np.int64)
        dilapidated = pop.h("housing_is_dilapidated") & (tenure == tenure_f.code("owns"))
        zero = np.zeros(pop.n_households, dtype=np.int64)
        small = np.zeros(pop.n_households, dtype=bool)
        guaranteed = 0
        if covered.any():  # the local standards are needed only for a covered household
            guaranteed = p.int(P + "guaranteed_area_per_person")
            small = area < guaranteed
        difficulty = covered & (small | dilapidated)
        t.step(
            "housing_difficulty",
            "In housing difficulty: per-capita area below the guaranteed area, or a dilapidated home",
            difficulty,
            kind="bool",
            formula=f"per-capita area < {guaranteed} m² or dilapidated",
            params=[P + "guaranteed_area_per_person"] if covered.any() else [],
        )
        renting = (tenure == tenure_f.code("rents")) | (tenure == tenure_f.code("other"))
        gets_rent = difficulty & renting & small
        subsidy = zero
        if gets_rent.any():
            rent = p.fen(P + "benchmark_rent_monthly")
            coefficients = p.table(P + "coefficient_by_class")
            gap = np.maximum(guaranteed - area, 0) * n
            base = rent * gap
            tekun_ratio = Decimal(coefficients.get("tekun", 0))
            dibao_ratio = Decimal(coefficients.get("dibao", 0))
            subsidy = np.where(
                decentral_tekun, self.times(base, tekun_ratio, p), self.times(base, dibao_ratio, p)
            )
            subsidy = self.round_amount(np.where(gets_rent, subsidy, 0).astype(np.int64), p)
            t.step(
                "rent_subsidy",
                "Monthly rent subsidy",
                subsidy,
                formula="benchmark rent per m² × (guaranteed − existing area per person) × members "
                "× coefficient (tekun or dibao)",
                params=[P + "benchmark_rent_monthly", P + "coefficient_by_class"],
            )
        urban = is_urban(pop)
        public_rental = difficulty & urban & (tenure != tenure_f.code("public_rental"))
        renovation = difficulty & ~urban & dilapidated
        t.step(
            "public_rental_priority",
            "Urban household to be offered public rental housing",
            public_rental,
            kind="bool",
        )
        t.step(
            "renovation_priority",
            "Rural household with priority for dilapidated-house renovation",
            renovation,
            kind="bool",
        )
        t.step("eligible", "Covered household in housing difficulty", difficulty, kind="bool")
        return ProgramResult(
            eligible=difficulty,
            amount=subsidy,
            outputs={
                "members": n.copy(),
                "in_housing_difficulty": difficulty,
                "rent_subsidy": subsidy,
                "public_rental_priority": public_rental,
                "renovation_priority": renovation,
            },
        )
