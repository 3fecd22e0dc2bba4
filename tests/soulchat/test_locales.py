"""Every language of the registry is spoken everywhere: a new entry in soulchat/locales.py
fails here until each owner of texts has it."""

from __future__ import annotations

import pytest

from bots.texts import TEXTS
from inference.prompt import CRISIS_ADDENDA, SAFETY_ADDENDA, SYSTEM_PROMPTS, TRANSCRIPT_LABELS
from safety import crisis_replies, output_filter, resources
from safety.resources import load_crisis_lines
from soulchat.locales import (
    CODES,
    FALLBACK,
    LANGUAGES,
    describe,
    from_client_tag,
    language_of,
)


@pytest.mark.parametrize("code", CODES)
def test_every_owner_of_texts_has_the_language(code: str) -> None:
    assert code in TEXTS, "bots/texts/<code>.py"
    assert code in SYSTEM_PROMPTS and code in SAFETY_ADDENDA and code in CRISIS_ADDENDA
    assert code in TRANSCRIPT_LABELS, "inference/prompt.py"
    assert code in crisis_replies.CRISIS_TEXTS, "safety/crisis_replies.py"
    assert code in resources.NOTICE_TEXTS, "safety/resources.py"
    assert code in output_filter.REPLACEMENTS, "safety/output_filter.py"
    assert any(line.locale == code for line in load_crisis_lines()), "crisis_resources.toml"


def test_client_tags_map_onto_the_registry() -> None:
    assert FALLBACK in CODES
    assert [language_of(tag) for tag in ("zh-TW", "ZH", "en_GB.UTF-8", "fr", "")] == [
        "zh",
        "zh",
        "en",
        FALLBACK,
        FALLBACK,
    ]
    assert from_client_tag("fr") is None and from_client_tag(None) is None
    assert all(language.native in describe() for language in LANGUAGES)
