"""Entitlements and payments: the monthly payment roll (issue 5 items 4-5, docs/payments.md)."""

from __future__ import annotations

from safetynet.payments.model import PaymentInstruction, PaymentRun
from safetynet.payments.roll import RollReport, roll_month

__all__ = ["PaymentInstruction", "PaymentRun", "RollReport", "roll_month"]
