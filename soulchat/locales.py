"""The languages SoulChat speaks: the one list every part reads.

Adding a language is one entry here plus its texts where each owner keeps them: the bots'
message catalogue (``bots/texts/<code>.py``), the crisis replies and lines (``safety/``) and
the system prompt (``inference/prompt.py``); ``tests/soulchat/test_locales.py`` fails until
every one of them has it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # what settings, the store and /lang use
    name: str  # in English, for documentation
    native: str  # as its speakers write it, for menus


LANGUAGES: tuple[Language, ...] = (
    Language("en", "English", "English"),
    Language("zh", "Chinese", "中文"),
)
CODES: tuple[str, ...] = tuple(language.code for language in LANGUAGES)
FALLBACK = "en"


def is_supported(code: str) -> bool:
    return code in CODES


def language_of(tag: str) -> str:
    """A locale or client tag as one of ours: "zh-CN", "zh_TW", "ZH" -> "zh"; anything
    unsupported -> the fallback."""
    return from_client_tag(tag) or FALLBACK


def from_client_tag(tag: str | None) -> str | None:
    """A platform's language tag (``zh-hans``, ``en-US``) as one of ours, or None."""
    if not tag:
        return None
    primary = tag.replace("_", "-").split("-", 1)[0].strip().lower()
    return primary if primary in CODES else None


def describe() -> str:
    """ "en (English) or zh (中文)", for help texts and errors."""
    names = [f"{language.code} ({language.native})" for language in LANGUAGES]
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
