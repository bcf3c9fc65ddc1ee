"""What a person reads when a command is refused: the field it names (for the error beside the
field and the link in the summary) and the reason, Chinese first."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from safetynet.cases.workflow import ConcurrentUpdateError, WorkflowError
from safetynet.domain.messages import translate
from safetynet.domain.privacy import mask_text
from safetynet.errors import InputError, SafetyNetError
from safetynet.registry.changes import ChangeRefusedError

__all__ = ["FieldErrors", "attempt"]

T = TypeVar("T")
FieldErrors = list[tuple[str, str]]


def _field(exc: Exception, field_of: Callable[[str], str]) -> str:
    return field_of(exc.field) if isinstance(exc, InputError) and exc.field else ""


def attempt(
    run: Callable[[], T], locale: str, field_of: Callable[[str], str] = lambda f: f
) -> tuple[T | None, FieldErrors]:
    """``run()``, or the reasons it was refused as (form field, message): a bad value names its
    field; a step out of order, a maker-checker refusal or a lost race is said as the workflow
    says it (identity numbers masked)."""
    try:
        return run(), []
    except (StaleDataError, IntegrityError, ConcurrentUpdateError):
        text = translate("Someone else changed this case at the same time: reload it.", locale)
        return None, [("", text)]
    except (WorkflowError, ChangeRefusedError) as exc:
        return None, [("", translate("Refused: {reason}", locale, reason=mask_text(str(exc))))]
    except InputError as exc:
        return None, [(_field(exc, field_of), mask_text(exc.reason))]
    except SafetyNetError as exc:
        return None, [("", mask_text(str(exc)))]
