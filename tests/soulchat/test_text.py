from __future__ import annotations

import pytest

from soulchat.text import clean_text, detect_locale


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  hello \n", "hello"),
        ("a\x00b\x07c", "abc"),
        ("line1\r\nline2\rline3", "line1\nline2\nline3"),
        ("a\n\n\n\n\nb", "a\n\nb"),
        ("broken \ud800 surrogate", "broken \ufffd surrogate"),
        (b"bytes \xff\xfe here", "bytes \ufffd\ufffd here"),
        ("evil\u202eoverride", "eviloverride"),
        ("e\u0301", "\u00e9"),  # NFC
        ("family 👨\u200d👩\u200d👧", "family 👨\u200d👩\u200d👧"),  # joiners in emoji survive
        ("\t\n ", ""),
    ],
)
def test_clean_text(raw: str | bytes, expected: str) -> None:
    assert clean_text(raw) == expected


def test_clean_text_output_is_always_encodable() -> None:
    assert clean_text("\udcff\ud83d").encode("utf-8")


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("我最近很难过", "zh"),
        ("I feel sad", "en"),
        ("我好累 so tired", "zh"),
        ("12345 !!!", "en"),
        ("OK 好", "zh"),
    ],
)
def test_detect_locale(text: str, locale: str) -> None:
    assert detect_locale(text) == locale
