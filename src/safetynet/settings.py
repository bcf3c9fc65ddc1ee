"""Where SafetyNet keeps its database, outputs and logs, read once from one place, never the working
directory: a command-line flag beats an environment variable, which beats the config file, which
beats the built-in default (docs/settings.md).

Environment variables: ``SAFETYNET_HOME``, ``SAFETYNET_DATABASE_URL``, ``SAFETYNET_LOG_FORMAT``,
``SAFETYNET_LOG_LEVEL``, ``SAFETYNET_LOG_FILE`` and ``SAFETYNET_CONFIG`` (the config file; default
``$XDG_CONFIG_HOME/safetynet/config.toml``, else ``~/.config/safetynet/config.toml``). The config
file is TOML with the keys ``home``, ``database_url``, ``log_format``, ``log_level`` and ``log_file``.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetynet.errors import InputError

__all__ = [
    "CONFIG_ENV",
    "ENV",
    "LOG_FORMATS",
    "Settings",
    "config_path",
    "load_settings",
]

CONFIG_ENV = "SAFETYNET_CONFIG"
ENV = {
    "home": "SAFETYNET_HOME",
    "database_url": "SAFETYNET_DATABASE_URL",
    "log_format": "SAFETYNET_LOG_FORMAT",
    "log_level": "SAFETYNET_LOG_LEVEL",
    "log_file": "SAFETYNET_LOG_FILE",
}
LOG_FORMATS = ("text", "json")


@dataclass(frozen=True)
class Settings:
    """The resolved settings; ``sources`` says where each value came from (for --help and docs)."""

    home: Path
    database_url: str
    log_format: str
    log_level: str
    log_file: Path | None
    sources: Mapping[str, str]

    def path(self, *parts: str) -> Path:
        """A default location under the home folder (e.g. ``path("population")``)."""
        return self.home.joinpath(*parts)


def config_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The config file to read: ``$SAFETYNET_CONFIG``, else the user's config folder (None when
    the user has no home folder)."""
    env = os.environ if environ is None else environ
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    if env.get("XDG_CONFIG_HOME"):
        return Path(env["XDG_CONFIG_HOME"]) / "safetynet" / "config.toml"
    home = _user_home(env)
    return home / ".config" / "safetynet" / "config.toml" if home else None


def _user_home(env: Mapping[str, str]) -> Path | None:
    if env.get("HOME"):
        return Path(env["HOME"])
    try:
        return Path.home()
    except RuntimeError:  # no HOME and no passwd entry (some containers)
        return None


def _default_home(env: Mapping[str, str]) -> Path:
    if env.get("XDG_DATA_HOME"):
        return Path(env["XDG_DATA_HOME"]) / "safetynet"
    home = _user_home(env)
    if home is None:
        raise InputError(ENV["home"], "this user has no home folder: set SAFETYNET_HOME")
    return home / ".local" / "share" / "safetynet"


def _read_config(path: Path | None, explicit: bool) -> dict[str, Any]:
    if path is None:
        return {}
    if not path.exists():
        if explicit:
            raise InputError(CONFIG_ENV, f"{path} does not exist")
        return {}
    if path.is_dir():
        raise InputError(CONFIG_ENV if explicit else str(path), f"{path} is a directory")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(str(path), f"cannot read the config file: {exc}") from None
    unknown = sorted(set(data) - set(ENV))
    if unknown:
        raise InputError(
            str(path), f"unknown setting {unknown[0]!r}; known: {', '.join(sorted(ENV))}"
        )
    for key, value in data.items():
        if not isinstance(value, str):
            raise InputError(f"{path}: {key}", "must be a string")
    return data


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve every setting: environment variable, else config file, else default.

    Flags are applied by each command on top (``--url`` beats ``database_url``).
    """
    env = os.environ if environ is None else environ
    file = config_path(env)
    config = _read_config(file, explicit=bool(env.get(CONFIG_ENV)))
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for key, var in ENV.items():
        if env.get(var):
            values[key], sources[key] = env[var], f"${var}"
        elif key in config:
            values[key], sources[key] = config[key], f"{file} ({key})"
    home = Path(values["home"]).expanduser() if "home" in values else _default_home(env)
    sources.setdefault("home", "default")
    if "database_url" not in values:
        values["database_url"] = f"sqlite:///{(home / 'safetynet.db').resolve()}"
        sources["database_url"] = "default (home/safetynet.db)"
    log_format = values.get("log_format", "text").lower()
    if log_format not in LOG_FORMATS:
        raise InputError(
            sources.get("log_format", "log_format"), f"{log_format!r} is not one of text, json"
        )
    log_level = values.get("log_level", "INFO").upper()
    if not isinstance(logging.getLevelNamesMapping().get(log_level), int):
        raise InputError(
            sources.get("log_level", "log_level"),
            f"{log_level!r} is not a level (DEBUG, INFO, WARNING, ERROR)",
        )
    log_file = Path(values["log_file"]).expanduser() if values.get("log_file") else None
    return Settings(
        home=home.resolve(),
        database_url=values["database_url"],
        log_format=log_format,
        log_level=log_level,
        log_file=log_file,
        sources=sources,
    )
