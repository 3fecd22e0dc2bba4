"""Long replies split into parts a platform accepts, at the best boundary that fits."""

from __future__ import annotations

import random

import pytest

from bots.chunking import DISCORD_LIMIT, TELEGRAM_LIMIT, split_message, utf16_length


def content(text: str) -> str:
    return "".join(text.split())


def test_short_text_is_one_part() -> None:
    assert split_message("  I hear you.  ") == ["I hear you."]
    assert split_message("   ") == []


def test_splits_at_the_last_sentence_that_fits() -> None:
    text = "First sentence here. Second sentence here. Third one."
    assert split_message(text, limit=45) == [
        "First sentence here. Second sentence here.",
        "Third one.",
    ]


def test_prefers_paragraphs_to_sentences() -> None:
    text = "One. Two.\n\nThree. Four. Five."
    assert split_message(text, limit=24) == ["One. Two.", "Three. Four. Five."]


def test_chinese_sentences_split_after_their_punctuation() -> None:
    text = "我听到了你的难过。" * 3 + "你愿意多说一点吗？"
    parts = split_message(text, limit=20)
    assert all(part.endswith(("。", "？")) for part in parts)
    assert "".join(parts) == text


def test_telegram_counts_utf16_units() -> None:
    assert utf16_length("😀") == 2
    parts = split_message("😀" * 10, limit=5)
    assert all(utf16_length(part) <= 5 for part in parts)
    assert "".join(parts) == "😀" * 10


def test_a_word_longer_than_the_limit_is_cut_without_breaking_characters() -> None:
    word = "e\u0301" * 10  # e + combining acute accent
    parts = split_message(word, limit=5)
    assert "".join(parts) == word
    assert all(part[0] != "\u0301" for part in parts)


@pytest.mark.parametrize("limit", [TELEGRAM_LIMIT, DISCORD_LIMIT, 50])
def test_random_text_keeps_all_content_within_the_limit(limit: int) -> None:
    rng = random.Random(limit)
    alphabet = ["word", "I", "feel", "。", "你好", "😀", ".", "!", " ", " ", "\n", "\n\n", "?"]
    text = "".join(rng.choice(alphabet) for _ in range(limit * 2))
    parts = split_message(text, limit=limit)
    assert all(0 < utf16_length(part) <= limit for part in parts)
    assert content("".join(parts)) == content(text)


def test_a_tiny_limit_is_refused() -> None:
    with pytest.raises(ValueError):
        split_message("text", limit=1)
