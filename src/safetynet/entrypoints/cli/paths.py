"""The one check every command's path option goes through: a missing file, a directory where a file
is expected, a folder that cannot be written or created become a one-line error naming the option
(exit 2), before any work starts, instead of a traceback half-way.

Outputs get their parent folder created (``notice --out letters/n.pdf`` makes ``letters/``).
"""

from __future__ import annotations

import os
from pathlib import Path

from safetynet.errors import InputError

__all__ = [
    "fallback_file",
    "input_dir",
    "input_file",
    "input_path",
    "maybe_file",
    "output_dir",
    "output_file",
]


def input_file(path: Path, option: str) -> Path:
    """An existing, readable file."""
    if not path.exists():
        raise InputError(option, f"{path} does not exist")
    if path.is_dir():
        raise InputError(option, f"{path} is a directory, not a file")
    if not os.access(path, os.R_OK):
        raise InputError(option, f"{path} cannot be read (permission denied)")
    return path


def input_dir(path: Path, option: str) -> Path:
    """An existing, readable folder."""
    if not path.exists():
        raise InputError(option, f"{path} does not exist")
    if not path.is_dir():
        raise InputError(option, f"{path} is a file, not a folder")
    if not os.access(path, os.R_OK | os.X_OK):
        raise InputError(option, f"{path} cannot be read (permission denied)")
    return path


def input_path(path: Path, option: str) -> Path:
    """An existing file or folder (e.g. ``cases run`` takes either)."""
    if not path.exists():
        raise InputError(option, f"{path} does not exist")
    return input_dir(path, option) if path.is_dir() else input_file(path, option)


def _parent(path: Path, option: str) -> None:
    parent = path.parent
    above = next((p for p in (path, *path.parents) if p.exists()), None)
    if above is not None and above != path and not above.is_dir():
        raise InputError(option, f"cannot create {path}: {above} is a file, not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(option, f"cannot create the folder {parent}: {exc.strerror}") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(option, f"cannot write in {parent} (permission denied)")


def output_file(path: Path, option: str) -> Path:
    """A file to write: not a folder; its parent folder exists (created if need be) and is
    writable."""
    if path.is_dir():
        raise InputError(option, f"{path} is a directory; give a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(option, f"{path} cannot be written (permission denied)")
    _parent(path, option)
    return path


def maybe_file(path: Path, option: str) -> Path:
    """A file that is read if it is there (its absence is the caller's finding, e.g. a deleted
    checkpoint file): never a folder, never a path below a file."""
    if path.exists():
        return input_file(path, option)
    above = next((p for p in path.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise InputError(option, f"{path} cannot exist: {above} is a file, not a folder")
    return path


def output_dir(path: Path, option: str) -> Path:
    """A folder to write into: not a file; it or its parent (created if need be) is writable."""
    if path.exists():
        if not path.is_dir():
            raise InputError(option, f"{path} is a file, not a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise InputError(option, f"cannot write in {path} (permission denied)")
        return path
    _parent(path, option)
    return path


def fallback_file(value: Path | None, option: str = "--fallback-parameters") -> Path | None:
    """A fallback parameter file, or the name of a set shipped in the package (``demo``)."""
    from safetynet.policy.screening import NAMED_FALLBACKS

    if value is None or (str(value) in NAMED_FALLBACKS and not value.exists()):
        return value
    return input_file(value, option)
