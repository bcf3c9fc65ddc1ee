"""Tables of the registry: regions, households, persons, memberships, income, assets, enrolments.

Money is integer fen (BigInteger), dates are real dates, coded facts are short strings from
``registry.vocabulary`` guarded by CHECK constraints. A person belongs to at most one household
at a time: memberships carry start and end dates and a partial unique index allows one open
membership (``end_date IS NULL``) per person, so moving house keeps the history.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.db.base import Base
from safetynet.domain.identity import mask_identity_number
from safetynet.registry.vocabulary import (
    ASSET_KINDS,
    DISABILITY_CATEGORIES,
    EMPLOYMENT,
    ENROLMENT_STATUSES,
    HUKOU_TYPES,
    INCOME_KINDS,
    LABOUR_CAPACITY,
    RELATIONS,
    SCHOOLING,
    SEXES,
)

__all__ = [
    "ADDRESS_LENGTH",
    "Asset",
    "Enrolment",
    "EnrolmentHistory",
    "Household",
    "HouseholdFact",
    "IncomeItem",
    "Membership",
    "Person",
    "PersonFact",
    "RegionRow",
]


ADDRESS_LENGTH = 200
"""Characters a household's address may have."""


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class RegionRow(Base):
    """A GB/T 2260 division (copied from ``domain/data/regions.csv`` by ``db upgrade``)."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)

    __table_args__ = (
        CheckConstraint(_one_of("level", ("province", "city", "county")), name="level"),
    )


class Household(Base):
    """A registered household (户), known by the county's household number within its region."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    household_no: Mapped[str] = mapped_column(String(40))
    statistical_code: Mapped[str | None] = mapped_column(String(12))
    hukou_type: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # Where the household lives (住址), as the office writes it; searched by its text.
    address: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH))

    __table_args__ = (
        UniqueConstraint("region_code", "household_no"),
        CheckConstraint(_one_of("hukou_type", HUKOU_TYPES), name="hukou_type"),
        # A search by township or village is a prefix of the statistical code (LIKE 'p%' uses
        # a btree index on PostgreSQL only with the pattern operator class).
        Index(
            "ix_households_statistical_code",
            "statistical_code",
            postgresql_ops={"statistical_code": "text_pattern_ops"},
        ),
    )

    def __repr__(self) -> str:
        return f"Household({self.region_code}/{self.household_no})"


class Person(Base):
    """A person, identified by the full identity number (shown only masked)."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(6))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    hukou_region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    hukou_type: Mapped[str] = mapped_column(String(10))
    labour_capacity: Mapped[str | None] = mapped_column(String(10))
    disability_category: Mapped[str] = mapped_column(String(12), default="none")
    disability_grade: Mapped[int] = mapped_column(SmallInteger, default=0)
    has_serious_illness: Mapped[bool] = mapped_column(Boolean, default=False)
    self_care_items_failed: Mapped[int] = mapped_column(SmallInteger, default=0)
    schooling: Mapped[str | None] = mapped_column(String(24))
    employment: Mapped[str | None] = mapped_column(String(12))
    # The mobile number a citizen's sign-in code is sent to (migration 0025).
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(_one_of("sex", SEXES), name="sex"),
        CheckConstraint(_one_of("hukou_type", HUKOU_TYPES), name="hukou_type"),
        CheckConstraint(_one_of("labour_capacity", LABOUR_CAPACITY), name="labour_capacity"),
        CheckConstraint(
            _one_of("disability_category", DISABILITY_CATEGORIES), name="disability_category"
        ),
        CheckConstraint("disability_grade BETWEEN 0 AND 4", name="disability_grade"),
        CheckConstraint("self_care_items_failed BETWEEN 0 AND 6", name="self_care_items_failed"),
        CheckConstraint(_one_of("schooling", SCHOOLING), name="schooling"),
        CheckConstraint(_one_of("employment", EMPLOYMENT), name="employment"),
        # Searches by a name or the start of one (registry.search).
        Index("ix_persons_name", "name", postgresql_ops={"name": "text_pattern_ops"}),
    )

    @property
    def masked_id_number(self) -> str:
        return mask_identity_number(self.id_number)

    def __repr__(self) -> str:
        # Never reveal the identity number in logs or tracebacks.
        return f"Person(id={self.id}, {self.masked_id_number})"


class Membership(Base):
    """A person's membership of a household from ``start_date`` until ``end_date`` (exclusive)."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    relation: Mapped[str] = mapped_column(String(12))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint(_one_of("relation", RELATIONS), name="relation"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
        # At most one open membership per person: the registry's core invariant.
        Index(
            "uq_memberships_open_person",
            "person_id",
            unique=True,
            sqlite_where=text("end_date IS NULL"),
            postgresql_where=text("end_date IS NULL"),
        ),
    )


