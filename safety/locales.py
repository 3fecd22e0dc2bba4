"""Locales the safety texts exist in, and how a client's locale maps onto them."""

from __future__ import annotations

SUPPORTED: tuple[str, ...] = ("en", "zh")
FALLBACK = "en"


def language(locale: str) -> str:
    """ "zh-CN", "zh_TW", "ZH" -> "zh"; anything unsupported -> "en"."""
    base = locale.replace("_", "-").split("-", 1)[0].strip().lower()
    return base if base in SUPPORTED else FALLBACK
