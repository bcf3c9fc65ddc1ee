"""Every declared input field has one place in the registry the snapshot takes it from."""

from __future__ import annotations

from safetynet.policy.population import FIELDS, declare_all_fields
from safetynet.registry.fact_sources import (
    SOURCES,
    FromAssets,
    FromEnrolment,
    FromIncome,
    Native,
    fact_fields,
)
from safetynet.registry.model import Household, Membership, Person
from safetynet.registry.vocabulary import ASSET_KINDS, INCOME_KINDS


def test_every_declared_field_has_a_source() -> None:
    declare_all_fields()
    declared = {f.name for f in FIELDS.all()}
    missing = sorted(declared - set(SOURCES))
    assert not missing, f"fields with no source in registry/fact_sources.py: {missing}"
    assert not sorted(set(SOURCES) - declared), "sources of fields no program declares"


def test_native_sources_name_real_columns_and_kinds() -> None:
    tables = {"persons": Person, "memberships": Membership, "households": Household}
    for name, source in SOURCES.items():
        if isinstance(source, Native):
            assert source.column in tables[source.table].__table__.c, name
        elif isinstance(source, FromIncome):
            assert source.kind in INCOME_KINDS, name
        elif isinstance(source, FromAssets):
            assert set(source.kinds) <= set(ASSET_KINDS), name
        elif isinstance(source, FromEnrolment):
            assert source.program in ("dibao", "tekun"), name


def test_facts_are_not_duplicates_of_native_columns() -> None:
    facts = fact_fields()
    assert "tekun_supporter_status" in facts
    assert "ltc_disability_level" in facts
    assert not facts & {"birth_date", "wage_income", "is_dibao_recipient", "education_stage"}