class IncomeItem(Base):
    """One kind of income of one person in one month (YYYY-MM), in fen."""

    __tablename__ = "income_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    kind: Mapped[str] = mapped_column(String(12))
    month: Mapped[str] = mapped_column(String(7))
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("person_id", "kind", "month"),
        CheckConstraint(_one_of("kind", INCOME_KINDS), name="kind"),
        CheckConstraint("amount_fen >= 0", name="amount_fen"),
        CheckConstraint("length(month) = 7", name="month"),
    )


class Asset(Base):
    """An asset of a household: deposits, securities, vehicles, properties, businesses.

    ``source`` says where the row came from (``import`` for the county spreadsheet, whose
    amounts per kind are summed over the household's rows); area is in square decimetres
    (1 m² = 100 dm²) so that two decimals of m² stay exact integers.
    """

    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(20))
    value_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    count: Mapped[int | None] = mapped_column(Integer)
    area_dm2: Mapped[int | None] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        CheckConstraint(_one_of("kind", ASSET_KINDS), name="kind"),
        CheckConstraint("value_fen >= 0", name="value_fen"),
        CheckConstraint("count IS NULL OR count >= 0", name="count"),
        CheckConstraint("area_dm2 IS NULL OR area_dm2 >= 0", name="area_dm2"),
    )


class Enrolment(Base):
    """A household's enrolment in a program; every change appends an ``EnrolmentHistory`` row."""

    __tablename__ = "enrolments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    program: Mapped[str] = mapped_column(String(60))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        CheckConstraint(_one_of("status", ENROLMENT_STATUSES), name="status"),
        CheckConstraint("amount_fen >= 0", name="amount_fen"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
        # What an instruction's composite reference checks: the household it pays is its
        # enrolment's (payment_instructions, ADR 0035).
        UniqueConstraint("id", "household_id"),
        # One enrolment that is not ended per household and program.
        Index(
            "uq_enrolments_current",
            "household_id",
            "program",
            unique=True,
            sqlite_where=text("status <> 'ended'"),
            postgresql_where=text("status <> 'ended'"),
        ),
    )


class EnrolmentHistory(Base):
    """Each version of an enrolment as it was written (never updated, never deleted)."""

    __tablename__ = "enrolment_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (UniqueConstraint("enrolment_id", "version"),)


class PersonFact(Base):
    """A program fact of a person (a declared input field the registry has no column for), in
    force from ``valid_from`` until a later fact of the same field (append-only; ADR 0010).

    ``value`` is the canonical text of the value (``registry.facts``), checked by the field's own
    parser on write; ``source`` says where it came from (``import:<file>``, ``assessment``,
    ``case:<id>``)."""

    __tablename__ = "person_facts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    field: Mapped[str] = mapped_column(String(60))
    value: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_person_facts_subject", "person_id", "field", "valid_from"),)


class HouseholdFact(Base):
    """A program fact of a household; as ``PersonFact``."""

    __tablename__ = "household_facts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    field: Mapped[str] = mapped_column(String(60))
    value: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_household_facts_subject", "household_id", "field", "valid_from"),)
