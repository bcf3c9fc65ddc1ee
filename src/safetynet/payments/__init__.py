"""Entitlements and payments: the monthly roll, payee accounts, retroactive adjustments and
recoveries, bank files, reconciliation and the on-time report (docs/payments.md)."""

from __future__ import annotations

from safetynet.payments.bankfile import BankFileReport, export_bank_files
from safetynet.payments.model import PaymentInstruction, PaymentRun
from safetynet.payments.reconcile import ReconcileReport, reconcile_return_file
from safetynet.payments.report import ReportRow, payment_report
from safetynet.payments.roll import RollReport, roll_month

__all__ = [
    "BankFileReport",
    "PaymentInstruction",
    "PaymentRun",
    "ReconcileReport",
    "ReportRow",
    "RollReport",
    "export_bank_files",
    "payment_report",
    "reconcile_return_file",
    "roll_month",
]
