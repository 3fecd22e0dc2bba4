"""Finding "are you a human?" in both languages, and when the AI disclosure is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from safety.disclosure import DISCLOSURE_INTERVAL, asks_if_human, disclosure_due


@pytest.mark.parametrize(
    "text",
    [
        "are you a real person?",
        "Are you human",
        "r u a bot lol",
        "am I talking to a real person or a bot",
        "is this a bot?",
        "wait are you actually an AI",
        "human or bot?",
        "你是真人吗",
        "你是不是机器人",
        "你是人还是AI？",
        "你是AI吗",
        "你是人嗎？",
        "是真人在聊吗",
    ],
)
def test_the_question_is_found(text: str) -> None:
    assert asks_if_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "are you okay?",
        "you are a real one",
        "I am a person too",
        "I feel like a robot at work",
        "你是我的朋友吗",
        "你是怎么想的",
        "真人秀太好看了",
    ],
)
def test_ordinary_questions_are_left_alone(text: str) -> None:
    assert not asks_if_human(text)


def test_disclosure_is_due_at_first_and_after_three_hours() -> None:
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    assert disclosure_due(None, now)
    assert not disclosure_due(now - timedelta(hours=2, minutes=59), now)
    assert disclosure_due(now - DISCLOSURE_INTERVAL, now)
