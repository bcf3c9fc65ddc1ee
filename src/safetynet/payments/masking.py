"""Account numbers as logs, reports and error messages may show them."""

from __future__ import annotations

__all__ = ["mask_account"]


def mask_account(value: str) -> str:
    """Keep the first 4 and the last 4 characters; stars in between (all stars if 8 or fewer)."""
    value = value.strip()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
