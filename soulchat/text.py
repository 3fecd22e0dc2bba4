"""Cleaning what people send before anything else sees it, and telling its language: the
bots clean every message with it, the training data loaders every dialogue."""

from __future__ import annotations

import re
import unicodedata

# Bidirectional overrides can disguise text; other format characters (zero-width joiners in
# emoji, for instance) are kept.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def clean_text(raw: str | bytes) -> str:
    """Valid, normalised text: broken encodings replaced, control characters removed."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    # Lone surrogates (from broken clients) cannot be stored or encoded: make them U+FFFD.
    text = raw.encode("utf-16", errors="surrogatepass").decode("utf-16", errors="replace")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(char for char in text if char in "\n\t" or unicodedata.category(char) != "Cc")
    text = _BIDI_CONTROLS.sub("", text)
    return _MANY_BLANK_LINES.sub("\n\n", text).strip()


def detect_locale(text: str, default: str = "en") -> str:
    """zh when Chinese dominates, en when Latin letters do. A Chinese character carries
    about as much as a short English word, so it weighs three letters."""
    cjk, latin = len(_CJK.findall(text)), len(_LATIN.findall(text))
    if cjk == 0 and latin == 0:
        return default
    return "zh" if cjk * 3 >= latin else "en"
