"""The languages SoulChat speaks, the one list every part reads, and the regions whose crisis
lines a person gets.

Adding a language is one entry here plus its texts where each owner keeps them: the bots'
message catalogue (``bots/texts/<code>.py``), the crisis replies and lines (``safety/``) and
the system prompt (``inference/prompt.py``); ``tests/soulchat/test_locales.py`` fails until
every one of them has it.
"""

from __future__ import annotations

import re
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


# -- regions: where a person is, for their crisis lines (ISO 3166-1 alpha-2 codes) ----------
_REGION = re.compile(r"[A-Z]{2}")
# Not ISO 3166-1 codes, but seen in client tags ("en-UK") and typed by people.
_ALIASES = {"UK": "GB"}


def normalize_region(code: str | None) -> str | None:
    """ "au", " AU " -> "AU"; "UK" -> "GB"; anything that is not two letters -> None."""
    if not code:
        return None
    upper = code.strip().upper()
    upper = _ALIASES.get(upper, upper)
    return upper if _REGION.fullmatch(upper) else None


def region_from_client_tag(tag: str | None) -> str | None:
    """The region a client's language tag carries: "en-AU" -> "AU", "zh-hk" -> "HK",
    "zh-Hant-TW" -> "TW", "en_IN.UTF-8" -> "IN"; None for "en", "zh-hans" (a script, not a
    region), "es-419" (a numeric area) or no tag.

    It is a hint, not a location: a tag says which variant of a language the person's app
    speaks, and some apps offer few (Discord: en-US or en-GB for every English speaker)."""
    if not tag:
        return None
    tag = tag.split(".", 1)[0].split("@", 1)[0]  # a POSIX locale's encoding and modifier
    for subtag in tag.replace("_", "-").split("-")[1:]:
        if len(subtag) == 1:  # an extension ("u-", "x-"): no region after it
            return None
        if len(subtag) == 2 and subtag.isascii() and subtag.isalpha():
            return normalize_region(subtag)
    return None


def effective_region(
    chosen: str | None = None, client_tag: str | None = None, default: str | None = None
) -> str | None:
    """The region to choose crisis lines for: the person's own choice (``/region``), else the
    region in their client's language tag, else the deployment's default; None when none of
    them says (the lines then follow the language)."""
    return (
        normalize_region(chosen) or region_from_client_tag(client_tag) or normalize_region(default)
    )


def describe() -> str:
    """ "en (English) or zh (中文)", for help texts and errors."""
    names = [f"{language.code} ({language.native})" for language in LANGUAGES]
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
