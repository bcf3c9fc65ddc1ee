"""Tables of payments (issue 5 items 4-5): the monthly roll, payee accounts, the entitlement
schedule, adjustments and recoveries, bank files and the bank's return files.

A monthly instruction is known by its natural key (household, program, month), an adjustment by
(household, program, for_month, roll_month); a one-off award by (program, case, sequence) and the
instruction paying it by its award; all are UNIQUE: however often a month is rolled, and
wherever a roll was interrupted, there is at most one row per key (docs/payments.md).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from safetynet.db.base import Base
from safetynet.payments.masking import mask_account

__all__ = [
    "ADJUSTMENT_KINDS",
    "AWARD_KINDS",
    "BANK_RESULTS",
    "ENTITLEMENT_CHANGE_KINDS",
    "INSTRUCTION_STATUSES",
    "PAYEE_KINDS",
    "RESERVE_ENTRY_KINDS",
    "RUN_STATUSES",
    "BankFile",
    "BankFileItem",
    "BankReturn",
    "EntitlementChange",
    "OneOffAward",
    "PayeeAccount",
    "PaymentAdjustment",
    "PaymentHold",
    "PaymentInstruction",
    "PaymentRecovery",
    "PaymentRun",
    "Provider",
    "ReserveEntry",
    "TownshipReserve",
]

RUN_STATUSES = ("running", "finished", "interrupted")
# pending: to be exported; held: under a payment hold (hold_id) or no account for the month;
# settled: nothing to transfer (net 0);
# exported: in a bank file; paid / failed: as the bank's return file says (failed is exported
# again by the next bank file); cancelled: a one-off award's instruction whose award was
# withdrawn (a decision changed on appeal) before it reached the bank: never paid.
INSTRUCTION_STATUSES = ("pending", "held", "settled", "exported", "paid", "failed", "cancelled")
# Percent of each page of payment_instructions filled by inserts (ADR 0035, PostgreSQL only).
INSTRUCTION_FILLFACTOR = 50
# The predicate of the unique index on a one-off award's instruction (``ON CONFLICT`` names it).
AWARD_ONLY = "award_id IS NOT NULL"
ADJUSTMENT_KINDS = ("arrears", "overpayment")
ENTITLEMENT_CHANGE_KINDS = ("amount", "end")
BANK_RESULTS = ("paid", "failed")
# One-off awards: an advance paid before the full procedure (先行救助), or a decided award (the
# final decision deducts the case's advances). Paid to the household's account, to a provider
# (medical assistance settled with the hospital), or at once from the township reserve. A
# revision pays the rise of a decision changed on appeal after the award was paid (or carries the
# recovery of its fall); a subsidy is a month's award decided by the monthly rules run for a
# covered recipient (the price subsidy: case = the month as YYYYMM, sequence = the household).
AWARD_KINDS = ("advance", "award", "revision", "subsidy")
PAYEE_KINDS = ("household", "provider", "township_reserve")
RESERVE_ENTRY_KINDS = ("top_up", "payment")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class PaymentRun(Base):
    """One call of ``roll_month`` for a month and (optionally) a county, with its progress.

    ``last_enrolment_id`` (the furthest enrolment a batch has reached) and the counts are
    updated in the transaction of each batch, so after a crash they say exactly what the run had
    committed.
    """

    __tablename__ = "payment_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    county: Mapped[str | None] = mapped_column(String(6))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(12))
    batches: Mapped[int] = mapped_column(Integer)
    eligible_count: Mapped[int] = mapped_column(Integer)
    created_count: Mapped[int] = mapped_column(Integer)
    present_count: Mapped[int] = mapped_column(Integer)
    last_enrolment_id: Mapped[int | None] = mapped_column(Integer)
    adjustment_count: Mapped[int] = mapped_column(Integer, server_default="0")
    held_count: Mapped[int] = mapped_column(Integer, server_default="0")

    __table_args__ = (
        CheckConstraint(_one_of("status", RUN_STATUSES), name="status"),
        CheckConstraint("length(month) = 7", name="month"),
        CheckConstraint(
            "eligible_count = created_count + present_count AND created_count >= 0 "
            "AND present_count >= 0",
            name="counts",
        ),
    )


class PaymentInstruction(Base):
    """One payment to one household for one program and month, taken from its enrolment.

    ``amount_fen`` is the month's own entitlement; ``arrears_fen`` the arrears of earlier months
    paid with it and ``recovery_fen`` the part of an overpayment offset against it, so the bank
    transfers ``amount_fen + arrears_fen - recovery_fen``. ``account`` (full account number, shown
    only masked) and ``bank_code`` come from the payee account valid in the month; without one the
    instruction is ``held``. Under a payment hold it is ``held`` too, with ``hold_id`` naming the
    hold; ``held_reason`` says why an instruction is held (and only a held one has one).
    """

    __tablename__ = "payment_instructions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The household is checked through the enrolment or the award the instruction comes from
    # (composite references below), one check per row instead of two (ADR 0035).
    household_id: Mapped[int] = mapped_column(Integer)
    program: Mapped[str] = mapped_column(String(60))
    month: Mapped[str] = mapped_column(String(7))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    account: Mapped[str | None] = mapped_column(Text)
    enrolment_id: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # Not indexed: no query looks instructions up by their run (ADR 0037).
    run_id: Mapped[int] = mapped_column(ForeignKey("payment_runs.id"))
    arrears_fen: Mapped[int] = mapped_column(BigInteger, server_default="0")
    recovery_fen: Mapped[int] = mapped_column(BigInteger, server_default="0")
    bank_code: Mapped[str | None] = mapped_column(String(12))
    payee_account_id: Mapped[int | None] = mapped_column(ForeignKey("payee_accounts.id"))
    # Not indexed: no query looks instructions up by their batch (the batch's items name them),
    # and an unindexed column lets the bank file's update stay on the row's page (ADR 0035).
    bank_file_id: Mapped[int | None] = mapped_column(ForeignKey("bank_files.id"))
    paid_on: Mapped[dt.date | None] = mapped_column(Date)
    failure_code: Mapped[str | None] = mapped_column(String(20))
    failure_text: Mapped[str | None] = mapped_column(Text)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("payment_holds.id"))
    held_reason: Mapped[str | None] = mapped_column(Text)
    # A one-off award's instruction: the award (its natural key) and, paid to a provider, the
    # provider; a monthly instruction has an enrolment instead.
    award_id: Mapped[int | None] = mapped_column(Integer)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))

    __table_args__ = (
        # A monthly instruction pays its enrolment's household, an award's its award's: each
        # reference checks the household with the source (ADR 0035).
        ForeignKeyConstraint(
            ["enrolment_id", "household_id"], ["enrolments.id", "enrolments.household_id"]
        ),
        ForeignKeyConstraint(
            ["award_id", "household_id"], ["one_off_awards.id", "one_off_awards.household_id"]
        ),
        # The natural key of a monthly instruction: one per (beneficiary household, program,
        # month); a one-off award's instruction is known by its award (below).
        Index(
            "uq_payment_instructions_monthly_key",
            "household_id",
            "program",
            "month",
            unique=True,
            sqlite_where=text("award_id IS NULL"),
            postgresql_where=text("award_id IS NULL"),
        ),
        # A one-off award's instruction is known by its award; the instructions a hold keeps are
        # found by the hold. Both indexes hold only the rows that have one, so a monthly
        # instruction (no award, rarely a hold) adds nothing to them (ADR 0037).
        Index(
            "uq_payment_instructions_award_id",
            "award_id",
            unique=True,
            sqlite_where=text(AWARD_ONLY),
            postgresql_where=text(AWARD_ONLY),
        ),
        Index(
            "ix_payment_instructions_hold_id",
            "hold_id",
            sqlite_where=text("hold_id IS NOT NULL"),
            postgresql_where=text("hold_id IS NOT NULL"),
        ),
        # A household's instructions of every month and kind (the roll's sums of what was
        # recovered before): without it each batch of the roll read the whole table (ADR 0034).
        Index("ix_payment_instructions_household_id", "household_id"),
        CheckConstraint("(award_id IS NULL) <> (enrolment_id IS NULL)", name="source"),
        CheckConstraint("provider_id IS NULL OR award_id IS NOT NULL", name="provider"),
        CheckConstraint(_one_of("status", INSTRUCTION_STATUSES), name="status"),
        CheckConstraint("amount_fen >= 0", name="amount_fen"),
        CheckConstraint("length(month) = 7", name="month"),
        CheckConstraint(
            "arrears_fen >= 0 AND recovery_fen >= 0 AND recovery_fen <= amount_fen + arrears_fen",
            name="net",
        ),
        CheckConstraint("hold_id IS NULL OR status = 'held'", name="hold"),
        CheckConstraint("(status = 'held') = (held_reason IS NOT NULL)", name="held_reason"),
        # Room on each page for a second version of every row: the bank file's update (status,
        # batch) and the bank's return then stay on the row's page, touching no index (a
        # heap-only update) instead of adding an entry to each of the table's indexes (ADR 0035).
        {"postgresql_with": {"fillfactor": INSTRUCTION_FILLFACTOR}},
    )

    @property
    def net_fen(self) -> int:
        """What the bank transfers."""
        return self.amount_fen + self.arrears_fen - self.recovery_fen


class PayeeAccount(Base):
    """A household's social-security-card bank account, held by one of its members, valid from a
    date (until ``valid_to``, inclusive, or open). For a month the account with the latest
    ``valid_from`` among those valid on some day of the month is used."""

    __tablename__ = "payee_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    holder_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    bank_code: Mapped[str] = mapped_column(String(12))
    account_number: Mapped[str] = mapped_column(String(19))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("household_id", "valid_from"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="dates"),
    )

    def __repr__(self) -> str:
        # Never reveal the account number in logs or tracebacks.
        return f"PayeeAccount(id={self.id}, {mask_account(self.account_number)})"


class EntitlementChange(Base):
    """One entry of an enrolment's entitlement schedule (append-only): from ``from_month`` on the
    monthly amount is ``amount_fen``; ``kind`` ``end`` records an enrolment ended (amount 0).
    The entry in force for a month is the one with the latest ``from_month`` not after it, and
    among those the latest recorded (highest id)."""

    __tablename__ = "entitlement_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    from_month: Mapped[str] = mapped_column(String(7))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    effective_date: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (
        CheckConstraint(_one_of("kind", ENTITLEMENT_CHANGE_KINDS), name="kind"),
        CheckConstraint("amount_fen >= 0", name="amount_fen"),
        CheckConstraint("length(from_month) = 7", name="from_month"),
    )


class PaymentAdjustment(Base):
    """A correction found by the roll of ``roll_month`` for the earlier month ``for_month``:
    due (schedule as known then) minus paid. Positive = arrears, paid with the roll month's
    instruction (``instruction_id``); negative = overpayment, recorded as a recovery."""

    __tablename__ = "payment_adjustments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    program: Mapped[str] = mapped_column(String(60))
    for_month: Mapped[str] = mapped_column(String(7))
    roll_month: Mapped[str] = mapped_column(String(7))
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    due_fen: Mapped[int] = mapped_column(BigInteger)
    paid_before_fen: Mapped[int] = mapped_column(BigInteger)
    instruction_id: Mapped[int | None] = mapped_column(ForeignKey("payment_instructions.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("payment_runs.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # The natural key: one adjustment per (household, program, month corrected, roll month).
        UniqueConstraint("household_id", "program", "for_month", "roll_month"),
        CheckConstraint(_one_of("kind", ADJUSTMENT_KINDS), name="kind"),
        CheckConstraint(
            "(kind = 'arrears' AND amount_fen > 0) OR (kind = 'overpayment' AND amount_fen < 0)",
            name="amount_fen",
        ),
        CheckConstraint("amount_fen = due_fen - paid_before_fen", name="difference"),
        CheckConstraint("for_month < roll_month", name="months"),
    )


class PaymentRecovery(Base):
    """An overpayment to collect (one per overpayment adjustment). What is still outstanding is
    derived: the household's recoveries in the program minus the offsets on its instructions."""

    __tablename__ = "payment_recoveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    program: Mapped[str] = mapped_column(String(60))
    adjustment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_adjustments.id"), unique=True
    )
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # An advance above the final award (the decision reduced it): recovered like an overpayment.
    award_id: Mapped[int | None] = mapped_column(ForeignKey("one_off_awards.id"), unique=True)

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_fen"),
        CheckConstraint("(adjustment_id IS NULL) <> (award_id IS NULL)", name="source"),
    )


