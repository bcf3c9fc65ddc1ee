"""The operations log: every command, API request and batch stage as one record (who, what, how
long, outcome) through the standard ``logging`` module, as text or JSON lines, identity numbers
masked; configured once at start-up by the CLI and the API app factory, never at import.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import json
import logging
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from safetynet.domain.privacy import mask_text, mask_value
from safetynet.errors import InputError
from safetynet.settings import Settings

__all__ = [
    "JsonFormatter",
    "MaskIdentityNumbers",
    "TextFormatter",
    "configure_logging",
    "logged_stage",
    "os_user",
]

F = TypeVar("F", bound=Callable[..., Any])

# The attributes every LogRecord has; anything else on a record was passed in ``extra``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Extras other libraries add that repeat the message (uvicorn's terminal colours).
_NOISE = {"color_message"}
_OURS = "_safetynet_handler"


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: v
        for k, v in vars(record).items()
        if k not in _STANDARD and k not in _NOISE and not k.startswith("_")
    }


class MaskIdentityNumbers(logging.Filter):
    """Masks identity numbers in the formatted message and in every extra field of a record,
    whatever logger it comes from (ours, uvicorn's, SQLAlchemy's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_text(record.getMessage())
        record.args = None
        for key, value in _extras(record).items():
            setattr(record, key, mask_value(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        record.exc_info = None  # the masked text above is what is printed
        return True


def _time(record: logging.LogRecord) -> str:
    moment = dt.datetime.fromtimestamp(record.created, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update(_extras(record))
        if record.exc_text:
            data["exception"] = record.exc_text
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message key=value ...`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in _extras(record).items() if v is not None)
        line = f"{_time(record)} {record.levelname} {record.name}: {record.getMessage()}"
        line = f"{line} {fields}" if fields else line
        return f"{line}\n{record.exc_text}" if record.exc_text else line


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(settings: Settings, *, default_file: Path | None = None) -> None:
    """Send log records to the settings' log file (or ``default_file``, or stderr when neither is
    given or the file is ``-``), in the settings' format and level.

    Called at start-up; calling it again replaces the handler it installed before, so a test or a
    second command in the same process never gets duplicated lines.
    """
    target = settings.log_file or default_file
    handler: logging.Handler
    if target is None or str(target) == "-":
        handler = _StderrHandler()
    else:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(target, encoding="utf-8")
        except OSError as exc:
            raise InputError(
                settings.sources.get("log_file", "log file"),
                f"cannot write the log file {target}: {exc.strerror}",
            ) from None
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.addFilter(MaskIdentityNumbers())
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    # The level is ours (the "safetynet" loggers, and the server's start and stop messages);
    # other libraries keep the root's WARNING.
    level = logging.getLevelNamesMapping()[settings.log_level]
    for name in ("safetynet", "uvicorn"):
        logging.getLogger(name).setLevel(level)


def os_user() -> str:
    """Who runs a command: the operating system's user name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment (some containers)
        return "unknown"


def _counts(report: Any) -> dict[str, int]:
    """The whole-number fields and properties of a report dataclass (rows read, accepted,
    quarantined, ...)."""
    if not dataclasses.is_dataclass(report) or isinstance(report, type):
        return {}
    names = [f.name for f in dataclasses.fields(report)]
    # Totals a report computes (e.g. a caseload's households over its counties) count too.
    names += [n for n, v in vars(type(report)).items() if isinstance(v, property)]
    counts = {}
    for name in names:
        try:
            value = getattr(report, name)
        except Exception:  # a report's own property must never fail the work it reports on
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            # A field named like a LogRecord attribute ("created") would clash with it.
            counts[f"n_{name}" if name in _STANDARD else name] = value
    return counts


def logged_stage(stage: str) -> Callable[[F], F]:
    """Log one record per call of a batch stage (an import, a roll, a bank file): its counts
    (the report's whole-number fields) and how long it took, or that it failed."""
    log = logging.getLogger("safetynet.batch")

    def decorate(fn: F) -> F:
        @wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                report = fn(*args, **kwargs)
            except BaseException as exc:
                seconds = time.perf_counter() - started
                log.warning(
                    "%s failed after %.1f s: %s",
                    stage,
                    seconds,
                    type(exc).__name__,
                    extra={"event": "stage", "stage": stage, "outcome": "error",
                           "duration_ms": round(seconds * 1000)},
                )  # fmt: skip
                raise
            seconds = time.perf_counter() - started
            counts = _counts(report)
            summary = ", ".join(f"{k} {v:,}" for k, v in counts.items())
            log.info(
                "%s: %s in %.1f s",
                stage,
                summary or "done",
                seconds,
                extra={"event": "stage", "stage": stage, "outcome": "ok",
                       "duration_ms": round(seconds * 1000), **counts},
            )  # fmt: skip
            return report

        return run  # type: ignore[return-value]

    return decorate
