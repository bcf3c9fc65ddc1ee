"""Tables of department feeds: one ``feed_deliveries`` row per file loaded, and one long
``feed_records`` table holding the accepted rows of every kind in typed columns (docs/feeds.md)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.db.base import Base

__all__ = ["FEED_KINDS", "FeedDelivery", "FeedRecord", "FeedRejection"]

FEED_KINDS = (
    "deaths",
    "vehicles",
    "real_estate",
    "business",
    "wages",
    "hospital_bills",
    "births",
    "marriages",
    "hukou_moves",
    "social_insurance",
    "bank_deposits",
    "disaster_victims",
    "unemployment_registration",
    "disability_certificates",
)
_KIND_CHECK = "kind IN (" + ", ".join(f"'{k}'" for k in FEED_KINDS) + ")"


class FeedDelivery(Base):
    """One file delivered by a department and loaded once (its SHA-256 is unique)."""

    __tablename__ = "feed_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    delivered_on: Mapped[dt.date] = mapped_column(Date)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    read_count: Mapped[int] = mapped_column(Integer)
    accepted_count: Mapped[int] = mapped_column(Integer)
    quarantined_count: Mapped[int] = mapped_column(Integer)
    duplicate_count: Mapped[int] = mapped_column(Integer)
    # The file's header cells as a JSON array, to write its quarantine file again at any time.
    headers: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_KIND_CHECK, name="kind"),
        CheckConstraint(
            "read_count = accepted_count + quarantined_count "
            "AND duplicate_count >= 0 AND duplicate_count <= quarantined_count",
            name="counts",
        ),
    )


class FeedRecord(Base):
    """One accepted row of a delivery; which typed columns are filled depends on ``kind``."""

    __tablename__ = "feed_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("feed_deliveries.id"))
    row_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    event_date: Mapped[dt.date | None] = mapped_column(Date)
    month: Mapped[str | None] = mapped_column(String(7))
    reference: Mapped[str | None] = mapped_column(String(64))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    second_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    area_dm2: Mapped[int | None] = mapped_column(BigInteger)
    region_code: Mapped[str | None] = mapped_column(String(6))
    code: Mapped[str | None] = mapped_column(String(32))
    grade: Mapped[int | None] = mapped_column(SmallInteger)

    __table_args__ = (
        UniqueConstraint("delivery_id", "row_number"),
        CheckConstraint(_KIND_CHECK, name="kind"),
        CheckConstraint(
            "(amount_fen IS NULL OR amount_fen >= 0) "
            "AND (second_amount_fen IS NULL OR second_amount_fen >= 0) "
            "AND (area_dm2 IS NULL OR area_dm2 >= 0)",
            name="amounts",
        ),
    )


class FeedRejection(Base):
    """One reason a row of a delivery was quarantined, stored in the transaction that stores
    the accepted rows: the quarantine file is written from here and can be written again
    (``safetynet feeds quarantine``), so no reason is lost if the command dies after its commit."""

    __tablename__ = "feed_rejections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("feed_deliveries.id"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    cells: Mapped[str] = mapped_column(Text)  # the row's cell texts as a JSON array