class BankFile(Base):
    """One batch of instructions sent to the bank for a county and month (``sequence`` 1, 2, ...
    as later batches follow: late rolls, retries)."""

    __tablename__ = "bank_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county: Mapped[str] = mapped_column(String(6))
    month: Mapped[str] = mapped_column(String(7))
    sequence: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    record_count: Mapped[int] = mapped_column(Integer)
    total_fen: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("county", "month", "sequence"),
        CheckConstraint("record_count > 0 AND total_fen > 0", name="totals"),
    )


class BankFileItem(Base):
    """One detail record of a bank file, as sent, and the bank's result for it."""

    __tablename__ = "bank_file_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_file_id: Mapped[int] = mapped_column(ForeignKey("bank_files.id"))
    line: Mapped[int] = mapped_column(Integer)
    instruction_id: Mapped[int] = mapped_column(ForeignKey("payment_instructions.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    bank_code: Mapped[str] = mapped_column(String(12))
    account: Mapped[str] = mapped_column(String(19))
    result: Mapped[str | None] = mapped_column(String(6))
    result_date: Mapped[dt.date | None] = mapped_column(Date)
    reason_code: Mapped[str | None] = mapped_column(String(20))
    reason_text: Mapped[str | None] = mapped_column(Text)
    return_id: Mapped[int | None] = mapped_column(ForeignKey("bank_returns.id"))

    __table_args__ = (
        UniqueConstraint("bank_file_id", "instruction_id"),
        UniqueConstraint("bank_file_id", "line"),
        CheckConstraint(_one_of("result", BANK_RESULTS), name="result"),
        CheckConstraint("amount_fen > 0", name="amount_fen"),
    )


class BankReturn(Base):
    """One import of a bank return file, with its counts (read = applied + already + quarantined)."""

    __tablename__ = "bank_returns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    read_count: Mapped[int] = mapped_column(Integer)
    applied_count: Mapped[int] = mapped_column(Integer)
    already_count: Mapped[int] = mapped_column(Integer)
    quarantined_count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint(
            "read_count = applied_count + already_count + quarantined_count", name="counts"
        ),
    )


class PaymentHold(Base):
    """A stop on a household's payments: of one program (or of all, ``program`` NULL) for every
    month from ``from_month`` on, until released. ``alert_id`` names the monitoring alert that
    placed it (at most one hold per alert); ``source`` says where it came from in words."""

    __tablename__ = "payment_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    program: Mapped[str | None] = mapped_column(String(60))
    from_month: Mapped[str] = mapped_column(String(7))
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(100))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("monitoring_alerts.id"), unique=True)
    placed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    placed_by: Mapped[str] = mapped_column(String(100))
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    released_by: Mapped[str | None] = mapped_column(String(100))
    release_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("length(from_month) = 7", name="from_month"),
        CheckConstraint(
            "(released_at IS NULL) = (released_by IS NULL) "
            "AND (released_at IS NULL) = (release_reason IS NULL)",
            name="release",
        ),
    )

    @property
    def active(self) -> bool:
        return self.released_at is None

    def covers(self, program: str, month: str) -> bool:
        """Whether this hold, while it stands, stops ``program``'s payment for ``month``."""
        return (self.program is None or self.program == program) and self.from_month <= month


