"""The message catalogue: every sentence a person reads on a page or in a notice, in Chinese and
English, from gettext ``.po`` files shipped in the package (``domain/locale``).

A catalogue is a *domain* (``web`` for the pages, ``notices`` for the written notices) in each
language: ``locale/<language>/LC_MESSAGES/<domain>.po``. The ``.po`` files are compiled in memory
when first used (Babel), so a fresh clone needs no build step. Message ids are the English text;
placeholders are ``{name}`` fields filled by ``translate``. Chinese (``zh_CN``) is the default.
"""

from __future__ import annotations

import functools
import io
import string
from importlib import resources
from typing import Any

from babel.messages import mofile, pofile
from babel.support import Translations

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "catalogue_ids",
    "normalise_locale",
    "placeholders",
    "translate",
    "translations",
]

DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")
"""The languages every catalogue has, the default first."""

_LOCALE_DIR = "locale"


def normalise_locale(value: str | None) -> str:
    """A supported locale for ``value`` (``zh-CN``, ``zh``, ``en-US``…); the default otherwise."""
    if not value:
        return DEFAULT_LOCALE
    text = value.replace("-", "_").strip()
    if text.lower().startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def _po_text(domain: str, locale: str) -> bytes:
    path = resources.files("safetynet.domain").joinpath(
        _LOCALE_DIR, locale, "LC_MESSAGES", f"{domain}.po"
    )
    return path.read_bytes()


@functools.lru_cache(maxsize=32)
def _catalogue(domain: str, locale: str) -> Any:
    return pofile.read_po(io.BytesIO(_po_text(domain, locale)), locale=locale, domain=domain)


@functools.lru_cache(maxsize=32)
def translations(domain: str, locale: str) -> Translations:
    """The compiled translations of ``domain`` in ``locale`` (compiled once, in memory)."""
    buffer = io.BytesIO()
    mofile.write_mo(buffer, _catalogue(domain, normalise_locale(locale)))
    buffer.seek(0)
    return Translations(buffer, domain=domain)


@functools.lru_cache(maxsize=32)
def catalogue_ids(domain: str, locale: str) -> dict[str, str]:
    """Every message id of ``domain`` in ``locale`` with its translation (shared: not to be
    changed by the caller)."""
    return {
        str(message.id): str(message.string)
        for message in _catalogue(domain, locale)
        if message.id and isinstance(message.id, str)
    }


def placeholders(text: str) -> frozenset[str]:
    """The ``{name}`` fields of a message."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


def translate(msgid: str, locale: str | None = None, *, domain: str = "web", **params: Any) -> str:
    """``msgid`` in ``locale`` (default Chinese) with its ``{name}`` fields filled from
    ``params``. An id missing from the catalogue is shown as written (the catalogue test keeps
    every id of the code in both languages)."""
    text = translations(domain, normalise_locale(locale)).gettext(msgid)
    return text.format(**params) if params else text
