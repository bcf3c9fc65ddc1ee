"""Masking personal data by pattern, whatever field it was typed into.

An identity number typed into a refusal reason, an appeal's grounds or a note, or sent as a JSON
number instead of a string, must be masked like the ``id_number`` field itself. Every output path
(API responses, notices, logs, exports, the audit log) passes text through ``mask_text`` and
JSON-like values through ``mask_value``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from safetynet.domain.identity import mask_identity_number

__all__ = ["ID_KEYS", "holds_identity_number", "mask_text", "mask_value"]

ID_KEYS = frozenset({"id_number", "identity_number", "id_numbers", "applicant_id_number"})
"""Keys whose value is an identity number whatever its type."""

# 18 characters (17 digits and a digit or X) or 15 digits, standing alone: not part of a longer
# run of digits (a bank account number is masked by its own rule). Full-width digits and X are
# matched too (people type them in Chinese input methods); optional single spaces or hyphens between
# groups cover "310101 19800101 1234"-style typing.
_DIGIT = r"[0-9０-９]"
_SEP = r"[ \-‐－]?"
_ID_PATTERN = re.compile(
    rf"(?<![0-9０-９A-Za-z])"
    rf"(?:{_DIGIT}{{6}}{_SEP}{_DIGIT}{{8}}{_SEP}{_DIGIT}{{3}}[0-9０-９XxＸｘ]"
    rf"|{_DIGIT}{{6}}{_SEP}{_DIGIT}{{6}}{_SEP}{_DIGIT}{{3}})"
    rf"(?![0-9０-９A-Za-z])"
)


def _mask_match(match: re.Match[str]) -> str:
    raw = match.group(0)
    compact = unicodedata.normalize("NFKC", raw).replace(" ", "").replace("-", "").replace("‐", "")
    return mask_identity_number(compact)


def mask_text(text: str) -> str:
    """``text`` with every identity number in it masked (first 3 and last 4 characters kept)."""
    return _ID_PATTERN.sub(_mask_match, text)


def holds_identity_number(text: str) -> bool:
    """Whether ``mask_text`` would change ``text`` (texts joined by a line break are searched
    at once: a line break is not a separator an identity number is typed with)."""
    return _ID_PATTERN.search(text) is not None


def mask_value(value: Any) -> Any:
    """A copy of a JSON-like value with every identity number masked.

    Values under an identity-number key are masked whatever their type (a number sent as a JSON
    number included); every other string is masked by pattern, and so is an integer whose digits
    form an identity number.
    """
    if isinstance(value, Mapping):
        return {
            str(k): _mask_id_field(v) if k in ID_KEYS else mask_value(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        digits = str(value)
        if len(digits) in (15, 18) and mask_text(digits) != digits:
            return mask_text(digits)
    return value


def _mask_id_field(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str | int):
        return mask_identity_number(str(value))
    return mask_value(value)
