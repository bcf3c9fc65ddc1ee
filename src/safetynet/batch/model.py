"""Tables for monthly batch runs: the run, its per-county summary, and each household's results."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.db.base import Base

__all__ = ["CountyProgramSummary", "HouseholdResult", "MonthlyRun"]


class MonthlyRun(Base):
    """One month's run over a snapshot: which data, which parameters, how far it got."""

    __tablename__ = "monthly_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)  # YYYY-MM; a rerun replaces it
    snapshot: Mapped[str] = mapped_column(String(500))
    parameters_note: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12))  # running / finished
    counties_total: Mapped[int] = mapped_column(Integer)
    counties_done: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class CountyProgramSummary(Base):
    """Recipients and amounts of one program in one county for the run's month."""

    __tablename__ = "county_program_summaries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("monthly_runs.id", ondelete="CASCADE"))
    county: Mapped[str] = mapped_column(String(6))
    program: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(6))  # month / year / event
    households: Mapped[int] = mapped_column(Integer)
    persons: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # Why the program is not eligible in the county: not in force, or no local standard.
    not_available: Mapped[str] = mapped_column(Text, default="", server_default="")

    __table_args__ = (UniqueConstraint("run_id", "county", "program"),)


class HouseholdResult(Base):
    """A household's eligibility and amount for one program in the run's month."""

    __tablename__ = "household_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("monthly_runs.id", ondelete="CASCADE"))
    county: Mapped[str] = mapped_column(String(6))
    household_id: Mapped[int] = mapped_column(BigInteger)  # the snapshot's household id
    program: Mapped[str] = mapped_column(String(40))
    eligible: Mapped[bool] = mapped_column(Boolean)
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("run_id", "county", "household_id", "program"),
        Index("ix_household_results_run_county", "run_id", "county"),
    )
