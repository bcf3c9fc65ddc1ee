"""Errors a user sees: each names what was wrong, where, and why, in one line."""

from __future__ import annotations


class SafetyNetError(Exception):
    """Base of every error the platform reports to a user (CLI exit code 2, API 4xx)."""

    exit_code = 2


class InputError(SafetyNetError):
    """A value supplied by the user is invalid.

    ``field`` names the offending field (dotted path, e.g. ``persons[2].wage``), ``row`` the
    1-based row or record where there is one, ``reason`` says what is wrong.
    """

    def __init__(self, field: str, reason: str, row: int | None = None) -> None:
        self.field = field
        self.reason = reason
        self.row = row
        where = f"row {row}, " if row is not None else ""
        super().__init__(f"{where}{field}: {reason}")


class UnknownNameError(SafetyNetError):
    """A program, parameter, region or other named thing does not exist."""

    def __init__(self, kind: str, name: str, hint: str = "") -> None:
        self.kind = kind
        self.name = name
        msg = f"unknown {kind} {name!r}"
        super().__init__(f"{msg}; {hint}" if hint else msg)


class CoverageError(SafetyNetError):
    """A date or year lies outside what a parameter or a calendar covers."""