class Provider(Base):
    """A provider paid directly for a household's benefit (a hospital settling medical assistance
    one-stop, 一站式结算), with the bank account it is paid to. ``code`` is the office's own
    identifier (e.g. the medical-insurance institution code)."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(Text)
    county: Mapped[str] = mapped_column(String(6))
    bank_code: Mapped[str] = mapped_column(String(12))
    account_number: Mapped[str] = mapped_column(String(19))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(100))

    def __repr__(self) -> str:
        return f"Provider(id={self.id}, {self.code}, {mask_account(self.account_number)})"


class OneOffAward(Base):
    """A one-off or per-event benefit decided on a case: paid once, by the roll of the first month
    on or after ``due_on`` (its instruction's natural key is the award), or at once from the
    township reserve. Known by (``program``, ``case_id``, ``sequence``): a decision published
    twice records one award. ``payable_fen`` is ``amount_fen`` less the case's advances
    (``deducted_fen``); an advance above the award is a recovery (``payment_recoveries``)."""

    __tablename__ = "one_off_awards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program: Mapped[str] = mapped_column(String(60))
    case_id: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    deducted_fen: Mapped[int] = mapped_column(BigInteger)
    payable_fen: Mapped[int] = mapped_column(BigInteger)
    payee: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    township: Mapped[str | None] = mapped_column(String(9))
    due_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(100))
    # Withdrawn before it was paid (the decision changed on appeal): never instructed again, its
    # instruction (if any) cancelled.
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("program", "case_id", "sequence"),
        # What an instruction's composite reference checks (payment_instructions, ADR 0035).
        UniqueConstraint("id", "household_id"),
        CheckConstraint(_one_of("kind", AWARD_KINDS), name="kind"),
        CheckConstraint(_one_of("payee", PAYEE_KINDS), name="payee"),
        CheckConstraint("amount_fen >= 0 AND deducted_fen >= 0", name="amounts"),
        CheckConstraint("payable_fen = amount_fen - deducted_fen", name="payable"),
        CheckConstraint("(payee = 'provider') = (provider_id IS NOT NULL)", name="provider"),
        CheckConstraint("(payee = 'township_reserve') = (township IS NOT NULL)", name="township"),
    )


class TownshipReserve(Base):
    """A township's reserve for small emergency payments (乡镇临时救助备用金): its balance, which
    reserve payments lower and the county's top-ups raise (each a ``ReserveEntry``)."""

    __tablename__ = "township_reserves"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    township: Mapped[str] = mapped_column(String(9), unique=True)
    county: Mapped[str] = mapped_column(String(6), index=True)
    balance_fen: Mapped[int] = mapped_column(BigInteger)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("balance_fen >= 0", name="balance_fen"),)


class ReserveEntry(Base):
    """One movement of a township reserve: a top-up by the county or a payment of an award (at
    most one per award), with the balance after it."""

    __tablename__ = "reserve_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reserve_id: Mapped[int] = mapped_column(ForeignKey("township_reserves.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    balance_after_fen: Mapped[int] = mapped_column(BigInteger)
    award_id: Mapped[int | None] = mapped_column(ForeignKey("one_off_awards.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (
        CheckConstraint(_one_of("kind", RESERVE_ENTRY_KINDS), name="kind"),
        CheckConstraint("amount_fen > 0 AND balance_after_fen >= 0", name="amounts"),
        CheckConstraint("(kind = 'payment') = (award_id IS NOT NULL)", name="award"),
    )
