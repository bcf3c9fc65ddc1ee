"""Insured persons' monthly contribution history: one row per person, scheme, month and place.

A row is what a social-insurance agency records for one month: the contribution base, what the
employer and the person paid, and what was credited to the person's account, all in fen. The same
person, scheme and month may appear only once (an overlap in two places is refused by the import,
docs/contributions.md); the unique key also carries the region so that a transfer history keeps
where each month was paid.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.db.base import Base

__all__ = ["SCHEMES", "SCHEME_SYNONYMS", "ContributionRecord"]

SCHEMES: Final = (
    "employee_pension",
    "resident_pension",
    "unemployment",
    "employee_medical",
    "work_injury",
)
"""Stored codes of the insurance schemes (the glossary's program identifiers)."""

SCHEME_SYNONYMS: Final = {
    "职工养老": "employee_pension",
    "职工养老保险": "employee_pension",
    "职工基本养老保险": "employee_pension",
    "企业职工基本养老保险": "employee_pension",
    "养老": "employee_pension",
    "养老保险": "employee_pension",
    "居民养老": "resident_pension",
    "居民养老保险": "resident_pension",
    "城乡居民养老保险": "resident_pension",
    "城乡居民基本养老保险": "resident_pension",
    "失业": "unemployment",
    "失业保险": "unemployment",
    "职工医保": "employee_medical",
    "医疗": "employee_medical",
    "医疗保险": "employee_medical",
    "职工基本医疗保险": "employee_medical",
    "工伤": "work_injury",
    "工伤保险": "work_injury",
}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class ContributionRecord(Base):
    """One month of contributions of one person to one scheme in one place (amounts in fen)."""

    __tablename__ = "contribution_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    scheme: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    month: Mapped[str] = mapped_column(String(7))
    base_fen: Mapped[int] = mapped_column(BigInteger)
    employer_fen: Mapped[int] = mapped_column(BigInteger)
    individual_fen: Mapped[int] = mapped_column(BigInteger)
    account_credit_fen: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("person_id", "scheme", "month", "region_code"),
        CheckConstraint(_one_of("scheme", SCHEMES), name="scheme"),
        CheckConstraint("length(month) = 7", name="month"),
        CheckConstraint(
            "base_fen >= 0 AND employer_fen >= 0 AND individual_fen >= 0 "
            "AND account_credit_fen >= 0",
            name="amounts",
        ),
    )

    def __repr__(self) -> str:
        return (
            f"ContributionRecord(person_id={self.person_id}, scheme={self.scheme!r}, "
            f"region={self.region_code!r}, month={self.month!r})"
        )
