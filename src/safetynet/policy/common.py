"""Facts and figures several programs share: family membership, income, the local dibao standard."""

from __future__ import annotations

import numpy as np

from safetynet.policy.engine import Params, Trace
from safetynet.policy.population import (
    FIELDS,
    BoolArray,
    IntArray,
    Kind,
    Population,
    household_field,
    person_field,
)

# -- income items (monthly, yuan in JSON) -------------------------------------------------------
# 2021 dibao measures art. 13: wages, net business, net property and net transfer income count;
# the items in ``excluded_income`` never count, whatever the program.
for _name, _desc in (
    ("wage_income", "Wages and salaries per month, before the employment-cost deduction."),
    (
        "business_income",
        "Net business income per month (after costs, depreciation and production taxes).",
    ),
    (
        "property_income",
        "Net property income per month: interest, dividends, rent, land-contract transfer.",
    ),
    (
        "transfer_income",
        "Net transfer income per month: support from relatives, compensation, gifts.",
    ),
    ("pension_income", "Pensions and unemployment benefit received per month (counted)."),
    (
        "resident_pension_central",
        "The central basic pension of the residents' pension scheme received per month.",
    ),
    (
        "support_paid_out",
        "Support paid out to relatives outside the household per month (deducted).",
    ),
    (
        "social_insurance_paid",
        "Personal social-insurance contributions and taxes per month (deducted).",
    ),
    (
        "medical_rigid_spending",
        "Rigid extra spending per month caused by disability or serious illness.",
    ),
    (
        "excluded_income",
        "Income the law never counts, per month: special care (优抚), family-planning rewards, "
        "scholarships, bravery rewards, social-assistance benefits, the childcare subsidy.",
    ),
):
    person_field(_name, Kind.MONEY, _desc, default="0", unit="yuan/month")

person_field(
    "is_employed", Kind.BOOL, "Currently in work (employed or self-employed).", default=False
)

# -- assets (household) -------------------------------------------------------------------------
household_field(
    "financial_assets",
    Kind.MONEY,
    "Deposits, securities, funds, commercial insurance, claims and online financial assets, in total.",
    default="0",
    unit="yuan",
)
household_field(
    "vehicles",
    Kind.INT,
    "Motor vehicles owned, not counting low-value ones or those needed for work or a disability.",
    default=0,
)
household_field("homes", Kind.INT, "Homes owned.", default=0)

# -- current enrolments and statuses, shared by the programs that build on them -----------------
household_field("is_dibao_recipient", Kind.BOOL, "The household receives dibao now.", default=False)
household_field(
    "is_dibao_marginal_registered",
    Kind.BOOL,
    "The household is registered as a dibao-marginal household (低保边缘家庭).",
    default=False,
)
household_field(
    "is_low_income_monitored",
    Kind.BOOL,
    "The household is in the low-income population under dynamic monitoring.",
    default=False,
)
person_field(
    "is_tekun_recipient", Kind.BOOL, "The person receives tekun support now.", default=False
)
person_field(
    "receives_disability_living_subsidy",
    Kind.BOOL,
    "The person receives the living subsidy for needy disabled people now.",
    default=False,
)
person_field(
    "receives_unemployment_benefit",
    Kind.BOOL,
    "The person receives unemployment-insurance benefit now.",
    default=False,
)
person_field(
    "is_special_care_recipient",
    Kind.BOOL,
    "The person receives regular special-care payments (优抚) from the state.",
    default=False,
)
person_field(
    "lives_in_institution",
    Kind.BOOL,
    "Lives in a welfare or support institution (concentrated care), not at home.",
    default=False,
)

INCOME_FIELDS = tuple(f.name for f in FIELDS.all() if f.unit == "yuan/month")


def is_family_member(pop: Population) -> BoolArray:
    """Co-residing family members (2021 dibao measures art. 7): registered and not excluded."""
    excluded: BoolArray = pop.p("excluded_reason") != 0
    return ~excluded


def is_severely_disabled(pop: Population) -> BoolArray:
    """Grade 1-2 of any category, or grade 3 intellectual or mental disability."""
    grade = pop.p("disability_grade")
    category = pop.p("disability_category")
    f = FIELDS.get("disability_category")
    intellectual_or_mental = (category == f.code("intellectual")) | (category == f.code("mental"))
    grade3_im: BoolArray = (grade == 3) & intellectual_or_mental
    return ((grade >= 1) & (grade <= 2)) | grade3_im


def is_urban(pop: Population) -> BoolArray:
    urban: BoolArray = pop.h("hukou_type") == FIELDS.get("hukou_type").code("urban")
    return urban


def dibao_standard(pop: Population, p: Params, t: Trace | None = None) -> IntArray:
    """The monthly dibao standard per person that applies to each household (urban or rural)."""
    urban = is_urban(pop)
    names = []
    standard = np.zeros(pop.n_households, dtype=np.int64)
    if urban.any():
        standard[urban] = p.fen("assistance.dibao.standard_monthly_urban")
        names.append("assistance.dibao.standard_monthly_urban")
    if (~urban).any():
        standard[~urban] = p.fen("assistance.dibao.standard_monthly_rural")
        names.append("assistance.dibao.standard_monthly_rural")
    if t is not None:
        t.step(
            "dibao_standard", "Local dibao standard per person per month", standard, params=names
        )
    return standard


def assets_within_limits(
    pop: Population,
    p: Params,
    t: Trace,
    prefix: str,
    standard: IntArray,
    n: IntArray,
    label: str = "Assets within the local rules",
) -> BoolArray:
    """The local asset rule shared by dibao, tekun and the low-income programs, with parameters
    under ``prefix``: financial assets within ``financial_assets_months`` × the dibao standard per
    member, vehicles and homes within ``max_vehicles`` / ``max_homes``."""
    months = p.int(prefix + "financial_assets_months")
    financial_ok = pop.h("financial_assets") <= standard * n * months
    vehicles_ok = pop.h("vehicles") <= p.int(prefix + "max_vehicles")
    homes_ok = pop.h("homes") <= p.int(prefix + "max_homes")
    ok: BoolArray = financial_ok & vehicles_ok & homes_ok
    t.step(
        "assets_ok",
        label,
        ok,
        kind="bool",
        formula="financial assets ≤ months × dibao standard × members; vehicles and homes "
        "within the limits",
        params=[prefix + "financial_assets_months", prefix + "max_vehicles", prefix + "max_homes"],
    )
    return ok


def prev_year_disposable_income(pop: Population, p: Params, t: Trace) -> IntArray:
    """Previous-year per-capita disposable income (yuan per year, in fen), urban or rural."""
    urban = is_urban(pop)
    out = np.zeros(pop.n_households, dtype=np.int64)
    names = []
    if urban.any():
        name = "common.economy.per_capita_disposable_income_prev_year_urban"
        out[urban] = p.fen(name)
        names.append(name)
    if (~urban).any():
        name = "common.economy.per_capita_disposable_income_prev_year_rural"
        out[~urban] = p.fen(name)
        names.append(name)
    t.step(
        "prev_year_disposable_income",
        "Local per-capita disposable income of the previous year",
        out,
        params=names,
    )
    return out
