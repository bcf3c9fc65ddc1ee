"""Where the snapshot takes each declared input field from: the one table of it (ADR 0010).

The registry keeps a fact once. What it holds natively (a person's birth date, a membership's
relation, income items by kind and month, assets, enrolments) is read from its own table; every
other program fact is a row of ``person_facts`` / ``household_facts`` with its source and date.
``SOURCES`` names, for every field a program declares (``policy.population.FIELDS``), one of:

- ``Native(table, column)``: a column of ``persons``, ``memberships`` or ``households``;
- ``FromIncome(kind)``: the person's income item of that kind (the latest month on or before
  the snapshot month);
- ``FromAssets(kinds, measure)``: the household's assets of those kinds, summed (value or count);
- ``FromEnrolment(program, measure)``: the household's enrolment in ``program`` covering the
  month's last day (a flag, or its monthly amount; a person's flag is every member's);
- ``FACT``: the facts table (the latest ``valid_from`` on or before the month's end).

A field no entry names is a test failure (tests/registry/test_fact_sources.py): a program that
declares a new input field decides here where the registry keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

__all__ = [
    "FACT",
    "SOURCES",
    "FromAssets",
    "FromEnrolment",
    "FromFacts",
    "FromIncome",
    "Native",
    "Source",
    "fact_fields",
]


@dataclass(frozen=True)
class Native:
    """A column of the registry's own tables (``persons``, ``memberships``, ``households``)."""

    table: Literal["persons", "memberships", "households"]
    column: str


@dataclass(frozen=True)
class FromIncome:
    kind: str  # registry.vocabulary.INCOME_KINDS


@dataclass(frozen=True)
class FromAssets:
    kinds: tuple[str, ...]  # registry.vocabulary.ASSET_KINDS
    measure: Literal["value_fen", "count"]


@dataclass(frozen=True)
class FromEnrolment:
    program: str
    measure: Literal["flag", "amount"]


@dataclass(frozen=True)
class FromFacts:
    """The facts table: ``person_facts`` or ``household_facts`` by the field's entity."""


Source = Native | FromIncome | FromAssets | FromEnrolment | FromFacts
FACT: Final = FromFacts()

_NATIVE: dict[str, Source] = {
    "birth_date": Native("persons", "birth_date"),
    "sex": Native("persons", "sex"),
    "relation": Native("memberships", "relation"),
    "disability_category": Native("persons", "disability_category"),
    "disability_grade": Native("persons", "disability_grade"),
    "has_serious_illness": Native("persons", "has_serious_illness"),
    # The six self-care items of the tekun assessment (生活自理能力): the import's 生活自理.
    "tekun_selfcare_items_failed": Native("persons", "self_care_items_failed"),
    # The schooling stage (在学); no schooling recorded is "none".
    "education_stage": Native("persons", "schooling"),
    # Employed or in flexible employment (就业 / 灵活就业) is in work.
    "is_employed": Native("persons", "employment"),
    "hukou_type": Native("households", "hukou_type"),
    "wage_income": FromIncome("wage"),
    "business_income": FromIncome("business"),
    "property_income": FromIncome("property"),
    "transfer_income": FromIncome("transfer"),
    "pension_income": FromIncome("pension"),
    "financial_assets": FromAssets(("deposits", "securities"), "value_fen"),
    "vehicles": FromAssets(("vehicle",), "count"),
    "homes": FromAssets(("property",), "count"),
    "is_dibao_recipient": FromEnrolment("dibao", "flag"),
    "dibao_current_amount": FromEnrolment("dibao", "amount"),
    "is_tekun_recipient": FromEnrolment("tekun", "flag"),
}

