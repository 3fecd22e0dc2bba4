"""Locales the safety texts exist in, how a client's locale maps onto them, and which region
(ISO 3166-1 alpha-2 code) a person's crisis lines are chosen for."""

from __future__ import annotations

import re

SUPPORTED: tuple[str, ...] = ("en", "zh")
FALLBACK = "en"

_REGION = re.compile(r"[A-Z]{2}")
# Not ISO 3166-1 codes, but seen in client tags ("en-UK") and typed by people.
_ALIASES = {"UK": "GB"}


def language(locale: str) -> str:
    """ "zh-CN", "zh_TW", "ZH" -> "zh"; anything unsupported -> "en"."""
    base = locale.replace("_", "-").split("-", 1)[0].strip().lower()
    return base if base in SUPPORTED else FALLBACK


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
