"""The console's two languages. Every piece of text is written in both where it is used, as
``t("統一編號", "UBN")``, so no label can exist in one language only."""

from __future__ import annotations

from typing import Literal

from chalicelib.domain.errors import DomainError

Lang = Literal["zh-TW", "en"]
DEFAULT_LANG: Lang = "zh-TW"
LANGS: tuple[Lang, ...] = ("zh-TW", "en")


def parse_lang(value: str | None) -> Lang | None:
    """A supported language from a cookie or query value, or None."""
    if value in ("zh-TW", "zh", "zh-tw"):
        return "zh-TW"
    if value in ("en", "en-US", "en-GB"):
        return "en"
    return None


def pick(lang: Lang, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def error_text(error: DomainError, lang: Lang) -> str:
    return pick(lang, error.message_zh, error.message)
