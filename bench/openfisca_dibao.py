"""The dibao difference rule written for OpenFisca, to compare the engines on the same data.

This is a bench-only reimplementation (openfisca-core is a ``bench`` extra, never a runtime
dependency). It covers exactly the part of ``safetynet.policy.programs.dibao`` that the
illustrative locality exercises:

* person counted income = wage − min(wage, fixed employment cost) + business + property
  + transfer + pension − support paid out − social-insurance contributions (the central resident
  pension is excluded, so it is not an input);
* household counted income = the sum over co-residing members (``excluded_reason`` = none),
  clamped at zero; members = how many such persons;
* eligible ⇔ members > 0, income < standard × members, financial assets ≤ months × standard ×
  members, vehicles ≤ max, homes ≤ max;
* amount = standard × members − income when eligible, else 0; the standard is urban or rural.

It leaves out what our dibao adds on top (single-person households, gradual exit, supplements,
job-refusal cuts): the benchmark compares only households where those do not apply, and
``check_supported`` refuses parameter values that would switch them on for everyone.

Money is whole fen in OpenFisca ``int`` variables (int32) so that both engines are exact and can
be compared to the fen; the generator keeps every amount far below 2**31 fen. Parameter values
come from our own ``Params`` view, so both engines read the same figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from openfisca_core.entities import build_entity
from openfisca_core.parameters import ParameterNode
from openfisca_core.periods import MONTH
from openfisca_core.simulations import Simulation, SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

if TYPE_CHECKING:  # the whole-process benchmark runs OpenFisca without importing SafetyNet
    from safetynet.policy.engine import Params
    from safetynet.policy.population import Population

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

P = "assistance.dibao."

Person = build_entity(
    key="person", plural="persons", label="A person", doc="A person.", is_person=True
)
Household = build_entity(
    key="household",
    plural="households",
    label="A household",
    doc="A household (户) applying for dibao.",
    roles=[
        {"key": "head", "plural": "heads", "label": "Head", "max": 1},
        {"key": "member", "plural": "members", "label": "Other member"},
    ],
)

PERSON_INPUTS = (
    "wage_income",
    "business_income",
    "property_income",
    "transfer_income",
    "pension_income",
    "support_paid_out",
    "social_insurance_paid",
    "excluded_reason",
)
HOUSEHOLD_INPUTS = ("financial_assets", "vehicles", "homes")


def _input(name: str, entity: Any, label: str) -> type:
    return type(
        name,
        (Variable,),
        {"value_type": int, "entity": entity, "definition_period": MONTH, "label": label},
    )


# -- the formulas ---------------------------------------------------------------------------
# OpenFisca names a variable after its class, in snake case (noqa: N801), and calls ``formula``
# with the entity population first, in place of ``self`` (noqa: N805).


class employment_cost(Variable):  # type: ignore[misc]  # noqa: N801
    value_type = int
    entity = Person
    definition_period = MONTH
    label = "Fixed employment cost deducted from wages (fen)"

    def formula(person: Any, period: Any, parameters: Any) -> Any:  # noqa: N805
        fixed = parameters(period).dibao.employment_cost_fixed_monthly
        return np.minimum(person("wage_income", period), fixed)


class counted_income_person(Variable):  # type: ignore[misc]  # noqa: N801
    value_type = int
    entity = Person
    definition_period = MONTH
    label = "Counted monthly income of a person (fen, may be negative)"

    def formula(person: Any, period: Any, parameters: Any) -> Any:  # noqa: N805
        del parameters
        return (
            person("wage_income", period)
            - person("employment_cost", period)
            + person("business_income", period)
            + person("property_income", period)
            + person("transfer_income", period)
            + person("pension_income", period)
            - person("support_paid_out", period)
            - person("social_insurance_paid", period)
        )


class is_family_member(Variable):  # type: ignore[misc]  # noqa: N801
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "Counts as a co-residing family member"

    def formula(person: Any, period: Any, parameters: Any) -> Any:  # noqa: N805
        del parameters
        return person("excluded_reason", period) == 0


class is_urban(Variable):  # type: ignore[misc]  # noqa: N801
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "Urban hukou"


class dibao_members(Variable):  # type: ignore[misc]  # noqa: N801
    value_type = int
    entity = Household
    definition_period = MONTH
    label = "Co-residing family members"

    def formula(household: Any, period: Any, parameters: Any) -> Any:  # noqa: N805
        del parameters
        return household.sum(household.members("is_family_member", period))


class dibao_counted_income(Variable):  # type: ignore[misc]  # noqa: N801
    value_type = int
    entity = Household
    definition_period = MONTH
    label = "Household counted monthly income (fen)"

    def formula(household: Any, period: Any, parameters: Any) -> Any:  # noqa: N805
        del parameters
        income = household.members("counted_income_person", period)
        member = household.members("is_family_member", period)
        return np.maximum(household.sum(income * member), 0)


class dibao_standard(Variable):  # type: ignore[misc]  # noqa: N801
    value_type = int
    entity = Household
    definition_period = MONTH
    label = "Dibao standard per person per month (fen)"

    def formula(household: Any, period: Any, parameters: Any) -> Any:  # noqa: N805
        p = parameters(period).dibao
        return np.where(
            household("is_urban", period), p.standard_monthly_urban, p.standard_monthly_rural
        )


class dibao_passes_asset_test(Variable):  # type: ignore[misc]  # noqa: N801
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "Assets within the limits"

    def formula(household: Any, period: Any, parameters: Any) -> Any:  # noqa: N805
        p = parameters(period).dibao.assets
        line = household("dibao_standard", period) * household("dibao_members", period)
        return (
            (household("financial_assets", period) <= line * p.financial_assets_months)
            * (household("vehicles", period) <= p.max_vehicles)
            * (household("homes", period) <= p.max_homes)
        )


class dibao_eligible(Variable):  # type: ignore[misc]  # noqa: N801
    value_type = bool
    entity = Household
    definition_period = MONTH
    label = "Eligible for dibao"

    def formula(household: Any, period: Any, parameters: Any) -> Any:  # noqa: N805
        del parameters
        n = household("dibao_members", period)
        line = household("dibao_standard", period) * n
        below = (n > 0) * (household("dibao_counted_income", period) < line)
        return below * household("dibao_passes_asset_test", period)


class dibao_amount(Variable):  # type: ignore[misc]  # noqa: N801
    value_type = int
    entity = Household
    definition_period = MONTH
    label = "Monthly dibao amount (fen)"

    def formula(household: Any, period: Any, parameters: Any) -> Any:  # noqa: N805
        del parameters
        line = household("dibao_standard", period) * household("dibao_members", period)
        gap = line - household("dibao_counted_income", period)
        return np.where(household("dibao_eligible", period), gap, 0)


FORMULAS = (
    employment_cost,
    counted_income_person,
    is_family_member,
    is_urban,
    dibao_members,
    dibao_counted_income,
    dibao_standard,
    dibao_passes_asset_test,
    dibao_eligible,
    dibao_amount,
)


# -- the system and the simulation ----------------------------------------------------------


class UnsupportedError(Exception):
    """Our parameters switch on a part of dibao that this OpenFisca version does not implement."""


def check_supported(params: Params) -> None:
    """Refuse parameter values under which the two implementations would differ for everyone."""
    expected: list[tuple[str, Any]] = [
        (P + "employment_cost_method", "fixed"),
        (P + "payment_method", "difference"),
        (P + "income_excluded.resident_pension_central", True),
        (P + "deduct_rigid_spending", False),
        (P + "special_member_supplement_ratio", Decimal(0)),
        ("common.rounding.unit", 1),
    ]
    for name, want in expected:
        got = params.value(name)
        if got != want:
            raise UnsupportedError(f"{name} = {got!r}; the OpenFisca dibao supports only {want!r}")


def parameter_values(params: Params) -> dict[str, int]:
    """The figures the OpenFisca rule reads, in fen or counts, from our parameter view."""
    check_supported(params)
    return {
        "standard_monthly_urban": params.fen(P + "standard_monthly_urban"),
        "standard_monthly_rural": params.fen(P + "standard_monthly_rural"),
        "employment_cost_fixed_monthly": params.fen(P + "employment_cost_fixed_monthly"),
        "financial_assets_months": params.int(P + "assets.financial_assets_months"),
        "max_vehicles": params.int(P + "assets.max_vehicles"),
        "max_homes": params.int(P + "assets.max_homes"),
    }


def build_system(params: Params) -> TaxBenefitSystem:
    """A minimal tax-benefit system: two entities, the dibao variables, parameters in fen."""
    return build_system_from_values(parameter_values(params))


def build_system_from_values(values: dict[str, int]) -> TaxBenefitSystem:
    """``build_system`` from the figures of ``parameter_values`` (no SafetyNet import)."""
    start = dt.date(2000, 1, 1).isoformat()

    def value(name: str) -> dict[str, Any]:
        return {"values": {start: {"value": values[name]}}}

    data = {
        "dibao": {
            "standard_monthly_urban": value("standard_monthly_urban"),
            "standard_monthly_rural": value("standard_monthly_rural"),
            "employment_cost_fixed_monthly": value("employment_cost_fixed_monthly"),
            "assets": {
                "financial_assets_months": value("financial_assets_months"),
                "max_vehicles": value("max_vehicles"),
                "max_homes": value("max_homes"),
            },
        }
    }
    system = TaxBenefitSystem([Person, Household])
    system.parameters = ParameterNode("", data=data)
    for name in PERSON_INPUTS:
        system.add_variable(_input(name, Person, name.replace("_", " ")))
    for name in HOUSEHOLD_INPUTS:
        system.add_variable(_input(name, Household, name.replace("_", " ")))
    system.add_variables(*FORMULAS)
    return system


@dataclass
class OpenFiscaResult:
    eligible: BoolArray
    amount: IntArray  # fen per household


def period_of(on: dt.date) -> str:
    return f"{on.year:04d}-{on.month:02d}"


def build_simulation(
    system: TaxBenefitSystem, pop: Population, on: dt.date, *, lean: bool = False
) -> Any:
    """An OpenFisca simulation built from ``pop``'s arrays: ids, memberships, roles, inputs.

    By default it takes OpenFisca's documented route for data held as arrays
    (``SimulationBuilder``: declare the entities, join persons to households with their roles).
    ``lean`` sets the ids and memberships on the populations directly and gives no roles (the
    dibao formulas use none), as ``build_default_simulation`` does: the fastest construction we
    found, which skips the builder's conversions to Python lists and arrays of ``Role`` objects.
    """
    if lean:
        populations = system.instantiate_entities()
        persons, households = populations["person"], populations["household"]
        persons.count, persons.ids = pop.n_persons, np.arange(pop.n_persons)
        households.count, households.ids = pop.n_households, np.arange(pop.n_households)
        households.members_entity_id = pop.household_of
        simulation = Simulation(system, populations)
    else:
        builder = SimulationBuilder()
        builder.create_entities(system)
        builder.declare_person_entity("person", np.arange(pop.n_persons))
        group = builder.declare_entity("household", np.arange(pop.n_households))
        roles = (np.arange(pop.n_persons) != pop.to_p(pop.starts)).astype(np.int64)  # 0 = head
        builder.join_with_persons(group, pop.household_of, roles)
        simulation = builder.build(system)
    from safetynet.policy.population import FIELDS

    period = period_of(on)
    for name in PERSON_INPUTS:
        simulation.set_input(name, period, pop.p(name))
    urban = pop.h("hukou_type") == FIELDS.get("hukou_type").code("urban")
    simulation.set_input("is_urban", period, urban)
    for name in HOUSEHOLD_INPUTS:
        simulation.set_input(name, period, pop.h(name))
    return simulation


def calculate(simulation: Any, on: dt.date) -> OpenFiscaResult:
    """Calculate the dibao amount and eligibility of every household."""
    period = period_of(on)
    amount = np.asarray(simulation.calculate("dibao_amount", period), dtype=np.int64)
    eligible = np.asarray(simulation.calculate("dibao_eligible", period), dtype=np.bool_)
    return OpenFiscaResult(eligible=eligible, amount=amount)


def run(
    system: TaxBenefitSystem, pop: Population, on: dt.date, *, lean: bool = False
) -> OpenFiscaResult:
    """End to end: build the simulation from the arrays, then calculate."""
    return calculate(build_simulation(system, pop, on, lean=lean), on)
