"""Splitting a long reply into messages a platform accepts.

Telegram takes at most 4,096 characters a message, counted in UTF-16 code units (an emoji
outside the Basic Multilingual Plane counts twice); Discord takes 2,000. A reply is cut at the
last paragraph, sentence (English or Chinese punctuation) or word boundary that fits, and only
mid-word when a single word is longer than the limit. Cuts never fall inside a surrogate pair
or between a character and its combining marks, so every part is valid text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

TELEGRAM_LIMIT = 4096
DISCORD_LIMIT = 2000

Length = Callable[[str], int]

# Preferred cut points, best first: after a blank line, after a line, after a sentence end,
# after a space.
_BOUNDARIES = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?…])\s+|(?<=[。！？；…])"),
    re.compile(r"\s+"),
)


def utf16_length(text: str) -> int:
    """Length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def split_message(
    text: str, limit: int = TELEGRAM_LIMIT, length: Length = utf16_length
) -> list[str]:
    """Parts of ``text``, each at most ``limit`` long by ``length``, without leading or
    trailing whitespace; together they hold all of the text's non-space content in order."""
    if limit < 2:
        raise ValueError("limit must be at least 2")
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if length(rest) <= limit:
            parts.append(rest)
            break
        cut = _cut_point(rest, limit, length)
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if head:
            parts.append(head)
    return parts


def _cut_point(text: str, limit: int, length: Length) -> int:
    fits = _longest_prefix(text, limit, length)
    window = text[:fits]
    for boundary in _BOUNDARIES:
        ends = [match.end() for match in boundary.finditer(window) if match.end() > 0]
        # A boundary in the first fifth would leave a stub; prefer a lower-ranked boundary.
        good = [end for end in ends if end >= fits // 5]
        if good:
            return good[-1]
    return _safe_character_cut(text, fits)


def _longest_prefix(text: str, limit: int, length: Length) -> int:
    """The most characters from the start whose length is within ``limit`` (binary search:
    ``length`` is monotonic in the prefix)."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if length(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def _safe_character_cut(text: str, cut: int) -> int:
    """Move a mid-word cut back so it does not separate a character from its combining marks
    or a zero-width joiner sequence."""
    while cut > 1 and (
        unicodedata.combining(text[cut]) or text[cut] in "\u200d\ufe0f" or text[cut - 1] == "\u200d"
    ):
        cut -= 1
    return cut
