"""The message catalogue: every message a page shows exists in Chinese and English, with the
same placeholders, loaded from the package."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from safetynet.domain.messages import (
    LOCALES,
    catalogue_ids,
    normalise_locale,
    placeholders,
    translate,
)

DOMAINS = sorted(
    path.name.removesuffix(".po")
    for path in Path(str(resources.files("safetynet.domain").joinpath("locale", "zh_CN", "LC_MESSAGES"))).glob("*.po")
)  # fmt: skip
WEB = Path(str(resources.files("safetynet.entrypoints.web")))
_CALLS = (
    re.compile(r'\b_\(\s*"((?:[^"\\]|\\.)*)"'),
    re.compile(r"\b_\(\s*'((?:[^'\\]|\\.)*)'"),
    re.compile(r'\btranslate\(\s*"((?:[^"\\]|\\.)*)"'),
)


def _used_in_pages() -> set[str]:
    used: set[str] = set()
    for path in WEB.rglob("*"):
        if path.suffix in {".html", ".py"}:
            text = path.read_text(encoding="utf-8")
            for pattern in _CALLS:
                used.update(pattern.findall(text))
    return used


def test_the_web_catalogue_is_one_of_the_domains() -> None:
    assert "web" in DOMAINS


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_message_is_in_both_languages_with_the_same_placeholders(domain: str) -> None:
    catalogues = {locale: catalogue_ids(domain, locale) for locale in LOCALES}
    ids = {locale: set(c) for locale, c in catalogues.items()}
    assert ids["zh_CN"] == ids["en"], ids["zh_CN"] ^ ids["en"]
    for msgid in ids["zh_CN"]:
        for locale in LOCALES:
            text = catalogues[locale][msgid]
            assert text.strip(), f"{domain} {locale}: {msgid!r} has no translation"
            assert placeholders(text) == placeholders(msgid), f"{domain} {locale}: {msgid!r}"


def test_every_message_the_pages_use_is_in_the_catalogue() -> None:
    used = _used_in_pages()
    assert len(used) > 30
    missing = sorted(used - set(catalogue_ids("web", "zh_CN")))
    assert missing == []


def test_chinese_is_the_default_and_placeholders_are_filled() -> None:
    assert translate("Sign in") == "登录"
    assert translate("Sign in", "en") == "Sign in"
    assert translate("Track {id}", "zh-CN", id=12) == "办理事项 12"
    assert normalise_locale("en-US") == "en"
    assert normalise_locale("fr") == "zh_CN"
