"""Batch screening of JSON lines, for reviewing logs and for evaluation suites.

One record per line, either a single message or a conversation::

    {"id": "a1", "text": "..."}
    {"id": "c7", "messages": ["...", {"role": "user", "content": "..."}, ...]}

and one verdict per line, in the same order::

    {"id": "a1", "tier": 3, "categories": ["suicide"], "score": 1.0}

A conversation is screened the way the service screens it, message by message with the recent
ones read together, and its tier is the highest reached at any point: a later "just kidding"
does not lower it. Assistant turns are skipped; only what people wrote is screened. A line
that cannot be read gets ``{"id": ..., "error": "..."}`` in its place, so the output still
lines up with the input.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from safety.screen import NO_RISK, RiskAssessment, RiskScreen

MAX_TEXT_CHARS = 100_000


class RecordError(ValueError):
    """A line that is not a record this command understands."""


def user_messages(record: dict[str, Any]) -> list[str]:
    if "text" in record:
        text = record["text"]
        if not isinstance(text, str):
            raise RecordError('"text" must be a string')
        return [text[:MAX_TEXT_CHARS]]
    messages = record.get("messages")
    if not isinstance(messages, list):
        raise RecordError('expected "text" (a string) or "messages" (a list)')
    texts = []
    for index, message in enumerate(messages):
        if isinstance(message, str):
            texts.append(message[:MAX_TEXT_CHARS])
            continue
        if not isinstance(message, dict):
            raise RecordError(f"message {index} is neither a string nor an object")
        if message.get("role", "user") != "user":
            continue
        content = message.get("text", message.get("content"))
        if not isinstance(content, str):
            raise RecordError(f'message {index} has no "text" or "content" string')
        texts.append(content[:MAX_TEXT_CHARS])
    return texts


def screen_messages(screen: RiskScreen, messages: list[str]) -> RiskAssessment:
    """The highest risk a conversation reaches, message by message."""
    worst = NO_RISK
    for end in range(1, len(messages) + 1):
        worst = worst.stronger(screen.assess_conversation(messages[:end]))
    return worst


def verdict(record_id: Any, assessment: RiskAssessment) -> dict[str, Any]:
    return {
        "id": record_id,
        "tier": assessment.tier,
        "categories": sorted(assessment.categories),
        "score": round(assessment.score, 4),
    }


def screen_lines(screen: RiskScreen, lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        record_id: Any = None
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise RecordError("expected a JSON object")
            record_id = record.get("id")
            yield verdict(record_id, screen_messages(screen, user_messages(record)))
        except (json.JSONDecodeError, RecordError) as exc:
            yield {"id": record_id, "error": f"line {number}: {exc}"}