_FACT_FIELDS: tuple[str, ...] = (
    # persons
    "excluded_reason", "advanced_age_local_hukou", "childcare_lawful_birth",
    "resident_pension_central", "support_paid_out", "social_insurance_paid",
    "medical_rigid_spending", "excluded_income", "receives_disability_living_subsidy",
    "receives_unemployment_benefit", "is_special_care_recipient", "lives_in_institution",
    "refused_job_offers", "is_clergy_in_venue", "disability_tekun_care_received",
    "disability_work_injury_nursing_received", "disaster_displaced", "education_is_boarding",
    "education_disabled_out_of_school", "medical_in_policy_cost", "medical_hospital_level",
    "medical_scheme", "medical_illness_impoverished", "medical_basic_paid_ytd",
    "medical_critical_illness_paid_ytd", "medical_assistance_paid_ytd",
    "medical_critical_illness_cost_ytd", "medical_assistance_cost_ytd", "medical_insured",
    "employee_medical_retired", "employee_medical_wage", "medical_outpatient_cost",
    "medical_outpatient_cost_ytd", "medical_outpatient_paid_ytd", "employee_pension_insured",
    "pension_category", "employee_pension_contribution_months", "employee_pension_deemed_months",
    "retirement_flexible_months", "retirement_employer_consents",
    "employee_pension_contributor_type", "employee_pension_wage", "employee_pension_average_index",
    "employee_pension_account_balance", "employee_pension_deemed_index",
    "employee_pension_retirement_age_months", "employee_pension_awarded_monthly",
    "employment_unable_to_work", "ltc_disability_level", "ltc_care_setting", "ltc_eligible_cost",
    "ltc_wage_base", "child_father_status", "child_father_status_months", "child_mother_status",
    "child_mother_status_months", "child_dibao_received", "child_tekun_received",
    "child_disability_living_subsidy_received", "unemployment_subsidy_recipient",
    "orphan_allowance_recipient", "unsupported_child_allowance_recipient",
    "hiv_child_allowance_recipient", "resident_pension_insured",
    "resident_pension_contribution_years", "resident_pension_account_balance",
    "resident_pension_contribution_yearly", "resident_pension_grandfathered",
    "tekun_supporter_status", "tekun_other_no_labour_capacity", "tekun_chose_child_allowance",
    "tekun_has_contracted_land", "tekun_relocated_to_town", "tekun_in_secondary_education",
    "tekun_exempt_income", "unemployment_contribution_years", "unemployment_involuntary",
    "unemployment_registered", "unemployment_carried_over_months", "unemployment_months_drawn",
    "unemployment_stop_event", "work_injury_event", "work_injury_wage_avg_12m",
    "work_injury_disability_grade", "work_injury_nursing", "work_injury_job_arranged",
    "work_injury_employment_ended", "work_injury_retired", "work_injury_survivor",
    "work_injury_survivor_lone", "work_injury_rate_class",
    # Who draws a pension is the social-insurance agency's record of the person; the pension
    # enrolment is the household's (the roll pays it), so the flag is a person fact.
    "is_employee_pension_recipient", "is_resident_pension_recipient",
    # households
    "is_dibao_marginal_registered", "is_low_income_monitored", "months_since_income_rose",
    "income_rose_from_employment", "disaster_transition_days", "disaster_house_damage",
    "disaster_winter_spring_need", "housing_floor_area_per_person", "housing_tenure",
    "housing_is_dilapidated", "rigid_living_costs_12m", "rigid_medical_oop_12m",
    "rigid_education_12m", "rigid_rehabilitation_12m", "rigid_other_12m",
    "rigid_household_income_12m", "rigid_local_conditions_met", "temporary_assistance_type",
    "temporary_assistance_need",
)  # fmt: skip

SOURCES: Final = MappingProxyType(_NATIVE | dict.fromkeys(_FACT_FIELDS, FACT))
"""Declared field name → where the snapshot takes it from."""


def fact_fields() -> frozenset[str]:
    """The fields kept in the facts tables (an import may carry them as extra columns)."""
    return frozenset(name for name, source in SOURCES.items() if source is FACT)
